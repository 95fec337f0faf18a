import type { ConfiguratorSchema } from '../catalog/schema.js';
import type { z } from 'zod';
import { debianConfigurator } from './debian/configure.js';
import { redhatConfigurator } from './redhat/configure.js';
import { windowsConfigurator } from './windows/configure.js';
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
