import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { everyItem } from '../helpers/assert-values.js';
import { BUILD_ID, newBuildId } from '../../src/service/routes/common.js';
import { ApiClient, downloadArtifact, RemoteProgress, safeFileName, serverBase, sseEvents } from '../../src/cli/commands/submit.js';
import { StepReporter } from '../../src/cli/progress.js';
import { DirArtifactStore } from '../../src/service/artifacts/index.js';
import { createToken, TOKEN_PATTERN } from '../../src/service/auth.js';
import { ServiceDb } from '../../src/service/db.js';
import type { BuildView } from '../../src/service/routes/common.js';
import { startServer, type RunningServer } from '../../src/service/server.js';
import { assertNoStack, run } from '../helpers/cli.js';
import { fakeArchive, FakeExecutor, testCatalogs, WEB_CONF } from './fakes.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vmgen-cli-svc-'));
  dirs.push(d);
  return d;
}

describe('vmgen token', () => {
  it('create prints the token on its last line; list shows users; revoke removes them', async () => {
    const data = tempDir();
    const a = await run('vmgen', ['token', 'create', 'alice', '--data', data]);
    assert.equal(a.code, 0, a.stderr);
    const token = a.stdout.trim().split('\n').at(-1)!;
    assert.match(token, TOKEN_PATTERN);
    assert.match(a.stderr, /created user alice/);
    const r = await run('vmgen', ['token', 'create', 'root', '--admin', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    const again = await run('vmgen', ['token', 'create', 'alice', '--data', data]);
    assert.equal(again.code, 0);
    assert.notEqual(again.stdout.trim(), token);
    const list = await run('vmgen', ['token', 'list', '--data', data]);
    assert.match(list.stdout, /^NAME\s+ROLE\s+TOKENS/);
    assert.match(list.stdout, /^alice\s+user\s+2\s/m);
    assert.match(list.stdout, /^root\s+admin\s+1\s/m);
    assert.doesNotMatch(list.stdout, new RegExp(token));
    const json = JSON.parse((await run('vmgen', ['token', 'list', '--json', '--data', data])).stdout);
    assert.deepEqual(json.map((u: { name: string }) => u.name), ['alice', 'root']);

    const role = await run('vmgen', ['token', 'create', 'alice', '--admin', '--data', data]);
    assert.equal(role.code, 2);
    assert.match(role.stderr, /exists and is not an admin/);
    const bad = await run('vmgen', ['token', 'create', '../x', '--data', data]);
    assert.equal(bad.code, 2);
    assertNoStack(bad.stderr);

    assert.equal((await run('vmgen', ['token', 'revoke', 'alice', '--data', data])).code, 0);
    const gone = await run('vmgen', ['token', 'revoke', 'alice', '--data', data]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no user alice/);
    const db = ServiceDb.open(data);
    assert.deepEqual(db.listUsers().map((u) => u.name), ['root']);
    db.close();
  });
});

describe('vmgen serve: flags of the hardened service', () => {
  it('refuses an --allow-mirror that is no URL prefix, and --keep-builds or --check-timeout out of range, before starting', async () => {
    const data = tempDir();
    const cases: Array<[string[], RegExp]> = [
      [['--allow-mirror', 'mirror.example'], /--allow-mirror: "mirror\.example" is not a URL/],
      [['--allow-mirror', 'http://mirror.example/debian?x=1'], /query or fragment/],
      [['--keep-builds', '0'], /--keep-builds must be a number of days above 0/],
      [['--check-timeout', '0'], /--check-timeout must be a whole number from 1 to 600/],
    ];
    for (const [flags, message] of cases) {
      const r = await run('vmgen', ['serve', '--port', '0', '--data', data, ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assertNoStack(r.stderr);
    }
  });
});

describe('vmgen serve --allow-scripts', () => {
  it('reaches the service: GET /api/me says build scripts are allowed', async () => {
    const data = tempDir();
    const made = await run('vmgen', ['token', 'create', 'alice', '--data', data]);
    assert.equal(made.code, 0, made.stderr);
    const token = made.stdout.trim().split('\n').at(-1)!;
    const entry = `import { main } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'))}; process.exitCode = await main('vmgen', process.argv.slice(1));`;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, 'serve', '--port', '0', '--data', data, '--concurrency', '1', '--allow-scripts'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise((ok) => proc.once('exit', ok));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`vmgen serve did not start:\n${output}`)), 60_000);
        const seen = (chunk: Buffer): void => {
          output += chunk.toString();
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        proc.stdout!.on('data', seen);
        proc.stderr!.on('data', seen);
        proc.once('exit', (code) => reject(new Error(`vmgen serve exited with ${code}:\n${output}`)));
      });
      const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { allowScripts: boolean }).allowScripts, true);
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
  });
});

