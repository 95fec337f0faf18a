import { ociCommander } from '../../targets/oci/index.js';
import { virtualboxCommander } from '../../targets/virtualbox/index.js';
import { vmwareCommander } from '../../targets/vmware/index.js';
import { lxcMember } from './lxc.js';
import { qemuMember } from './qemu.js';
import type { MemberPackRow } from './types.js';
import { wholeMember } from './whole.js';

/** Each target's lab member packer, keyed like src/targets/registry.ts. */
export const MEMBER_PACKERS: Readonly<Record<string, MemberPackRow>> = {
  lxc: lxcMember,
  qemu: qemuMember,
  oci: wholeMember(ociCommander),
  vmware: wholeMember(vmwareCommander),
  virtualbox: wholeMember(virtualboxCommander),
};
