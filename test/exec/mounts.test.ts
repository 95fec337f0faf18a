import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMountPath, mountPointsUnder } from '../../src/exec/mounts.js';

// Lines in the format of proc(5) /proc/[pid]/mountinfo: the fifth field is the mount point.
const MOUNTINFO = [
  '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '47 26 0:39 / /var/cache/vmgen/work/build-a/stage/rootfs rw,relatime - overlay overlay rw,lowerdir=/x',
  '48 47 0:40 / /var/cache/vmgen/work/build-a/stage/rootfs/proc rw - proc proc rw',
  '49 26 0:41 / /var/cache/vmgen/work/build-ab/stage rw - tmpfs tmpfs rw',
  '50 26 0:42 / /var/cache/vmgen/work/build\\040b rw - tmpfs tmpfs rw',
  '',
].join('\n');

describe('mount points from mountinfo', () => {
  it('decodes the octal escapes mountinfo writes for blanks and backslashes', () => {
    assert.equal(decodeMountPath('/a\\040b\\011c\\134d'), '/a b\tc\\d');
  });

  it('lists the mounts at or below a directory, deepest first, and not those of a sibling that only starts the same', () => {
    assert.deepEqual(mountPointsUnder('/var/cache/vmgen/work/build-a', MOUNTINFO), [
      '/var/cache/vmgen/work/build-a/stage/rootfs/proc',
      '/var/cache/vmgen/work/build-a/stage/rootfs',
    ]);
    assert.deepEqual(mountPointsUnder('/var/cache/vmgen/work/build b/', MOUNTINFO), ['/var/cache/vmgen/work/build b']);
    assert.deepEqual(mountPointsUnder('/srv', MOUNTINFO), []);
  });
});
