/**
 * Every file in test/fixtures/malformed/ is a small, otherwise valid config with one deliberate
 * mistake. Its leading comment lines say what `vmgen validate` must report:
 *
 *   # expect: LINE:COLUMN SEVERITY CODE   exactly one; where a person would look for the mistake
 *   # args: --target vmware               optional extra arguments for validate
 *   # hint: substring                     optional; the diagnostic's hint must contain it
 *   # message: substring                  optional; the diagnostic's message must contain it
 *
 * Those comment lines are lines of the file too: LINE counts them. Each fixture is validated twice,
 * once with --json (to find the diagnostic) and once as a person sees it (to check stderr).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = 'test/fixtures/malformed';
const MIN_FIXTURES = 45;

interface Expectation {
  line: number;
  column: number;
  severity: 'error' | 'warning';
  code: string;
  args: string[];
  hint?: string;
  message?: string;
}

interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  hint?: string;
}

/** Reads the leading comment block; latin1 so a fixture that is deliberately not UTF-8 still reads. */
function readExpectation(file: string): Expectation {
  const lines = readFileSync(path.join(ROOT, file), 'latin1').split(/\r?\n/);
  const expects: string[] = [];
  let args: string[] = [];
  let hint: string | undefined;
  let message: string | undefined;
  for (const line of lines) {
    if (!line.startsWith('#')) break;
    const m = /^#\s*(expect|args|hint|message):\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'expect') expects.push(value);
    else if (key === 'args') args = value.split(/\s+/).filter((a) => a !== '');
    else if (key === 'hint') hint = value;
    else message = value;
  }
  assert.equal(expects.length, 1, `${file}: needs exactly one '# expect: LINE:COL severity CODE' line in its leading comments`);
  const e = /^(\d+):(\d+)\s+(error|warning)\s+([A-Z][A-Z0-9_]*)$/.exec(expects[0]!);
  assert.ok(e, `${file}: cannot read '# expect: ${expects[0]}' (want 'LINE:COL severity CODE')`);
  return {
    line: Number(e[1]),
    column: Number(e[2]),
    severity: e[3] as 'error' | 'warning',
    code: e[4]!,
    args,
    ...(hint ? { hint } : {}),
    ...(message ? { message } : {}),
  };
}

async function validate(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (s: string | Uint8Array) => { stdout += String(s); return true; } },
    stderr: { write: (s: string | Uint8Array) => { stderr += String(s); return true; } },
    cwd: ROOT,
  };
  const code = await main('vmgen', ['validate', file, ...args], io);
  return { code, stdout, stderr };
}

const show = (d: JsonDiagnostic): string =>
  `${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`;

const fixtures = readdirSync(path.join(ROOT, DIR)).filter((f) => f.endsWith('.conf')).sort();

test(`there are at least ${MIN_FIXTURES} malformed fixtures`, () => {
  assert.ok(fixtures.length >= MIN_FIXTURES, `only ${fixtures.length} fixtures in ${DIR}`);
});

for (const name of fixtures) {
  const file = `${DIR}/${name}`;
  test(name, async () => {
    const exp = readExpectation(file);
    const where = `${exp.line}:${exp.column} ${exp.severity} ${exp.code}`;

    // --json: the diagnostic is there, at the expected place, and says something.
    const json = await validate(file, [...exp.args, '--json']);
    assert.equal(json.code, 1, `exit code ${json.code}, expected 1; stderr: ${json.stderr}`);
    let report: { file?: unknown; valid?: unknown; diagnostics?: unknown };
    try {
      report = JSON.parse(json.stdout) as typeof report;
    } catch {
      assert.fail(`--json printed no JSON report; stdout: ${JSON.stringify(json.stdout)}; stderr: ${json.stderr.trim()}`);
    }
    assert.equal(report.file, file);
    assert.equal(report.valid, false);
    assert.ok(Array.isArray(report.diagnostics), 'diagnostics is not an array');
    const diags = report.diagnostics as JsonDiagnostic[];
    const found = diags.find((d) => d.line === exp.line && d.column === exp.column && d.severity === exp.severity && d.code === exp.code);
    assert.ok(found, `no diagnostic ${where}; got:\n  ${diags.map(show).join('\n  ') || '(none)'}`);
    assert.equal(typeof found.message, 'string');
    assert.ok(found.message.trim() !== '', `${where} has an empty message`);
    if (exp.message !== undefined) {
      assert.ok(found.message.includes(exp.message), `message ${JSON.stringify(found.message)} lacks ${JSON.stringify(exp.message)}`);
    }
    if (exp.hint !== undefined) {
      assert.ok(found.hint !== undefined, `${where} has no hint; expected one containing ${JSON.stringify(exp.hint)}`);
      assert.ok(found.hint.includes(exp.hint), `hint ${JSON.stringify(found.hint)} lacks ${JSON.stringify(exp.hint)}`);
    }

    // As a person sees it: FILE:LINE:COL: severity: on stderr, and nothing that looks like a crash.
    const human = await validate(file, exp.args);
    assert.equal(human.code, 1, `exit code ${human.code}, expected 1; stderr: ${human.stderr}`);
    const prefix = `${file}:${exp.line}:${exp.column}: ${exp.severity}:`;
    assert.ok(human.stderr.includes(prefix), `stderr lacks ${JSON.stringify(prefix)}:\n${human.stderr}`);
    assert.doesNotMatch(human.stderr, /^\s+at\s/m, 'stderr holds a stack frame');
    assert.doesNotMatch(human.stderr, /\b[A-Za-z]*Error:/, 'stderr names an Error class');
    assert.doesNotMatch(human.stderr, /internal error/i, 'stderr reports an internal error');
  });
}
