import { lxcMember } from './lxc.js';
import { ociMember } from './oci.js';
import { qemuMember } from './qemu.js';
import type { MemberPackRow } from './types.js';
import { virtualboxMember } from './virtualbox.js';
import { vmwareMember } from './vmware.js';

/** Each target's lab member packer, keyed like src/targets/registry.ts. */
export const MEMBER_PACKERS: Readonly<Record<string, MemberPackRow>> = {
  lxc: lxcMember,
  qemu: qemuMember,
  oci: ociMember,
  vmware: vmwareMember,
  virtualbox: virtualboxMember,
};
