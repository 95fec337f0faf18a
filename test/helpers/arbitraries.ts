/**
 * fast-check arbitraries for config files in ConfigObj's syntax: realistic files (sections at
 * consistent depths, keys, values, lists, comments, triple-quoted values) with the nasty corners of
 * the grammar mixed in, and now and then a corruption that ConfigObj rejects.
 */
import fc from 'fast-check';
import { CONTROLLER_NAMES } from '../../src/catalog/controllers.js';
import type { PlainTree } from '../../src/config/ini/document.js';
import { pyStrip } from '../../src/config/ini/grammar.js';

// ---------------------------------------------------------------------------------------------
// Small pieces

const pick = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);

/** Indentation: mostly ASCII, sometimes whitespace only Python's str.isspace() knows. */
const indent = fc.oneof(
  { weight: 10, arbitrary: pick('', '', '', '  ', '    ', '\t', ' \t', '        ') },
  { weight: 1, arbitrary: pick('\u00a0', '\u3000', '\x0b', '\x0c', '\x1f', '\u2003 ', '\r', '\x85', '\u2028') },
);

/** Around '=' (the keyword regex eats \s on both sides). */
const equals = fc.oneof(
  { weight: 10, arbitrary: pick(' = ', ' = ', '=', ' =', '= ', '  =  ', '\t=\t') },
  { weight: 1, arbitrary: pick(' =\u00a0', '\u2028=\u3000') },
);

const trailing = fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: pick(' ', '\t', '  \t', '\u00a0') });

const commentText = pick('', 'note', ' a comment', ' = not a value', ' [not a section]', " it's \"quoted\"", ' #', " '''", ' ü ✓');
/** An inline comment after a value or a section header (or none). */
const inlineComment = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.tuple(pick(' ', '  ', '', '\t'), commentText).map(([s, c]) => `${s}#${c}`) },
);

const word = pick(
  'name', 'size', 'vm_id', 'os', 'ram', 'num_cpu', 'a', 'b', 'x1', 'hdd0', 'eth0', 'path.to', 'build-utils',
  'déjà', '日本', 'emoji😀', '0', '10', 'key', 'Key', 'true', 'on',
);

/** Characters for the inside of quoted strings and bare text, nasty ones included. */
const innerText = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 4, arbitrary: fc.tuple(word, pick(' ', ' = ', '=', ', ', ',', ' # ', '#', '  ', '\t', ' [', '] '), word).map(([a, s, b]) => a + s + b) },
  { weight: 2, arbitrary: pick('', ' ', '  padded  ', 'a"b', "a'b", "it's", 'say "hi"', '#', ',', ' , ', '[x]', '\\n', '%(x)s', '$HOME', '\u00a0nbsp', 'ideo\u3000', '\x0c', '\x85x\x1f') },
);

// ---------------------------------------------------------------------------------------------
// Keys

type Key = { text: string; name: string };

const bareKey: fc.Arbitrary<Key> = fc.oneof(
  { weight: 8, arbitrary: word },
  { weight: 2, arbitrary: fc.tuple(word, pick(' ', '  ', '\t', '_', '#'), word).map(([a, s, b]) => a + s + b) },
  { weight: 1, arbitrary: pick('a"b', "it's", 'x]', '[x', 'a,b', '"', "'") },
).map((k) => ({ text: k, name: k }));

const quotedKey: fc.Arbitrary<Key> = fc.tuple(pick('"', "'"), innerText).map(([q, s]) => {
  const inner = s.split(q).join('');
  return { text: q + inner + q, name: inner };
});

const keyArb: fc.Arbitrary<Key> = fc.oneof({ weight: 6, arbitrary: bareKey }, { weight: 2, arbitrary: quotedKey });

// ---------------------------------------------------------------------------------------------
// Values. `lines` is the text after the '=' and, for multi-line values, the lines that follow.

type Value = { lines: string[]; corrupt?: string };

