import type { ResolvedSpec } from '../../config/resolve.js';
import type { VmLayout } from '../../disks/layout.js';
import { libvirtOvmf, runShOvmf } from '../../targets/qemu/commander.js';
import { renderLibvirtXml, renderRunSh, type QemuNicWiring } from '../../targets/qemu/render.js';
import type { ArchiveEntry } from '../../targets/types.js';
import { isoNames } from '../../targets/vm/common.js';
import { labMachineDir, labTapName, type LabManifestNetwork } from '../manifest.js';
import type { LabMachine } from '../types.js';

/*
 * A lab machine's description files for qemu, through the qemu target's own renderer with its NICs
 * wired (QemuOptions.wiring): pure, so they are golden-tested without a build. The member packer
 * (qemu.ts) writes them beside the machine's qcow2 files.
 */

export interface LabQemuInput {
  lab: string;
  machine: LabMachine;
  networks: readonly LabManifestNetwork[];
  /** The absolute directory the lab's archive is unpacked into: libvirt names disks by absolute path. */
  labDir: string;
}

/** Each NIC's network: the libvirt network for the domain XML, the bridge and a tap of its own for run.sh. */
export function labQemuWiring(input: Pick<LabQemuInput, 'lab' | 'machine' | 'networks'>): Record<string, QemuNicWiring> {
  return Object.fromEntries(input.machine.nics.map((nic) => {
    const net = input.networks.find((n) => n.name === nic.network);
    if (net === undefined) throw new Error(`${input.machine.name}.${nic.nic}: no network ${nic.network}`);
    return [nic.nic, { libvirtNetwork: net.libvirtNetwork, bridge: net.bridge, tap: labTapName(input.lab, input.machine.name, nic.nic) }];
  }));
}

/** The qcow2 file of each layout disk in the machine's directory, as the member packer names it. */
export function labQemuDiskFiles(layout: VmLayout): Record<string, string> {
  return Object.fromEntries(layout.disks.map((d) => [d.name, `${d.file}.qcow2`]));
}

/**
 * NAME.xml and run.sh. The domain is named LAB-NAME: libvirt's domains (and their UEFI variable
 * stores) share one namespace per host, which two labs with a machine of the same name would clash in.
 * `spec` is the machine's, whose name is the machine's (the lab sets vm_id).
 */
export function labQemuFiles(spec: ResolvedSpec, layout: VmLayout, input: LabQemuInput): ArchiveEntry[] {
  const wiring = labQemuWiring(input);
  const files = labQemuDiskFiles(layout);
  const isos = isoNames(layout);
  const dir = `${input.labDir}/${labMachineDir(input.machine.name)}`;
  const inLab = (path: string): string => (path.startsWith('/') ? path : `${dir}/${path}`);
  const domainSpec = { ...spec, name: `${input.lab}-${spec.name}` };
  const xml = renderLibvirtXml(domainSpec, layout, {
    diskPaths: Object.fromEntries(Object.entries(files).map(([disk, file]) => [disk, inLab(file)])),
    isoPaths: Object.fromEntries(Object.entries(isos).map(([cd, path]) => [cd, inLab(path)])),
    ...(layout.firmware === 'efi' ? { ovmf: libvirtOvmf(domainSpec, layout) } : {}),
    wiring,
  });
  const run = renderRunSh(spec, layout, { diskPaths: files, isoPaths: isos, ...runShOvmf(spec, layout), wiring });
  return [
    { path: `${spec.name}.xml`, content: xml },
    { path: 'run.sh', content: run, mode: 0o755 },
  ];
}
