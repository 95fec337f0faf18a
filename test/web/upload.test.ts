import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testService, waitFor, WEB_CONF, type TestService } from '../service/fakes.js';
import { stagePageAssets } from './page-assets.js';

/*
 * The page's uploads in a browser, against the API with a fake executor (nothing is built): the
 * files a config names are picked, kept and sent with the checks and the build, and a build-time
 * script the server does not run is shown like any other problem.
 */

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : 'needs Debian\'s chromium (scripts/setup.sh installs it)';
const work = mkdtempSync(join(tmpdir(), 'vmgen-web-upload-'));
const assets = join(work, 'assets');
const SITE = `${readFileSync(WEB_CONF, 'utf8')}
[files]
    [[site]]
        path = /var/www/lab
        source = site
`;
const SCRIPT = `${SITE}
[scripts]
    [[stamp]]
        run = date > /etc/stamp
`;

let svc: TestService | undefined;
let browser: Browser | undefined;
let page: Page;

const problems = () => page.textContent('#problem-list').then((t) => t ?? '');
async function problemsMatch(re: RegExp, yes = true): Promise<void> {
  await page.waitForFunction(([src, want]) => new RegExp(src as string).test(document.getElementById('problem-list')!.textContent ?? '') === want, [re.source, yes] as const, { timeout: 10_000 });
}

describe('the page: files for source keys, and scripts the server does not run', { skip }, () => {
  before(async () => {
    stagePageAssets(assets);
    mkdirSync(join(work, 'site', 'img'), { recursive: true });
    writeFileSync(join(work, 'site', 'index.html'), '<h1>lab</h1>\n');
    writeFileSync(join(work, 'site', 'img', 'logo.svg'), '<svg/>');

    svc = await testService({ webAssetsDir: assets });
    await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const address = svc.app.server.address();
    assert.ok(address && typeof address === 'object', 'listening on a TCP port');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (err) => {
      throw new Error(`error in the page: ${err.message}`);
    });
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.locator('#token').fill(svc.tokens.alice);
    await page.keyboard.press('Enter');
    await page.locator('#config-form .step').first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await svc?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a build-time script is a problem at its line, with the hint; the scripts list says why', async () => {
    await page.fill('#config-text', SCRIPT);
    await problemsMatch(/script 'stamp' runs at build time/);
    const line = SCRIPT.split('\n').indexOf('    [[stamp]]') + 1;
    assert.match(await problems(), new RegExp(`${line}:\\d+ error: script 'stamp' runs at build time.*hint: the admin can start the service with --allow-scripts`));
    assert.match(await page.textContent('#scripts-policy') ?? '', /does not run build-time scripts .*--allow-scripts/);
  });

  test('a source the page does not keep is an error; a picked directory is kept, checked and sent with the build', async () => {
    await page.fill('#config-text', SITE);
    await problemsMatch(/no file or directory 'site' beside the config/);
    await page.locator('[id="pick-dir-files.site.source"]').setInputFiles(join(work, 'site'));
    await page.waitForFunction(() => /Kept: 2 files under site/.test(document.getElementById('kept-files.site.source')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await problemsMatch(/no file or directory/, false);
    assert.match(await page.textContent('#problem-summary') ?? '', /^Valid/);
    await page.locator('#submit').click();
    await waitFor(() => svc!.executor.submitted.length === 1, 10_000);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    assert.deepEqual(svc!.executor.submitted[0]!.files, { 'site/img/logo.svg': b64('<svg/>'), 'site/index.html': b64('<h1>lab</h1>\n') });
  });
});