describe('submit: pieces', () => {
  it('reads server-sent events split anywhere across chunks', async () => {
    const text = ': comment\nretry: 2000\n\nid: 5\nevent: log\ndata: a: b\n\r\nevent: update\ndata: {"x":\ndata: 1}\n\ndata: plain\n\n';
    for (const size of [1, 2, 3, 7, 1000]) {
      const bytes = Buffer.from(text);
      const chunks = async function* () {
        for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
      };
      const events = [];
      for await (const e of sseEvents(chunks())) events.push(e);
      assert.deepEqual(events, [
        { event: 'log', data: 'a: b', id: '5' },
        { event: 'update', data: '{"x":\n1}', id: '5' },
        { event: 'message', data: 'plain', id: '5' },
      ], `chunks of ${size}`);
    }
  });

  it('accepts http(s) server URLs only, and only plain file names from a server', () => {
    assert.equal(serverBase('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
    assert.equal(serverBase('https://builds.example/vmgen//'), 'https://builds.example/vmgen');
    assert.throws(() => serverBase('ftp://x'), /http/);
    assert.throws(() => serverBase('localhost:8080'), /http/);
    assert.throws(() => serverBase('http://u:p@x'), /must not carry/);
    assert.equal(safeFileName('web1-lxc.tar.zst'), 'web1-lxc.tar.zst');
    for (const bad of ['../x', '/etc/passwd', '.hidden', 'a/b', '', 'x\n', 42, '-rf.tar.zst']) assert.equal(safeFileName(bad), undefined, String(bad));
  });

  it('a build id starts a file name the CLI accepts: never with - or _ (one in 32 random ids would)', () => {
    const ids = Array.from({ length: 2000 }, newBuildId);
    everyItem(ids, (id) => BUILD_ID.test(id) && safeFileName(`${id}-lxc.tar.zst`) === `${id}-lxc.tar.zst`);
    assert.equal(new Set(ids).size, ids.length, 'ids do not repeat');
  });

  it('numbers a remote build\'s steps in the list the server planned, not in a local one', () => {
    const lines: string[] = [];
    const progress = new RemoteProgress(new StepReporter({ write: (s: string) => lines.push(s) }, false), false);
    const view = (step: string, steps: string[]): BuildView => ({
      id: 'b', state: 'running', final: false, target: 'lxc', format: 'tar.zst', name: 'web1', step, steps, progress: 0,
      created: '2026-01-01', started: '2026-01-01', finished: null,
    });
    progress.update(view('make the disks', ['check host tools', 'make the disks', 'archive']));
    progress.update(view('archive', ['check host tools', 'make the disks', 'archive']));
    // A server older than the step list: steps are numbered as they come.
    const old = new RemoteProgress(new StepReporter({ write: (s: string) => lines.push(s) }, false), false);
    old.update(view('first', []));
    old.update(view('second', []));
    assert.deepEqual(lines.filter((l) => l.startsWith('[') && !l.includes('done in')), [
      '[2/3] make the disks\n', '[3/3] archive\n', '[1/1] first\n', '[2/2] second\n',
    ]);
  });
});

describe('vmgen submit against a server', () => {
  let server: RunningServer;
  let executor: FakeExecutor;
  let token: string;
  let work: string;
  let auto: FakeExecutor['auto'];

  before(async () => {
    const data = tempDir();
    work = tempDir();
    executor = new FakeExecutor();
    server = await startServer({ dataDir: data, host: '127.0.0.1', port: 0, concurrency: 1, catalogs: testCatalogs(), executor });
    // The executor stores where the server's own directory store is (DATA/artifacts).
    auto = { store: new DirArtifactStore(join(data, 'artifacts')), dir: work };
    token = createToken(server.db, 'alice', false).token;
  });
  after(() => server.close());

  const submit = (args: string[], cwd = work) => run('vmgen', ['submit', WEB_CONF, '--target', 'lxc', '--server', server.url, '--token', token, ...args], cwd);

  it('without --wait: validates, posts, prints the id', async () => {
    useAuto(false);
    const r = await submit([]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(server.db.getBuild(id)!.state, 'queued');
    assert.match(r.stderr, /warning: containers have no disks/, 'local warnings are shown');
  });

  it('--wait --download: follows the build, downloads the archive through a temp file and checks it', async () => {
    useAuto(true);
    const out = join(work, 'dl');
    const r = await submit(['--wait', '--download', out]);
    assert.equal(r.code, 0, r.stderr);
    const path = r.stdout.trim().split('\n').at(-1)!;
    const req = executor.submitted.at(-1)!;
    assert.equal(path, join(out, `${req.id}-lxc.tar.zst`));
    assert.equal(readFileSync(path, 'utf8'), fakeArchive(req));
    assert.deepEqual(readdirSync(out), [`${req.id}-lxc.tar.zst`], 'no temp file is left');
    assert.match(r.stderr, /configure: system/);
    assert.match(r.stderr, /building /, 'log lines are shown');
    assert.match(r.stderr, new RegExp(`build ${req.id} succeeded`));
    // How to start it, as vmgen build shows it, naming the archive as it was saved.
    assert.ok(r.stderr.endsWith(`Run it:\n  # its folder under /var/lib/lxc, the LXC path it was built for\n  mkdir -p /var/lib/lxc/web1\n`
      + `  # unpack config, fstab and rootfs into it\n  tar -xf ${req.id}-lxc.tar.zst -C /var/lib/lxc/web1\n`
      + '  # start it (its NICs join lxcbr0: that bridge must exist here)\n  lxc-start -n web1 -P /var/lib/lxc\n'), r.stderr);
  });

  it('--json prints the finished build', async () => {
    useAuto(true);
    const r = await submit(['--wait', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const b = JSON.parse(r.stdout);
    assert.equal(b.state, 'succeeded');
    assert.equal(b.artifact.bytes, fakeArchive(executor.submitted.at(-1)!).length);
    assert.deepEqual(b.run.map((s: { command: string }) => s.command.split(' ')[0]), ['mkdir', 'tar', 'lxc-start'], 'with the commands that start it');
  });

  it('a build that fails: exit 1 with its error', async () => {
    useAuto(false);
    const pending = submit(['--wait']);
    const id = await waitForSubmission();
    executor.startBuild(id);
    executor.emit({ id, log: ['E: Unable to locate package nope'] });
    executor.emit({ id, state: 'failed', error: 'a package cannot be installed: nope', errorCode: 'VMG_PACKAGE' });
    const r = await pending;
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`build ${id} failed: a package cannot be installed: nope`));
    assertNoStack(r.stderr);
  });

  it('an invalid config is refused locally, FILE:LINE:COL, and nothing is sent', async () => {
    const bad = join(work, 'bad.conf');
    writeFileSync(bad, readFileSync(WEB_CONF, 'utf8').replace('ram = 1GB', 'ram = lots'));
    const before = executor.submitted.length;
    const r = await run('vmgen', ['submit', 'bad.conf', '--target', 'lxc', '--server', server.url, '--token', token], work);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^bad\.conf:\d+:\d+: error: /m);
    assert.equal(executor.submitted.length, before);
  });

  it('sends the files the config names from beside it; a build-time script is refused by a server without --allow-scripts, at its line', async () => {
    useAuto(false);
    const dir = join(work, 'with-files');
    mkdirSync(join(dir, 'site', 'img'), { recursive: true });
    writeFileSync(join(dir, 'site', 'index.html'), '<h1>lab</h1>\n');
    writeFileSync(join(dir, 'site', 'img', 'logo.svg'), '<svg/>');
    writeFileSync(join(dir, 'later.sh'), '#!/bin/sh\ntouch /var/lib/later\n');
    writeFileSync(join(dir, 'unnamed.txt'), 'not named by the config: not sent');
    const text = `${readFileSync(WEB_CONF, 'utf8')}
[files]
    [[site]]
        path = /var/www/lab
        source = site
[scripts]
    [[later]]
        when = first-boot
        source = later.sh
`;
    writeFileSync(join(dir, 'lab.conf'), text);
    const r = await run('vmgen', ['submit', 'lab.conf', '--target', 'lxc', '--server', server.url, '--token', token], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /submitted lab\.conf with 3 files beside it as build /);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    assert.deepEqual(executor.submitted.at(-1)!.files, {
      'site/img/logo.svg': b64('<svg/>'), 'site/index.html': b64('<h1>lab</h1>\n'), 'later.sh': b64('#!/bin/sh\ntouch /var/lib/later\n'),
    });

    const before = executor.submitted.length;
    const buildTime = text.replace('when = first-boot', 'when = build');
    writeFileSync(join(dir, 'build-time.conf'), buildTime);
    const refused = await run('vmgen', ['submit', 'build-time.conf', '--target', 'lxc', '--server', server.url, '--token', token], dir);
    assert.equal(refused.code, 1, refused.stderr);
    const line = buildTime.split('\n').indexOf('        when = build') + 1;
    assert.match(refused.stderr, new RegExp(`^build-time\\.conf:${line}:16: error: script 'later' runs at build time, on the build host`, 'm'));
    assert.match(refused.stderr, /--allow-scripts/);
    assert.equal(executor.submitted.length, before, 'nothing was queued');
  });

  it('a wrong token, no token, no server, a server that is not there: clear errors', async () => {
    const wrong = await run('vmgen', ['submit', WEB_CONF, '--target', 'lxc', '--server', server.url, '--token', 'x'.repeat(43)], work);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /a valid API token is required/);
    const saved = process.env.VMGEN_TOKEN;
    delete process.env.VMGEN_TOKEN;
    try {
      const none = await run('vmgen', ['submit', WEB_CONF, '--target', 'lxc', '--server', server.url], work);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no API token/);
    } finally {
      if (saved !== undefined) process.env.VMGEN_TOKEN = saved;
    }
    const down = await run('vmgen', ['submit', WEB_CONF, '--target', 'lxc', '--server', 'http://127.0.0.1:9', '--token', token], work);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
    for (const r of [wrong, down]) assertNoStack(r.stderr);
  });

  it('a download that does not match its SHA-256 is refused and leaves no file', async () => {
    useAuto(true);
    const r = await submit(['--wait', '--json']);
    const b = JSON.parse(r.stdout) as BuildView;
    const key = server.db.getBuild(b.id)!.artifact!.key;
    const file = join(server.db.db.name, '..', 'artifacts', key);
    assert.ok(existsSync(file), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace('archive', 'ARCHIVE'));
    const out = join(work, 'tampered');
    await assert.rejects(downloadArtifact(new ApiClient(server.url, token), b, out), /SHA-256/);
    assert.deepEqual(readdirSync(out), []);
  });

  function useAuto(on: boolean): void {
    executor.auto = on ? auto : undefined;
  }

  async function waitForSubmission(): Promise<string> {
    const before = executor.submitted.length;
    for (let i = 0; i < 200 && executor.submitted.length === before; i++) await new Promise((ok) => setTimeout(ok, 25));
    return executor.submitted.at(-1)!.id;
  }
});
