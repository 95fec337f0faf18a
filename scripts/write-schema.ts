// Regenerates schema/vmgen.schema.json from the model: npm run schema
import { writeFileSync } from 'node:fs';
import { loadCatalogs } from '../src/catalog/load.js';
import { configJsonSchema } from '../src/config/json-schema.js';

writeFileSync(new URL('../schema/vmgen.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(loadCatalogs({ env: {} })), null, 2)}\n`);