const bareValue = fc.oneof(
  { weight: 6, arbitrary: word },
  { weight: 2, arbitrary: fc.tuple(word, pick(' ', '  ', '\t', '=', '"', "'", ' "x" ', ' [', '] ', ' = '), word).map(([a, s, b]) => a + s + b) },
  { weight: 1, arbitrary: pick('1GB', '/dev/sda1', 'http://example.org/a?b=c', 'x"', "x'", '[y]', '%s') },
);

const quoted = fc.tuple(pick('"', "'"), innerText).map(([q, s]) => q + s.split(q).join('') + q);

const listItem = fc.oneof({ weight: 3, arbitrary: bareValue }, { weight: 2, arbitrary: quoted });
const comma = pick(',', ', ', ' , ', ' ,', ',  ', ',\t');

const listValue = fc
  .tuple(fc.array(listItem, { minLength: 1, maxLength: 4 }), fc.array(comma, { minLength: 4, maxLength: 4 }), fc.boolean(), comma)
  .map(([items, commas, trailingComma, last]) => {
    let out = '';
    items.forEach((item, i) => {
      out += item;
      if (i < items.length - 1) out += commas[i]!;
    });
    return trailingComma || items.length === 1 ? out + last.trimEnd() : out;
  });

const tripleQuote = pick("'''", '"""');
const tripleInner = fc.oneof(
  { weight: 4, arbitrary: innerText },
  { weight: 1, arbitrary: pick(`'"' and "'"`, "it's \"both\"", 'a # not a comment', "''", '""', "x'", 'x"') },
);

const singleLineTriple = fc.tuple(tripleQuote, tripleInner).map(([q, s]) => q + s.split(q).join('') + q);

/** Lines inside a multi-line value that look like config, to catch a parser that reads them. */
const innerLine = fc.oneof(
  { weight: 3, arbitrary: innerText },
  { weight: 2, arbitrary: pick('key = value', '[section]', '  [[sub]]', '# comment', '', '    indented', "'quoted'", 'a, b, c', '"') },
);

const multiLineTriple = fc
  .tuple(tripleQuote, tripleInner, fc.array(innerLine, { maxLength: 3 }), tripleInner)
  .map(([q, first, middle, last]) => {
    const clean = (s: string): string => s.split(q).join('').split(q.slice(0, 1).repeat(2)).join(q[0]!);
    return [q + clean(first), ...middle.map(clean), clean(last) + q];
  });

const badValue: fc.Arbitrary<Value> = fc.oneof(
  // badly quoted
  pick('"abc', "'abc", '"a" b', "'a'b", '"a"x, b', 'a, "b', 'a, b, "c', '"a" "b"', '"unclosed, list', "'a' , 'b", ', a', ',,', 'a,,b').map((v) => ({ lines: [v], corrupt: 'bad quoting' })),
  // quotes, commas and blanks where ConfigObj's patterns backtrack (some of these read fine)
  pick(`'a'b"', d`, "a ,a ,a ,'", 'a,  , b', `"x"", y', z", w`, '"a",  "b', `' a ', "b"x, c`, 'a , \t"b" ,', `"a'"', 'b"'`, '"",', "'' , ''")
    .map((v) => ({ lines: [v], corrupt: 'nasty quoting' })),
  // text after a one-line triple quote that cannot be a comment
  fc.tuple(tripleQuote, innerText).map(([q, s]) => ({ lines: [`${q}${s.split(q).join('')}${q} tail`], corrupt: 'text after triple quote' })),
  // an unterminated triple quote: runs to the end of the file
  fc.tuple(tripleQuote, innerText).map(([q, s]) => ({ lines: [q + s.split(q).join('')], corrupt: 'unterminated triple quote' })),
  // a closing line with text after the quotes
  fc.tuple(tripleQuote, innerText).map(([q, s]) => ({ lines: [q + s.split(q).join(''), `end${q} tail`], corrupt: 'bad closing line' })),
);

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 12, arbitrary: bareValue.map((v) => ({ lines: [v] })) },
  { weight: 5, arbitrary: quoted.map((v) => ({ lines: [v] })) },
  { weight: 5, arbitrary: listValue.map((v) => ({ lines: [v] })) },
  { weight: 1, arbitrary: pick(',', ' ,', ', ').map((v) => ({ lines: [v.trimStart()] })) },
  { weight: 1, arbitrary: listItem.map((v) => ({ lines: [`${v},`] })) },
  { weight: 2, arbitrary: fc.constant<Value>({ lines: [''] }) },
  { weight: 2, arbitrary: singleLineTriple.map((v) => ({ lines: [v] })) },
  { weight: 3, arbitrary: multiLineTriple.map((lines) => ({ lines })) },
  { weight: 1, arbitrary: badValue },
);

