import type { ConfiguratorSchema } from '../catalog/schema.js';
import type { z } from 'zod';
import { debianConfigurator } from './debian/index.js';
import { redhatConfigurator } from './redhat/index.js';
import { windowsConfigurator } from './windows/index.js';
import type { Configurator } from './types.js';

/** Every OS family vmgen configures, one line each; keyed by the OS table's `configurator`. */
export const CONFIGURATORS: Partial<Record<z.infer<typeof ConfiguratorSchema>, Configurator>> = {
  debian: debianConfigurator,
  redhat: redhatConfigurator,
  windows: windowsConfigurator,
};

export function configuratorFor(id: z.infer<typeof ConfiguratorSchema>): Configurator | undefined {
  return CONFIGURATORS[id];
}
