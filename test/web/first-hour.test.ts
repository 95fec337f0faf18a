import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PRESETS, presetText } from '../../src/service/web/presets.js';
import { fakeArchive, testService, waitFor, ROOT, type TestService } from '../service/fakes.js';
import { stagePageAssets } from './page-assets.js';

/*
 * A new user's first hour in Chromium, against the API with the fake executor that "builds" a small
 * archive (nothing real is built): sign in with the keyboard, a first view with no error and the
 * presets of the target, a preset that fills a valid machine, Build, the archive's size and
 * SHA-256, the download; a pasted text that does not parse; the same start on a phone. axe-core
 * (from node_modules) checks every state, and each is photographed into test-results/web/.
 */

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : 'needs Debian\'s chromium (scripts/setup.sh installs it)';
const work = mkdtempSync(join(tmpdir(), 'vmgen-web-first-'));
const assets = join(work, 'assets');
const SHOTS = join(ROOT, 'test-results', 'web');
const AXE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let svc: TestService | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let url = '';

interface AxeViolation { id: string; impact: string; help: string; nodes: { target: string[] }[] }

/** axe-core on the page as it is now: every WCAG 2.2 A/AA rule and its best practices; none may fail. */
async function noViolations(p: Page, state: string): Promise<void> {
  // Evaluated through the debugger protocol, so the page's own policy (script-src 'self') stays on.
  if (!(await p.evaluate(() => 'axe' in window))) await p.evaluate(AXE);
  const violations = await p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  const lines = violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(lines, [], `axe-core on "${state}"`);
}

async function shot(p: Page, name: string, fullPage = true): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `first-hour-${name}.png`), fullPage });
}

const activeId = (p: Page): Promise<string> => p.evaluate(() => document.activeElement?.id ?? '');

/** Presses Tab until `id` has the focus, as a keyboard user would; fails after `most` presses. */
async function tabTo(p: Page, id: string, most = 40): Promise<void> {
  for (let i = 0; i < most; i++) {
    if ((await activeId(p)) === id) return;
    await p.keyboard.press('Tab');
  }
  assert.equal(await activeId(p), id, `Tab reaches #${id} within ${most} presses`);
}

async function signIn(p: Page): Promise<void> {
  await p.goto(url);
  await tabTo(p, 'token');
  await p.keyboard.type(svc!.tokens.alice);
  await p.keyboard.press('Enter');
  await p.locator('#config-form .step').first().waitFor();
}

