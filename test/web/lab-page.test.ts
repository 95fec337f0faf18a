import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testService, waitFor, ROOT, type TestService } from '../service/fakes.js';
import { stagePageAssets } from './page-assets.js';

/*
 * The page's labs in Chromium, against the API with the real lab checker and a fake executor:
 * the example lab's file and the files it names are picked and submitted, and the diagram drawn
 * from the file (networks with subnets, machines, NICs with addresses or dhcp) follows each
 * machine's job as the test moves it, until the lab is done and its archive offered.
 */

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : 'needs Debian\'s chromium (scripts/setup.sh installs it)';
const work = mkdtempSync(join(tmpdir(), 'vmgen-web-lab-'));
const assets = join(work, 'assets');
const NET101 = join(ROOT, 'examples', 'net101');
const SHOTS = join(ROOT, 'test-results', 'web');

let svc: TestService | undefined;
let browser: Browser | undefined;
let page: Page;

const machineState = (name: string): Promise<string | null> => page.locator(`#lab-diagram [data-machine="${name}"]`).getAttribute('data-state');
async function stateIs(name: string, state: string): Promise<void> {
  await page.waitForFunction(([n, s]) => document.querySelector(`#lab-diagram [data-machine="${n}"]`)?.getAttribute('data-state') === s, [name, state] as const, { timeout: 10_000 });
}

describe('the page: a lab submitted and drawn as a diagram', { skip }, () => {
  before(async () => {
    stagePageAssets(assets);
    mkdirSync(SHOTS, { recursive: true });
    svc = await testService({ webAssetsDir: assets });
    await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const address = svc.app.server.address();
    assert.ok(address && typeof address === 'object', 'listening on a TCP port');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on('pageerror', (err) => {
      throw new Error(`error in the page: ${err.message}`);
    });
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await page.locator('#token').fill(svc.tokens.alice);
    await page.keyboard.press('Enter');
    await page.locator('#lab-target option').first().waitFor({ state: 'attached' });
  });

  after(async () => {
    await browser?.close();
    await svc?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a lab with a missing file: the problems at their file and line, nothing queued', async () => {
    await page.locator('#lab-file').setInputFiles(join(NET101, 'lab.conf'));
    await page.locator('#lab-files').setInputFiles(['gw.conf', 'web.conf', 'students.csv'].map((f) => join(NET101, f)));
    await page.selectOption('#lab-target', 'lxc');
    await page.locator('#lab-submit').click();
    await page.locator('#lab-problems li').first().waitFor({ timeout: 20_000 });
    const line = readFileSync(join(NET101, 'lab.conf'), 'utf8').split('\n').findIndex((l) => l.includes('config = pc.conf')) + 1;
    assert.match(await page.textContent('#lab-problems') ?? '', new RegExp(`lab\\.conf:${line}:\\d+: error: `));
    assert.equal(svc!.executor.submitted.length, 0, 'nothing queued');
  });

  test('the diagram: networks, machines, NICs, and each machine\'s state as its job moves', async () => {
    await page.locator('#lab-files').setInputFiles(['gw.conf', 'web.conf', 'pc.conf', 'students.csv'].map((f) => join(NET101, f)));
    await page.locator('#lab-submit').click();
    await page.locator('#lab-diagram svg').waitFor({ timeout: 20_000 });
    const svgText = await page.textContent('#lab-diagram svg') ?? '';
    for (const want of ['dmz 10.20.0.0/24', 'lan 10.10.0.0/24', 'gw', 'web', 'pc1', 'pc6', 'eth0 10.20.0.1', 'eth1 10.10.0.1', 'eth0 10.20.0.10', 'eth0 dhcp']) {
      assert.ok(svgText.includes(want), `the diagram shows ${want}: ${svgText}`);
    }
    assert.equal(await page.locator('#lab-diagram .lab-link').count(), 9, 'a line per NIC: gw two, web one, six pcs one each');
    assert.equal(await machineState('gw'), 'queued');
    // The lines end on their network's bar: the diagram is the lab's wiring, not a list.
    const ends = await page.$$eval('#lab-diagram .lab-link', (links) => links.map((l) => {
      const bar = document.querySelector(`#lab-diagram .lab-network[data-network="${l.getAttribute('data-network')}"] line`);
      return l.querySelector('line')!.getAttribute('y2') === bar?.getAttribute('y1');
    }));
    assert.ok(ends.every(Boolean), `every NIC's line ends on its network: ${ends.join()}`);

    const jobs = svc!.executor.submitted.filter((r) => r.lab?.role === 'member');
    assert.equal(jobs.length, 8);
    svc!.executor.startBuild(jobs[0]!.id);
    await stateIs('gw', 'running');
    assert.match(await page.textContent('#lab-state') ?? '', /running/);
    await svc!.executor.succeed(jobs[0]!.id, svc!.store, svc!.dir, 'gw member', 'gw-lxc.member.tar');
    await stateIs('gw', 'succeeded');
    await page.screenshot({ path: join(SHOTS, 'lab-running.png'), fullPage: true });
    for (const j of jobs.slice(1)) await svc!.executor.succeed(j.id, svc!.store, svc!.dir, 'member', 'm.member.tar');
    await waitFor(() => svc!.executor.submitted.some((r) => r.lab?.role === 'assemble'), 10_000);
    const assembly = svc!.executor.submitted.find((r) => r.lab?.role === 'assemble')!;
    await svc!.executor.succeed(assembly.id, svc!.store, svc!.dir, 'lab archive', 'net101-lxc.tar.zst');
    await page.waitForFunction(() => document.getElementById('lab-state')?.textContent === 'done', undefined, { timeout: 10_000 });
    assert.equal(await page.locator('#lab-download').isVisible(), true, 'the archive is offered');
    await page.screenshot({ path: join(SHOTS, 'lab-done.png'), fullPage: true });
  });
});