// ---------------------------------------------------------------------------------------------
// Lines of a file

type Op =
  | { t: 'blank'; ws: string }
  | { t: 'comment'; indent: string; text: string }
  | { t: 'section'; move: number; indent: string; name: Key; pad: [string, string, string]; comment: string; corrupt?: 'missing open' | 'missing close' | 'extra close' | 'too deep' | 'duplicate' }
  | { t: 'kv'; indent: string; key: Key; eq: string; value: Value; comment: string; duplicate: boolean }
  | { t: 'garbage'; text: string };

const sectionOp: fc.Arbitrary<Op> = fc.record({
  t: fc.constant('section' as const),
  // 0: a child, 1: a sibling, 2+: back up (move - 1) levels
  move: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 2, max: 4 }) }),
  indent,
  name: fc.oneof({ weight: 5, arbitrary: bareKey.filter((k) => /^[^\s'"[]/.test(k.text) && !k.text.endsWith(']')) }, { weight: 1, arbitrary: quotedKey }),
  pad: fc.tuple(pick('', '', '', ' ', '\t'), pick('', '', '', ' '), pick('', '', '', ' ')),
  comment: inlineComment,
  corrupt: fc.oneof(
    { weight: 30, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: pick('missing open', 'missing close', 'extra close', 'too deep', 'duplicate') },
  ),
}) as fc.Arbitrary<Op>;

const kvOp: fc.Arbitrary<Op> = fc.record({
  t: fc.constant('kv' as const),
  indent,
  key: keyArb,
  eq: equals,
  value: valueArb,
  comment: inlineComment,
  duplicate: fc.oneof({ weight: 25, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: kvOp },
  { weight: 4, arbitrary: sectionOp },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('blank' as const), ws: pick('', '', ' ', '\t', '\u00a0') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('comment' as const), indent, text: commentText.map((c) => `#${c}`) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('garbage' as const),
      text: pick('just some words', 'key: value', '[unclosed', 'closed]', '=value', '"quoted" no equals', "'a' b", '[]', '[ ]', '[""]', "['']", '[[a]', '[a]]', '[a] = b', 'x = y = z'),
    }),
  },
);

export interface GeneratedFile {
  text: string;
  /** The corruptions put in on purpose (the file may also be invalid by accident). */
  corruptions: string[];
}

type Eol = 'lf' | 'crlf' | 'mixed';

