import { kernelOf } from '../../catalog/families.js';
import type { OsEntry } from '../../catalog/schema.js';
import type { VmConfig } from '../../config/model.js';
import { machineNameOf, resolveNics, type ResolvedSpec } from '../../config/resolve.js';
import { planVmLayout, type VmDisk, type VmLayout } from '../../disks/layout.js';
import type { Report } from '../limits.js';

/*
 * A Vagrant box for the libvirt provider (`vmgen build -t qemu -f box`), as vagrant-libvirt 0.11.2
 * (Debian 12's) reads it in lib/vagrant-libvirt/action/handle_box_image.rb: a tar of metadata.json,
 * a Vagrantfile with the provider's defaults and the disks as standalone qcow2 images. One disk is
 * the "version 1" box every vagrant-libvirt reads (box.img; "format" must be qcow2 and
 * "virtual_size", whole GiB, is what the volume is created with); several disks are a "version 2"
 * box, a "disks" list of paths attached in that order, whose format and size vagrant-libvirt reads
 * with qemu-img info (docs/boxes.markdown, "Box Formats").
 *
 * What `vagrant up` expects of the guest, vmgen adds to the config before it is resolved
 * (boxConfig): the account vagrant logs in as, with Vagrant's insecure key and sudo without a
 * password, and sshd. What would leave a box unusable is refused at the config's line (boxCheck).
 * vagrant-libvirt writes its own domain XML (virtio disks and NIC, BIOS unless the Vagrantfile names
 * a loader); the guest copes, as its initramfs carries the virtio drivers, fstab names file systems
 * by UUID and networkd matches NICs by name (eth0), not by MAC.
 */

/** The account Vagrant logs in as (config.ssh.username's default). */
export const VAGRANT_USER = 'vagrant';

/**
 * Vagrant's insecure public key, keys/vagrant.pub in Vagrant's own source (Debian's vagrant 2.3.4
 * ships it as /usr/share/rubygems-integration/all/gems/vagrant-2.3.4/keys/vagrant.pub). It is public
 * on purpose: every box carries it, and `vagrant up` replaces it with a key of the machine's own
 * on the first login (config.ssh.insert_key).
 */
export const VAGRANT_INSECURE_KEY = 'ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure public key';

/** Vagrant runs sudo without a terminal (hostname, networks, synced folders), so without a password. */
export const VAGRANT_SUDOERS = { path: '/etc/sudoers.d/vagrant', content: `${VAGRANT_USER} ALL=(ALL) NOPASSWD: ALL\n`, mode: '0440' } as const;

/** The catalog app whose service Vagrant logs in through. */
const SSH_APP = 'sshd';

/** The image of a one-disk box, as vagrant-libvirt's v1 format names it. */
export const BOX_IMAGE = 'box.img';
export const BOX_METADATA = 'metadata.json';
export const BOX_VAGRANTFILE = 'Vagrantfile';

/** The config's own entries for the vagrant account, if any (a user whose name is vagrant). */
function vagrantUserKey(config: VmConfig): string | undefined {
  return Object.entries(config.users.users).find(([, u]) => u.name === VAGRANT_USER)?.[0];
}

/** An id for an entry vmgen adds, unused by the config's own entries. */
function freeKey(taken: Record<string, unknown>, base: string): string {
  let key = base;
  for (let n = 2; key in taken; n++) key = `${base}${n}`;
  return key;
}

/**
 * The config a box is built from: sshd, the sudoers entry, and the vagrant account with the
 * insecure key, unless the config has its own vagrant account (then it is kept as written).
 */
export function boxConfig(config: VmConfig): VmConfig {
  const own = vagrantUserKey(config) !== undefined;
  const users = own ? config.users.users : {
    ...config.users.users,
    [freeKey(config.users.users, 'vagrant-box')]: { name: VAGRANT_USER, groups: [], shell: '/bin/bash', ssh_keys: [VAGRANT_INSECURE_KEY] },
  };
  return {
    ...config,
    users: { ...config.users, users },
    services: { ...config.services, [SSH_APP]: true },
    files: { ...config.files, [freeKey(config.files, 'vagrant-box-sudoers')]: { path: VAGRANT_SUDOERS.path, content: VAGRANT_SUDOERS.content, owner: 'root', group: 'root', mode: VAGRANT_SUDOERS.mode } },
  };
}

/**
 * What would make `vagrant up` fail, at the line that causes it: a guest it cannot log in to over
 * SSH as a Linux user (Windows boxes talk WinRM), sshd turned off, a first NIC that does not ask
 * for its address by DHCP (vagrant-libvirt finds the guest by its lease on the management network),
 * and UEFI, which vagrant-libvirt 0.11 can start only with a loader and an NVRAM file the box's
 * Vagrantfile would have to name on the user's host (and one NVRAM path shared by every machine
 * made from the box).
 */
