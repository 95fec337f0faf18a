import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldSpecAt, leaves } from './form-helpers.js';
import { readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { parseIni } from '../../src/config/ini/parse.js';
import { normalize } from '../../src/config/normalize.js';
import { schemaFor } from '../../src/config/schema-for.js';
import { applyEdits, keyOrderFromSchema } from '../../src/service/web/edit.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { configTextSchema, webPlugin } from '../../src/service/web/plugin.js';
import { loadConfig } from '../../src/validate/load.js';
import {
  addItemEdits, fieldSpec, fromInput, getAt, itemKeys, itemNames, labelFor, layout, sectionKeys, toInput,
  type Edit, type SchemaNode, type Schemas, type Tree,
} from '../../web/src/model.js';

/*
 * The form for [files], [scripts] and the service sections, from the same two schemas as every
 * other section: sections with items beside their own keys ([dns] zones, [database] databases),
 * items the user names (a DHCP scope by its NIC, a record by its owner), and multi-line values.
 */

const repo = new URL('../../', import.meta.url);
const LAB = readFileSync(new URL('test/fixtures/services/lab-router.conf', repo), 'utf8');
/** What the page sends with the fixture: the site directory its [files] source names. */
const LAB_FILES = { 'site/index.html': readFileSync(new URL('test/fixtures/services/site/index.html', repo)).toString('base64') };
const catalogs = loadCatalogs({ env: {} });
const schemas: Schemas = { model: configJsonSchema(catalogs) as SchemaNode, text: configTextSchema(catalogs) as SchemaNode };
const order = keyOrderFromSchema(schemas.model);
const treeOf = (text: string): Tree => normalize(parseIni(text).doc.root).tree as Tree;
const lab = treeOf(LAB);
const BASE = '[hardware]\n    os = debian12-64\n[config]\n    root_passwd = change-me\n    hostname = gw\n[network]\n    [[eths]]\n        [[[eth0]]]\n            type = static\n            address = 10.0.1.1\n            network = 24\n';

const spec = (path: string) => fieldSpecAt(schemas, path);

describe('the service sections in the form', () => {
  test('have a step of their own', () => {
    const step = layout(schemas).find((s) => s.id === 'provision');
    assert.deepEqual(step?.items.map((i) => (i.kind === 'field' ? i.path.join('.') : i.kind)), ['files', 'scripts', 'web', 'dns', 'dhcp', 'router', 'database']);
  });

  test('a file\'s text and a script are text areas; the rest is what its type says', () => {
    assert.equal(spec('files.motd.content').kind, 'multiline');
    assert.equal(spec('scripts.stamp.run').kind, 'multiline');
    assert.equal(spec('files.motd.path').kind, 'text');
    assert.deepEqual([spec('scripts.stamp.when').kind, spec('scripts.stamp.when').options], ['select', ['build', 'first-boot']]);
    assert.equal(spec('web.lab.tls').kind, 'checkbox');
    assert.equal(spec('web.lab.aliases').kind, 'list');
    assert.equal(spec('dns.lab.records').kind, 'record');
    assert.equal(spec('dns.lab.records.www').kind, 'list');
    assert.equal(spec('dhcp.eth1.hosts.printer').kind, 'list');
    assert.equal(spec('database.app.password').kind, 'password');
    assert.equal(labelFor(schemas, ['dhcp', 'eth1', 'range']), 'Address range (first - last)');
  });

  test('a multi-line value keeps its line breaks, and comes back the same from the text', () => {
    const run = spec('scripts.x.run');
    const script = 'set -u\necho "it\'s built" > /etc/stamp\n';
    const edit = fromInput(run, script);
    assert.deepEqual(edit, { path: ['scripts', 'x', 'run'], value: script });
    assert.deepEqual(fromInput(run, ' \n '), { path: ['scripts', 'x', 'run'], unset: true }, 'blank is no script');
    const text = applyEdits(BASE, [edit], order);
    assert.equal(toInput(run, getAt(treeOf(text), ['scripts', 'x', 'run'])), script);
  });

  test('[dns] and [database]: their own keys, then items', () => {
    const dns = spec('dns');
    assert.deepEqual([dns.kind, dns.items], ['section', true]);
    assert.deepEqual(sectionKeys(schemas, ['dns'], lab), ['forwarders'], 'zones are items, not unknown keys');
    assert.deepEqual(itemNames(lab, ['dns'], schemas), ['lab']);
    assert.equal(spec('dns.lab').kind, 'section');
    assert.deepEqual(itemKeys(schemas, ['dns', 'lab'], lab), { primary: ['zone', 'records'], more: ['ttl', 'ns', 'email'] });
    assert.deepEqual([spec('database').items, sectionKeys(schemas, ['database'])], [true, ['engine']]);
    assert.equal(spec('router').items, undefined, '[router] has keys only');
  });

  test('adding: a file asks its path, a zone its domain, a database its owner; a script starts as a build script', () => {
    assert.deepEqual(addItemEdits(schemas, lab, ['files'], '/etc/issue'), { name: 'file0', edits: [{ path: ['files', 'file0', 'path'], value: '/etc/issue' }] });
    assert.deepEqual(addItemEdits(schemas, lab, ['scripts']).edits, [{ path: ['scripts', 'script0', 'when'], value: 'build' }]);
    assert.deepEqual(addItemEdits(schemas, lab, ['dns'], 'other.example'), { name: 'zone0', edits: [{ path: ['dns', 'zone0', 'zone'], value: 'other.example' }] });
    assert.deepEqual(addItemEdits(schemas, lab, ['database'], 'app').edits, [{ path: ['database', 'db0', 'user'], value: 'app' }]);
    assert.deepEqual(addItemEdits(schemas, lab, ['web'], 'intranet.lab.example').edits, [{ path: ['web', 'site0', 'server_name'], value: 'intranet.lab.example' }]);
  });

  test('adding what the user names: a DHCP scope by its NIC, a record by its owner name', () => {
    assert.deepEqual(addItemEdits(schemas, lab, ['dhcp'], 'eth0'), { name: 'eth0', edits: [{ path: ['dhcp', 'eth0', 'range'], value: '' }] });
    assert.deepEqual(addItemEdits(schemas, lab, ['dns', 'lab', 'records'], '@'), { name: '@', edits: [{ path: ['dns', 'lab', 'records', '@'], value: '' }] });
    assert.deepEqual(addItemEdits(schemas, lab, ['dhcp', 'eth1', 'hosts'], 'laptop').edits, [{ path: ['dhcp', 'eth1', 'hosts', 'laptop'], value: '' }]);
  });

  test('a new DHCP scope shows at once what it still needs, at its range', () => {
    const text = applyEdits(BASE, addItemEdits(schemas, treeOf(BASE), ['dhcp'], 'eth0').edits, order);
    const errors = loadConfig(text, { catalogs }).diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors.map((d) => d.code), ['CFG_DHCP_RANGE']);
    assert.match(errors[0]!.hint ?? '', /FIRST - LAST/);
  });

  test('the lab router: every value comes back through the form as the model reads it', () => {
    const edits: Edit[] = leaves(lab).map(({ path, value }) => {
      const s = fieldSpec(schemas, path);
      assert.ok(s, `the form has a field for ${path.join('.')}`);
      return fromInput(s, toInput(s, value));
    });
    const again = treeOf(applyEdits('', edits, order));
    const model = schemaFor(catalogs);
    const before = model.safeParse(lab);
    const after = model.safeParse(again);
    assert.ok(before.success && after.success, 'both parse');
    assert.deepEqual(after.data, before.data);
  });
});

