// Regenerates schema/vmgen.schema.json and schema/lab.schema.json from the models: npm run schema
import { writeFileSync } from 'node:fs';
import { loadCatalogs } from '../src/catalog/load.js';
import { configJsonSchema } from '../src/config/json-schema.js';
import { labJsonSchema } from '../src/lab/model.js';

writeFileSync(new URL('../schema/vmgen.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(loadCatalogs({ env: {} })), null, 2)}\n`);
writeFileSync(new URL('../schema/lab.schema.json', import.meta.url), `${JSON.stringify(labJsonSchema(), null, 2)}\n`);
