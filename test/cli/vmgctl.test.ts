import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { everyItem } from '../helpers/assert-values.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogs } from '../../src/catalog/load.js';
import { serializeDocument } from '../../src/config/ini/document.js';
import { getValue, parseKeyPath, setValue } from '../../src/config/ini/edit.js';
import { parseIni } from '../../src/config/ini/parse.js';
import { loadConfig } from '../../src/validate/load.js';
import { hasErrors } from '../../src/diagnostics.js';
import { assertNoStack, run } from '../helpers/cli.js';

/*
 * vmgctl FILE key.path=value… and vmgen set/get/unset, run in-process on copies in temporary
 * directories: what they print, their exit codes, and that the file changes only where it should.
 */

const repo = new URL('../../', import.meta.url);
const repoPath = (rel: string): string => fileURLToPath(new URL(rel, repo));
const catalogs = loadCatalogs({ env: {} });
const EXAMPLES = readdirSync(repoPath('examples')).filter((f) => f.endsWith('.conf')).sort();
const FIXTURE = repoPath('test/fixtures/edit/config-debian.conf');
const FLAT = repoPath('test/fixtures/edit/flat-debian.conf');

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const text = (file: string): string => readFileSync(file, 'utf8');
const rawLines = (t: string): string[] => (t === '' ? [] : t.split(/(?<=\n)/));
const validates = (t: string): boolean => !hasErrors(loadConfig(t, { catalogs }).diagnostics);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmgctl-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of `source` named `name` in a fresh directory. */
function copy(source: string, name = 'config.conf', transform?: (t: string) => string): { dir: string; file: string } {
  const dir = tempDir();
  const file = join(dir, name);
  if (transform) writeFileSync(file, transform(text(source)));
  else copyFileSync(source, file);
  return { dir, file };
}

/** Only the config file is left: no `.NAME.*.tmp` from the atomic write. */
function assertNoLeftovers(dir: string, name = 'config.conf'): void {
  assert.deepEqual(readdirSync(dir).sort(), [name]);
}

/** `after` is `before` with lines [at, at + removed) replaced by `added`, all else byte for byte. */
function assertLineEdit(before: string, after: string, at: number, removed: string[], added: string[]): void {
  const eol = before.includes('\r\n') ? '\r\n' : '\n';
  const o = rawLines(before);
  assert.deepEqual(o.slice(at, at + removed.length).map((l) => l.replace(/[\r\n]+$/, '')), removed);
  assert.deepEqual(rawLines(after), [...o.slice(0, at), ...added.map((l) => l + eol), ...o.slice(at + removed.length)]);
}

const model = (file: string) => {
  const r = loadConfig(text(file), { catalogs });
  assert.ok(r.config, `${file} validates`);
  return r.config;
};

