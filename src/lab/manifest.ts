import { createHash } from 'node:crypto';
import { z } from 'zod';

/*
 * A built lab's archive and its manifest, lab.json, at the archive's top level. `vmgen lab build`
 * writes it, `vmgen lab up|verify|down` and the service read it; every path in it is relative to
 * the directory the archive is unpacked into (LABDIR), and uses '/'.
 *
 * Every target:
 *   lab.json                      this manifest
 *   lab/                          the lab file and the machine configs as given (when built from files)
 *   machines/NAME/machine.conf    the machine config as built (set values and the lab's NICs applied):
 *                                 `vmgen verify` checks reload it
 *   machines/NAME/…               the machine's own part, per target below (`files` names each by role)
 *   bases/ID/…                    what machines of one package set share, stored once (ID: `bases[].id`)
 *   topology/…                    the networks in the target's own terms
 *
 * lxc (format tar.zst):
 *   bases/ID/rootfs               a root file system layer, as the layer cache holds it
 *   machines/NAME/delta           files: delta. The overlay upper directory of the machine's build: only
 *                                 what its configuration changed; deletions are overlayfs whiteouts
 *                                 (character devices 0/0), opaque directories keep trusted.overlay.opaque
 *   machines/NAME/config          files: config. LXC's config. The root is composed by LXC itself:
 *                                 lxc.rootfs.path = overlay:LABDIR/bases/ID/rootfs:LABDIR/machines/NAME/delta
 *                                 (LXC keeps overlayfs' work directory in machines/NAME/olwork). LXC reads
 *                                 absolute paths only, so the configs name `lxcPath`'s LABDIR: unpack
 *                                 the archive there (`tar -xf ARCHIVE -C LABDIR`), then
 *                                 `lxc-start -n NAME -P LABDIR/machines`. lxc.net.N.link is the network's
 *                                 `bridge`, lxc.net.N.hwaddr the lab's MAC.
 *   machines/NAME/fstab           files: fstab (lxc.mount.fstab)
 *   topology/bridges.sh           files: topology. `bridges.sh up|down`: makes / removes the lab's bridges
 *                                 (in the current network namespace; `lab up` runs it in the lab's)
 *
 * qemu (format tar):
 *   bases/ID/DISK.qcow2           the cached disk set of one package set and disk layout
 *   machines/NAME/DISK.qcow2      files: disk:DISK. qcow2 whose backing file is ../../bases/ID/DISK.qcow2 (relative)
 *   machines/NAME/NAME.xml        files: domain. libvirt domain named LAB-NAME, <interface type='network'> per NIC
 *                                 naming the network's `libvirtNetwork`, with the lab's MAC; its disks are
 *                                 LABDIR/machines/NAME/DISK.qcow2 (libvirt wants absolute paths: LABDIR is
 *                                 `lxcPath`, as for lxc; the backing files stay relative)
 *   machines/NAME/run.sh          files: run. The plain qemu command line (from machines/NAME), each NIC on a
 *                                 tap device labTapName(LAB, NAME, NIC) it makes on the network's bridge and
 *                                 removes on exit: `run.sh` runs as root, with the bridges up
 *   machines/NAME/NAME-OVMF_VARS.fd  files: nvram. UEFI machines: run.sh's own copy of OVMF's variables
 *   topology/bridges.sh           topology: bridges. As for lxc: the bridges that run.sh's taps join
 *   topology/networks/NET.xml     files: topology. libvirt <network>, isolated (no <forward>, no <ip>/DHCP)
 *
 * oci (format tar):
 *   oci/                          one OCI image layout: blobs/sha256/ holds each package set's base layer
 *                                 once (shared by digest; bases[].path is that blob: oci/blobs/sha256/HEX,
 *                                 no bases/ directory) and one top layer per machine (its overlay upper
 *                                 directory, OCI whiteouts); index.json has one manifest per machine with
 *                                 org.opencontainers.image.ref.name = NAME. Load one image with
 *                                 `skopeo copy oci:LABDIR/oci:NAME containers-storage:localhost/LAB-NAME:latest`
 *   machines/NAME/image.json      files: image. The machine's entry of index.json (the manifest's descriptor,
 *                                 ref name NAME)
 *   topology/compose.yaml         files: topology. Compose file (docker-compose 1.29 and later): networks with ipam
 *                                 subnets (the bridge on the highest free address), each service its image
 *                                 (localhost/LAB-NAME:latest once loaded), ipv4_address per network (DHCP NICs:
 *                                 fixed addresses from the lab's DHCP range), NET_ADMIN, the router's forwarding,
 *                                 DNS. podman-compose 1.0.3 cannot read per-network addresses; `vmgen lab up` runs
 *                                 podman itself from the same plan (topology/oci.ts: ociLabPlan, podmanNetworkArgs,
 *                                 podmanRunArgs)
 *
 * vmware (format tar):
 *   machines/NAME/NAME.vmx, *.vmdk  files: vmx, disk:DISK. Disks copied per machine (monolithicSparse); NICs
 *                                 on LAN segments (ethernetN.connectionType = "pvn", ethernetN.pvnID = the
 *                                 segment's id, labSegmentId(LAB, NET): sixteen bytes, as topology/segments.json
 *                                 lists them), with static MACs: a lab built for vmware has its `nics[].mac` in
 *                                 VMware's static range 00:50:56:00:00:00-00:50:56:3f:ff:ff
 *   topology/segments.json        topology: segments. The lab's LAN segments (network, name, pvnID, subnet)
 *
 * virtualbox (format tar):
 *   machines/NAME/NAME.ova        files: ova. One OVA per machine, NICs on internal networks named `internalNetwork`
 *                                 (vbox:Machine's <InternalNetwork name>, and the name as rasd:Connection)
 *   topology/networks.txt         topology: networks. The internal networks
 */