function render(ops: Op[], eol: Eol, eolPicks: number[], finalEol: boolean, bom: boolean, trailing: string[]): GeneratedFile {
  const lines: string[] = [];
  const corruptions: string[] = [];
  // names[d]: the names taken in the open section at depth d (0 is the root)
  const names: Set<string>[] = [new Set()];
  for (const op of ops) {
    const depth = names.length - 1;
    switch (op.t) {
      case 'blank':
        lines.push(op.ws);
        break;
      case 'comment':
        lines.push(op.indent + op.text);
        break;
      case 'garbage':
        lines.push(op.text);
        corruptions.push(`garbage ${JSON.stringify(op.text)}`);
        break;
      case 'section': {
        let d = op.move === 0 ? depth + 1 : op.move === 1 ? Math.max(1, depth) : Math.max(1, depth - (op.move - 1));
        let open = d;
        let close = d;
        let name = op.name;
        if (op.corrupt === 'too deep') d = open = close = depth + 2;
        if (op.corrupt === 'missing open') open = d - 1;
        if (op.corrupt === 'missing close') close = d - 1;
        if (op.corrupt === 'extra close') close = d + 1;
        const siblings = names[d - 1];
        if (op.corrupt === 'duplicate') {
          const taken = siblings ? [...siblings] : [];
          if (taken.length > 0) name = { text: taken[op.name.text.length % taken.length]!, name: taken[op.name.text.length % taken.length]! };
        }
        if (op.corrupt) corruptions.push(`section ${op.corrupt}`);
        const [p0, p1, p2] = op.pad;
        const openText = Array.from({ length: open }, () => '[').join(p0);
        const closeText = Array.from({ length: close }, () => ']').join(p0);
        lines.push(`${op.indent}${openText}${p1}${name.text}${p2}${closeText}${op.comment}`);
        if (!op.corrupt && siblings && !siblings.has(name.name)) {
          siblings.add(name.name);
          names.length = d;
          names.push(new Set());
        }
        break;
      }
      case 'kv': {
        const here = names[depth]!;
        let key = op.key;
        if (op.duplicate && here.size > 0) {
          const taken = [...here];
          const k = taken[op.key.text.length % taken.length]!;
          key = { text: /^[^'"=\s]/.test(k) && pyTrimmed(k) ? k : `"${k}"`, name: k };
          corruptions.push('duplicate key');
        }
        if (op.value.corrupt) corruptions.push(op.value.corrupt);
        here.add(key.name);
        const [first, ...rest] = op.value.lines;
        const isMultiline = rest.length > 0;
        // a comment goes after the value's last line; a bad or open value takes none
        const comment = op.value.corrupt ? '' : op.comment;
        if (!isMultiline) {
          lines.push(`${op.indent}${key.text}${op.eq}${first}${comment}`);
        } else {
          lines.push(`${op.indent}${key.text}${op.eq}${first}`);
          rest.forEach((l, i) => lines.push(i === rest.length - 1 ? l + comment : l));
        }
        break;
      }
    }
  }
  let text = bom ? '\ufeff' : '';
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    const e = eol === 'lf' ? '\n' : eol === 'crlf' ? '\r\n' : (['\n', '\r\n', '\n', '\r\r\n'] as const)[eolPicks[i % eolPicks.length]! % 4]!;
    text += line + trailing[i % trailing.length]! + (last && !finalEol ? '' : e);
  });
  return { text, corruptions };
}

/** A key that a bare-key regex reads back as itself (no edge whitespace). */
function pyTrimmed(k: string): boolean {
  return k.trim() === k && k.length > 0;
}

/** A whole config file. */
export const configFile: fc.Arbitrary<GeneratedFile> = fc
  .record({
    ops: fc.array(opArb, { minLength: 0, maxLength: 40 }),
    eol: fc.oneof({ weight: 5, arbitrary: fc.constant<Eol>('lf') }, { weight: 2, arbitrary: fc.constant<Eol>('crlf') }, { weight: 1, arbitrary: fc.constant<Eol>('mixed') }),
    eolPicks: fc.array(fc.nat(7), { minLength: 1, maxLength: 8 }),
    finalEol: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    bom: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    trailing: fc.array(trailing, { minLength: 1, maxLength: 5 }),
  })
  .map(({ ops, eol, eolPicks, finalEol, bom, trailing }) => render(ops, eol, eolPicks, finalEol, bom, trailing));

/** Like configFile, but without the deliberate corruptions (most of these files parse). */
export const cleanConfigFile: fc.Arbitrary<GeneratedFile> = configFile.filter((f) => f.corruptions.length === 0);

// ---------------------------------------------------------------------------------------------
// Plain trees, as writeTree takes them

