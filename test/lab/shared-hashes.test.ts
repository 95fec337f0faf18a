import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { resolveSpec } from '../../src/config/resolve.js';
import { dirSources } from '../../src/config/sources.js';
import { loadLab } from '../../src/lab/load.js';
import { hashesFromShadow, passwordKey, plainPasswords, withPasswordHashes } from '../../src/lab/shared-hashes.js';

const EXAMPLE = new URL('../../examples/net101/', import.meta.url).pathname;
const catalogs = loadCatalogs();
const lab = loadLab(readFileSync(join(EXAMPLE, 'lab.conf'), 'utf8'), { catalogs, sources: dirSources(EXAMPLE), file: 'lab.conf' }).lab!;
const YESCRYPT = '$y$j9T$hyjRZ/IFC65Gjf5O5v4zs0$TE7k7aXbq0Vdzm6mZ2hJ9dDk5cTsF6bV7yZQ1wN2kA3';

describe('password hashes shared by a lab\'s machines', () => {
  it('an account and its plain password are the key a hash is shared by: root\'s across the lab, each student\'s alone', () => {
    const keys = lab.machines.map((m) => plainPasswords(m.config).map(([account, plain]) => passwordKey(account, plain)));
    const rootKey = passwordKey('root', 'net101-root');
    assert.ok(keys.every((k) => k.includes(rootKey)), 'every machine of the example lab has root\'s password');
    const others = keys.flat().filter((k) => k !== rootKey);
    assert.equal(new Set(others).size, others.length, 'each student account has a password of its own');
    assert.notEqual(passwordKey('root', 'a'), passwordKey('caesar', 'a'), 'the same password for two accounts is two keys');
  });

  it('reads the hashes /etc/shadow holds for the wanted accounts only, never a locked or empty field', () => {
    const shadow = [`root:${YESCRYPT}:19000:0:99999:7:::`, 'daemon:*:19000:0:99999:7:::', 'locked:!:19000::::::', 'empty::19000::::::', `other:${YESCRYPT}:1::::::`, ''].join('\n');
    assert.deepEqual(hashesFromShadow(shadow, ['root', 'daemon', 'locked', 'empty']), { root: YESCRYPT });
  });

  it('gives each account its hash instead of its plain password; the spec then sets the hash', () => {
    const machine = lab.machines.find((m) => plainPasswords(m.config).length > 0)!;
    const accounts = plainPasswords(machine.config).map(([account]) => account);
    const hashes = Object.fromEntries(accounts.map((account) => [account, YESCRYPT]));
    const hashed = withPasswordHashes(machine.config, hashes);
    assert.deepEqual(plainPasswords(hashed), [], 'no plain password is left');
    const spec = resolveSpec(hashed, catalogs, { target: 'lxc', defaultMirror: 'http://mirror.example/debian' });
    const specPasswords = [...(spec.rootPassword ? [['root', spec.rootPassword]] : []), ...spec.users.filter((u) => u.password).map((u) => [u.name, u.password])];
    assert.deepEqual(Object.fromEntries(specPasswords), Object.fromEntries(accounts.map((account) => [account, { hash: YESCRYPT }])));
    assert.ok(plainPasswords(machine.config).length > 0, 'the original config is left as it was');
  });

  it('leaves accounts without a hash, and those with a hash of their own, as they were', () => {
    const machine = lab.machines.find((m) => plainPasswords(m.config).length > 0)!;
    assert.deepEqual(withPasswordHashes(machine.config, {}), machine.config);
  });
});
