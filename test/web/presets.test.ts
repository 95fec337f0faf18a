import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { loadCatalogs } from '../../src/catalog/load.js';
import { PRESETS, presetsFor, presetText } from '../../src/service/web/presets.js';
import { webPlugin } from '../../src/service/web/plugin.js';
import { TARGETS } from '../../src/targets/registry.js';
import { loadConfig } from '../../src/validate/load.js';

/*
 * The presets a new config starts from are real configs: each one, for every target it is offered
 * for, passes the validator `vmgen validate --target` runs, without an error or a warning (a new
 * user's first view shows no problem).
 */

const catalogs = loadCatalogs({ env: {} });

describe('presets', () => {
  for (const preset of PRESETS) {
    for (const target of TARGETS.filter((t) => preset.kinds.includes(t.kind))) {
      test(`${preset.id} is valid for ${target.id}, with no warning`, () => {
        const text = presetText(preset, target.kind);
        const r = loadConfig(text, { catalogs, target });
        const lines = r.diagnostics.map((d) => `${d.line}:${d.column}: ${d.severity}: ${d.message}`);
        assert.deepEqual(lines, [], `${preset.id} for ${target.id}:\n${text}`);
      });
    }
  }

  test('the four a first hour needs, each offered for VMs; a desktop not for containers', () => {
    assert.deepEqual(PRESETS.map((p) => p.id), ['web-server', 'desktop', 'devel', 'lab-client']);
    assert.deepEqual(presetsFor('vm').map((p) => p.id), PRESETS.map((p) => p.id));
    assert.deepEqual(presetsFor('container').map((p) => p.id), ['web-server', 'devel', 'lab-client']);
  });

  test('a VM gets a disk with a root file system; a container none', () => {
    const web = PRESETS[0]!;
    assert.match(presetText(web, 'vm'), /^ {12}size = 8GB$/m);
    assert.match(presetText(web, 'vm'), /^ {20}mount = \/$/m);
    assert.doesNotMatch(presetText(web, 'container'), /hdds/);
  });

  test('GET /api/config/presets?target= lists the target\'s presets with their text; a bad target is 400', async () => {
    const app = Fastify();
    await app.register(webPlugin, { catalogs, assetsDir: '/nonexistent' });
    try {
      const r = await app.inject({ url: '/api/config/presets?target=lxc' });
      assert.equal(r.statusCode, 200);
      const body = r.json() as { presets: { id: string; label: string; summary: string; text: string }[] };
      assert.deepEqual(body.presets.map((p) => p.id), ['web-server', 'devel', 'lab-client']);
      assert.equal(body.presets[0]!.text, presetText(PRESETS[0]!, 'container'));
      assert.equal((await app.inject({ url: '/api/config/presets?target=qemu' })).json().presets.length, PRESETS.length);
      assert.equal((await app.inject({ url: '/api/config/presets?target=beos' })).statusCode, 400);
      assert.equal((await app.inject({ url: '/api/config/presets' })).statusCode, 400);
    } finally {
      await app.close();
    }
  });
});
