import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import type { Controller, VmLayout } from '../../disks/layout.js';
import { esc } from '../xml-text.js';
import type { AttachedDevice, ControllerGroup } from '../vm/controllers.js';

/**
 * VirtualBox's own description of the machine, the <vbox:Machine> element its exports carry
 * (ApplianceImplExport.cpp, i_buildXMLForOneVirtualSystem). When present, VirtualBox's importer
 * takes the machine from it rather than from the OVF items (ovfreader.cpp, HandleVirtualSystemContent:
 * "the caller can completely ignore the OVF but only load the VBox machine XML"), which is how
 * firmware, MAC addresses, cable state and NIC attachment survive the import.
 *
 * The content is a machine settings file's <Machine> (VirtualBox-settings.xsd, TMachine) in the
 * settings format 1.16, which VirtualBox 5.1 introduced and every later version reads
 * (Settings.cpp, MachineConfigFile::importMachineXML reads the `version` attribute).
 */
export const VBOX_SETTINGS_VERSION = '1.16-linux';

/** The machine's UUID and those of the media it attaches, as the DiskSection gives them (vbox:uuid). */
export interface MachineIds {
  machine: string;
  disk(name: string): string;
  /** Undefined for a drive without a packaged image. */
  iso(cdName: string): string | undefined;
}

interface VboxController { name: string; type: string; minPorts: number }

/**
 * VirtualBox's controller for each of vmgen's, by the names and types VirtualBox-settings.xsd
 * (TStorageControllerType) and Settings.cpp (readStorageControllers) accept. VirtualBox has no
 * PVSCSI; its LsiLogic is the LSI53C1030 VMware emulates too, driven by the same guest drivers.
 */
const CONTROLLERS: Record<Controller, VboxController> = {
  ide: { name: 'IDE', type: 'PIIX4', minPorts: 2 },
  sata: { name: 'SATA', type: 'AHCI', minPorts: 1 },
  lsilogic: { name: 'SCSI', type: 'LsiLogic', minPorts: 16 },
  pvscsi: { name: 'SCSI', type: 'LsiLogic', minPorts: 16 },
  buslogic: { name: 'SCSI', type: 'BusLogic', minPorts: 16 },
  lsisas1068: { name: 'SAS', type: 'LsiLogicSas', minPorts: 8 },
  nvme: { name: 'NVMe', type: 'NVMe', minPorts: 1 },
};

/**
 * The adapter chip per guest, as VirtualBox's guest OS table chooses it (src/VBox/Main/src-all/Global.cpp,
 * Global::sOSTypes: WindowsXP gets the Intel PRO/1000 T Server, 82543GC, whose driver XP ships; every
 * other guest vmgen builds gets the PRO/1000 MT Desktop, 82540EM). Both are what OVF calls E1000.
 */
export function vboxAdapterType(vboxOsType: string): string {
  return vboxOsType === 'WindowsXP' ? '82543GC' : '82540EM';
}

/** VirtualBox's attachment element per link; host interfaces are the importing host's to choose. */
const ATTACHMENT: Record<ResolvedNic['link'], string> = { nat: '<NAT/>', bridged: '<BridgedInterface/>', hostonly: '<HostOnlyInterface/>' };

