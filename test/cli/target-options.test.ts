import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { targetOptionsFrom } from '../../src/cli/target-options.js';
import { VmgenError } from '../../src/errors.js';

describe('targetOptionsFrom', () => {
  it('takes an absolute lxc path (trailing slashes dropped) and a container id', () => {
    assert.deepEqual(targetOptionsFrom({ lxcPath: '/srv/lxc/', ctid: '205' }), { lxcPath: '/srv/lxc', ctid: 205 });
    assert.deepEqual(targetOptionsFrom({}), {});
  });
  for (const lxcPath of ['relative/dir', '/a/../etc', '/a b', '/a;reboot', '/a,b:c', '/$(id)']) {
    it(`refuses --lxc-path ${JSON.stringify(lxcPath)}: it is written into the LXC config`, () => {
      assert.throws(() => targetOptionsFrom({ lxcPath }), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_USAGE');
    });
  }
  for (const ctid of ['100', '0', '-1', '12a', '1e3', '2147483648']) {
    it(`refuses --ctid ${ctid}`, () => {
      assert.throws(() => targetOptionsFrom({ ctid }), (e: unknown) => e instanceof VmgenError && e.code === 'VMG_USAGE');
    });
  }
});