/** Text any writer can quote: spaces, commas, '#', '=', brackets, and quotes of one kind. */
function safeText(quote: '"' | "'", minLength = 0): fc.Arbitrary<string> {
  const ch = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...'abcxyz019._-/') },
    { weight: 4, arbitrary: fc.constantFrom(' ', ',', '#', '=', quote, '[', ']', '%', '\\', 'é', '日', '😀', '\t') },
    { weight: 1, arbitrary: fc.constantFrom('\u00a0', '\u3000', '\x0b', '\x0c', '\x1c', '\x85', '\u2028') },
  );
  return fc.array(ch, { minLength, maxLength: 12 }).map((cs) => cs.join(''));
}

const textOneQuote = (minLength = 0): fc.Arbitrary<string> => fc.oneof(safeText('"', minLength), safeText("'", minLength));

/** A scalar value: any one-quote text, or several lines (written triple-quoted). */
const plainScalar = fc.oneof(
  { weight: 8, arbitrary: textOneQuote() },
  { weight: 1, arbitrary: fc.array(textOneQuote(), { minLength: 2, maxLength: 3 }).map((ls) => ls.join('\n')) },
  { weight: 1, arbitrary: fc.tuple(safeText('"'), safeText("'")).map(([a, b]) => a + b) },
);
const plainValue = fc.oneof(
  { weight: 3, arbitrary: plainScalar },
  { weight: 2, arbitrary: fc.array(textOneQuote(), { maxLength: 3 }) },
);

/**
 * Keys and section names: not blank as Python's str.strip() sees it, since a section header needs a
 * non-space character in its name (writeTree writes `["\x1c"]` all the same, which no one reads).
 */
const plainKey = textOneQuote(1).filter((k) => pyStrip(k) !== '');

function plainTreeOf(levels: number): fc.Arbitrary<PlainTree> {
  const sections = levels === 0 ? fc.constant([]) : fc.uniqueArray(fc.tuple(plainKey, plainTreeOf(levels - 1)), { maxLength: 3, selector: ([k]) => k });
  return fc
    .tuple(fc.uniqueArray(fc.tuple(plainKey, plainValue), { maxLength: 5, selector: ([k]) => k }), sections)
    .map(([scalars, subsections]) => {
      const out: PlainTree = {};
      for (const [k, v] of scalars) out[k] = v;
      for (const [k, v] of subsections) if (!Object.hasOwn(out, k)) out[k] = v;
      return out;
    });
}

/** Trees of up to three levels of sections below the root. */
export const plainTree: fc.Arbitrary<PlainTree> = plainTreeOf(3);

// ---------------------------------------------------------------------------------------------
// Whole machines: configs a user could write, near every limit a target or a later step has
// (NIC, disk, CD and partition counts, controllers and positions, names, Windows needs), to find
// configs that validate and then do not build.

/** A section of a machine config: values and subsections, written in order. */
export interface MachineSection {
  [key: string]: string | MachineSection;
}

const MACHINE_OS = ['debian12-64', 'debian5-64', 'ubuntu24.04-64', 'fedora42-64', 'rocky9-64', 'winxppro', 'windows7-64', 'windows10-64', 'windows11-64', 'windows2022srv-64'];

const optional = <T>(arb: fc.Arbitrary<T>, weight = 1): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight, arbitrary: arb });

/** Mostly `usual`, now and then `rare`: plausible machines with a fault here and there. */
const mostly = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, odds = 8): fc.Arbitrary<T> =>
  fc.oneof({ weight: odds, arbitrary: usual }, { weight: 1, arbitrary: rare });

/** Drops the keys whose value is undefined, keeping the order of the rest. */
const defined = (o: Record<string, string | MachineSection | undefined>): MachineSection =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string | MachineSection] => e[1] !== undefined));

const listOf = <T>(prefix: string, arb: fc.Arbitrary<T>, max: number, bias = 3): fc.Arbitrary<Record<string, T>> =>
  fc.oneof(
    { weight: bias, arbitrary: fc.array(arb, { maxLength: Math.min(max, 3) }) },
    { weight: 1, arbitrary: fc.array(arb, { maxLength: max }) },
  ).map((items) => Object.fromEntries(items.map((x, i) => [`${prefix}${i}`, x])));

