import { z } from 'zod';
import type { Catalogs } from '../catalog/schema.js';
import { schemaFor } from './schema-for.js';

/** The JSON Schema of the typed model, for editors, the web form and API clients. */
export function configJsonSchema(catalogs: Catalogs): Record<string, unknown> {
  return {
    ...z.toJSONSchema(schemaFor(catalogs), { io: 'output', unrepresentable: 'throw' }),
    $id: 'https://vmgen.invalid/schema/config.json',
    title: 'vmgen machine config',
  };
}
