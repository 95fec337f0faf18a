import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, includesNone, isInstance } from '../helpers/assert-values.js';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadCatalogs } from '../../src/catalog/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import type { IniValue } from '../../src/config/ini/document.js';
import { parseIni } from '../../src/config/ini/parse.js';
import { loadConfig } from '../../src/validate/load.js';
import { normalize, type LogicalTree } from '../../src/config/normalize.js';
import { VmgenError } from '../../src/errors.js';
import { applyEdits, keyOrderFromSchema, type ConfigEdit } from '../../src/service/web/edit.js';

/*
 * The form's edits go through vmgctl's in-place editor; what this adds is the place of a new entry:
 * the model's order, so a config written from an empty form reads like the examples, whatever
 * order the fields were filled in. Everything else in a file stays as it was.
 */

const repo = new URL('../../', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, repo), 'utf8');
const catalogs = loadCatalogs({ env: {} });
const order = keyOrderFromSchema(configJsonSchema(catalogs));
const WEB = read('examples/debian-web.conf');
const NESTED = read('test/fixtures/edit/config-debian.conf');
const WINXP = read('test/fixtures/seed/winxp-vmware.conf');

const set = (path: string, value: IniValue): ConfigEdit => ({ path: path.split('.'), value });
const unset = (path: string): ConfigEdit => ({ path: path.split('.'), unset: true });
/** The file without its leading comment lines: what no form writes. */
const withoutHeadComment = (text: string): string => text.replace(/^(#[^\n]*\n)+/, '');

interface Leaf {
  path: string[];
  value: IniValue;
}

function leavesOf(text: string): Leaf[] {
  const out: Leaf[] = [];
  const walk = (t: LogicalTree, p: string[]): void => {
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === 'string' || Array.isArray(v)) out.push({ path: [...p, k], value: v });
      else walk(v, [...p, k]);
    }
  };
  walk(normalize(parseIni(text).doc.root).tree, []);
  return out;
}

/**
 * The leaves in the order `perm` picks, except that items of a list (hdd0, hdd1; vim, git) are
 * begun in the file's order: that order is the user's, and the editor keeps it.
 */
function fillOrder(leaves: Leaf[], perm: readonly number[]): Leaf[] {
  const out: Leaf[] = [];
  const done = new Set<number>();
  const started = new Set<string>();
  const emit = (i: number): void => {
    if (done.has(i)) return;
    const path = leaves[i]!.path;
    for (let d = 1; d <= path.length; d++) {
      const parent = path.slice(0, d - 1);
      if (order(parent) !== undefined) continue;
      const siblings = [...new Set(leaves.filter((l) => parent.every((s, j) => l.path[j] === s) && l.path.length >= d).map((l) => l.path[d - 1]!))];
      for (const sib of siblings) {
        if (sib === path[d - 1]) break;
        const key = [...parent, sib].join('\u0000');
        if (!started.has(key)) emit(leaves.findIndex((l) => l.path.slice(0, d).join('\u0000') === key));
      }
    }
    done.add(i);
    out.push(leaves[i]!);
    for (let d = 1; d <= path.length; d++) started.add(path.slice(0, d).join('\u0000'));
  };
  for (const i of perm) emit(i);
  return out;
}

describe('keyOrderFromSchema', () => {
  test('sections list their keys in the model\'s order; records have none', () => {
    assert.deepEqual(order([])?.slice(0, 4), ['hardware', 'config', 'users', 'network']);
    assert.deepEqual(order(['hardware'])?.slice(0, 4), ['vm_id', 'os', 'num_cpu', 'ram']);
    assert.equal(order(['hardware', 'hdds']), undefined);
    assert.deepEqual(order(['hardware', 'hdds', 'hdd7'])?.[0], 'size');
    assert.deepEqual(order(['hardware', 'hdds', 'hdd7', 'partitions', 'root']), ['type', 'fs', 'size', 'mount', 'label']);
    assert.equal(order(['devel']), undefined);
    assert.equal(order(['nosuch', 'section']), undefined);
  });
});

describe('a config written from an empty form', () => {
  const leaves = leavesOf(WEB);
  const expected = withoutHeadComment(WEB);

  test('in the file\'s own order it is the example, byte for byte', () => {
    assert.equal(applyEdits('', leaves.map((l) => ({ path: l.path, value: l.value })), order), expected);
  });

  test('in reverse order (items still begun in order) it is the example too', () => {
    const perm = leaves.map((_, i) => leaves.length - 1 - i);
    assert.equal(applyEdits('', fillOrder(leaves, perm).map((l) => ({ path: l.path, value: l.value })), order), expected);
  });

  test('in any order the fields are filled, it is the example', () => {
    const indexes = leaves.map((_, i) => i);
    fc.assert(fc.property(fc.shuffledSubarray(indexes, { minLength: indexes.length, maxLength: indexes.length }), (perm) => {
      const text = applyEdits('', fillOrder(leaves, perm).map((l) => ({ path: l.path, value: l.value })), order);
      assert.equal(text, expected);
    }), { numRuns: 40 });
  });

  test('a file without blank lines between sections gets none', () => {
    const seed = read('test/fixtures/seed/debian-seed.conf');
    const start = '[hardware]\n    vm_id = trudy\n[devel]\n    vim = 1\n';
    const out = applyEdits(start, [set('config.hostname', 'trudy'), set('services.sshd', '1'), set('hardware.os', 'debian12-64')], order);
    assert.equal(out, '[hardware]\n    vm_id = trudy\n    os = debian12-64\n[config]\n    hostname = trudy\n[devel]\n    vim = 1\n[services]\n    sshd = 1\n');
    assert.ok(seed.startsWith('[hardware]\n    vm_id = trudy\n    os = debian12-64\n[config]\n'), 'the seed\'s own layout');
  });
});

