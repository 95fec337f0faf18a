/**
 * Properties of the config parser and writer that need no reference implementation: the parser
 * takes any text without throwing, keeps every byte of it, and reads back whatever the writer wrote.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { show } from '../helpers/assert-values.js';
import fc from 'fast-check';
import { parseIni } from '../../src/config/ini/parse.js';
import { serializeDocument, toOrderedJson, toPlain } from '../../src/config/ini/document.js';
import { UnquotableError, writeTree } from '../../src/config/ini/write.js';
import { configFile, plainTree } from '../helpers/arbitraries.js';

/** VMGEN_FC_SCALE=10 runs ten times as many cases; VMGEN_FC_SEED replays a run. */
const SCALE = Number(process.env.VMGEN_FC_SCALE ?? 1);
const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Math.round(n * SCALE),
  ...(process.env.VMGEN_FC_SEED ? { seed: Number(process.env.VMGEN_FC_SEED) } : {}),
});

/** Pieces of config syntax, so that random lines come close to real ones. */
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('[', ']', '[[', ']]', '=', ' = ', '"', "'", "'''", '"""', '#', ',', ', ', ' ', '\t') },
  { weight: 4, arbitrary: fc.constantFrom('a', 'key', 'name', 'x y', 'é', '日本', '😀', '0') },
  { weight: 1, arbitrary: fc.constantFrom('\r', '\ufeff', '\u00a0', '\u3000', '\x85', '\u2028', '\x0b', '\x1f', '\ud800', '\udc00', '\0') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
);
const line = fc.array(token, { maxLength: 10 }).map((ts) => ts.join(''));
const eol = fc.constantFrom('\n', '\n', '\n', '\r\n', '\r\r\n', '\n\n');
const lineText = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(line, eol), { maxLength: 25 }), fc.boolean())
  .map(([bom, lines, lastEol]) => {
    const text = lines.map(([l, e], i) => (i === lines.length - 1 && !lastEol ? l : l + e)).join('');
    return (bom ? '\ufeff' : '') + text;
  });

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...'[]="\'#,\n\r\t a'), maxLength: 200 }),
  lineText,
);

/** The parse of a text, checked for the shape every result must have. */
function parseChecked(text: string): ReturnType<typeof parseIni> {
  const result = parseIni(text);
  assert.equal(Array.isArray(result.diagnostics), true, show(result.diagnostics));
  const lineCount = result.doc.lines.length;
  for (const d of result.diagnostics) {
    assert.equal(d.severity, 'error');
    assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= lineCount, `line ${d.line} of ${lineCount}`);
    assert.ok(Number.isInteger(d.column) && d.column >= 1, `column ${d.column}`);
    assert.match(d.code, /^INI_/);
    assert.notEqual(d.message, '', d.code);
  }
  return result;
}

describe('parseIni on any text', () => {
  it('never throws: it returns a tree or diagnostics, and the document keeps the text byte for byte', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const { doc } = parseChecked(text);
        assert.equal(serializeDocument(doc), text);
        toOrderedJson(doc.root);
      }),
      runs(3000),
    );
  });

  it('keeps generated config files byte for byte, those that parse and those that do not', () => {
    let failing = 0;
    fc.assert(
      fc.property(configFile, (file) => {
        const { doc, diagnostics } = parseChecked(file.text);
        if (diagnostics.length > 0) failing++;
        assert.equal(serializeDocument(doc), file.text);
        // serialize → parse reads the same again
        const again = parseIni(serializeDocument(doc));
        assert.deepStrictEqual(again.diagnostics, diagnostics);
        assert.equal(toOrderedJson(again.doc.root), toOrderedJson(doc.root));
      }),
      runs(1500),
    );
    assert.ok(failing > 0, 'some generated files do not parse');
  });
});

describe('writeTree', () => {
  it('writes trees that parseIni reads back as they were (write → parse → serialize → parse)', () => {
    fc.assert(
      fc.property(plainTree, fc.constantFrom('    ', '  ', '\t'), (tree, indent) => {
        const text = writeTree(tree, indent);
        const first = parseIni(text);
        assert.deepStrictEqual(first.diagnostics, [], `writeTree wrote a file that does not parse:\n${text}`);
        assert.deepStrictEqual(toPlain(first.doc.root), tree);
        const second = parseIni(serializeDocument(first.doc));
        assert.deepStrictEqual(second.diagnostics, []);
        assert.deepStrictEqual(toPlain(second.doc.root), tree);
      }),
      runs(1500),
    );
  });

  it('rewrites generated valid files to the same tree (parse → writeTree → parse)', () => {
    let valid = 0;
    let unquotable = 0;
    fc.assert(
      fc.property(configFile, (file) => {
        const { doc, diagnostics } = parseIni(file.text);
        if (diagnostics.length > 0) return;
        valid++;
        const tree = toPlain(doc.root);
        let text: string;
        try {
          text = writeTree(tree);
        } catch (e) {
          // ConfigObj cannot write these either: a list item or a key with both kinds of quote
          if (!(e instanceof UnquotableError)) throw e;
          unquotable++;
          return;
        }
        const again = parseIni(text);
        assert.deepStrictEqual(again.diagnostics, [], `writeTree wrote a file that does not parse:\n${text}`);
        assert.deepStrictEqual(toPlain(again.doc.root), tree);
      }),
      runs(1500),
    );
    assert.ok(valid > 500 * SCALE && unquotable < valid / 10, `${valid} valid files, ${unquotable} unquotable`);
  });
});
