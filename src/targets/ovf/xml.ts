/** Pieces shared by the OVF descriptors vmgen writes (VirtualBox's and VMware's). */
import { esc } from '../xml-text.js';

export const OVF_NS = {
  ovf: 'http://schemas.dmtf.org/ovf/envelope/1',
  rasd: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData',
  vssd: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  cim: 'http://schemas.dmtf.org/wbem/wscim/1/common',
  vbox: 'http://www.virtualbox.org/ovf/machine',
  vmw: 'http://www.vmware.com/schema/ovf',
} as const;

/** The DiskSection format of a streamOptimized VMDK, as VMware spells it (VirtualBox's ApplianceImplExport.cpp writes the same). */
export const VMDK_STREAM_OPTIMIZED = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';

/** RASD fields of one <Item>. */
export type Rasd = Record<string, string | number | boolean>;

/**
 * One <Item>. The rasd fields are written in alphabetical order: the CIM schema declares them as a
 * sequence in that order, and VMware's reader insists on it (VirtualBox's ApplianceImplExport.cpp,
 * "the elements from the rasd: namespace must be sorted by letter, and VMware actually requires this").
 * `extra` are lines after the rasd fields (vmw:Config); `required: false` lets other readers skip the item.
 */
export function itemXml(item: Rasd, opts: { indent?: string; extra?: string[]; required?: boolean } = {}): string[] {
  const indent = opts.indent ?? '      ';
  const fields = Object.keys(item).sort().map((k) => `${indent}  <rasd:${k}>${esc(String(item[k]))}</rasd:${k}>`);
  const open = opts.required === false ? '<Item ovf:required="false">' : '<Item>';
  return [`${indent}${open}`, ...fields, ...(opts.extra ?? []).map((l) => `${indent}  ${l}`), `${indent}</Item>`];
}
