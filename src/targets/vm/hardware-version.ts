/**
 * The VMware virtual hardware level the .vmx and both OVF descriptors (vmx-19) name.
 * 19 is the level of ESXi 7.0 U2, Workstation 16.2 and Fusion 12.2. Every device vmgen writes is
 * older (NVMe came with version 13); a newer version would shut out ESXi 7 hosts, still common, for
 * nothing vmgen uses.
 */
export const VIRTUAL_HW_VERSION = 19;
