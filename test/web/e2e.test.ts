import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseIni } from '../../src/config/ini/parse.js';
import { normalize } from '../../src/config/normalize.js';
import { IS_ROOT, ROOT, lastLine, vmgen } from '../integration/helpers.js';

/*
 * The page end to end, as a user drives it: Debian's chromium (headless, through playwright-core)
 * against a real `vmgen serve` that really builds. Screenshots of the main states go to
 * test-results/web/.
 */

const CHROMIUM = '/usr/bin/chromium';
const skip = !IS_ROOT ? 'needs root (real builds)' : !existsSync(CHROMIUM) ? 'needs Debian\'s chromium (scripts/setup.sh installs it)' : false;
const SHOTS = join(ROOT, 'test-results', 'web');
const work = mkdtempSync(join(tmpdir(), 'vmgen-web-e2e-'));
const data = join(work, 'data');

let server: ChildProcess | undefined;
let serverOutput = '';
let url = '';
let token = '';
let browser: Browser | undefined;
let page: Page;

/** Starts `vmgen serve --port 0` and resolves with the URL it prints. */
function serve(): Promise<string> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'vmgen.js'), 'serve', '--port', '0', '--data', data, '--concurrency', '1'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = proc;
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (serverOutput += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (serverOutput += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmgen serve did not start:\n${serverOutput}`)), 30_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(serverOutput);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vmgen serve exited with ${code}:\n${serverOutput}`));
    });
  });
}

const byId = (id: string) => page.locator(`[id="${id}"]`);
const field = (path: string) => byId(`f-${path}`);
const shot = (name: string, fullPage = true) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
const configText = () => page.inputValue('#config-text');

/** Waits until the config text (as the server wrote it) has this line. */
async function textHas(line: RegExp): Promise<void> {
  await page.waitForFunction((src) => new RegExp(src, 'm').test((document.getElementById('config-text') as HTMLTextAreaElement).value), line.source, { timeout: 10_000 });
}

/** Types into a form field and waits for the server to write it into the text. */
async function fill(path: string, value: string, expect: RegExp): Promise<void> {
  await field(path).fill(value);
  await textHas(expect);
}

async function add(record: string, asked: string | undefined, expect: RegExp): Promise<void> {
  if (asked !== undefined) {
    const ask = byId(`ask-${record}`);
    if ((await ask.evaluate((el) => el.tagName)) === 'SELECT') await ask.selectOption(asked);
    else await ask.fill(asked);
  }
  await byId(`add-${record}`).click();
  await textHas(expect);
}

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return (await r.json()) as T;
}