const machineName = mostly(
  pick('web1', 'TestMachine', 'db-2', 'x', 'web.1'),
  pick('a_b', 'WINDOWS-COMPUTER1', 'averyveryverylongcomputername', 'x'.repeat(64), 'x'.repeat(63), '-lead', 'trail-', 'web_'),
  4,
);

const position = mostly(
  fc.tuple(fc.nat({ max: 1 }), fc.nat({ max: 1 })).map(([b, u]) => `${b}:${u}`),
  fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 31 })).map(([b, u]) => `${b}:${u}`),
  6,
);

const MOUNTS = ['/', '/home', '/var', '/srv', '/boot', '/opt', '/tmp', '/data'];

const partitionArb = (windows: boolean) => fc.record({
  type: optional(mostly(pick('primary'), pick('logical'), windows ? 12 : 2)),
  fs: windows ? mostly(pick('ntfs', 'ntfs', 'vfat'), pick('ext4', 'swap'), 12) : mostly(pick('ext4', 'ext4', 'xfs', 'swap', 'ext3', 'vfat'), pick('ntfs'), 6),
  size: optional(pick('200', '512', '1GB', '2GB'), 6),
  mount: fc.oneof(fc.constant(false), fc.constant(true), fc.constant(true), pick('/boot/efi', 'none', 'C:\\')),
});

/** Partitions with mount points that do not collide, a swap partition without one, mostly. */
const partitionsArb = (windows: boolean) => listOf('part', partitionArb(windows), 7).map((parts) => {
  const out: MachineSection = {};
  Object.entries(parts).forEach(([name, p], i) => {
    const mount = windows ? undefined : p.mount === true ? (p.fs === 'swap' ? undefined : MOUNTS[i]) : p.mount === false ? undefined : p.mount;
    out[name] = defined({ type: p.type, fs: p.fs, size: p.size, mount });
  });
  return out;
});

/** Usually left out, as most configs leave controllers, positions and tables to vmgen. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => mostly(fc.constant(undefined), arb, 3);

const diskArb = (windows: boolean) => fc.record({
  size: mostly(pick('8GB', '20GB', '20GB'), pick('4GB', '100')),
  type: rarely(fc.constantFrom(...CONTROLLER_NAMES)),
  pos: rarely(position),
  table: rarely(pick('mbr', 'gpt')),
  partitions: optional(partitionsArb(windows), windows ? 12 : 3),
}).map(defined);

const cdArb = fc.record({
  type: rarely(mostly(pick('ide', 'sata', 'scsi'), pick('nvme'))),
  pos: rarely(position),
  path: optional(pick('/srv/iso/install.iso', '/srv/iso/tools.iso')),
}).map(defined);

const hwEthArb = fc.record({
  type: optional(pick('nat', 'bridged', 'host-only')),
  hw_addr: optional(pick('00:50:56:00:10:01', '00:50:56:3f:00:02', '02:00:de:ad:be:ef', '08:00:27:12:34:56'), 1),
}).map(defined);

const staticEth = (i: number) => fc.record({
  type: fc.constant('static'),
  address: mostly(pick(`192.168.${i}.2`), pick(`10.${i}.0.5`), 3),
  network: pick('255.255.255.0', '/24', '255.255.0.0'),
  gateway: optional(mostly(pick(`192.168.${i}.1`), pick('10.9.9.1'), 4)),
  dns: optional(pick('192.168.1.254', '9.9.9.9')),
}).map(defined);

const withBreak = (value: string): fc.Arbitrary<string> => mostly(fc.constant(value), fc.constant(`'''${value}\n${value}'''`), 15);

/** The config text of a machine, nested sections indented as the seed writes them. */
export function machineText(root: MachineSection): string {
  const lines: string[] = [];
  const walk = (section: MachineSection, depth: number): void => {
    const pad = '    '.repeat(depth);
    for (const [k, v] of Object.entries(section)) if (typeof v === 'string') lines.push(`${pad}${k} = ${v}`);
    for (const [k, v] of Object.entries(section)) {
      if (typeof v === 'string') continue;
      lines.push(`${'    '.repeat(depth)}${'['.repeat(depth + 1)}${k}${']'.repeat(depth + 1)}`);
      walk(v, depth + 1);
    }
  };
  walk(root, 0);
  return `${lines.join('\n')}\n`;
}

