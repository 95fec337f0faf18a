import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll } from '../helpers/assert-values.js';
import { readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { run } from '../helpers/cli.js';

const catalogs = loadCatalogs({ env: {} });

test('the committed JSON Schema is the one the model generates (npm run schema)', () => {
  const committed = JSON.parse(readFileSync(new URL('../../schema/vmgen.schema.json', import.meta.url), 'utf8'));
  assert.deepEqual(committed, configJsonSchema(catalogs));
});

test('the schema enumerates OS ids and application names from the catalogs', () => {
  const schema = configJsonSchema(catalogs) as { properties: Record<string, { properties?: Record<string, { enum?: string[] }>; propertyNames?: { enum?: string[] } }> };
  assert.deepEqual(schema.properties.hardware!.properties!.os!.enum, catalogs.os.map((o) => o.id));
  includesAll(schema.properties.devel!.propertyNames?.enum ?? [], ['vim']);
});

test('vmgen schema prints it', async () => {
  const r = await run('vmgen', ['schema']);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), configJsonSchema(catalogs));
});