describe("the seed's Listing 2.1: vmgctl config-debian.conf hardware.num_cpu=2", () => {
  test('on a Debian config with one CPU: line 7 becomes num_cpu = 2, nothing else changes', async () => {
    const { dir, file } = copy(FIXTURE, 'config-debian.conf');
    const before = text(file);
    const r = await run('vmgctl', ['config-debian.conf', 'hardware.num_cpu=2'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assertLineEdit(before, text(file), 6, ['    num_cpu = 1'], ['    num_cpu = 2']);
    assert.equal(model(file).hardware.num_cpu, 2);
    assertNoLeftovers(dir, 'config-debian.conf');
  });

  test('on a copy of examples/debian-web.conf (already 2 CPUs): nothing to write; 4 and back to 2 restores it byte for byte', async (t) => {
    const source = repoPath('examples/debian-web.conf');
    try {
      statSync(source);
    } catch {
      t.skip('examples/debian-web.conf does not exist');
      return;
    }
    const { dir, file } = copy(source, 'config-debian.conf');
    const before = sha(file);
    const mtime = statSync(file).mtimeMs;
    assert.equal((await run('vmgctl', ['config-debian.conf', 'hardware.num_cpu=2'], dir)).code, 0);
    assert.equal(sha(file), before);
    assert.equal(statSync(file).mtimeMs, mtime, 'an edit that changes nothing does not rewrite the file');
    assert.equal((await run('vmgctl', ['config-debian.conf', 'hardware.num_cpu=4'], dir)).code, 0);
    assert.equal(model(file).hardware.num_cpu, 4);
    assert.equal((await run('vmgctl', ['config-debian.conf', 'hardware.num_cpu=2'], dir)).code, 0);
    assert.equal(sha(file), before);
  });

  test('as a command line, in a real process', () => {
    const { dir, file } = copy(FIXTURE, 'config-debian.conf');
    const tsx = import.meta.resolve('tsx');
    const r = spawnSync(process.execPath, ['--import', tsx, repoPath('scripts/dev.ts'), 'vmgctl', 'config-debian.conf', 'hardware.num_cpu=2'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(text(file), /^ {4}num_cpu = 2$/m);
    assertNoLeftovers(dir, 'config-debian.conf');
  });
});

describe('every example stays byte for byte the same outside the edited lines', () => {
  for (const name of EXAMPLES) {
    for (const crlf of [false, true]) {
      const label = `examples/${name}${crlf ? ' (CRLF copy)' : ''}`;
      test(label, async () => {
        const { dir, file } = copy(repoPath(`examples/${name}`), 'config.conf', crlf ? (t) => t.replace(/\r?\n/g, '\r\n') : undefined);
        const original = text(file);
        assert.ok(validates(original), 'examples/ holds configs that validate');
        const force: string[] = [];
        const doc = parseIni(original).doc;
        const lines = rawLines(original).map((l) => l.replace(/[\r\n]+$/, ''));

        // 1. change (or add) hardware.num_cpu
        const num = doc.root.entries.get('hardware');
        assert.ok(num?.kind === 'section', 'every example has [hardware]');
        const existing = num.entries.get('num_cpu');
        let r = await run('vmgctl', ['config.conf', 'hardware.num_cpu=3', ...force], dir);
        assert.equal(r.code, 0, r.stderr);
        assertNoStack(r.stderr);
        if (existing?.kind === 'scalar') {
          const line = lines[existing.line]!;
          assertLineEdit(original, text(file), existing.line, [line], [line.replace(/=\s*\S+/, (m) => m.replace(/\S+$/, '3'))]);
        } else {
          const after = rawLines(text(file));
          assert.equal(after.length, rawLines(original).length + 1);
          const at = after.findIndex((l, i) => l !== rawLines(original)[i]);
          assertLineEdit(original, text(file), at, [], [after[at]!.replace(/[\r\n]+$/, '')]);
          assert.match(after[at]!, /^\s*num_cpu = 3\r?\n$/);
        }
        assert.equal(getValue(parseIni(text(file)).doc, ['hardware', 'num_cpu']), '3');
        assertNoLeftovers(dir);

        // 2. back to the original value (or removed again): the original file, byte for byte
        r = existing?.kind === 'scalar'
          ? await run('vmgctl', ['config.conf', `hardware.num_cpu=${existing.value as string}`, ...force], dir)
          : await run('vmgctl', ['config.conf', '--unset', 'hardware.num_cpu', ...force], dir);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(text(file), original);

        // 3. a new disk: a contiguous block of new lines (with [[hdds]] if the file has none), as the library writes it
        r = await run('vmgctl', ['config.conf', 'hardware.hdds.hdd7.size=7GB', ...force], dir);
        assert.equal(r.code, 0, r.stderr);
        const expected = parseIni(original).doc;
        setValue(expected, parseKeyPath('hardware.hdds.hdd7.size'), '7GB');
        assert.equal(text(file), serializeDocument(expected));
        const o = rawLines(original);
        const n = rawLines(text(file));
        const added = n.length - o.length;
        assert.ok(added === 2 || added === 3, `${added} new lines`);
        const at = n.findIndex((l, i) => l !== o[i]);
        assert.deepEqual([...n.slice(0, at), ...n.slice(at + added)], o, 'only new lines, in one block');
        assert.match(n[at + added - 1]!, /^\s*size = 7GB\r?\n$/);
        everyItem(n.slice(at, at + added), (l) => l.endsWith(crlf ? '\r\n' : '\n') && (!crlf || !/[^\r]\n/.test(l)));
        assert.equal(getValue(parseIni(text(file)).doc, ['hardware', 'hdds', 'hdd7', 'size']), '7GB');
        assertNoLeftovers(dir);
      });
    }
  }
});

describe('vmgctl and vmgen set', () => {
  test('several assignments in one call; lists, quoting and # on the command line', async () => {
    const { dir, file } = copy(FIXTURE);
    const before = text(file);
    const r = await run('vmgctl', ['config.conf', 'config.hostname=web1', 'users.users.user0.groups=julius, vmg', 'config.root_passwd=pa#ss'], dir);
    assert.equal(r.code, 0, r.stderr);
    const after = text(file);
    const expected = before
      .replace('hostname = web0   # short name', 'hostname = web1   # short name')
      .replace('groups = julius\n', 'groups = julius, vmg\n')
      .replace('root_passwd = secret', 'root_passwd = "pa#ss"');
    assert.equal(after, expected);
    const config = model(file);
    assert.equal(config.config.hostname, 'web1');
    assert.deepEqual(config.users.users.user0!.groups, ['julius', 'vmg']);
    assert.equal(config.config.root_passwd, 'pa#ss');
  });

  test('a quoted value with a comma is one string, written quoted', async () => {
    const { dir, file } = copy(FIXTURE);
    assert.equal((await run('vmgen', ['set', 'config.conf', 'config.root_passwd="a, b"'], dir)).code, 0);
    assert.match(text(file), /^ {4}root_passwd = "a, b"$/m);
    assert.equal(model(file).config.root_passwd, 'a, b');
  });

  test('vmgen set creates sections in the form the file uses', async () => {
    const { dir, file } = copy(FLAT);
    const before = text(file);
    const r = await run('vmgen', ['set', 'config.conf', 'hardware.hdds.hdd1.size=10GB', 'users.users.user3.name=bob', 'gui.wireshark=1'], dir);
    assert.equal(r.code, 0, r.stderr);
    const l = rawLines(before);
    assert.deepEqual(rawLines(text(file)), [
      ...l.slice(0, 14), '        [[hdd1]]\n', '        size = 10GB\n',
      ...l.slice(14, 33), '        [[user3]]\n', '            name = bob\n',
      ...l.slice(33), '[gui]\n', '    wireshark = 1\n',
    ]);
    const config = model(file);
    assert.equal(config.hardware.hdds.hdd1!.size, 10240);
    assert.equal(config.users.users.user3!.name, 'bob');
    assert.equal(config.gui.wireshark, true);
  });

  test('vmgctl --unset alone, and mixed with assignments', async () => {
    const { dir, file } = copy(FIXTURE);
    const before = text(file);
    let r = await run('vmgctl', ['config.conf', '--unset', 'config.bash_completion'], dir);
    assert.equal(r.code, 0, r.stderr);
    assertLineEdit(before, text(file), 24, ['    bash_completion = 1'], []);
    r = await run('vmgctl', ['config.conf', 'config.bash_completion=1', '--unset', 'devel.vim', '--unset', 'devel'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(text(file), /\[devel\]|vim = 1/);
    r = await run('vmgctl', ['config.conf'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing to change/);
  });
});

describe('a file that has errors already (the seed\'s listings as printed)', () => {
  const SEED = repoPath('test/fixtures/seed/debian-seed.conf');

  test('an edit that adds none is written, and the errors that were there are named', async () => {
    const { dir, file } = copy(SEED);
    const r = await run('vmgctl', ['config.conf', 'hardware.num_cpu=3'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(text(file), /^ {4}num_cpu = 3$/m);
    assert.match(r.stderr, /written; these 2 errors were there before the edit and remain/);
    assert.match(r.stderr, /^config\.conf:14:\d+: error: "eclipse" is not available/m, 'eclipse, one line further down after the insert');
    assert.match(r.stderr, /^config\.conf:31:\d+: error: "google-chrome" is not available/m);
    assertNoStack(r.stderr);
    assertNoLeftovers(dir);
  });

  test('an edit that fixes one is written, naming the one left', async () => {
    const { dir, file } = copy(SEED);
    const r = await run('vmgctl', ['config.conf', '--unset', 'devel.eclipse'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(text(file), /eclipse/);
    assert.match(r.stderr, /this error was there before the edit and remains/);
    assert.match(r.stderr, /google-chrome/);
    assert.doesNotMatch(r.stderr, /eclipse/);
  });

  test('an edit that adds an error is refused, showing only the new one and counting the old', async () => {
    const { dir, file } = copy(SEED);
    const hash = sha(file);
    const r = await run('vmgctl', ['config.conf', 'hardware.num_cpu=two'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^config\.conf:\d+:\d+: error: .*num_cpu/m);
    assert.doesNotMatch(r.stderr, /error: "eclipse"/, 'the old errors are counted, not repeated as if new');
    assert.match(r.stderr, /not written: the edit would add this error/);
    assert.match(r.stderr, /it has 2 errors already/);
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
  });
});

describe('refused edits', () => {
  test('hardware.num_cpu=two: exit 1, FILE:LINE:COL: error:, file untouched; --force writes it', async () => {
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    const r = await run('vmgctl', ['config.conf', 'hardware.num_cpu=two'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^config\.conf:7:\d+: error: /m);
    assert.match(r.stderr, /not written/);
    assertNoStack(r.stderr);
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
    const forced = await run('vmgctl', ['config.conf', 'hardware.num_cpu=two', '--force'], dir);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /^config\.conf:7:\d+: error: /m, 'the errors are still shown');
    assert.match(text(file), /^ {4}num_cpu = two$/m);
    assertNoLeftovers(dir);
  });

  test('hardware.os=debian12: refused with a did-you-mean hint', async () => {
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    const r = await run('vmgctl', ['config.conf', 'hardware.os=debian12'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^config\.conf:6:\d+: error: .*debian12/m);
    assert.match(r.stderr, /did you mean 'debian12-64'/);
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
  });

  test('unsetting a required key is refused too', async () => {
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    const r = await run('vmgen', ['unset', 'config.conf', 'hardware.os'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: /);
    assert.equal(sha(file), hash);
  });

  test('an assignment without = is a usage error (exit 2)', async () => {
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    for (const bad of ['hardware.num_cpu', '=2']) {
      const r = await run('vmgctl', ['config.conf', bad], dir);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /is not an assignment/);
      assert.match(r.stderr, /hint: write key\.path=value/);
      assertNoStack(r.stderr);
    }
    assert.equal((await run('vmgen', ['set', 'config.conf', 'hardware.num_cpu'], dir)).code, 2);
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
  });

  test('a bad key path is a VMG_KEY_PATH error (exit 1), whichever command', async () => {
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    for (const args of [['vmgctl', 'config.conf', 'a..b=1'], ['vmgen', 'set', 'config.conf', 'a..b=1'], ['vmgen', 'unset', 'config.conf', 'a..b'], ['vmgen', 'get', 'config.conf', 'a..b']]) {
      const r = await run(args[0] as 'vmgen' | 'vmgctl', args.slice(1), dir);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /error: 'a\.\.b' is not a key path/);
      assert.match(r.stderr, /hint: write section\.subsection\.key/);
      assertNoStack(r.stderr);
    }
    for (const [arg, message] of [['hardware.os.x=1', /'hardware\.os' is a value, not a section/], ['hardware.hdds=1', /'hardware\.hdds' is a section, not a value/]] as const) {
      const r = await run('vmgctl', ['config.conf', arg], dir);
      assert.equal(r.code, 1, arg);
      assert.match(r.stderr, message);
      assertNoStack(r.stderr);
    }
    assert.equal(sha(file), hash);
  });

  test('a flat item addressed beside its container is pointed to its real path', async () => {
    const { dir, file } = copy(FLAT);
    const hash = sha(file);
    const r = await run('vmgctl', ['config.conf', 'hardware.hdd0.size=1GB'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /hardware\.hdds\.hdd0/);
    assert.equal(sha(file), hash);
  });

  test('a file that does not exist: exit 1, a message, no stack trace', async () => {
    const dir = tempDir();
    for (const args of [['vmgctl', 'missing.conf', 'hardware.num_cpu=2'], ['vmgen', 'set', 'missing.conf', 'a=1'], ['vmgen', 'get', 'missing.conf', 'a'], ['vmgen', 'unset', 'missing.conf', 'a']]) {
      const r = await run(args[0] as 'vmgen' | 'vmgctl', args.slice(1), dir);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /cannot read missing\.conf: no such file/);
      assertNoStack(r.stderr);
    }
    assert.deepEqual(readdirSync(dir), [], 'nothing is created');
  });

  test('a file that does not parse is not edited', async () => {
    const { dir, file } = copy(FIXTURE, 'config.conf', (t) => `${t}[[broken\n`);
    const hash = sha(file);
    const r = await run('vmgctl', ['config.conf', 'hardware.num_cpu=2'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^config\.conf:\d+:\d+: error: /m);
    assert.match(r.stderr, /does not parse/);
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
  });
});

describe('atomic writes', () => {
  test('the file keeps its mode', async () => {
    const { dir, file } = copy(FIXTURE);
    chmodSync(file, 0o640);
    assert.equal((await run('vmgctl', ['config.conf', 'hardware.num_cpu=2'], dir)).code, 0);
    assert.equal(statSync(file).mode & 0o777, 0o640);
    chmodSync(file, 0o600);
    assert.equal((await run('vmgen', ['unset', 'config.conf', 'devel'], dir)).code, 0);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assertNoLeftovers(dir);
  });

  test('editing through a symlink changes the file it points to and keeps the link', async () => {
    const { dir, file } = copy(FIXTURE);
    symlinkSync('config.conf', join(dir, 'link.conf'));
    assert.equal((await run('vmgctl', ['link.conf', 'hardware.num_cpu=2'], dir)).code, 0);
    assert.equal(lstatSync(join(dir, 'link.conf')).isSymbolicLink(), true, 'link.conf is still a symbolic link');
    assert.equal(model(file).hardware.num_cpu, 2);
    assert.deepEqual(readdirSync(dir).sort(), ['config.conf', 'link.conf']);
  });

  test('a write that fails is a message (exit 1), leaving the file and no temporary file', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('root can write to a read-only directory');
      return;
    }
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    chmodSync(dir, 0o555);
    try {
      const r = await run('vmgctl', ['config.conf', 'hardware.num_cpu=2'], dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot write config\.conf/);
      assertNoStack(r.stderr);
    } finally {
      chmodSync(dir, 0o755);
    }
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
  });
});

describe('vmgen get', () => {
  test('a scalar prints its value', async () => {
    const r = await run('vmgen', ['get', FIXTURE, 'hardware.num_cpu']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '1\n', '']);
    assert.equal((await run('vmgen', ['get', FIXTURE, 'hardware.num_cpu', '--json'])).stdout, '"1"\n');
  });

  test('a list prints one item per line; --json prints JSON', async () => {
    const { dir } = copy(FIXTURE);
    assert.equal((await run('vmgctl', ['config.conf', 'users.users.user0.groups=julius, vmg'], dir)).code, 0);
    const lines = await run('vmgen', ['get', 'config.conf', 'users.users.user0.groups'], dir);
    assert.deepEqual([lines.code, lines.stdout], [0, 'julius\nvmg\n']);
    const json = await run('vmgen', ['get', 'config.conf', 'users.users.user0.groups', '--json'], dir);
    assert.deepEqual([json.code, JSON.parse(json.stdout)], [0, ['julius', 'vmg']]);
  });

  test('a section prints as JSON, flat items inside their container', async () => {
    const nested = await run('vmgen', ['get', FIXTURE, 'hardware.hdds']);
    assert.equal(nested.code, 0);
    assert.deepEqual(JSON.parse(nested.stdout), { hdd0: { size: '20GB', type: 'sata', partitions: { partition0: { fs: 'ext4', mount: '/' } } } });
    const flat = await run('vmgen', ['get', FLAT, 'hardware.hdds']);
    assert.equal(flat.code, 0);
    assert.deepEqual(JSON.parse(flat.stdout), { hdd0: { size: '8GB', type: 'sata', partitions: { partition0: { fs: 'ext4', mount: '/' } } } });
    const users = await run('vmgen', ['get', FLAT, 'users.users']);
    assert.deepEqual(Object.keys(JSON.parse(users.stdout)), ['user0', 'user1']);
    const seed = await run('vmgen', ['get', repoPath('test/fixtures/seed/winxp-vmware.conf'), 'hardware.hdds.hdd0.partitions.partition0.fs']);
    assert.deepEqual([seed.code, seed.stdout], [0, 'ntfs\n']);
  });

  test('a missing key: exit 1 and a message', async () => {
    const r = await run('vmgen', ['get', FIXTURE, 'hardware.nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /has no 'hardware\.nope'/);
    assertNoStack(r.stderr);
  });
});

describe('vmgen unset', () => {
  test('a key, a nested section and a flat-form container', async () => {
    const { dir, file } = copy(FLAT);
    const before = text(file);
    let r = await run('vmgen', ['unset', 'config.conf', 'network.open_ports.port0.description'], dir);
    assert.equal(r.code, 0, r.stderr);
    assertLineEdit(before, text(file), 41, ['            description = ssh'], []);
    r = await run('vmgen', ['unset', 'config.conf', 'network.open_ports.port0.description', 'hardware.hdds.hdd0.partitions', 'users.users'], dir);
    assert.equal(r.code, 1, 'one missing key refuses the whole command');
    assert.match(r.stderr, /has no 'network\.open_ports\.port0\.description'/);
    r = await run('vmgen', ['unset', 'config.conf', 'hardware.hdds.hdd0.partitions', 'users.users'], dir);
    assert.equal(r.code, 0, r.stderr);
    const l = rawLines(before);
    assert.deepEqual(rawLines(text(file)), [...l.slice(0, 10), ...l.slice(14, 24), ...l.slice(33, 41), ...l.slice(42)]);
    const config = model(file);
    assert.deepEqual(config.users.users, {});
    assert.deepEqual(config.hardware.hdds.hdd0!.partitions, {});
    assert.deepEqual(config.users.groups, { group0: 'julius', group1: 'vmg' });
  });

  test('a missing key: exit 1, a clear message, the file untouched', async () => {
    const { dir, file } = copy(FIXTURE);
    const hash = sha(file);
    for (const key of ['config.nope', 'nope', 'hardware.hdds.hdd9']) {
      const r = await run('vmgen', ['unset', 'config.conf', key], dir);
      assert.equal(r.code, 1, key);
      assert.match(r.stderr, new RegExp(`error: config\\.conf has no '${key.replace(/\./g, '\\.')}'`));
      assertNoStack(r.stderr);
      const v = await run('vmgctl', ['config.conf', '--unset', key], dir);
      assert.equal(v.code, 1, key);
    }
    assert.equal(sha(file), hash);
    assertNoLeftovers(dir);
  });
});
