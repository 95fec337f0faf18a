import { lxcMember } from './lxc.js';
import { qemuMember } from './qemu.js';
import type { MemberPackRow } from './types.js';
import { wholeMember } from './whole.js';

/** Each target's lab member packer, keyed like src/targets/registry.ts. */
export const MEMBER_PACKERS: Readonly<Record<string, MemberPackRow>> = {
  lxc: lxcMember,
  qemu: qemuMember,
  oci: wholeMember('oci'),
  vmware: wholeMember('vmware'),
  virtualbox: wholeMember('virtualbox'),
};
