import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VmgenError } from '../../src/errors.js';
import { runInChild } from '../../src/service/runner/run.js';
import { WEB_CONF } from './fakes.js';

/*
 * The build process reads a request's files as the CLI reads the directory beside a config: it
 * checks the config again with them before it builds. Nothing is built here: a build that gets as
 * far as its first step is cancelled there.
 */

const SITE = `${readFileSync(WEB_CONF, 'utf8')}
[files]
    [[site]]
        path = /var/www/lab
        source = site
`;
const dir = mkdtempSync(join(tmpdir(), 'vmgen-runner-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the build process and the request files', () => {
  it('refuses a config whose source the request did not carry, at its line', async () => {
    const err = await runInChild({ config: SITE, target: 'lxc', cacheRoot: join(dir, 'cache'), outDir: join(dir, 'out') },
      { signal: new AbortController().signal, onUpdate: () => {}, killAfterMs: 5000 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof VmgenError, `a VmgenError: ${String(err)}`);
    assert.equal(err.code, 'VMG_CONFIG_INVALID');
    assert.match(err.message, /config:\d+:\d+: error: no file or directory 'site' beside the config/);
  });

  it('with the files, the config validates and the build starts (cancelled at its first step)', async () => {
    const controller = new AbortController();
    const steps: string[] = [];
    const err = await runInChild({
      config: SITE, target: 'lxc', cacheRoot: join(dir, 'cache'), outDir: join(dir, 'out'),
      files: { 'site/index.html': Buffer.from('<h1>lab</h1>\n').toString('base64') },
    }, {
      signal: controller.signal, killAfterMs: 5000,
      onUpdate: (u) => {
        if (u.step === undefined) return;
        steps.push(u.step);
        controller.abort();
      },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof VmgenError, `a VmgenError: ${String(err)}`);
    assert.equal(err.code, 'VMG_CANCELLED', err.message);
    assert.ok(steps.length > 0, 'a step started: the config passed the build process\'s own check');
  });
});
