/**
 * Differential tests: vmgen's config parser against Python's ConfigObj 5 itself
 * (`ConfigObj(FILE, interpolation=False)`, run by test/helpers/configobj.py with Debian's
 * /usr/bin/python3 and its python3-configobj). Every file must give the same tree, or fail on the
 * same lines.
 *
 * Generated files: VMGEN_FC_SEED=<n> replays a run, VMGEN_FC_RUNS=<n> changes how many files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseIni } from '../../src/config/ini/parse.js';
import type { IniSection } from '../../src/config/ini/document.js';
import {
  KEYWORD, TRIPLE_QUOTES, findListItems, matchKeyword, matchSection, matchTripleLastLine, matchTripleSingleLine, matchValue, type Groups,
} from '../../src/config/ini/grammar.js';
import { writeTree } from '../../src/config/ini/write.js';
import { configFile, plainTree } from '../helpers/arbitraries.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PYTHON = '/usr/bin/python3';
const HELPER = join(ROOT, 'test/helpers/configobj.py');

type PairValue = { s: string } | { l: string[] } | { sec: Pairs };
type Pairs = [string, PairValue][];
type PyResult = { ok: Pairs } | { errors: number[] | 'decode'; partial?: Pairs };

const haveConfigObj = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import configobj'], { stdio: 'ignore' }).status === 0;
const NEEDS = 'needs /usr/bin/python3 with python3-configobj (scripts/setup.sh installs it)';
/** Skipped on a machine without ConfigObj, but never in CI, where setup.sh must have installed it. */
const skip = haveConfigObj || process.env.CI ? false : NEEDS;

/** Runs ConfigObj once over all the files. */
function runConfigObj(paths: string[]): PyResult[] {
  if (paths.length === 0) return [];
  const r = spawnSync(PYTHON, [HELPER], { input: JSON.stringify(paths), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`configobj.py failed (${r.status}): ${r.stderr}`);
  const results = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PyResult);
  assert.equal(results.length, paths.length, 'configobj.py answered for every file');
  return results;
}

function toPairs(section: IniSection): Pairs {
  const out: Pairs = [];
  for (const [key, entry] of section.entries) {
    if (entry.kind === 'section') out.push([key, { sec: toPairs(entry) }]);
    else out.push([key, Array.isArray(entry.value) ? { l: [...entry.value] } : { s: entry.value }]);
  }
  return out;
}

/**
 * The one place where vmgen reports an error on another line than ConfigObj, on purpose: a
 * duplicate key whose value is triple-quoted over several lines. ConfigObj has already moved to
 * the closing line when it finds the key taken and reports that line; vmgen reports the line of
 * the key, which is where the user must look. Maps vmgen's line to ConfigObj's so the rest of the
 * comparison stays exact.
 */
function configObjLineOfDuplicateKey(lines: string[], line: number): number {
  const kw = KEYWORD.exec(lines[line - 1] ?? '');
  const rest = kw?.[3] ?? '';
  const quote = rest.slice(0, 3);
  if (quote !== "'''" && quote !== '"""') return line;
  if (TRIPLE_QUOTES[quote].singleLine.test(rest)) return line;
  for (let i = line; i < lines.length; i++) if (lines[i]!.includes(quote)) return i + 1;
  return line;
}

/** Groups as Python's json.dumps writes m.groups(): null for a group that took no part. */
function groupsOf(m: Groups | null): Array<string | null> | null {
  return m === null ? null : m.slice(1).map((g) => g ?? null);
}