const machineOf = (os: string) => {
  const windows = os.startsWith('win');
  // Windows needs a disk with an NTFS partition; a Windows machine without one is the rare case.
  const windowsDisk = { hdd0: { size: '20GB', partitions: { c: { fs: 'ntfs' } } } };
  return fc.record({
    vmId: optional(machineName, 4),
    hostname: optional(machineName, 1),
    firmware: optional(pick('bios', 'efi'), 1),
    hdds: mostly(listOf('hdd', diskArb(windows), 4).map((h) => (windows && Object.keys(h).length === 0 ? windowsDisk : h)), listOf('hdd', diskArb(windows), 17, 0), 6),
    cds: listOf('cd', cdArb, 6),
    eths: mostly(fc.nat({ max: 3 }), fc.nat({ max: 12 }), 6),
    hwEth: fc.array(hwEthArb, { minLength: 12, maxLength: 12 }),
    netEth: fc.array(fc.oneof(fc.constant(undefined), fc.constant({ type: 'dhcp' }), fc.nat({ max: 3 }).chain(staticEth)), { minLength: 12, maxLength: 12 }),
    longNic: mostly(fc.constant(false), fc.constant(true), 10),
    route: optional(fc.record({ to: pick('10.20.0.0/16', '172.16.0.0/12'), via: mostly(pick('192.168.0.1', '192.168.1.1'), pick('10.1.0.1', '203.0.113.1'), 3) }), 1),
    rootPasswd: mostly(withBreak('change-me').map((x): string | undefined => x), pick(undefined, '*'), windows ? 10 : 3),
    locale: optional(mostly(pick('en_US.UTF-8', 'de_DE.UTF-8'), pick('C', 'POSIX'), windows ? 6 : 1), 1),
    users: listOf('user', fc.record({ name: pick('caesar', 'vv', 'alice'), passwd: withBreak('alesia') }), 2),
  }).map((m) => ({ os, ...m }));
};

export const machineConfig: fc.Arbitrary<MachineSection> = fc.constantFrom(...MACHINE_OS).chain(machineOf).map((m) => {
  const nicName = (i: number): string => (m.longNic && i === 0 ? 'averyveryverylongnic0' : `eth${i}`);
  const hwEths: MachineSection = {};
  const netEths: MachineSection = {};
  for (let i = 0; i < m.eths; i++) {
    hwEths[nicName(i)] = m.hwEth[i]!;
    const net = m.netEth[i];
    if (net !== undefined) netEths[nicName(i)] = net;
  }
  const users: MachineSection = {};
  const seen = new Set<string>();
  for (const [k, u] of Object.entries(m.users)) {
    if (seen.has(u.name)) continue;
    seen.add(u.name);
    users[k] = u;
  }
  return defined({
    hardware: defined({
      vm_id: m.vmId, os: m.os, firmware: m.firmware, ram: '1GB',
      hdds: Object.keys(m.hdds).length ? m.hdds : undefined,
      cd_drives: Object.keys(m.cds).length ? m.cds : undefined,
      eths: m.eths ? hwEths : undefined,
    }),
    config: defined({ hostname: m.hostname, root_passwd: m.rootPasswd, locale: m.locale }),
    users: Object.keys(users).length ? { users } : undefined,
    network: defined({
      eths: Object.keys(netEths).length ? netEths : undefined,
      routes: m.route ? { r0: m.route } : undefined,
    }),
  });
});
