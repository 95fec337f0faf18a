import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DirArtifactStore } from '../../src/service/artifacts/index.js';
import { pathHider } from '../../src/service/redact.js';
import { hideInUpdate, processRunner } from '../../src/service/runner/run.js';
import type { UpdateFields } from '../../src/service/runner/updates.js';
import { WEB_CONF } from './fakes.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('build logs sent to users show no host paths', () => {
  const hide = pathHider([
    { path: '/var/lib/vmgen', as: '<data>' },
    { path: '/var/lib/vmgen/work/host-42/abc-XyZ123', as: '<stage>' },
    { path: '/var/lib/vmgen/work/', as: '<work>' },
    { path: '/var/cache/vmgen', as: '<cache>' },
    { path: '/', as: '<root>' },
  ], '/tmp');

  it('replaces each known directory, the innermost first, and vmgen temp dirs', () => {
    assert.equal(hide('mkfs.ext4 -d /var/lib/vmgen/work/host-42/abc-XyZ123/rootfs /var/lib/vmgen/work/host-42/abc-XyZ123/disk.img'),
      'mkfs.ext4 -d <stage>/rootfs <stage>/disk.img');
    assert.equal(hide('cleaning /var/lib/vmgen/work/host-7'), 'cleaning <work>/host-7');
    assert.equal(hide('E: cannot open /var/lib/vmgen/service.db'), 'E: cannot open <data>/service.db');
    assert.equal(hide('I: using /var/cache/vmgen/debs/bookworm as the cache'), 'I: using <cache>/debs/bookworm as the cache');
    assert.equal(hide("cp: cannot stat '/tmp/vmgen-files-a1B2c3/x.conf'"), "cp: cannot stat '<tmp>/x.conf'");
    assert.equal(hide('/etc/apt/sources.list in the guest'), '/etc/apt/sources.list in the guest', 'guest paths stay; "/" is no host directory to hide');
  });

  it('covers log lines, the step and the error of an update', () => {
    const u: UpdateFields = { log: ['a /var/cache/vmgen/x', 'b'], step: 'unpack into /var/lib/vmgen/work/host-42/abc-XyZ123', error: 'failed in /var/cache/vmgen', progress: 0.5 };
    assert.deepEqual(hideInUpdate(u, hide), { log: ['a <cache>/x', 'b'], step: 'unpack into <stage>', error: 'failed in <cache>', progress: 0.5 });
  });

  it('a build that fails names its cache and stage directories only by placeholder, in its error and its log', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vmgen-redact-'));
    dirs.push(root);
    // A file where the cache directory should be: the build fails early, with the path in its message.
    const cacheRoot = join(root, 'cache');
    writeFileSync(cacheRoot, 'not a directory');
    const runner = processRunner({ workDir: join(root, 'work'), cacheRoot, artifacts: new DirArtifactStore(join(root, 'artifacts')), hidePaths: [{ path: root, as: '<data>' }] });
    const seen: string[] = [];
    let error = '';
    try {
      await runner({ id: 'redact1', owner: 'alice', config: readFileSync(WEB_CONF, 'utf8'), target: 'lxc' },
        { signal: new AbortController().signal, onUpdate: (u) => seen.push(...(u.log ?? []), u.step ?? '', u.error ?? '') });
      assert.fail('the build should fail');
    } catch (err) {
      error = `${(err as Error).message} ${(err as { hint?: string }).hint ?? ''}`;
    }
    const all = [error, ...seen].join('\n');
    assert.ok(!all.includes(root), `no host path in what the user sees:\n${all}`);
    assert.match(all, /<cache>|<data>|<stage>|<work>/, `the failure still says where, by placeholder:\n${all}`);
  });
});