export const LAB_MANIFEST_FILE = 'lab.json';
export const LAB_MANIFEST_VERSION = 1;

/** Where `vmgen lab build` expects the archive to be unpacked when the target needs absolute paths (lxc). */
export const DEFAULT_LAB_ROOT = '/var/lib/vmgen/labs';

const relPath = z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path inside the archive');

export const labManifestNetworkSchema = z.object({
  name: z.string(),
  subnet: z.string(),
  prefix: z.number().int(),
  gateway: z.string().optional(),
  dns: z.array(z.string()),
  /** The Linux bridge `lab up` makes for it (≤ 15 characters, never a name the host uses). */
  bridge: z.string().max(15),
  /** qemu: the libvirt network's name; vmware: the LAN segment; virtualbox: the internal network. */
  libvirtNetwork: z.string(),
  segment: z.string(),
  internalNetwork: z.string(),
}).strict();

export const labManifestNicSchema = z.object({
  nic: z.string(),
  network: z.string(),
  address: z.string(),
  mac: z.string(),
}).strict();

export const labManifestBaseSchema = z.object({
  /** Short, stable id derived from the layer key: the directory name under bases/. */
  id: z.string(),
  /** The layer cache's key of the package set (and, for VMs, the disk layout) it was made from. */
  layerKey: z.string(),
  /** The base's top directory in the archive: bases/ID (oci: the base layer's blob). */
  path: relPath,
  bytes: z.number().int().nonnegative().optional(),
}).strict();

export const labManifestMachineSchema = z.object({
  name: z.string(),
  group: z.string(),
  index: z.number().int().positive().optional(),
  /** The machine config's path as the lab file names it. */
  configPath: z.string(),
  /** machines/NAME */
  dir: relPath,
  /** machines/NAME/machine.conf: the config as built. */
  config: relPath,
  nics: z.array(labManifestNicSchema),
  /** The base it stands on (`bases[].id`); absent when it stands on none. */
  base: z.string().optional(),
  /** Its files by role (per target, see above): config, delta, fstab, domain, run, disk:hdd0, image, vmx, ova. */
  files: z.record(z.string(), z.string()),
}).strict();

export const labManifestSchema = z.object({
  version: z.literal(LAB_MANIFEST_VERSION),
  lab: z.object({ name: z.string(), description: z.string().optional() }).strict(),
  target: z.string(),
  /** The archive's format (tar.zst, tar): `tar -xf` reads every one. */
  format: z.string(),
  /** lxc: the absolute directory the configs were written for (LABDIR). */
  lxcPath: z.string().optional(),
  networks: z.array(labManifestNetworkSchema),
  bases: z.array(labManifestBaseSchema),
  machines: z.array(labManifestMachineSchema),
  /** Files under topology/, by role: bridges (lxc), network:NET (qemu), compose (oci), segments, networks. */
  topology: z.record(z.string(), relPath),
  /** The lab's inputs as given, under lab/, when built from files: lab (the lab file) and the machine configs. */
  inputs: z.array(relPath).optional(),
}).strict();

export type LabManifest = z.infer<typeof labManifestSchema>;
export type LabManifestNetwork = z.infer<typeof labManifestNetworkSchema>;
export type LabManifestMachine = z.infer<typeof labManifestMachineSchema>;
export type LabManifestBase = z.infer<typeof labManifestBaseSchema>;

/** Reads lab.json's text; throws zod's error on a manifest this version does not know. */
export function parseLabManifest(text: string): LabManifest {
  return labManifestSchema.parse(JSON.parse(text));
}

function shortHash(text: string, chars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars);
}

/**
 * A network's bridge: 'vl' and a hash of the lab's and the network's names, 10 characters, so two
 * labs (or a lab and the host) never share one and Linux's 15-character limit holds.
 */
export function labBridgeName(lab: string, network: string): string {
  return `vl${shortHash(`${lab}/${network}`, 8)}`;
}

/**
 * The tap device a qemu machine's run.sh makes for one NIC: 'vt' and a hash of the lab's, the
 * machine's and the NIC's names, 10 characters, so the taps of every lab on a host differ.
 */
export function labTapName(lab: string, machine: string, nic: string): string {
  return `vt${shortHash(`${lab}/${machine}/${nic}`, 8)}`;
}

/** libvirt network, VMware LAN segment and VirtualBox internal network: readable, lab-scoped. */
export function labNetworkName(lab: string, network: string): string {
  return `${lab}-${network}`;
}

/** A base's directory name under bases/: stable for a layer key, short enough for paths. */
export function labBaseId(layerKey: string): string {
  return shortHash(layerKey, 12);
}

/** The machine's directory in the archive. */
export function labMachineDir(name: string): string {
  return `machines/${name}`;
}