describe('the web page, end to end', { skip, timeout: 600_000 }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The page as the sources say now (npm run build makes the same).
    const built = spawnSync(process.execPath, [join(ROOT, 'web', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(built.status, 0, `web build:\n${built.stdout}${built.stderr}`);
    const made = await vmgen(['token', 'create', 'e2e', '--data', data]);
    assert.equal(made.code, 0, made.stderr);
    token = lastLine(made.stdout);
    url = await serve();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (err) => {
      throw new Error(`error in the page: ${err.message}`);
    });
  });

  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  test('the config endpoints are behind the token, like all of /api/', async () => {
    const r = await fetch(`${url}/api/config/parse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":""}' });
    assert.equal(r.status, 401);
    assert.equal((await fetch(`${url}/`)).status, 200, 'the page itself is public');
  });

  test('sign in: a wrong token is refused, the right one opens the form', async () => {
    await page.goto(url);
    await page.locator('#token').fill('not-a-token');
    await page.locator('#sign-in-form button').click();
    await page.waitForFunction(() => /not accepted/.test(document.getElementById('sign-in-error')!.textContent ?? ''));
    await shot('01-sign-in');
    await page.locator('#token').fill(token);
    await page.keyboard.press('Enter');
    await page.locator('#config-form .step').first().waitFor();
    assert.match(await page.textContent('#who') ?? '', /e2e/);
    // An empty config is a start, not an error: the presets stand above the form.
    assert.match(await page.textContent('#problem-summary') ?? '', /^Nothing written yet/);
    await page.locator('#start:not([hidden]) #preset-web-server').waitFor();
    await shot('02-empty-form');
  });

  test('fill the form for a Debian web server; a field error appears beside the field and goes', async () => {
    await byId('target-select').selectOption('lxc');
    await field('hardware.os').selectOption('debian12-64');
    await textHas(/^ {4}os = debian12-64$/);
    await fill('hardware.vm_id', 'web1', /^ {4}vm_id = web1$/);
    await fill('hardware.num_cpu', '2', /^ {4}num_cpu = 2$/);
    await fill('hardware.ram', '1GB', /^ {4}ram = 1GB$/);
    // A container has no disks: the form does not offer them for LXC.
    assert.match(await byId('vm-only-hardware.hdds').textContent() ?? '', /Disks: none, .* is a container/);
    assert.equal(await byId('add-hardware.hdds').count(), 0);
    await add('hardware.eths', undefined, /^ {12}type = dhcp$/);

    // The CLI's own message, beside the field, while the value is wrong.
    await field('config.hostname').fill('web_1!');
    // Not mid-typing: the field's problem shows once the user leaves it.
    await textHas(/^ {4}hostname = web_1!$/);
    assert.equal(await byId('err-config.hostname').locator('li').count(), 0, 'no error while typing');
    await page.keyboard.press('Tab');
    const hostErrors = byId('err-config.hostname');
    await hostErrors.locator('li.error').waitFor();
    // In the form's words (the field and its step); the text pane keeps the CLI's.
    assert.match(await hostErrors.textContent() ?? '', /Host name, step 3 \(error\): 'web_1!' is not a valid hostname/);
    assert.equal(await field('config.hostname').getAttribute('aria-invalid'), 'true');
    assert.match(await page.textContent('#problem-list') ?? '', /not a valid hostname/);
    await field('config.hostname').scrollIntoViewIfNeeded();
    await shot('03-field-error', false);
    await field('config.hostname').fill('web1');
    await textHas(/^ {4}hostname = web1$/);
    await page.waitForFunction(() => document.getElementById('err-config.hostname')?.childElementCount === 0);
    assert.equal(await field('config.hostname').getAttribute('aria-invalid'), null);

    await fill('config.root_passwd', 'change-me', /^ {4}root_passwd = change-me$/);
    await fill('config.timezone', 'Europe/Bucharest', /^ {4}timezone = Europe\/Bucharest$/);
    await add('users.groups', 'julius', /^ {8}group0 = julius$/);
    await add('users.users', 'caesar', /^ {12}name = caesar$/);
    await fill('users.users.user0.passwd', 'alesia', /^ {12}passwd = alesia$/);
    // The defined group from the user's checklist; the OS's own typed beside it.
    await page.locator('[data-field="users.users.user0.groups"]').getByLabel('julius', { exact: true }).check();
    await textHas(/^ {12}groups = julius$/);
    await fill('users.users.user0.groups.other', 'sudo', /^ {12}groups = julius, sudo$/);
    await fill('users.users.user0.shell', '/bin/bash', /^ {12}shell = \/bin\/bash$/);
    await field('network.eths.eth0.type').selectOption('static');
    await textHas(/^ {12}type = static$/);
    await fill('network.eths.eth0.address', '192.168.1.2', /^ {12}address = 192\.168\.1\.2$/);
    await fill('network.eths.eth0.network', '255.255.255.0', /^ {12}network = 255\.255\.255\.0$/);
    await fill('network.dns', '192.168.1.254', /^ {4}dns = 192\.168\.1\.254$/);
    await fill('network.gateway', '192.168.1.1', /^ {4}gateway = 192\.168\.1\.1$/);
    await add('network.open_ports', '22', /^ {12}port = 22$/);
    await add('network.open_ports', '80', /^ {12}port = 80$/);
    for (const app of ['devel.vim', 'services.git', 'services.sshd', 'services.httpd']) {
      await field(app).check();
      await textHas(new RegExp(`^ {4}${app.split('.')[1]} = 1$`));
    }
    assert.equal(await field('devel.eclipse').count(), 0, 'Debian cannot install Eclipse: not offered');

    await page.waitForFunction(() => document.getElementById('problem-summary')?.dataset.valid === 'true');
    const text = await configText();
    const tree = normalize(parseIni(text).doc.root).tree as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(tree), ['hardware', 'config', 'users', 'network', 'devel', 'services'], 'sections in the examples\' order');
    assert.deepEqual(Object.keys(tree.hardware!), ['vm_id', 'os', 'num_cpu', 'ram', 'eths']);
    assert.deepEqual(tree.users, { groups: { group0: 'julius' }, users: { user0: { name: 'caesar', passwd: 'alesia', groups: ['julius', 'sudo'], shell: '/bin/bash' } } });
    await shot('04-filled');
  });

  test('the text and the form follow each other; the .conf downloads as shown', async () => {
    const text = await configText();
    await page.locator('#config-text').fill(text.replace('num_cpu = 2', 'num_cpu = 3'));
    await page.waitForFunction(() => (document.getElementById('f-hardware.num_cpu') as HTMLInputElement | null)?.value === '3');
    await fill('hardware.num_cpu', '2', /^ {4}num_cpu = 2$/);
    // Typed a key at a time, slower and faster than the form applies edits: nothing typed is lost.
    await field('network.open_ports.port1.description').focus();
    for (const ch of 'web, tls') {
      await page.keyboard.type(ch);
      await page.waitForTimeout(ch === ',' || ch === 't' ? 450 : 60);
    }
    await textHas(/^ {12}description = "web, tls"$/);
    assert.equal(await field('network.open_ports.port1.description').inputValue(), 'web, tls');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-network.open_ports.port1.description');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-conf').click()]);
    assert.equal(download.suggestedFilename(), 'web1.conf');
    const saved = join(work, 'web1.conf');
    await download.saveAs(saved);
    assert.equal(readFileSync(saved, 'utf8'), await configText());
    const check = await vmgen(['validate', saved, '--target', 'lxc']);
    assert.equal(check.code, 0, `the CLI accepts what the page wrote:\n${check.stderr}`);
  });

  test('submit: the build\'s steps, progress and log, then the archive downloads', async () => {
    await page.locator('#submit').click();
    const view = page.locator('#build[data-build]');
    await view.waitFor();
    const id = await view.getAttribute('data-build');
    assert.ok(id, 'the build view names its build');
    await page.waitForFunction(() => document.getElementById('build')?.dataset.state === 'running', undefined, { timeout: 60_000 }).catch(() => undefined);
    await shot('05-building');
    await page.waitForFunction(() => ['succeeded', 'failed', 'canceled'].includes(document.getElementById('build')?.dataset.state ?? ''), undefined, { timeout: 300_000 });
    const state = await view.getAttribute('data-state');
    assert.equal(state, 'succeeded', `build ${id}: ${await page.textContent('#build-error')}\n${await page.textContent('#build-log')}`);
    assert.equal(await page.locator('#build-progress').evaluate((el) => (el as HTMLProgressElement).value), 100);
    assert.ok(await page.locator('#build-steps li').count() >= 2, 'the steps it went through');
    assert.ok((await page.textContent('#build-log') ?? '').trim().split('\n').length > 3, 'the live log');
    await page.locator(`#build-list tr[data-build="${id}"][data-state="succeeded"]`).waitFor();
    await shot('06-build-succeeded');

    const build = await api<{ artifact: { name: string; sha256: string; bytes: number } }>(`/api/builds/${id}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#build-download').click()]);
    assert.equal(download.suggestedFilename(), 'web1-lxc.tar.zst');
    // Streamed by the browser from a signed link, not fetched into the page's memory (a blob: URL).
    assert.match(download.url(), /\/download\/[^/?]+\?expires=\d+&sig=/);
    const archive = join(work, download.suggestedFilename());
    await download.saveAs(archive);
    const bytes = readFileSync(archive);
    assert.equal(bytes.length, build.artifact.bytes);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), build.artifact.sha256);
    const hostname = spawnSync('tar', ['--zstd', '-xOf', archive, 'rootfs/etc/hostname'], { encoding: 'utf8' });
    assert.equal(hostname.stdout.trim(), 'web1', hostname.stderr);
  });

  test('upload the seed\'s Windows sample: its values fill the form', async () => {
    await page.locator('#upload-conf').setInputFiles(join(ROOT, 'test', 'fixtures', 'seed', 'winxp-vmware.conf'));
    await page.waitForFunction(() => (document.getElementById('f-hardware.vm_id') as HTMLInputElement | null)?.value === 'TestMachine');
    const values: Record<string, string> = {
      'hardware.os': 'winxppro', 'hardware.num_cpu': '2', 'hardware.ram': '512',
      'hardware.hdds.hdd0.size': '8GB', 'hardware.hdds.hdd0.type': 'ide', 'hardware.hdds.hdd0.partitions.partition0.fs': 'ntfs',
      'hardware.hdds.hdd0.partitions.partition0.size': '5000', 'hardware.cd_drives.cd_drive0.path': '/path/to/iso',
      'hardware.eths.eth0.hw_addr': '01:00:de:ad:be:ef', 'users.groups.group1': 'vmg',
      'users.users.user0.name': 'caesar', 'users.users.user1.home_dir': 'C:\\Users2\\vv',
      'network.eths.eth0.type': 'static', 'network.eths.eth0.address': '192.168.1.2', 'network.eths.eth1.type': 'dhcp',
      'network.open_ports.port0.port': '22', 'network.open_ports.port1.proto': 'all',
    };
    for (const [path, value] of Object.entries(values)) assert.equal(await field(path).inputValue(), value, path);
    for (const app of ['services.httpd', 'services.sshd', 'gui.mozilla-firefox']) assert.equal(await field(app).isChecked(), true, app);
    // An LXC container cannot be Windows: the CLI's message stands beside the OS (the seed's listing has other errors there too).
    await byId('err-hardware.os').locator('li.error', { hasText: 'containers run Linux only' }).waitFor();
    assert.match(await byId('err-hardware.os').textContent() ?? '', /containers run Linux only/);
    await shot('07-winxp-uploaded');
    await byId('target-select').selectOption('vmware');
    await page.waitForFunction(() => !/Linux only/.test(document.getElementById('err-hardware.os')?.textContent ?? ''));
    assert.equal(await configText(), readFileSync(join(ROOT, 'test', 'fixtures', 'seed', 'winxp-vmware.conf'), 'utf8'), 'loading changed nothing');
  });

  test('keyboard and labels: every control is labelled; Enter adds an item and focus follows it', async () => {
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('#app input, #app select, #app textarea')]
      .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'))
      .map((el) => el.id || el.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, []);
    await byId('ask-users.groups').focus();
    await page.keyboard.type('senate');
    await page.keyboard.press('Enter');
    await textHas(/^ {8}group2 = senate$/);
    await page.waitForFunction(() => document.activeElement?.id === 'f-users.groups.group2');
  });

  test('phone width: one column, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    const [form, text] = await Promise.all([page.locator('#config-form').boundingBox(), page.locator('.text-pane').boundingBox()]);
    assert.ok(form && text && text.y > form.y + form.height - 1, 'the text comes after the form');
    await shot('08-phone', false);
  });
});
