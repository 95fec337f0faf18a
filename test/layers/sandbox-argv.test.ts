import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SANDBOX_PERL, SANDBOX_SCRIPT, sandboxArgv } from '../../src/layers/sandbox-argv.js';

/** The sandbox's argv: values travel as arguments, never inside the program text. */
describe('sandboxArgv', () => {
  const overlay = { kind: 'overlay' as const, lower: '/cache/layers/abc/rootfs', base: '/cache/work/build-1', upper: 'upper', work: 'overlay-work' };

  it('passes the layers, the scratch directory, the script and the network choice as arguments', () => {
    const argv = sandboxArgv({ root: overlay, scratch: '/cache/work/build-1/s', scriptFile: '/cache/work/build-1/1.script', network: false });
    assert.deepEqual(argv.slice(0, 2), ['perl', '-e']);
    assert.equal(argv[2], SANDBOX_PERL);
    assert.deepEqual(argv.slice(3, 14), ['--', '200000', '65536', 'overlay', '/cache/layers/abc/rootfs', '/cache/work/build-1', 'upper', 'overlay-work', '/cache/work/build-1/s', '/cache/work/build-1/1.script', 'nonet']);
    assert.equal(argv.at(-1), SANDBOX_SCRIPT);
  });

  it('takes a copied root as one directory, and the network when asked', () => {
    const argv = sandboxArgv({ root: { kind: 'dir', path: '/w/rootfs' }, scratch: '/w/s', scriptFile: '/w/1.script', network: true });
    assert.deepEqual(argv.slice(6, 15), ['dir', '/w/rootfs', '', '', '', '/w/s', '/w/1.script', 'net', '/bin/sh']);
  });

  it('keeps hostile paths out of the program text', () => {
    const evil = "/w/$(touch /tmp/x)';\n`id`";
    const argv = sandboxArgv({ root: { kind: 'dir', path: evil }, scratch: '/w/s', scriptFile: '/w/1', network: false });
    assert.equal(argv[2]!.includes('touch /tmp/x'), false, 'the program is fixed text');
    assert.equal(argv[7], evil);
  });

  it('drops the capabilities to mount, load modules and administer the network', () => {
    // The kept set, as the program spells it: CAP_SYS_ADMIN (21), CAP_SYS_MODULE (16), CAP_NET_ADMIN (12) are not in it.
    const kept = /\$keep \|= 1 << \$_ for \(([^)]*)\)/.exec(SANDBOX_PERL)?.[1];
    assert.equal(kept, '0 .. 8, 10, 13, 18, 27, 29, 31');
  });
});
