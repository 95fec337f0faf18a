import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, includesNone, show } from '../helpers/assert-values.js';
import { readdirSync, readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { lastLineOf, serializeDocument, toOrderedJson, type IniDocument, type IniSection } from '../../src/config/ini/document.js';
import { getValue, parseKeyPath, resolve, setValue, unsetValue } from '../../src/config/ini/edit.js';
import { parseIni } from '../../src/config/ini/parse.js';
import { VALUE } from '../../src/config/ini/grammar.js';
import { loadConfig } from '../../src/validate/load.js';
import { CONTAINER_RULES, normalize, pathMatches, type LogicalTree } from '../../src/config/normalize.js';
import { VmgenError } from '../../src/errors.js';

/*
 * In-place editing (vmgctl, vmgen set/unset) at the library level: every edit must change exactly
 * the lines it is about, byte for byte, and the model must then read the new value at its logical
 * path, through both nesting forms of the seed (flat Listing 2.2, nested Listing 2.5).
 */

const repo = new URL('../../', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, repo), 'utf8');
const catalogs = loadCatalogs({ env: {} });

const EXAMPLES = [
  ...readdirSync(new URL('examples/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `examples/${f}`),
  ...readdirSync(new URL('test/fixtures/seed/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `test/fixtures/seed/${f}`),
].sort();
const FIXTURES = readdirSync(new URL('test/fixtures/edit/', repo)).filter((f) => f.endsWith('.conf')).sort().map((f) => `test/fixtures/edit/${f}`);
const NESTED = read('test/fixtures/edit/config-debian.conf');
const FLAT = read('test/fixtures/edit/flat-debian.conf');

const toCrlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');
/** The file's lines with their terminators. */
const rawLines = (text: string): string[] => (text === '' ? [] : text.split(/(?<=\n)/));
const stripEol = (line: string): string => line.replace(/[\r\n]+$/, '');

function parsed(text: string): IniDocument {
  const p = parseIni(text);
  assert.deepEqual(p.diagnostics, [], 'the text parses');
  return p.doc;
}

function edit(text: string, change: (doc: IniDocument) => void): string {
  const doc = parsed(text);
  change(doc);
  const out = serializeDocument(doc);
  assert.deepEqual(parseIni(out).diagnostics, [], `the edited text parses:\n${out}`);
  return out;
}

const set = (text: string, path: string, value: string | string[]): string => edit(text, (d) => setValue(d, parseKeyPath(path), value));
const unset = (text: string, path: string): string =>
  edit(text, (d) => assert.equal(unsetValue(d, parseKeyPath(path)), true, `${path} is there to unset`));

/**
 * `after` is `before` with the `removed` lines at 0-based index `at` replaced by `added`; every other
 * line is identical, terminator included, and new lines end like the file's lines do.
 */
function assertLineEdit(before: string, after: string, at: number, removed: string[], added: string[]): void {
  const eol = before.includes('\r\n') ? '\r\n' : '\n';
  const o = rawLines(before);
  assert.deepEqual(o.slice(at, at + removed.length).map(stripEol), removed, 'the lines the edit is about');
  const keptEols = o.slice(at, at + removed.length).map((l) => l.slice(stripEol(l).length));
  const addedRaw = added.map((l, i) => l + (i < keptEols.length ? keptEols[i]! : eol));
  assert.deepEqual(rawLines(after), [...o.slice(0, at), ...addedRaw, ...o.slice(at + removed.length)]);
}

const tree = (text: string): LogicalTree => normalize(parsed(text).root).tree;

function withValue(t: LogicalTree, path: readonly string[], value: unknown): LogicalTree {
  const copy = structuredClone(t);
  let node = copy as Record<string, unknown>;
  for (const seg of path.slice(0, -1)) node = (node[seg] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

function without(t: LogicalTree, path: readonly string[]): LogicalTree {
  const copy = structuredClone(t);
  let node = copy as Record<string, unknown>;
  for (const seg of path.slice(0, -1)) node = node[seg] as Record<string, unknown>;
  delete node[path[path.length - 1]!];
  return copy;
}

const model = (text: string) => {
  const r = loadConfig(text, { catalogs });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], 'the edited file validates');
  assert.ok(r.config, show(r.diagnostics));
  return r.config;
};

/** Logical paths of all values and sections of a file, with their 1-based lines. */
function places(text: string): Array<{ path: string[]; line: number; column: number; section: boolean }> {
  return [...normalize(parsed(text).root).places]
    .map(([key, p]) => ({ path: key === '' ? [] : key.split('\u0000'), line: p.line, column: p.column, section: p.section }))
    .filter((p) => p.path.length > 0);
}

// ---- every example, as written and with CRLF line ends --------------------------------------------

const VARIANTS: Array<[string, string]> = [...EXAMPLES, ...FIXTURES].flatMap((f): Array<[string, string]> => [
  [f, read(f)],
  [`${f} (CRLF copy)`, toCrlf(read(f))],
]);

test('there are examples to edit, and the CRLF copies really use CRLF', () => {
  assert.ok(EXAMPLES.length >= 2, 'examples/*.conf');
  includesAll(EXAMPLES, ['test/fixtures/seed/winxp-vmware.conf']);
  for (const [name, text] of VARIANTS) if (name.endsWith('(CRLF copy)')) assert.equal(text.split('\r\n').length, text.split('\n').length, name);
});

for (const [name, text] of VARIANTS) {
  describe(`editing ${name}`, () => {
    const lines = rawLines(text).map(stripEol);
    const before = tree(text);

    test('changing any value rewrites only its line: indentation, key, spacing and inline comment stay', () => {
      const values = places(text).filter((p) => !p.section);
      assert.notEqual(values.length, 0);
      for (const p of values) {
        const after = set(text, p.path.join('.'), 'edited-1');
        const orig = lines[p.line - 1]!;
        const rest = orig.slice(p.column - 1);
        const comment = VALUE.exec(rest)?.[4];
        const tail = comment ? /[ \t]*$/.exec(rest.slice(0, rest.length - comment.length))![0] + comment : '';
        assertLineEdit(text, after, p.line - 1, [orig], [`${orig.slice(0, p.column - 1)}edited-1${tail}`]);
        assert.equal(getValue(parsed(after), p.path), 'edited-1');
        assert.deepEqual(tree(after), withValue(before, p.path, 'edited-1'), p.path.join('.'));
      }
    });

    test('a new key in any existing section is one new line, after its own keys and before its subsections', () => {
      const sections = places(text).filter((p) => p.section);
      for (const p of sections) {
        const doc = parsed(text);
        const physical = resolve(doc, p.path).entry as IniSection;
        const after = set(text, `${p.path.join('.')}.zz_added`, '1');
        const o = rawLines(text);
        const n = rawLines(after);
        assert.equal(n.length, o.length + 1, p.path.join('.'));
        const at = n.findIndex((l, i) => l !== o[i]);
        assert.match(stripEol(n[at]!), /^[ \t]*zz_added = 1$/);
        assertLineEdit(text, after, at, [], [stripEol(n[at]!)]);
        const own = [...physical.entries.values()].filter((e) => e.kind === 'scalar');
        const subs = [...physical.entries.values()].filter((e) => e.kind === 'section');
        assert.ok(at > Math.max(physical.line, ...own.map((e) => (e.kind === 'scalar' ? e.endLine : e.line))), `${p.path.join('.')}: after its keys`);
        if (subs.length > 0) assert.ok(at <= Math.min(...subs.map((s) => s.line)), `${p.path.join('.')}: before its subsections`);
        if (own[0]) assert.equal(/^[ \t]*/.exec(n[at]!)![0], /^[ \t]*/.exec(lines[own[0].line]!)![0], `${p.path.join('.')}: indented like its keys`);
        assert.equal(getValue(parsed(after), [...p.path, 'zz_added']), '1');
        assert.deepEqual(tree(after), withValue(before, [...p.path, 'zz_added'], '1'));
      }
    });

    test('a new item in any list section goes where the file puts its items, in the form the file uses', () => {
      const containers = places(text).filter(
        (p) => p.section && CONTAINER_RULES.some((r) => r.container === p.path[p.path.length - 1] && pathMatches(r.at, p.path.slice(0, -1))),
      );
      let tested = 0;
      for (const c of containers) {
        const doc = parsed(text);
        // The items the model sees in this container, flat or nested; the new one follows the last.
        const existing = places(text).filter((p) => p.section && p.path.length === c.path.length + 1 && c.path.every((s, i) => p.path[i] === s));
        if (existing.length === 0) continue;
        tested += 1;
        const sample = resolve(doc, existing[existing.length - 1]!.path).entry as IniSection;
        const name = sample.name.replace(/\d+$/, '') + '97';
        const after = set(text, `${c.path.join('.')}.${name}.zz`, 'x');
        const n = rawLines(after).map(stripEol);
        const header = n.findIndex((l) => l.trim() === `${'['.repeat(sample.depth)}${name}${']'.repeat(sample.depth)}`);
        assert.ok(header >= 0, `${c.path.join('.')}: a header with as many brackets as [${sample.name}]:\n${after}`);
        assert.equal(/^[ \t]*/.exec(n[header]!)![0], /^[ \t]*/.exec(lines[sample.line]!)![0], 'indented like the last item');
        assert.equal(header, lastLineOf(sample) + 1, 'right after the last item');
        assertLineEdit(text, after, header, [], [n[header]!, n[header + 1]!]);
        assert.match(n[header + 1]!, /^[ \t]*zz = x$/);
        assert.equal(getValue(parsed(after), [...c.path, name, 'zz']), 'x');
        assert.deepEqual(tree(after), withValue(before, [...c.path, name], { zz: 'x' }));
      }
      assert.equal(tested, containers.filter((c) => places(text).some((p) => p.path.length === c.path.length + 1 && c.path.every((s, i) => p.path[i] === s))).length);
      if (/hdds/.test(text)) assert.ok(tested > 0, 'a file with disks has a list section to extend');
    });

    test('unsetting any value removes exactly its line', () => {
      for (const p of places(text).filter((x) => !x.section)) {
        const after = unset(text, p.path.join('.'));
        assertLineEdit(text, after, p.line - 1, [lines[p.line - 1]!], []);
        assert.deepEqual(tree(after), without(before, p.path));
      }
    });

    test('unsetting any section removes its block and its flat-form items, nothing else', () => {
      for (const p of places(text).filter((x) => x.section)) {
        const doc = parsed(text);
        const section = resolve(doc, p.path).entry as IniSection;
        const parent = section.parent!;
        const pieces: IniSection[] = parent.entries.get(section.name) === section ? [section] : [];
        // Items the flat form writes beside the container: the model places them below p.path.
        const at = new Map(places(text).map((x) => [x.path.join('.'), x.line]));
        for (const e of parent.entries.values()) {
          if (e.kind === 'section' && e !== section && at.get([...p.path, e.name].join('.')) === e.line + 1) pieces.push(e);
        }
        const gone = new Set(pieces.flatMap((s) => Array.from({ length: lastLineOf(s) - s.line + 1 }, (_, i) => s.line + i)));
        const after = unset(text, p.path.join('.'));
        assert.deepEqual(rawLines(after), rawLines(text).filter((_, i) => !gone.has(i)), p.path.join('.'));
        assert.deepEqual(tree(after), without(before, p.path));
      }
    });

    test('several edits in a row touch only their own lines', () => {
      const sections = places(text).filter((p) => p.section && p.path.length === 1);
      let out = text;
      for (const s of sections) out = set(out, `${s.path[0]}.zz_one`, '1');
      out = set(out, 'zz_new.zz_two', '2');
      const o = rawLines(text);
      const n = rawLines(out);
      assert.equal(n.length, o.length + sections.length + 2);
      // Removing the added lines gives the original back, byte for byte.
      assert.deepEqual(n.filter((l) => !/zz_one = 1|zz_new|zz_two = 2/.test(l)), o);
    });
  });
}

// ---- the required edits on the nested and the flat Debian fixtures ----------------------------------

describe('changing existing values', () => {
  test('hardware.num_cpu=4 rewrites line 7 only', () => {
    const after = set(NESTED, 'hardware.num_cpu', '4');
    assertLineEdit(NESTED, after, 6, ['    num_cpu = 1'], ['    num_cpu = 4']);
    assert.equal(model(after).hardware.num_cpu, 4);
  });

  test('config.hostname=web1 keeps the inline comment and its spacing', () => {
    const after = set(NESTED, 'config.hostname', 'web1');
    assertLineEdit(NESTED, after, 23, ['    hostname = web0   # short name, no domain'], ['    hostname = web1   # short name, no domain']);
    assert.equal(model(after).config.hostname, 'web1');
  });

  test('hardware.os keeps its comment too', () => {
    const after = set(NESTED, 'hardware.os', 'debian13-64');
    assertLineEdit(NESTED, after, 5, ['    os = debian12-64   # Debian 12 (bookworm), 64 bit'], ['    os = debian13-64   # Debian 12 (bookworm), 64 bit']);
    assert.equal(model(after).hardware.os, 'debian13-64');
  });

  test('users.users.user0.groups as a list is written `julius, vmg`, in both forms', () => {
    const nested = set(NESTED, 'users.users.user0.groups', ['julius', 'vmg']);
    assertLineEdit(NESTED, nested, 36, ['            groups = julius'], ['            groups = julius, vmg']);
    assert.deepEqual(model(nested).users.users.user0!.groups, ['julius', 'vmg']);
    const flat = set(FLAT, 'users.users.user0.groups', ['julius', 'vmg']);
    assertLineEdit(FLAT, flat, 28, ['            groups = julius'], ['            groups = julius, vmg']);
    assert.deepEqual(model(flat).users.users.user0!.groups, ['julius', 'vmg']);
    assert.deepEqual(getValue(parsed(flat), ['users', 'users', 'user0', 'groups']), ['julius', 'vmg']);
  });

  test('a one-item list keeps its trailing comma, an empty list is a lone comma', () => {
    assertLineEdit(NESTED, set(NESTED, 'users.users.user0.groups', ['vmg']), 36, ['            groups = julius'], ['            groups = vmg,']);
    assertLineEdit(NESTED, set(NESTED, 'users.users.user0.groups', []), 36, ['            groups = julius'], ['            groups = ,']);
  });

  test("a value with a comma or '#' is quoted, and reads back as one string", () => {
    for (const [value, written] of [['a, b', '"a, b"'], ['pa#ss', '"pa#ss"'], ['say "hi"', '\'say "hi"\''], ['', '""'], [' padded ', '" padded "']] as const) {
      const after = set(NESTED, 'config.root_passwd', value);
      assertLineEdit(NESTED, after, 22, ['    root_passwd = secret'], [`    root_passwd = ${written}`]);
      assert.equal(getValue(parsed(after), ['config', 'root_passwd']), value);
    }
    assert.equal(model(set(NESTED, 'config.root_passwd', 'a, b # c')).config.root_passwd, 'a, b # c');
  });

  test('a value holding both quote kinds goes in triple quotes; both triple quotes in quotes that read back; on two lines, refused', () => {
    const after = set(NESTED, 'config.root_passwd', `it's "x"`);
    assertLineEdit(NESTED, after, 22, ['    root_passwd = secret'], [`    root_passwd = '''it's "x"'''`]);
    assert.equal(getValue(parsed(after), ['config', 'root_passwd']), `it's "x"`);
    const both = set(NESTED, 'config.root_passwd', `''' and """`);
    assertLineEdit(NESTED, both, 22, ['    root_passwd = secret'], [`    root_passwd = "''' and """"`]);
    assert.equal(getValue(parsed(both), ['config', 'root_passwd']), `''' and """`);
    const doc = parsed(NESTED);
    assert.throws(() => setValue(doc, ['config', 'root_passwd'], `'''\n"""`), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_KEY_PATH');
    assert.equal(serializeDocument(doc), NESTED, 'a refused value changes nothing');
  });

  test('a multi-line value is replaced whole, and a new multi-line value keeps the file\'s line ends', () => {
    const text = "[network]\r\n    [[firewall-rules]]\r\n        rule0 = '''iptables -A\r\n  -j ACCEPT'''   # two lines\r\n        rule1 = x\r\n";
    const one = set(text, 'network.firewall-rules.rule0', 'iptables -F');
    assert.equal(one, "[network]\r\n    [[firewall-rules]]\r\n        rule0 = iptables -F   # two lines\r\n        rule1 = x\r\n");
    const two = set(text, 'network.firewall-rules.rule1', 'a\nb');
    assert.equal(two, "[network]\r\n    [[firewall-rules]]\r\n        rule0 = '''iptables -A\r\n  -j ACCEPT'''   # two lines\r\n        rule1 = '''a\r\nb'''\r\n");
    assert.equal(getValue(parsed(two), ['network', 'firewall-rules', 'rule1']), 'a\nb');
  });

  test('a quoted key and a value without spaces around = keep their spelling', () => {
    const text = '[gui]\n"wireshark"=1\n    vim   =   1#c\n';
    assert.equal(set(text, 'gui.wireshark', '0'), '[gui]\n"wireshark"=0\n    vim   =   1#c\n');
    assert.equal(set(text, 'gui.vim', '0'), '[gui]\n"wireshark"=1\n    vim   =   0#c\n');
  });

  test('setting a value to what it already is leaves the text alone', () => {
    assert.equal(set(NESTED, 'hardware.num_cpu', '1'), NESTED);
  });
});

describe('adding keys and sections', () => {
  test('a new key in an existing section goes after its own keys, before its subsections, indented like them', () => {
    const after = set(NESTED, 'hardware.firmware', 'efi');
    assertLineEdit(NESTED, after, 8, [], ['    firmware = efi']);
    assert.equal(model(after).hardware.firmware, 'efi');
    const cfg = set(NESTED, 'config.timezone', 'Europe/Bucharest');
    assertLineEdit(NESTED, cfg, 25, [], ['    timezone = Europe/Bucharest']);
    const user = set(NESTED, 'users.users.user0.home_dir', '/home/caesar');
    assertLineEdit(NESTED, user, 38, [], ['            home_dir = /home/caesar']);
    assert.equal(model(user).users.users.user0!.home_dir, '/home/caesar');
  });

  test('a new key in a flat-form item stays in that item, before its subsections', () => {
    const after = set(FLAT, 'hardware.hdds.hdd0.table', 'gpt');
    assertLineEdit(FLAT, after, 10, [], ['        table = gpt']);
    assert.equal(model(after).hardware.hdds.hdd0!.table, 'gpt');
  });

  test('hardware.hdds.hdd1.size=10GB: nested file → [[[hdd1]]] inside [[hdds]]', () => {
    const after = set(NESTED, 'hardware.hdds.hdd1.size', '10GB');
    assertLineEdit(NESTED, after, 17, [], ['        [[[hdd1]]]', '            size = 10GB']);
    assert.equal(model(after).hardware.hdds.hdd1!.size, 10240);
    assert.equal(getValue(parsed(after), ['hardware', 'hdds', 'hdd1', 'size']), '10GB');
  });

  test('hardware.hdds.hdd1.size=10GB: flat file → [[hdd1]] a sibling after the last flat item', () => {
    const after = set(FLAT, 'hardware.hdds.hdd1.size', '10GB');
    assertLineEdit(FLAT, after, 14, [], ['        [[hdd1]]', '        size = 10GB']);
    const config = model(after);
    assert.equal(config.hardware.hdds.hdd1!.size, 10240);
    assert.equal(config.hardware.hdds.hdd0!.size, 8192);
    assert.equal(getValue(parsed(after), ['hardware', 'hdds', 'hdd1', 'size']), '10GB');
  });

  test('the seed\'s own flat Listing 2.2 gets [[hdd1]] beside [[hdd0]], indented like it', () => {
    const text = read('test/fixtures/seed/listing-2.2.conf');
    const after = set(text, 'hardware.hdds.hdd1.size', '10GB');
    assertLineEdit(text, after, 17, [], ['        [[hdd1]]', '        size = 10GB']);
    const cd = set(text, 'hardware.cd_drives.cd_drive1.path', '/x.iso');
    assertLineEdit(text, cd, 22, [], ['        [[cd_drive1]]', '        path = /x.iso']);
  });

  test('users.users.user3.name=bob in both forms', () => {
    const nested = set(NESTED, 'users.users.user3.name', 'bob');
    assertLineEdit(NESTED, nested, 38, [], ['        [[[user3]]]', '            name = bob']);
    assert.equal(model(nested).users.users.user3!.name, 'bob');
    const flat = set(FLAT, 'users.users.user3.name', 'bob');
    assertLineEdit(FLAT, flat, 33, [], ['        [[user3]]', '            name = bob']);
    assert.equal(model(flat).users.users.user3!.name, 'bob');
    const seed = read('test/fixtures/seed/listing-2.4.conf');
    assertLineEdit(seed, set(seed, 'users.users.user3.name', 'bob'), 15, [], ['        [[user3]]', '            name = bob']);
  });

  test('network.eths.eth2.type=dhcp in a nested file, and in the seed\'s Listing 2.5', () => {
    const after = set(NESTED, 'network.eths.eth2.type', 'dhcp');
    assertLineEdit(NESTED, after, 47, [], ['        [[[eth2]]]', '            type = dhcp']);
    assert.equal(model(after).network.eths.eth2!.type, 'dhcp');
    const seed = read('test/fixtures/seed/listing-2.5.conf');
    assertLineEdit(seed, set(seed, 'network.eths.eth2.type', 'dhcp'), 10, [], ['        [[[eth2]]]', '            type = dhcp']);
    // open_ports in the same listing is flat: port2 goes beside port1.
    assertLineEdit(seed, set(seed, 'network.open_ports.port2.port', '80'), 20, [], ['        [[port2]]', '            port = 80']);
  });

  test('a brand-new top-level section: gui.wireshark=1 when there is no [gui]', () => {
    const after = set(NESTED, 'gui.wireshark', '1');
    const end = rawLines(NESTED).length;
    assertLineEdit(NESTED, after, end, [], ['[gui]', '    wireshark = 1']);
    assert.equal(model(after).gui.wireshark, true);
  });

  test('a new subsection of an existing section comes after its last subsection, indented like them', () => {
    const after = set(NESTED, 'network.open_ports.port0.port', '22');
    assertLineEdit(NESTED, after, 47, [], ['    [[open_ports]]', '        [[[port0]]]', '            port = 22']);
    assert.deepEqual(model(after).network.open_ports.port0!.port, { from: 22, to: 22 });
  });

  test('a deep new path: hardware.hdds.hdd1.partitions.partition0.fs=ext4, nested and flat', () => {
    const nested = set(set(NESTED, 'hardware.hdds.hdd1.size', '10GB'), 'hardware.hdds.hdd1.partitions.partition0.fs', 'ext4');
    assertLineEdit(NESTED, nested, 17, [], [
      '        [[[hdd1]]]',
      '            size = 10GB',
      '            [[[[partitions]]]]',
      '                [[[[[partition0]]]]]',
      '                    fs = ext4',
    ]);
    assert.equal(model(nested).hardware.hdds.hdd1!.partitions.partition0!.fs, 'ext4');
    const flat = set(set(FLAT, 'hardware.hdds.hdd1.size', '10GB'), 'hardware.hdds.hdd1.partitions.partition0.fs', 'ext4');
    assertLineEdit(FLAT, flat, 14, [], [
      '        [[hdd1]]',
      '        size = 10GB',
      '        [[[partitions]]]',
      '            [[[[partition0]]]]',
      '            fs = ext4',
    ]);
    assert.equal(model(flat).hardware.hdds.hdd1!.partitions.partition0!.fs, 'ext4');
    // All at once, in a file without any disk: every section is created at its depth.
    const bare = '[hardware]\n    os = debian12-64\n[config]\n    hostname = h\n';
    const deep = set(bare, 'hardware.hdds.hdd1.partitions.partition0.fs', 'ext4');
    assert.equal(deep, '[hardware]\n    os = debian12-64\n    [[hdds]]\n        [[[hdd1]]]\n            [[[[partitions]]]]\n                [[[[[partition0]]]]]\n                    fs = ext4\n[config]\n    hostname = h\n');
    assert.equal(getValue(parsed(deep), ['hardware', 'hdds', 'hdd1', 'partitions', 'partition0', 'fs']), 'ext4');
  });

  test('a file that indents nothing gets nothing indented', () => {
    const text = '[hardware]\nos = debian12-64\n[[hdds]]\n[[[hdd0]]]\nsize = 8GB\n';
    assert.equal(set(text, 'hardware.hdds.hdd1.size', '1GB'), `${text}[[[hdd1]]]\nsize = 1GB\n`);
    assert.equal(set(text, 'gui.vim', '1'), `${text}[gui]\nvim = 1\n`);
  });

  test('flat items without their container: found, extended and removed through hardware.hdds', () => {
    const text = '[hardware]\n    os = debian12-64\n    [[hdd0]]\n    size = 8GB\n    [[eths]]\n        [[[eth0]]]\n            type = nat\n';
    assert.equal(getValue(parsed(text), ['hardware', 'hdds', 'hdd0', 'size']), '8GB');
    assert.equal(toOrderedJson(getValue(parsed(text), ['hardware', 'hdds']) as IniSection), '{\n  "hdd0": {\n    "size": "8GB"\n  }\n}');
    const after = set(text, 'hardware.hdds.hdd1.size', '1GB');
    assertLineEdit(text, after, 4, [], ['    [[hdd1]]', '    size = 1GB']);
    assert.equal(model(after).hardware.hdds.hdd1!.size, 1024);
    assert.equal(unset(after, 'hardware.hdds'), '[hardware]\n    os = debian12-64\n    [[eths]]\n        [[[eth0]]]\n            type = nat\n');
  });

  test('a flat item is not a child of the section it is written in', () => {
    const doc = parsed(FLAT);
    assert.equal(getValue(doc, ['hardware', 'hdd0']), undefined);
    assert.throws(() => setValue(doc, ['hardware', 'hdd0', 'size'], '1GB'), (e: unknown) =>
      e instanceof VmgenError && e.code === 'VMG_KEY_PATH' && /hardware\.hdds\.hdd0/.test(e.hint ?? ''));
    assert.equal(serializeDocument(doc), FLAT);
  });

  test('get of a flat container shows its items, as the model does', () => {
    const hdds = getValue(parsed(FLAT), ['hardware', 'hdds']) as IniSection;
    assert.deepEqual([...hdds.entries.keys()], ['hdd0']);
    const users = getValue(parsed(FLAT), ['users', 'users']) as IniSection;
    assert.deepEqual([...users.entries.keys()], ['user0', 'user1']);
  });
});

describe('line ends, BOM and the end of the file', () => {
  test('CRLF: changed and new lines end in CRLF, all others stay as they were', () => {
    const crlf = toCrlf(FLAT);
    const after = set(set(crlf, 'hardware.hdds.hdd1.size', '10GB'), 'hardware.num_cpu', '4');
    assert.ok(!/[^\r]\n/.test(after), 'no bare LF');
    assert.equal(after, toCrlf(set(set(FLAT, 'hardware.hdds.hdd1.size', '10GB'), 'hardware.num_cpu', '4')));
  });

  test('a file without a final newline keeps having none', () => {
    const text = '[hardware]\n    os = debian12-64\n    num_cpu = 1';
    assert.equal(set(text, 'hardware.num_cpu', '2'), '[hardware]\n    os = debian12-64\n    num_cpu = 2');
    assert.equal(set(text, 'hardware.ram', '2GB'), '[hardware]\n    os = debian12-64\n    num_cpu = 1\n    ram = 2GB');
    assert.equal(set(text, 'gui.vim', '1'), '[hardware]\n    os = debian12-64\n    num_cpu = 1\n[gui]\n    vim = 1');
    assert.equal(unset(text, 'hardware.num_cpu'), '[hardware]\n    os = debian12-64');
    assert.equal(set('[hardware]\r\n    os = debian12-64', 'hardware.ram', '1GB'), '[hardware]\r\n    os = debian12-64\r\n    ram = 1GB');
  });

  test('a byte order mark stays', () => {
    const text = '\ufeff[hardware]\n    os = debian12-64\n';
    assert.equal(set(text, 'hardware.num_cpu', '2'), '\ufeff[hardware]\n    os = debian12-64\n    num_cpu = 2\n');
  });

  test('an empty file gets its first section', () => {
    assert.equal(set('', 'hardware.os', 'debian12-64'), '[hardware]\n    os = debian12-64\n');
  });

  test('comments and blank lines around an edit stay where they were', () => {
    const text = '# top\n[config]\n    # the name\n    hostname = a   # inline\n\n    # keys end here\n    [[repos]]\n        repo0 = x\n\n# users follow\n[users]\n';
    assert.equal(set(text, 'config.hostname', 'b'), text.replace('hostname = a', 'hostname = b'));
    assert.equal(set(text, 'config.locale', 'C'), text.replace('# inline\n', '# inline\n    locale = C\n'));
    assert.equal(unset(text, 'config.repos'), '# top\n[config]\n    # the name\n    hostname = a   # inline\n\n    # keys end here\n\n# users follow\n[users]\n');
  });
});

describe('unset', () => {
  test('a key', () => {
    const after = unset(NESTED, 'config.bash_completion');
    assertLineEdit(NESTED, after, 24, ['    bash_completion = 1'], []);
    assert.equal(model(after).config.bash_completion, false);
  });

  test('a nested section with everything in it', () => {
    const after = unset(NESTED, 'hardware.hdds.hdd0.partitions');
    assertLineEdit(NESTED, after, 13, [
      '            [[[[partitions]]]]',
      '                [[[[[partition0]]]]]',
      '                    fs = ext4',
      '                    mount = /',
    ], []);
    assert.deepEqual(model(after).hardware.hdds.hdd0!.partitions, {});
  });

  test('a flat-form container takes its sibling items with it', () => {
    const after = unset(FLAT, 'hardware.hdds');
    assertLineEdit(FLAT, after, 6, rawLines(FLAT).slice(6, 14).map(stripEol), []);
    includesNone(after, ['hdd0', 'partition0']);
    assert.deepEqual(model(after).hardware.hdds, {});
    const users = unset(FLAT, 'users.users');
    assertLineEdit(FLAT, users, 24, rawLines(FLAT).slice(24, 33).map(stripEol), []);
    assert.deepEqual(model(users).users.users, {});
  });

  test('one flat item, leaving its siblings', () => {
    const after = unset(FLAT, 'users.users.user0');
    assertLineEdit(FLAT, after, 25, ['        [[user0]]', '            name = caesar', '            passwd = alesia', '            groups = julius'], []);
    assert.deepEqual(Object.keys(model(after).users.users), ['user1']);
  });

  test('a missing key or section is reported, not invented', () => {
    const doc = parsed(NESTED);
    assert.equal(unsetValue(doc, ['config', 'nope']), false);
    assert.equal(unsetValue(doc, ['nope', 'deeper']), false);
    assert.equal(serializeDocument(doc), NESTED);
  });
});

describe('paths', () => {
  test('bad paths are VMG_KEY_PATH errors', () => {
    for (const bad of ['a..b', '', '.a', 'a.', 'a b', 'a.b=c', 'ü']) {
      assert.throws(() => parseKeyPath(bad), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_KEY_PATH' && e.message.includes(`'${bad}'`), bad);
    }
    assert.deepEqual(parseKeyPath('network.firewall-rules.rule_0'), ['network', 'firewall-rules', 'rule_0']);
  });

  test('a path through a value, or a value set on a section, is refused without touching the file', () => {
    const doc = parsed(NESTED);
    assert.throws(() => setValue(doc, ['hardware', 'os', 'x'], '1'), /is a value, not a section/);
    assert.throws(() => setValue(doc, ['hardware', 'hdds'], '1'), /is a section, not a value/);
    assert.equal(serializeDocument(doc), NESTED);
  });

  test('get: values, lists and sections (flat items inside their container)', () => {
    const doc = parsed(FLAT);
    assert.equal(getValue(doc, ['hardware', 'num_cpu']), '2');
    assert.equal(getValue(doc, ['hardware', 'hdds', 'hdd0', 'partitions', 'partition0', 'fs']), 'ext4');
    assert.equal(getValue(doc, ['hardware', 'nope']), undefined);
    assert.equal(getValue(doc, ['nope', 'nope']), undefined);
    assert.deepEqual(getValue(parsed(read('examples/debian-web.conf')), ['users', 'users', 'user0', 'groups']), ['julius', 'sudo']);
  });
});
