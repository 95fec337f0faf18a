import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { everyItem } from '../helpers/assert-values.js';
import { readdirSync, readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import type { PlaceIndex } from '../../src/config/normalize.js';
import { findTarget } from '../../src/targets/registry.js';
import { fieldPath } from '../../src/service/web/field-path.js';
import { parseConfigText } from '../../src/service/web/plugin.js';

/*
 * A diagnostic's line and column, read back into the key path it is about: the page shows the
 * CLI's message beside that field. Checked against every place of the seed's listings and the
 * examples, and against real diagnostics of broken files.
 */

const repo = new URL('../../', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, repo), 'utf8');
const catalogs = loadCatalogs({ env: {} });
const FILES = [
  ...readdirSync(new URL('examples/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `examples/${f}`),
  ...readdirSync(new URL('test/fixtures/seed/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `test/fixtures/seed/${f}`),
  ...readdirSync(new URL('test/fixtures/edit/', repo)).filter((f) => f.endsWith('.conf')).map((f) => `test/fixtures/edit/${f}`),
].sort();
const WEB = read('examples/debian-web.conf');

function placesOf(text: string): PlaceIndex {
  const r = loadConfig(text, { catalogs });
  assert.ok(r.places, 'the text parses');
  return r.places;
}

/** The diagnostic with this code, and the path the page would show it at. */
function pathOf(text: string, code: string, target?: string): string[] | undefined {
  const r = parseConfigText(text, catalogs, target);
  const d = r.diagnostics.find((x) => x.code === code);
  assert.ok(d, `a ${code} diagnostic among ${JSON.stringify(r.diagnostics.map((x) => x.code))}`);
  return d.path;
}

describe('fieldPath: the places normalize records, read back', () => {
  for (const file of FILES) {
    test(file, () => {
      const places = placesOf(read(file));
      assert.ok(places.size > 5, `${places.size} places`);
      for (const [key, place] of places) {
        const path = key === '' ? [] : key.split('\u0000');
        // Where two entries share a position (a container the file never opened stands where its
        // first item is), the longer path wins.
        const twin = [...places].find(([k, p]) => k !== key && p.line === place.line && p.column === place.column && k.split('\u0000').length > path.length);
        const expected = twin ? twin[0].split('\u0000') : path;
        assert.deepEqual(fieldPath(places, place.line, place.column), expected, `${file}:${place.line}:${place.column}`);
        if (place.keyColumn !== undefined) assert.deepEqual(fieldPath(places, place.line, place.keyColumn), expected, 'at the key');
        for (const c of place.itemColumns ?? []) assert.deepEqual(fieldPath(places, place.line, c), expected, 'at a list item');
      }
    });
  }

  test('a line with no entry belongs to the section above it; line 0 to nothing', () => {
    const text = '[hardware]\n    os = debian12-64\n    [[hdds]]\n        [[[hdd0]]]\n            size = 4GB\n\n            # a comment\n[config]\n';
    const places = placesOf(text);
    assert.deepEqual(fieldPath(places, 7, 13), ['hardware', 'hdds', 'hdd0']);
    assert.deepEqual(fieldPath(places, 2, 3), ['hardware', 'os'], 'elsewhere on an entry\'s line');
    assert.equal(fieldPath(places, 0, 0), undefined);
  });
});

describe('fieldPath of the CLI\'s own diagnostics', () => {
  test('a value out of range', () => {
    assert.deepEqual(pathOf(WEB.replace('num_cpu = 2', 'num_cpu = 0'), 'CFG_BAD_VALUE'), ['hardware', 'num_cpu']);
  });

  test('a bad host name', () => {
    assert.deepEqual(pathOf(WEB.replace('hostname = web1', 'hostname = web_1!'), 'CFG_BAD_VALUE'), ['config', 'hostname']);
  });

  test('a bad item of a list: the item (the form shows it at the list\'s field)', () => {
    assert.deepEqual(pathOf(WEB.replace('dns = 192.168.1.254', 'dns = 192.168.1.254, 10.0.0.999'), 'CFG_BAD_VALUE'), ['network', 'dns', '1']);
  });

  test('a bad choice inside an item', () => {
    assert.deepEqual(pathOf(WEB.replace('fs = ext4', 'fs = ext5'), 'CFG_BAD_CHOICE'), ['hardware', 'hdds', 'hdd0', 'partitions', 'root', 'fs']);
  });

  test('an unknown key, at the key', () => {
    assert.deepEqual(pathOf(WEB.replace('    hostname = web1\n', '    hostname = web1\n    colour = red\n'), 'CFG_UNKNOWN_KEY'), ['config', 'colour']);
  });

  test('something missing: the missing key itself, so the form shows it at the empty field', () => {
    const text = WEB.replace('                    fs = swap\n', '                    size = 1GB\n');
    assert.deepEqual(pathOf(text, 'CFG_MISSING'), ['hardware', 'hdds', 'hdd0', 'partitions', 'swap', 'fs']);
    // The file still says it where the item is: the section the key is missing from.
    const d = parseConfigText(text, catalogs).diagnostics.find((x) => x.code === 'CFG_MISSING')!;
    assert.deepEqual(fieldPath(placesOf(text), d.line, d.column), ['hardware', 'hdds', 'hdd0', 'partitions', 'swap']);
  });

  test('a static NIC without an address: at its address field, and in the file at its type', () => {
    const text = WEB.replace(/\n +address = 192\.168\.1\.2\n/, '\n');
    const r = parseConfigText(text, catalogs);
    const d = r.diagnostics.find((x) => x.code === 'CFG_STATIC_ADDRESS');
    assert.ok(d, `CFG_STATIC_ADDRESS among ${JSON.stringify(r.diagnostics.map((x) => x.code))}`);
    assert.deepEqual(d.path, ['network', 'eths', 'eth0', 'address']);
    assert.match(text.split('\n')[d.line - 1]!, /type = static/, 'the line the CLI names');
  });

  test('the seed\'s flat lists and a container target for Windows', () => {
    const winxp = read('test/fixtures/seed/winxp-vmware.conf');
    assert.deepEqual(pathOf(winxp, 'CFG_FLAT_LIST'), ['hardware', 'hdds', 'hdd0']);
    assert.deepEqual(pathOf(winxp, 'CFG_TARGET_OS', 'lxc'), ['hardware', 'os']);
    assert.notEqual(findTarget('lxc'), undefined);
  });

  test('a text that does not parse has no tree and no paths', () => {
    const r = parseConfigText('[hardware\nos = x\n', catalogs);
    assert.equal(r.tree, null);
    assert.equal(r.valid, false);
    assert.notEqual(r.diagnostics.length, 0);
    everyItem(r.diagnostics, (d) => d.path === undefined);
  });
});