describe('the page: a new user\'s first hour', { skip }, () => {
  before(async () => {
    stagePageAssets(assets);
    mkdirSync(SHOTS, { recursive: true });
    svc = await testService({ webAssetsDir: assets, auto: true });
    await svc.app.listen({ host: '127.0.0.1', port: 0 });
    const address = svc.app.server.address();
    assert.ok(address && typeof address === 'object', 'listening on a TCP port');
    url = `http://127.0.0.1:${address.port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (err) => {
      throw new Error(`error in the page: ${err.message}`);
    });
  });

  after(async () => {
    await browser?.close();
    await svc?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('sign in with the keyboard: focus moves to the start, which shows no error', async () => {
    await page.goto(url);
    await noViolations(page, 'sign-in');
    await shot(page, '01-sign-in');
    await signIn(page);
    await page.locator('#start:not([hidden]) #preset-web-server').waitFor();
    assert.equal(await activeId(page), 'start-title', 'focus left the gone sign-in form for the start');
    assert.match(await page.textContent('#problem-summary') ?? '', /^Nothing written yet/);
    assert.equal(await page.locator('#problem-list li').count(), 0, 'no problem listed on the first view');
    assert.equal(await page.locator('#config-form .field-errors li').count(), 0, 'no error beside a field on the first view');
    assert.equal(await page.locator('#submit').isDisabled(), true, 'nothing to build yet');
    // A default is shown as a value with its unit.
    assert.equal(await page.getAttribute('[id="f-hardware.ram"]', 'placeholder'), 'default: 1 GB');
    await noViolations(page, 'first view');
    await shot(page, '02-first-view');
  });

  test('the focus ring is at least 3:1 against the page and the panels', async () => {
    await page.focus('#preset-web-server');
    const [ring, ...around] = await page.evaluate(() => {
      const b = document.getElementById('preset-web-server')!;
      return [getComputedStyle(b).outlineColor, getComputedStyle(document.body).backgroundColor, getComputedStyle(document.getElementById('start')!).backgroundColor];
    });
    const rgb = (c: string): number[] => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const lum = (c: string): number => {
      const [r, g, b] = rgb(c).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    for (const bg of around) {
      const [hi, lo] = [lum(ring!), lum(bg!)].sort((a, b) => b - a);
      const ratio = (hi! + 0.05) / (lo! + 0.05);
      assert.ok(ratio >= 3, `focus ring ${ring} on ${bg}: ${ratio.toFixed(2)}:1`);
    }
    assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('preset-web-server')!).outlineWidth), '3px');
  });

  test('the presets are the target\'s: a desktop only for VM targets', async () => {
    const offered = (): Promise<string[]> => page.$$eval('#preset-list button', (bs) => bs.map((b) => b.id));
    assert.equal(await page.inputValue('#target-select'), 'lxc');
    assert.deepEqual(await offered(), PRESETS.filter((p) => p.kinds.includes('container')).map((p) => `preset-${p.id}`));
    await page.selectOption('#target-select', 'qemu');
    await page.locator('#preset-desktop').waitFor();
    assert.deepEqual(await offered(), PRESETS.map((p) => `preset-${p.id}`));
    // A VM is offered disks, CD drives and every OS; seed-era ids are not listed beside the ids they build as.
    await page.locator('[id="add-hardware.hdds"]').waitFor();
    const osOptions = (): Promise<{ value: string; disabled: boolean; group: string }[]> => page.$$eval('[id="f-hardware.os"] option', (os) => os
      .map((o) => ({ value: (o as HTMLOptionElement).value, disabled: (o as HTMLOptionElement).disabled, group: (o.parentElement as HTMLOptGroupElement).label ?? '' })));
    const vm = await osOptions();
    assert.ok(vm.some((o) => o.value === 'windows10-64' && !o.disabled), 'a VM target offers Windows');
    assert.ok(!vm.some((o) => ['debian5-64', 'winxppro', 'ubuntu'].includes(o.value)), `no seed-era id: ${vm.map((o) => o.value).join(' ')}`);

    await page.selectOption('#target-select', 'lxc');
    await page.locator('#preset-desktop').waitFor({ state: 'detached' });
    // A container: no disks or CD drives to add, and Windows shown disabled with the reason.
    await page.locator('[id="vm-only-hardware.hdds"]').waitFor();
    assert.equal(await page.locator('[id="add-hardware.hdds"]').count(), 0, 'no disks for a container');
    assert.equal(await page.locator('[id="add-hardware.cd_drives"]').count(), 0, 'no CD drives for a container');
    const ct = await osOptions();
    const win = ct.find((o) => o.value === 'windows10-64');
    assert.ok(win?.disabled, 'Windows cannot be picked for a container');
    assert.match(win.group, /^Not for LXC: a container runs Linux only$/);
    assert.ok(ct.some((o) => o.value === 'debian12-64' && !o.disabled), 'Debian can');
    await noViolations(page, 'container choices');
  });

  test('keyboard only: a preset fills a valid machine, Build, its size and SHA-256, the archive downloads', async () => {
    await page.focus('#start-title');
    await tabTo(page, 'preset-web-server', 3);
    await page.keyboard.press('Enter');
    const web = PRESETS.find((p) => p.id === 'web-server')!;
    await page.waitForFunction((t) => (document.getElementById('config-text') as HTMLTextAreaElement).value === t, presetText(web, 'container'));
    await page.waitForFunction(() => document.getElementById('problem-summary')?.dataset.valid === 'true');
    assert.equal(await page.textContent('#problem-summary'), 'Valid.', 'a preset is valid for its target, without a warning');
    assert.equal(await page.locator('#start').isHidden(), true, 'the start goes once the text holds a machine');
    assert.equal(await page.inputValue('[id="f-hardware.vm_id"]'), 'web1');
    assert.equal(await page.inputValue('[id="f-config.hostname"]'), 'web1');
    assert.equal(await page.isChecked('[id="f-services.httpd"]'), true);
    assert.equal(await page.isDisabled('#submit'), false);
    // The review beside Build: what the machine is, and no warning for a preset.
    const facts = await page.textContent('#review-facts') ?? '';
    for (const want of ['web1, host name web1', 'debian12-64', 'LXC (lxc)', '1 GB (default)', 'eth0: dhcp', 'admin', '22/tcp, 80/tcp; every port not listed is closed', 'sshd, httpd']) {
      assert.ok(facts.includes(want), `the review says "${want}": ${facts}`);
    }
    assert.equal(await page.locator('#review-warnings li').count(), 0, 'a preset has nothing to warn of');
    await noViolations(page, 'preset filled');
    await shot(page, '03-preset-filled');

    // Build: the form's last control before it is the text; Tab from there, as from the form.
    await page.focus('#config-text');
    await tabTo(page, 'submit', 20);
    await page.keyboard.press('Enter');
    await page.locator('#build[data-state="succeeded"]').waitFor({ timeout: 20_000 });
    assert.equal(await activeId(page), 'build-title', 'focus follows to the build');
    assert.equal(svc!.executor.submitted.length, 1, 'one build submitted');
    const req = svc!.executor.submitted[0]!;
    assert.equal(req.target, 'lxc');
    const archive = Buffer.from(fakeArchive(req));
    const sha = createHash('sha256').update(archive).digest('hex');
    assert.equal(await page.textContent('#artifact-sha256'), sha);
    assert.match(await page.textContent('#artifact-size') ?? '', new RegExp(`\\(${archive.length} bytes\\)`));
    // How to run it, for its target: LXC's unpack and start, naming the archive as the download does.
    assert.equal(await page.locator('#build-run').isVisible(), true, 'the run commands are shown');
    const commands = await page.textContent('#build-run-code') ?? '';
    const lines = commands.split('\n').filter((l) => l && !l.startsWith('# '));
    assert.deepEqual(lines, ['mkdir -p /var/lib/lxc/web1', `tar -xf ${req.id}-lxc.tar.zst -C /var/lib/lxc/web1`, 'lxc-start -n web1 -P /var/lib/lxc']);
    assert.match(commands, /^# unpack config, fstab and rootfs into it$/m);
    await noViolations(page, 'build succeeded');
    await shot(page, '04-built');

    // The Copy button is the next stop after the commands themselves, and copies them as shown.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
    await tabTo(page, 'build-run-commands', 10);
    await page.keyboard.press('Tab');
    assert.equal(await activeId(page), 'build-run-copy', 'Tab goes from the commands to Copy');
    assert.equal(await page.getAttribute('#build-run-copy', 'type'), 'button');
    assert.equal(await page.textContent('#build-run-copy'), 'Copy the commands');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('build-run-status')?.textContent === 'Copied.');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), commands, 'the clipboard holds the commands as shown');

    await tabTo(page, 'build-download', 10);
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    assert.equal(download.suggestedFilename(), `${req.id}-lxc.tar.zst`);
    const saved = join(work, download.suggestedFilename());
    await download.saveAs(saved);
    assert.equal(createHash('sha256').update(readFileSync(saved)).digest('hex'), sha, 'the downloaded archive is the one shown');
  });

  test('messages in the form\'s words: the field and its step; items named by what they hold', async () => {
    const legends = await page.$$eval('#config-form fieldset.item > legend, #config-form .field > label', (ls) => ls.map((l) => l.textContent ?? ''));
    for (const want of ['User admin', 'Port 22/tcp', 'Port 80/tcp']) assert.ok(legends.includes(want), `an item titled "${want}" among: ${legends.join(' | ')}`);
    assert.ok(!legends.some((l) => /\b(user|port)\d\b|\bssh\b$/.test(l)), `no item titled by its key: ${legends.join(' | ')}`);
    // Pickers for values from lists the config does not close: any other value can still be typed.
    const picks = (id: string): Promise<string[]> => page.evaluate((i) => [...((document.getElementById(i) as HTMLInputElement).list?.options ?? [])].map((o) => o.value), id);
    assert.ok((await picks('f-config.timezone')).includes('Europe/Bucharest'), 'time zones to pick from');
    assert.ok((await picks('f-config.locale')).includes('en_US.UTF-8'), 'locales to pick from');
    assert.ok((await picks('f-users.users.admin.shell')).includes('/bin/bash'), 'shells to pick from');
    await page.fill('[id="f-config.hostname"]', 'web_1!');
    // Not mid-typing: the text pane has it at once, the field once the user leaves it.
    await page.waitForFunction(() => /not a valid hostname/.test(document.getElementById('problem-list')?.textContent ?? ''));
    const errors = page.locator('[id="err-config.hostname"]');
    assert.equal(await errors.locator('li').count(), 0, 'no error beside the field being typed in');
    assert.equal(await page.getAttribute('[id="f-config.hostname"]', 'aria-invalid'), null);
    await page.keyboard.press('Tab');
    await errors.locator('li.error').waitFor();
    assert.match(await errors.textContent() ?? '', /^Host name, step 3 \(error\): 'web_1!' is not a valid hostname/);
    // The text pane keeps the CLI's wording, key and all.
    assert.match(await page.textContent('#problem-list') ?? '', /hostname: 'web_1!' is not a valid hostname/);
    await noViolations(page, 'field error');
    await page.locator('[id="f-config.hostname"]').scrollIntoViewIfNeeded();
    await shot(page, '05-field-error', false);
    await page.fill('[id="f-config.hostname"]', 'web1');
    await page.waitForFunction(() => document.getElementById('problem-summary')?.dataset.valid === 'true');
  });

  test('one place per thing: a network adapter added and addressed in its step, a missing address at its field, groups from a checklist', async () => {
    const text = (): Promise<string> => page.inputValue('#config-text');
    // The preset's adapter: its card and its addresses in one item of the network step, none in hardware.
    const nic = page.locator('#step-network fieldset.item[data-field="hardware.eths.eth0"]');
    await nic.waitFor();
    assert.equal(await nic.locator('legend').textContent(), 'Network adapter eth0 (DHCP)');
    for (const id of ['f-hardware.eths.eth0.type', 'f-network.eths.eth0.type']) assert.equal(await nic.locator(`[id="${id}"]`).count(), 1, `#${id} in the adapter's item`);
    assert.equal(await page.locator('#step-hardware [data-field^="hardware.eths"]').count(), 0, 'no network adapter in the hardware step');
    assert.match(await page.textContent('#step-network') ?? '', /Default gateway of the machine.*DNS servers of the machine/s);

    // Static without an address: the error sits at the empty address field, in the form's words.
    await page.selectOption('[id="f-network.eths.eth0.type"]', 'static');
    const addressErr = page.locator('[id="err-network.eths.eth0.address"] li.error');
    await addressErr.waitFor();
    assert.match(await addressErr.textContent() ?? '', /^Network adapter eth0 \(static\): IPv4 address, step 5 \(error\): eth0 is static but has no address \(for example 192\.168\.1\.2\)$/);
    assert.equal(await page.getAttribute('[id="f-network.eths.eth0.address"]', 'aria-invalid'), 'true');
    assert.equal(await nic.locator('[id="f-network.eths.eth0.address"]').count(), 1, 'the address field is in the adapter\'s item');
    await noViolations(page, 'static NIC without an address');
    await nic.scrollIntoViewIfNeeded();
    await shot(page, '05b-nic-missing-address', false);
    await page.fill('[id="f-network.eths.eth0.address"]', '10.0.0.5');
    await page.keyboard.press('Tab');
    await page.fill('[id="f-network.eths.eth0.network"]', '255.255.255.0');
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => document.getElementById('problem-summary')?.dataset.valid === 'true');
    assert.equal(await nic.locator('legend').textContent(), 'Network adapter eth0 (10.0.0.5)');
    // One spelling per connection (the seed's 'bridge' and 'hostonly' read as the same, not offered twice).
    assert.deepEqual(await page.$$eval('[id="f-hardware.eths.eth0.type"] option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['', 'nat', 'bridged', 'host-only']);
    // Its card is added to [hardware] when its connection is chosen, and the two halves stay one item.
    await page.selectOption('[id="f-hardware.eths.eth0.type"]', 'bridged');
    await page.waitForFunction(() => /\[hardware\][^[]*\[\[eths\]\]\s*\[\[\[eth0\]\]\]\s*type = bridged/.test((document.getElementById('config-text') as HTMLTextAreaElement).value));
    assert.equal(await page.locator('#step-network fieldset.item').filter({ hasText: 'Network adapter eth0' }).count(), 1, 'one item for the adapter');

    // A user's groups: a checklist of the groups the config defines, the OS's own typed beside it.
    await page.fill('[id="ask-users.groups"]', 'staff');
    await page.click('[id="add-users.groups"]');
    const groups = page.locator('fieldset.groups[data-field="users.users.admin.groups"]');
    await groups.getByLabel('staff', { exact: true }).waitFor();
    assert.equal(await groups.getByLabel('staff', { exact: true }).isChecked(), false);
    assert.equal(await groups.getByLabel('Other groups (comma-separated)').inputValue(), 'sudo');
    await groups.getByLabel('staff', { exact: true }).check();
    await page.waitForFunction(() => /^ {12}groups = staff, sudo$/m.test((document.getElementById('config-text') as HTMLTextAreaElement).value));
    assert.match(await text(), /^ {8}group0 = staff$/m);
    await noViolations(page, 'groups checklist');
    await groups.scrollIntoViewIfNeeded();
    await shot(page, '05c-groups', false);
  });

  test('the review warns of a port open with no server behind it', async () => {
    await page.uncheck('[id="f-services.sshd"]');
    const warnings = page.locator('#review-warnings');
    await warnings.locator('li', { hasText: 'Port 22/tcp is open' }).waitFor();
    assert.match(await warnings.textContent() ?? '', /Port 22\/tcp is open, but the machine has no SSH server \(Applications: sshd\): nothing will answer there\./);
    assert.equal(await page.isDisabled('#submit'), false, 'a warning does not stop the build');
    await noViolations(page, 'review warning');
    await page.locator('#review').scrollIntoViewIfNeeded();
    await shot(page, '06-review-warning', false);
    await page.check('[id="f-services.sshd"]');
    await warnings.locator('li').first().waitFor({ state: 'detached' });
  });

  test('a pasted config with a syntax error: the last good form stays, read-only, the error on top', async () => {
    const good = await page.inputValue('#config-text');
    await page.fill('#config-text', good.replace('[config]', '[config'));
    await page.locator('#form-stale').waitFor();
    assert.match(await page.textContent('#form-stale') ?? '', /does not parse.*last text that did, read-only.*Line \d+: /s);
    assert.match(await page.textContent('#problem-list') ?? '', /error/);
    assert.equal(await page.inputValue('[id="f-hardware.vm_id"]'), 'web1', 'the form still shows the machine');
    assert.equal(await page.getAttribute('#config-form .steps', 'inert'), '', 'the form cannot be changed while the text does not parse');
    assert.equal(await page.evaluate(() => document.getElementById('config-form')?.firstElementChild?.id), 'form-stale', 'the error stands on top of the form');
    assert.equal(await page.isDisabled('#submit'), true);
    await noViolations(page, 'syntax error');
    await shot(page, '07-syntax-error');
    await page.fill('#config-text', good);
    await page.locator('#form-stale').waitFor({ state: 'detached' });
    assert.equal(await page.getAttribute('#config-form .steps', 'inert'), null, 'editable again once the text parses');
  });

  test('work is kept: the draft survives a reload and a sign-out; a past build is opened, copied, built again and deleted', async () => {
    page.on('dialog', (d) => void d.accept());
    const draft = await page.inputValue('#config-text');
    await page.reload();
    await page.locator('#config-form .step').first().waitFor();
    assert.equal(await page.inputValue('#config-text'), draft, 'the draft after a reload');
    await page.click('#sign-out');
    await signIn(page);
    await page.waitForFunction((t) => (document.getElementById('config-text') as HTMLTextAreaElement).value === t, draft);

    // The build of the first test, from the list: its state, steps, log and config.
    const first = svc!.executor.submitted[0]!;
    await page.click(`#build-list tr[data-build="${first.id}"] button`);
    await page.locator(`#build[data-build="${first.id}"][data-state="succeeded"]`).waitFor();
    await page.waitForFunction((id) => (document.getElementById('build-log')?.textContent ?? '').includes(`building ${id}`), first.id);
    // Every step of its plan, numbered and done, not only the last one its events named.
    const view = (await svc!.app.inject({ method: 'GET', url: `/api/builds/${first.id}`, headers: svc!.auth('alice') })).json() as { steps: string[] };
    assert.ok(view.steps.length > 3, `the plan has its steps: ${view.steps.join(', ')}`);
    const shown = await page.$$eval('#build-steps li', (ls) => ls.map((l) => l.textContent ?? ''));
    assert.deepEqual(shown, view.steps.map((st, i) => `✓ ${i + 1}/${view.steps.length} ${st} (done)`), 'the steps it went through');
    assert.equal(await page.textContent('#build-config'), first.config, 'the config it was built from');
    await noViolations(page, 'past build');
    await shot(page, '08-past-build');

    await page.click('#new-conf');
    await page.locator('#start:not([hidden])').waitFor();
    await page.click('#build-clone');
    await page.waitForFunction((t) => (document.getElementById('config-text') as HTMLTextAreaElement).value === t, first.config);
    await page.waitForFunction(() => document.getElementById('problem-summary')?.dataset.valid === 'true');

    await page.click('#build-rebuild');
    await waitFor(() => svc!.executor.submitted.length === 2, 10_000);
    const again = svc!.executor.submitted[1]!;
    assert.equal(again.config, first.config, 'built again from the same config');
    await page.locator(`#build[data-build="${again.id}"][data-state="succeeded"]`).waitFor({ timeout: 20_000 });

    await page.click('#build-delete');
    await page.locator(`#build-list tr[data-build="${again.id}"]`).waitFor({ state: 'detached' });
    assert.equal(await page.isHidden('#build'), true, 'the deleted build\'s view goes');
    assert.equal(await page.locator(`#build-list tr[data-build="${first.id}"]`).count(), 1, 'the other build stays');
    await noViolations(page, 'build deleted');
  });

  test('a phone (390×844): the start fits, its buttons are tap targets, no violation', async () => {
    const phone = await browser!.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    p.on('pageerror', (err) => {
      throw new Error(`error in the page: ${err.message}`);
    });
    try {
      await signIn(p);
      await p.locator('#start:not([hidden]) #preset-lab-client').waitFor();
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
      const small = await p.$$eval('#preset-list button', (bs) => bs.filter((b) => b.getBoundingClientRect().height < 24 || b.getBoundingClientRect().width < 24).map((b) => b.id));
      assert.deepEqual(small, [], 'every preset button is at least 24 px each way');
      const first = await p.locator('#preset-web-server').boundingBox();
      assert.ok(first && first.y + first.height <= 844, 'the first preset is on the first screen');
      await noViolations(p, 'phone first view');
      await shot(p, '09-phone', false);

      // A preset, then halfway down the form: Build and the problems' summary are on the screen.
      await p.click('#preset-lab-client');
      await p.waitForFunction(() => document.getElementById('problem-summary')?.dataset.valid === 'true');
      await p.locator('#step-network-title').scrollIntoViewIfNeeded();
      for (const id of ['submit', 'problem-summary', 'to-problems']) {
        const box = await p.locator(`#${id}`).boundingBox();
        assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `#${id} is on the screen halfway down the form: ${JSON.stringify(box)}`);
      }
      const tiny = await p.$$eval('#app button, #app input, #app select, #app summary, #app nav a, #app .action-bar a', (els) => els
        .filter((e) => (e as HTMLElement).offsetParent !== null && (e as HTMLInputElement).type !== 'file')
        .filter((e) => { const r = e.getBoundingClientRect(); return r.width < 24 || r.height < 24; })
        .map((e) => e.id || e.textContent?.slice(0, 30) || e.outerHTML.slice(0, 60)));
      assert.deepEqual(tiny, [], 'every control is a tap target of at least 24 × 24 px');
      await noViolations(p, 'phone preset filled');
      await shot(p, '10-phone-action-bar', false);
    } finally {
      await phone.close();
    }
  });
});
