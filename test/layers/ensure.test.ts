import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LayerCache } from '../../src/cache/store.js';
import { ensureLayer, type LayerRequest, type UnpublishedLayer } from '../../src/layers/ensure.js';
import type { Installer } from '../../src/installers/types.js';
import type { OsEntry } from '../../src/catalog/schema.js';

const os = { id: 'debian12-64', distribution: 'debian', release: '12', suite: 'bookworm', arch: 'amd64' } as OsEntry;

/** An installer that makes a small tree instead of running a package tool. */
const fakeInstaller: Installer = {
  id: 'fake',
  hostTools: [],
  async bootstrap(_source, rootfs) {
    mkdirSync(join(rootfs, 'usr/lib/locale'), { recursive: true });
    writeFileSync(join(rootfs, 'usr/bin-fake'), 'installed');
  },
  async install() {
    throw new Error('not used');
  },
};

function request(writes: string[] | undefined, n: number): LayerRequest {
  return {
    source: { os, mirror: 'http://mirror.example/debian' },
    basePackages: [`base-${n}`],
    appPackages: [],
    prepare: {
      key: { test: n },
      plan: { files: [{ path: '/usr/lib/locale/locale-archive', content: 'generated' }], links: [], commands: [] },
      ...(writes === undefined ? {} : { writes }),
    },
  };
}

describe('ensureLayer: work beside the layer\'s preparation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmgen-ensure-'));
  const cache = new LayerCache(join(dir, 'cache'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const signal = new AbortController().signal;

  it('starts it with the unpublished layer and publishes the layer only once it has ended', async () => {
    const seen: UnpublishedLayer[] = [];
    let ended = false;
    const layer = await ensureLayer(request(['/etc', '/usr/lib/locale'], 1), {
      cache, installer: fakeInstaller, signal, log: () => {},
      besidePrepare: async (made) => {
        seen.push(made);
        assert.equal(readFileSync(join(made.rootfs, 'usr/bin-fake'), 'utf8'), 'installed', 'the packages are in when it starts');
        await made.prepared;
        assert.equal(readFileSync(join(made.rootfs, 'usr/lib/locale/locale-archive'), 'utf8'), 'generated', 'prepared resolves once the plan has run');
        await new Promise((r) => setTimeout(r, 50));
        ended = true;
      },
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.key, layer.key);
    assert.deepEqual(seen[0]!.writes, ['/etc', '/usr/lib/locale']);
    assert.notEqual(seen[0]!.rootfs, layer.rootfs, 'it saw the layer before it was published');
    assert.ok(ended, 'the layer was published after the work beside it ended');
    assert.equal(readFileSync(join(layer.rootfs, 'usr/lib/locale/locale-archive'), 'utf8'), 'generated', 'the plan ran');
  });

  it('does not start it for a plan that does not say what it writes', async () => {
    let called = false;
    await ensureLayer(request(undefined, 2), {
      cache, installer: fakeInstaller, signal, log: () => {},
      besidePrepare: async () => {
        called = true;
      },
    });
    assert.equal(called, false);
  });

  it('logs its failure and still makes the layer', async () => {
    const logs: string[] = [];
    const layer = await ensureLayer(request(['/usr/lib/locale'], 3), {
      cache, installer: fakeInstaller, signal, log: (l) => logs.push(l),
      besidePrepare: async () => {
        throw new Error('tar broke');
      },
    });
    assert.ok(existsSync(join(layer.rootfs, 'usr/lib/locale/locale-archive')), 'the layer was made');
    assert.ok(logs.some((l) => /packing beside the layer's preparation failed \(tar broke\)/.test(l)), logs.join(' | '));
  });

  it('stops it when the plan fails, and fails the layer', async () => {
    let stopped = false;
    const req = request(['/usr/lib/locale'], 4);
    // A link out of the plan's way makes its file write fail: /usr/lib/locale is a file here.
    const installer: Installer = { ...fakeInstaller, async bootstrap(_s, rootfs) {
      mkdirSync(join(rootfs, 'usr/lib'), { recursive: true });
      writeFileSync(join(rootfs, 'usr/lib/locale'), 'not a directory');
    } };
    await assert.rejects(ensureLayer(req, {
      cache, installer, signal, log: () => {},
      besidePrepare: async (made, s) => {
        await assert.rejects(made.prepared, 'prepared rejects when the plan failed');
        stopped = s.aborted;
      },
    }));
    assert.ok(stopped, 'the work beside it was told to stop');
  });
});
