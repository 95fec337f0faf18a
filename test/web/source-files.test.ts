import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { configTextSchema } from '../../src/service/web/plugin.js';
import { fieldSpec, filesUnder, placePicked, type SchemaNode, type Schemas } from '../../web/src/model.js';

/* The page's side of the files a config names beside itself: which keys take an upload, and where picked files are kept. */

const catalogs = loadCatalogs({ env: {} });
const schemas: Schemas = { model: configJsonSchema(catalogs) as SchemaNode, text: configTextSchema(catalogs) as SchemaNode };
const kind = (path: string): string | undefined => fieldSpec(schemas, path.split('.'))?.kind;

describe('source keys in the form', () => {
  test('a [files] or [scripts] source takes an upload; the keys beside it do not', () => {
    assert.deepEqual(
      ['files.site.source', 'scripts.stamp.source', 'files.site.path', 'files.site.content', 'scripts.stamp.run', 'files.site.owner'].map(kind),
      ['source', 'source', 'text', 'multiline', 'multiline', 'text'],
    );
  });

  test('one picked file is the source, named as the key says, else by its own name', () => {
    assert.deepEqual(placePicked('', [{ name: 'setup.sh', size: 10 }]), { source: 'setup.sh', paths: ['setup.sh'] });
    assert.deepEqual(placePicked('./scripts/setup.sh', [{ name: 'other.sh', size: 10 }]), { source: 'scripts/setup.sh', paths: ['scripts/setup.sh'] });
    assert.equal(placePicked('x', []), undefined);
  });

  test('a picked directory keeps its tree under the name the key says, else its own', () => {
    const picked = [
      { name: 'index.html', relativePath: 'www/index.html', size: 5 },
      { name: 'logo.svg', relativePath: 'www/img/logo.svg', size: 6 },
    ];
    assert.deepEqual(placePicked('', picked), { source: 'www', paths: ['www/index.html', 'www/img/logo.svg'] });
    assert.deepEqual(placePicked('site/', picked), { source: 'site', paths: ['site/index.html', 'site/img/logo.svg'] });
  });

  test('the kept files a source names: itself or what is under it, never a name that only starts the same', () => {
    const kept = ['site/index.html', 'site/img/logo.svg', 'site2/x', 'setup.sh'];
    assert.deepEqual(filesUnder('site', kept), ['site/img/logo.svg', 'site/index.html']);
    assert.deepEqual(filesUnder('./setup.sh', kept), ['setup.sh']);
    assert.deepEqual(filesUnder(' ', kept), []);
  });
});
