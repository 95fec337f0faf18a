import type { Catalogs } from '../catalog/schema.js';
import { configSchema, type ConfigSchema } from './model.js';

const schemas = new WeakMap<Catalogs, ConfigSchema>();

/** The model for these catalogs; built once per catalog set. */
export function schemaFor(catalogs: Catalogs): ConfigSchema {
  let s = schemas.get(catalogs);
  if (!s) {
    s = configSchema({ osIds: catalogs.os.map((o) => o.id), appNames: catalogs.apps.map((a) => a.name) });
    schemas.set(catalogs, s);
  }
  return s;
}