export function vboxMachineXml(spec: ResolvedSpec, layout: VmLayout, groups: ControllerGroup[], vboxOsType: string, ids: MachineIds,
  internalNetworks?: Readonly<Record<string, string>>): string[] {
  const uuid = `{${ids.machine}}`;
  const hw = [
    `        <CPU count="${spec.cpus}">`,
    ...(spec.os.bits === 64 ? ['          <PAE enabled="true"/>', '          <LongMode enabled="true"/>'] : []),
    '        </CPU>',
    `        <Memory RAMSize="${spec.ramMiB}"/>`,
    `        <Firmware type="${layout.firmware === 'efi' ? 'EFI' : 'BIOS'}"/>`,
    // VirtualBox refuses to start an SMP guest without an I/O APIC.
    ...(spec.cpus > 1 ? ['        <BIOS>', '          <IOAPIC enabled="true"/>', '        </BIOS>'] : []),
    ...(spec.nics.length === 0 ? [] : ['        <Network>', ...spec.nics.flatMap((n) => adapterXml(n, vboxOsType, internalNetworks?.[n.name])), '        </Network>']),
  ];
  return [
    `    <vbox:Machine ovf:required="false" version="${VBOX_SETTINGS_VERSION}" uuid="${uuid}" name="${esc(spec.name)}" OSType="${vboxOsType}" snapshotFolder="Snapshots">`,
    // VMware's reader bails out on a section without an Info (ApplianceImplExport.cpp).
    '      <ovf:Info>Complete VirtualBox machine configuration in VirtualBox format</ovf:Info>',
    '      <Hardware>',
    ...hw,
    '      </Hardware>',
    '      <StorageControllers>',
    ...storageControllers(groups).flatMap((c) => controllerXml(c, ids)),
    '      </StorageControllers>',
    '    </vbox:Machine>',
  ];
}

/**
 * An internal network is named, and the name is required (Settings.cpp, readAttachedNetworkMode:
 * "Required InternalNetwork/@name element is missing"); VMs naming the same one share a switch.
 */
function adapterXml(nic: ResolvedNic, vboxOsType: string, internalNetwork: string | undefined): string[] {
  const mac = nic.mac === undefined ? '' : ` MACAddress="${nic.mac.replace(/:/g, '').toUpperCase()}"`;
  return [
    `          <Adapter slot="${nic.index}" enabled="true"${mac} cable="${nic.connected}" type="${vboxAdapterType(vboxOsType)}">`,
    `            ${internalNetwork === undefined ? ATTACHMENT[nic.link] : `<InternalNetwork name="${esc(internalNetwork)}"/>`}`,
    '          </Adapter>',
  ];
}

interface StorageController { vbox: VboxController; devices: Array<{ device: AttachedDevice; port: number; slot: number }> }

/**
 * VirtualBox's one IDE controller has two channels, which vmgen numbers ide0 and ide1 as a .vmx
 * does: the channel is the port and the unit the device (master, slave). On the others a unit is a port.
 */
function storageControllers(groups: ControllerGroup[]): StorageController[] {
  const byName = new Map<string, StorageController>();
  for (const g of groups) {
    const vbox = CONTROLLERS[g.model];
    const c = byName.get(vbox.name) ?? { vbox, devices: [] };
    for (const device of g.devices) {
      c.devices.push(g.bus === 'ide' ? { device, port: g.index, slot: device.unit } : { device, port: device.unit, slot: 0 });
    }
    byName.set(vbox.name, c);
  }
  return [...byName.values()];
}

function controllerXml(c: StorageController, ids: MachineIds): string[] {
  const ports = Math.max(c.vbox.minPorts, ...c.devices.map((d) => d.port + 1));
  return [
    `        <StorageController name="${c.vbox.name}" type="${c.vbox.type}" PortCount="${ports}" Bootable="true">`,
    ...c.devices.flatMap(({ device, port, slot }) => {
      const at = `port="${port}" device="${slot}"`;
      if (device.type === 'disk') {
        return [`          <AttachedDevice type="HardDisk" hotpluggable="false" ${at}>`, `            <Image uuid="{${ids.disk(device.disk.name)}}"/>`, '          </AttachedDevice>'];
      }
      // A drive's image is attached even when the drive starts disconnected: VirtualBox has no such
      // state, and its importer fails on a DiskSection image no attachment names (i_importVBoxMachine).
      const iso = ids.iso(device.cd.name);
      if (iso === undefined) return [`          <AttachedDevice passthrough="false" type="DVD" hotpluggable="false" ${at}/>`];
      return [`          <AttachedDevice passthrough="false" type="DVD" hotpluggable="false" ${at}>`, `            <Image uuid="{${iso}}"/>`, '          </AttachedDevice>'];
    }),
    '        </StorageController>',
  ];
}
