/**
 * The vSphere guest OS identifier (VirtualMachineGuestOsIdentifier) for each .vmx guestOS value the
 * OS catalog uses, and the CIM_OperatingSystem OSType VMware pairs with it. An OVF for ESXi names the
 * guest by the first (vmw:osType) and the second (OperatingSystemSection ovf:id).
 *
 * Sources: vSphere Web Services API, enum VirtualMachineGuestOsIdentifier
 * (https://developer.broadcom.com/xapis/vsphere-web-services-api/latest/vim.vm.GuestOsDescriptor.GuestOsIdentifier.html),
 * as govmomi spells it (vim25/types/enum.go), and govmomi's ovf/cim.go, GuestIDToCIMOSType, for the
 * CIM value VMware's own tooling writes. Windows 10 and later have no CIM value; VMware writes
 * "Other 64-Bit" (102).
 */
export interface VsphereGuest { id: string; cim: number }

export const VSPHERE_GUESTS: Readonly<Record<string, VsphereGuest>> = {
  'debian12-64': { id: 'debian12_64Guest', cim: 96 },
  // cim.go maps no Debian 13 id yet; CIM's Debian 64-Bit is the one for every Debian release.
  'debian13-64': { id: 'debian13_64Guest', cim: 96 },
  'ubuntu-64': { id: 'ubuntu64Guest', cim: 94 },
  'fedora-64': { id: 'fedora64Guest', cim: 101 },
  'rockylinux-64': { id: 'rockylinux_64Guest', cim: 101 },
  'almalinux-64': { id: 'almalinux_64Guest', cim: 101 },
  winxppro: { id: 'winXPProGuest', cim: 67 },
  windows7: { id: 'windows7Guest', cim: 105 },
  'windows7-64': { id: 'windows7_64Guest', cim: 105 },
  'windows9-64': { id: 'windows9_64Guest', cim: 102 },
  'windows11-64': { id: 'windows11_64Guest', cim: 102 },
  'windows2019srvNext-64': { id: 'windows2019srvNext_64Guest', cim: 102 },
};

export function vsphereGuest(vmxGuestOs: string): VsphereGuest {
  const guest = VSPHERE_GUESTS[vmxGuestOs];
  if (guest === undefined) throw new Error(`no vSphere guest id known for guestOS ${vmxGuestOs}; add it to src/targets/vmware/guest-ids.ts`);
  return guest;
}