describe('the config endpoints with the service sections', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    await app.register(webPlugin, { catalogs });
    await app.ready();
  });
  after(() => app.close());

  const post = async (url: string, payload: Record<string, unknown>) => {
    const r = await app.inject({ method: 'POST', url, payload });
    return { status: r.statusCode, body: r.json() as { text: string; diagnostics: Array<{ code: string; line: number; path?: string[] }> } };
  };

  test('GET /api/config/text-schema: zones and databases are items, a script is text', async () => {
    const r = await app.inject({ url: '/api/config/text-schema' });
    const text = r.json() as SchemaNode;
    const dns = text.properties!.dns!;
    assert.deepEqual(Object.keys(dns.properties ?? {}), ['forwarders']);
    assert.equal(typeof dns.additionalProperties, 'object', 'a zone is any other subsection');
    assert.equal(typeof text.properties!.database!.additionalProperties, 'object');
    const model = schemas.model.properties!.scripts!.additionalProperties as SchemaNode;
    assert.equal(model.properties!.run!.contentMediaType, 'text/plain');
  });

  test('a record at the zone itself (@) and a multi-line script are edited in place, and checked live', async () => {
    const r = await post('/api/config/edit', {
      text: LAB,
      files: LAB_FILES,
      edits: [
        { path: ['dns', 'lab', 'records', '@'], value: ['A 10.0.1.1', 'CNAME gw'] },
        { path: ['scripts', 'stamp', 'run'], value: 'echo one\necho two\n' },
      ],
    });
    assert.equal(r.status, 200);
    assert.match(r.body.text, /^ {12}@ = A 10\.0\.1\.1, CNAME gw$/m);
    assert.match(r.body.text, /run = ('''|""")echo one\necho two\n\1\n/);
    // About the record's second item (the CNAME beside the A); the form shows it at the record's field.
    assert.deepEqual(r.body.diagnostics.map((d) => [d.code, d.path]), [['CFG_DNS_CNAME', ['dns', 'lab', 'records', '@', '1']]]);
  });
});