describe('edits of an existing file keep everything else', () => {
  test('a new key goes before the keys the model lists after it', () => {
    const out = applyEdits(NESTED.replace('    vm_id = web0\n', ''), [set('hardware.vm_id', 'web9')], order);
    assert.equal(out, NESTED.replace('vm_id = web0', 'vm_id = web9'));
  });

  test('a new subsection goes before a later one, and the comments stay with theirs', () => {
    const out = applyEdits(NESTED, [set('hardware.cd_drives.cd_drive0.path', '/srv/iso/debian.iso')], order);
    const expected = NESTED.replace('    [[eths]]\n        [[[eth0]]]\n            type = nat\n',
      '    [[cd_drives]]\n        [[[cd_drive0]]]\n            path = /srv/iso/debian.iso\n    [[eths]]\n        [[[eth0]]]\n            type = nat\n');
    assert.equal(out, expected);
    includesAll(out, ['os = debian12-64   # Debian 12 (bookworm), 64 bit\n']);
  });

  test('a new top-level section lands between its neighbours, above the comment on the next one', () => {
    const text = '[hardware]\n    os = debian12-64\n\n# what to install\n[devel]\n    vim = 1\n';
    const out = applyEdits(text, [set('network.eths.eth0.type', 'dhcp'), set('config.hostname', 'web1')], order);
    assert.equal(out, '[hardware]\n    os = debian12-64\n\n[config]\n    hostname = web1\n\n[network]\n    [[eths]]\n        [[[eth0]]]\n            type = dhcp\n\n# what to install\n[devel]\n    vim = 1\n');
  });

  test('a new section at the end is separated like the others', () => {
    const out = applyEdits(NESTED, [set('gui.gedit', '1')], order);
    assert.equal(out, `${NESTED}\n[gui]\n    gedit = 1\n`);
  });

  test('CRLF and a last line without a terminator stay so', () => {
    const text = '[hardware]\r\n    os = debian12-64';
    assert.equal(applyEdits(text, [set('hardware.vm_id', 'x')], order), '[hardware]\r\n    vm_id = x\r\n    os = debian12-64');
    assert.equal(applyEdits(text, [set('config.hostname', 'x')], order), '[hardware]\r\n    os = debian12-64\r\n\r\n[config]\r\n    hostname = x');
    const moved = applyEdits('[hardware]\r\n    os = debian12-64\r\n[devel]\r\n    vim = 1', [set('config.hostname', 'x')], order);
    assert.equal(moved, '[hardware]\r\n    os = debian12-64\r\n[config]\r\n    hostname = x\r\n[devel]\r\n    vim = 1');
  });

  test('the seed\'s flat form: new items are written as their siblings are, and nothing moves', () => {
    const out = applyEdits(WINXP, [set('hardware.hdds.hdd1.size', '2GB'), set('network.open_ports.port2.port', '80')], order);
    const before = WINXP.split('\n');
    const after = out.split('\n');
    assert.deepEqual(after.filter((l) => !before.includes(l)).map((l) => l.trim()).sort(), ['[[hdd1]]', '[[port2]]', 'port = 80', 'size = 2GB'].sort());
    assert.equal(after.length, before.length + 4);
    const config = loadConfig(out, { catalogs });
    assert.ok(config.places, 'still parses');
    const tree = normalize(parseIni(out).doc.root).tree as { hardware: { hdds: Record<string, unknown> } };
    assert.deepEqual(Object.keys(tree.hardware.hdds), ['hdd0', 'hdd1']);
  });

  test('values are quoted as vmgctl quotes them; lists stay lists', () => {
    const out = applyEdits(WEB, [set('network.open_ports.http.description', 'web, tls'), set('users.users.user1.groups', ['vmg', 'sudo'])], order);
    includesAll(out, ['description = "web, tls"\n', 'groups = vmg, sudo\n']);
  });

  test('unset removes a key or a section; unsetting what is not there changes nothing', () => {
    const out = applyEdits(WEB, [unset('hardware.eths.eth0'), unset('network.eths.eth0'), unset('gui.gimp'), unset('config.nosuch')], order);
    includesNone(out, ['hw_addr', 'address = 192.168.1.2']);
    assert.equal(applyEdits(WEB, [unset('gui.gimp')], order), WEB);
  });
});

describe('edits the editor refuses', () => {
  test('a text that does not parse: the diagnostics say why', () => {
    assert.throws(() => applyEdits('[hardware\n', [set('hardware.os', 'debian12-64')], order), (err: unknown) => {
      isInstance(err, VmgenError);
      assert.equal(err.code, 'VMG_CONFIG_INVALID');
      assert.equal(err.diagnostics?.items[0]?.line, 1);
      return true;
    });
  });

  test('a path through a value', () => {
    assert.throws(() => applyEdits(WEB, [set('hardware.os.x', '1')], order), (err: unknown) => err instanceof VmgenError && err.code === 'VMG_KEY_PATH');
  });
});