export function boxCheck(config: VmConfig, os: OsEntry, report: Report): void {
  if (kernelOf(os) !== 'linux') {
    report(['hardware', 'os'], 'error', 'CFG_BOX_OS', `a Vagrant box from vmgen is a Linux guest Vagrant logs in to over SSH; ${os.id} is not`, 'build it as a qemu archive (-f tar)');
  }
  const { layout } = planVmLayout(config, os, machineNameOf(config));
  if (layout.firmware === 'efi') {
    report(config.hardware.firmware === undefined ? ['hardware', 'os'] : ['hardware', 'firmware'], 'error', 'CFG_BOX_FIRMWARE',
      'vagrant-libvirt starts boxes with BIOS; a UEFI box needs a loader and NVRAM file on the host that vmgen cannot name', 'set firmware = bios in [hardware]');
  }
  if (config.services[SSH_APP] === false) {
    report(['services', SSH_APP], 'error', 'CFG_BOX_SSH', 'Vagrant logs in to a box over SSH; this config turns sshd off', `remove ${SSH_APP} = 0 or set it to 1`);
  }
  const [first, ...more] = resolveNics(config);
  if (first === undefined) {
    report(['hardware'], 'error', 'CFG_BOX_NIC', 'a box needs a NIC: vagrant-libvirt attaches its management network to the first', 'add [[eths]] [[[eth0]]] to [hardware]');
  } else if (first.mode !== 'dhcp') {
    report(['network', 'eths', first.name, 'type'], 'error', 'CFG_BOX_NIC',
      `${first.name} is static, but vagrant-libvirt finds a box by the DHCP lease of its first NIC on the management network`,
      `set type = dhcp for ${first.name}; a fixed address belongs in the Vagrantfile (config.vm.network :private_network, ip: ...)`);
  }
  for (const nic of more) {
    report([config.hardware.eths[nic.name] !== undefined ? 'hardware' : 'network', 'eths', nic.name], 'warning', 'CFG_BOX_NIC',
      `vagrant-libvirt gives a box its management NIC only; ${nic.name} exists when the Vagrantfile adds a network (config.vm.network)`);
  }
  const own = vagrantUserKey(config);
  if (own !== undefined && config.users.users[own]!.ssh_keys.length === 0) {
    report(['users', 'users', own], 'warning', 'CFG_BOX_USER',
      `the config's own ${VAGRANT_USER} account has no SSH key, so vagrant cannot log in with its insecure key`,
      `add the key Vagrant will use to ssh_keys, or set config.ssh.private_key_path or config.ssh.password in the Vagrantfile`);
  }
}

/** A disk of the box: the file in the box and the size vagrant-libvirt creates its volume with. */
export interface BoxDisk {
  path: string;
  sizeMiB: number;
}

/** The box's disks in the order vagrant-libvirt attaches them: the boot disk first (vda, the one it boots). */
export function boxDisks(layout: VmLayout): { disk: VmDisk; path: string }[] {
  const ordered = [...layout.disks.filter((d) => d.boot), ...layout.disks.filter((d) => !d.boot)];
  if (ordered.length === 1) return [{ disk: ordered[0]!, path: BOX_IMAGE }];
  return ordered.map((disk) => ({ disk, path: `${disk.name}.img` }));
}

/**
 * metadata.json. Version 1 for one disk (what create_box.sh writes: "virtual_size" rounded up to
 * whole GiB); version 2 for several, whose sizes vagrant-libvirt reads from the images themselves.
 */
export function renderBoxMetadata(disks: readonly BoxDisk[]): string {
  const [first] = disks;
  if (first === undefined) throw new Error('a box needs a disk');
  const metadata = disks.length === 1
    ? { provider: 'libvirt', format: 'qcow2', virtual_size: Math.ceil(first.sizeMiB / 1024) }
    : { provider: 'libvirt', disks: disks.map((d) => ({ path: d.path })) };
  return `${JSON.stringify(metadata, null, 2)}\n`;
}

/** Text for a Ruby comment: one line. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * The box's Vagrantfile: the defaults of the machine the config describes, which the user's own
 * Vagrantfile overrides (Vagrant merges the box's first). The default synced folder is off:
 * vagrant-libvirt shares /vagrant over NFS, which needs an NFS server on the host and a client in
 * the guest; a project turns it on with the type it has (rsync needs rsync in the guest).
 */
export function renderBoxVagrantfile(spec: ResolvedSpec): string {
  return [
    `# ${oneLine(spec.name)}: ${oneLine(spec.os.label)}, a Vagrant box for the libvirt provider generated by vmgen.`,
    `# Vagrant logs in as ${VAGRANT_USER} with its insecure key, and replaces the key on the first vagrant up.`,
    'Vagrant.configure("2") do |config|',
    '  config.vm.synced_folder ".", "/vagrant", disabled: true',
    '  config.vm.provider :libvirt do |libvirt|',
    '    # "qemu" where the host has no KVM (emulated, much slower).',
    '    libvirt.driver = "kvm"',
    `    libvirt.memory = ${spec.ramMiB}`,
    `    libvirt.cpus = ${spec.cpus}`,
    '  end',
    'end',
    '',
  ].join('\n');
}