/** Why vmgen and ConfigObj disagree on a file, or null when they agree. */
function compare(text: string, py: PyResult): string | null {
  const { doc, diagnostics } = parseIni(text);
  const ours = toPairs(doc.root);
  if ('ok' in py) {
    if (diagnostics.length > 0) {
      return `ConfigObj reads the file, vmgen reports ${JSON.stringify(diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`))}`;
    }
    try {
      assert.deepStrictEqual(ours, py.ok);
    } catch {
      return `different trees:\n  vmgen:     ${JSON.stringify(ours)}\n  ConfigObj: ${JSON.stringify(py.ok)}`;
    }
    return null;
  }
  if (py.errors === 'decode') return 'ConfigObj cannot decode the file (the generator writes UTF-8 only)';
  if (diagnostics.length === 0) return `ConfigObj fails on lines ${JSON.stringify(py.errors)}, vmgen reads the file: ${JSON.stringify(ours)}`;
  const lines = doc.lines;
  const ourLines = diagnostics.map((d) => (d.code === 'INI_DUPLICATE_KEY' ? configObjLineOfDuplicateKey(lines, d.line) : d.line));
  const want = [...new Set(py.errors)].sort((a, b) => a - b);
  const got = [...new Set(ourLines)].sort((a, b) => a - b);
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    return `error lines differ: ConfigObj ${JSON.stringify(want)}, vmgen ${JSON.stringify(got)} (${JSON.stringify(diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`))})`;
  }
  if (py.partial) {
    // ConfigObj goes on after an error, and so does vmgen: what both kept must agree too.
    try {
      assert.deepStrictEqual(ours, py.partial);
    } catch {
      return `different trees around the errors:\n  vmgen:     ${JSON.stringify(ours)}\n  ConfigObj: ${JSON.stringify(py.partial)}`;
    }
  }
  return null;
}

/** The lines of a file, each with its terminator (the BOM stays with the first). */
function splitKeepingEols(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Drops lines while vmgen and ConfigObj still disagree, to report a small failing file. */
function minimize(text: string, dir: string): string {
  let lines = splitKeepingEols(text);
  for (let pass = 0; pass < 20; pass++) {
    const candidates = lines.map((_, i) => lines.filter((_l, j) => j !== i));
    if (candidates.length <= 1) break;
    const paths = candidates.map((c, i) => {
      const p = join(dir, `min-${pass}-${i}.conf`);
      writeFileSync(p, c.join(''), 'utf8');
      return p;
    });
    const results = runConfigObj(paths);
    const smaller = candidates.findIndex((c, i) => compare(c.join(''), results[i]!) !== null);
    if (smaller === -1) break;
    lines = candidates[smaller]!;
  }
  return lines.join('');
}

describe('vmgen reads files exactly as ConfigObj does', { skip }, () => {
  let dir = '';
  before(() => {
    assert.ok(haveConfigObj, NEEDS);
    dir = mkdtempSync(join(tmpdir(), 'vmgen-configobj-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the examples, the seed fixtures and the chapter-2 listings', () => {
    const files = [
      ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.conf')).map((f) => join(ROOT, 'examples', f)),
      ...readdirSync(join(ROOT, 'test/fixtures/seed')).map((f) => join(ROOT, 'test/fixtures/seed', f)),
    ].sort();
    const results = haveConfigObj ? runConfigObj(files) : [];

    it('finds the files', () => {
      assert.ok(files.some((f) => f.endsWith('listing-2.2.conf')), 'the chapter-2 listings are in test/fixtures/seed');
      assert.ok(files.length >= 9, `only ${files.length} files`);
    });
    files.forEach((file, i) => {
      it(`${file.slice(ROOT.length + 1)}`, () => {
        const py = results[i]!;
        assert.ok('ok' in py, `ConfigObj rejects a shipped file: ${JSON.stringify(py)}`);
        const problem = compare(readFileSync(file, 'utf8'), py);
        assert.equal(problem, null, problem ?? '');
      });
    });
  });

  it('generated files, realistic and nasty, valid and corrupt', (t) => {
    const seed = process.env.VMGEN_FC_SEED ? Number(process.env.VMGEN_FC_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
    const numRuns = process.env.VMGEN_FC_RUNS ? Number(process.env.VMGEN_FC_RUNS) : 300;
    t.diagnostic(`seed ${seed} (replay with VMGEN_FC_SEED=${seed}), ${numRuns} files`);
    const files = fc.sample(configFile, { seed, numRuns });
    const paths = files.map((f, i) => {
      const p = join(dir, `gen-${i}.conf`);
      writeFileSync(p, f.text, 'utf8');
      return p;
    });
    const results = runConfigObj(paths);

    const failures: string[] = [];
    let accepted = 0;
    let corrupt = 0;
    files.forEach((file, i) => {
      const py = results[i]!;
      if ('ok' in py) accepted++;
      if (file.corruptions.length > 0) corrupt++;
      const problem = compare(file.text, py);
      if (problem && failures.length < 3) {
        const small = minimize(file.text, dir);
        writeFileSync(join(dir, 'min.conf'), small, 'utf8');
        const smallProblem = compare(small, runConfigObj([join(dir, 'min.conf')])[0]!);
        failures.push(
          `file #${i} of seed ${seed}: ${problem}\n  file: ${JSON.stringify(file.text)}\n` +
            `  smallest file that still disagrees: ${JSON.stringify(small)}\n  ${smallProblem}`,
        );
      } else if (problem) failures.push(`file #${i}: ${problem}`);
    });
    t.diagnostic(`${files.length} files: ConfigObj read ${accepted} and rejected ${files.length - accepted}; ${corrupt} were corrupted on purpose`);
    // the generator must exercise both sides
    assert.ok(accepted > files.length / 4 && accepted < files.length, `ConfigObj read ${accepted} of ${files.length}`);
    assert.equal(failures.length, 0, `vmgen and ConfigObj disagree (replay with VMGEN_FC_SEED=${seed}):\n${failures.join('\n')}`);
  });

  it('ConfigObj reads what writeTree writes', (t) => {
    const seed = process.env.VMGEN_FC_SEED ? Number(process.env.VMGEN_FC_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
    t.diagnostic(`seed ${seed}, 100 trees`);
    const texts = fc.sample(plainTree, { seed, numRuns: 100 }).map((tree) => writeTree(tree));
    const paths = texts.map((text, i) => {
      const p = join(dir, `written-${i}.conf`);
      writeFileSync(p, text, 'utf8');
      return p;
    });
    const results = runConfigObj(paths);
    const problems = texts.flatMap((text, i) => {
      const py = results[i]!;
      const problem = 'ok' in py ? compare(text, py) : `ConfigObj rejects it: ${JSON.stringify(py)}`;
      return problem ? [`${JSON.stringify(text)}: ${problem}`] : [];
    });
    assert.deepEqual(problems, [], `seed ${seed}`);
  });

  it("each line pattern gives the groups of ConfigObj's own compiled regex, on short nasty strings", (t) => {
    // Short strings keep Python's backtracking cheap; the alphabet holds every character the
    // patterns treat specially, and blanks that Python's \s knows and JavaScript's does not.
    const seed = process.env.VMGEN_FC_SEED ? Number(process.env.VMGEN_FC_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
    const numRuns = process.env.VMGEN_FC_RUNS ? Number(process.env.VMGEN_FC_RUNS) * 100 : 30_000;
    t.diagnostic(`seed ${seed} (replay with VMGEN_FC_SEED=${seed}), ${numRuns} strings`);
    const ours: Record<string, (s: string) => unknown> = {
      keyword: (s) => groupsOf(matchKeyword(s)),
      section: (s) => groupsOf(matchSection(s)),
      value: (s) => groupsOf(matchValue(s)),
      list: (s) => findListItems(s).map((i) => i.text),
      "single'''": (s) => groupsOf(matchTripleSingleLine("'''", s)),
      "last'''": (s) => groupsOf(matchTripleLastLine("'''", s)),
      'single"""': (s) => groupsOf(matchTripleSingleLine('"""', s)),
      'last"""': (s) => groupsOf(matchTripleLastLine('"""', s)),
    };
    const unit = fc.constantFrom('[', ']', '"', "'", '#', ',', '=', ' ', '\t', '\u00a0', '\x1c', 'a', 'b', "'''", '"""');
    const text = fc.array(unit, { maxLength: 14 }).map((u) => u.join(''));
    const cases = fc.sample(fc.tuple(fc.constantFrom(...Object.keys(ours)), text), { seed, numRuns });
    const r = spawnSync(PYTHON, [HELPER, '--patterns'], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout) as unknown[];
    const differ = cases.flatMap(([name, s], i) => {
      const mine = ours[name]!(s);
      return JSON.stringify(mine) === JSON.stringify(theirs[i]) ? [] : [`${name} ${JSON.stringify(s)}: vmgen ${JSON.stringify(mine)}, ConfigObj ${JSON.stringify(theirs[i])}`];
    });
    assert.deepEqual(differ.slice(0, 10), [], `${differ.length} of ${cases.length} differ (seed ${seed})`);
  });

  it('hand-picked corners of the grammar', () => {
    const cases = [
      'k =\n', 'k = # c\n', 'k = a,\n', 'k = a, \n', 'k = ,\n', 'k = ,,\n', 'k = , a\n', 'k = "a" , "b" ,\n', "k = 'a'b\n",
      'k = """a""" # c\n', "k = '''a\nb'''\n", "k = '''a\n", "k = '''a''' b\n", "k = '''a\nb''' c\n",
      "k = '''a\nb'''\nk = 2\n", 'k = 1\nk = """a\nb"""\n', "[a]\n[[b]]\n[[[c]]]\n[a]\n[[b]]\n", '[a]\n[[[b]]]\nx = 1\n',
      '[a]\n  [[b]]\n[[c]]\n', '[ a ]\n[ [ b ] ]\n', '["a = b"]\n', "['x' ]\n", '[a]]\n', '[[a]\n', '[""]\n', '["  "]\n',
      '\ufeffk = v\r\n', 'k = v\r\r\n', '\u00a0k\u00a0=\u00a0v\u00a0\n', '\u3000[a]\u3000\n', 'k\u001f=\u001fv\n', 'k = a\u0085\n',
      '"a=b" = c\n', "'a' b = c\n", '"a"b = c\n', 'a"b" = c\n', '= v\n', 'k: v\n', 'a # b = c\n',
      '[a]\nx = 1\n[b]\nx = 2\n[a]\n', '[a]\nb = 1\n[[b]]\n', '',
      // the shapes that made ConfigObj's patterns backtrack, and what giving back blanks reads
      "k = 'a'b\"', d\n", "dns = a ,a ,a ,a ,'\n", 'k = a, "b, c\n', 'k = a,  , b\n', "k = 'a' , 'b\n", '[[[ [a] ]]]\n', '[ "a" ] ] # c\n',
      '__proto__ = 1\n[constructor]\nprototype = 2\n',
    ];
    const paths = cases.map((c, i) => {
      const p = join(dir, `corner-${i}.conf`);
      writeFileSync(p, c, 'utf8');
      return p;
    });
    const results = runConfigObj(paths);
    const problems = cases.flatMap((c, i) => {
      const problem = compare(c, results[i]!);
      return problem ? [`${JSON.stringify(c)}: ${problem}`] : [];
    });
    assert.deepEqual(problems, []);
  });
});
