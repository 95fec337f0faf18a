import { orList, type Diagnostic } from '../diagnostics.js';
import { cdBuses, CONTROLLERS, type ControllerName } from '../catalog/controllers.js';
import { filesystem, MOUNTABLE_FILESYSTEMS } from '../catalog/filesystems.js';
import { type GuestKernel, isWindows, kernelOf, readsAptSources } from '../catalog/families.js';
import type { Catalogs, OsEntry } from '../catalog/schema.js';
import { resolveApp } from '../catalog/load.js';
import { checkRawNftRule } from '../families/linux/nftables.js';
import { nextHopNic } from '../families/linux/network.js';
import { batchProblem } from '../families/windows/batch.js';
import { windowsRawRuleProblem, XP_MAX_RANGE } from '../families/windows/configure.js';
import { windowsRelease } from '../families/windows/releases.js';
import { kitsProblems, windowsProvisionProblems } from '../families/windows/rules.js';
import { windowsLocale } from '../families/windows/autounattend.js';
import { deviceSlots, planVmLayout, type VmLayout } from '../disks/layout.js';
import { isEsp, partitionProblems } from '../disks/partition-plan.js';
import { machineNameOf, resolveNics } from '../config/resolve.js';
import { diagnosticAt } from '../config/diagnose.js';
import { APP_SECTIONS, type VmConfig } from '../config/model.js';
import { MULTI_LINE_FIELDS } from '../config/model-services.js';
import { pathKey, type PlaceIndex } from '../config/normalize.js';
import * as v from '../config/validators.js';
import type { SemanticContext } from './context.js';
import { checkServices } from './services.js';

export type { SemanticContext } from './context.js';

/** Groups every Linux or Windows install has, which users may join without declaring them. */
const SYSTEM_GROUPS: Record<GuestKernel, readonly string[]> = {
  linux: ['root', 'sudo', 'adm', 'wheel', 'users', 'staff', 'audio', 'video', 'plugdev', 'netdev', 'dialout', 'cdrom', 'docker', 'systemd-journal', 'www-data'],
  windows: ['Administrators', 'Users', 'Power Users', 'Guests', 'Remote Desktop Users', 'Backup Operators', 'Network Configuration Operators'],
};

const CHECKS: ReadonlyArray<(c: SemanticContext) => void> = [
  checkSingleLines,
  checkHostname,
  checkNicNames,
  checkAdapters,
  checkRoutes,
  checkLinuxWideNetwork,
  checkPorts,
  checkFirewallRules,
  checkAccounts,
  checkDisks,
  checkLayout,
  checkCdDrives,
  checkApplications,
  checkFamilySpecific,
  checkWindows,
  checkServices,
  checkWindowsProvision,
];

export function semanticDiagnostics(config: VmConfig, os: OsEntry, catalogs: Catalogs, places: PlaceIndex, opts: { hardware?: boolean } = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  let plan: ReturnType<typeof planVmLayout> | undefined;
  const ctx: SemanticContext = {
    config, os, catalogs, places, hardware: opts.hardware ?? true,
    plan: () => (plan ??= planVmLayout(config, os, machineNameOf(config))),
    report: (path, severity, code, message, hint, at) => out.push(diagnosticAt(places, path, severity, code, message, hint, at)),
  };
  for (const check of CHECKS) check(ctx);
  return out;
}

function isMultiLineField(path: readonly (string | number)[]): boolean {
  return path.length === 3 && MULTI_LINE_FIELDS.some(([section, key]) => path[0] === section && path[2] === key);
}

/** Every other value goes into some one-line field of a file (a batch line, /etc/shadow, an XML text, a .vmx value). */
function checkSingleLines({ config, report }: SemanticContext): void {
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (isMultiLineField(path)) return;
    if (typeof value === 'string') {
      const r = v.checkSingleLine(value);
      if (!r.ok) report(path, 'error', 'CFG_LINE_BREAK', r.message, r.hint);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, [...path, i]));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, item] of Object.entries(value)) walk(item, [...path, k]);
    }
  };
  walk(config, []);
}

/**
 * The guest's host name is `hostname`, else `vm_id` (resolveSpec's rule): a vm_id standing in for
 * it must be one too, and on Windows a NetBIOS computer name.
 */
function checkHostname({ config, os, report }: SemanticContext): void {
  const own = config.config.hostname;
  const name = own ?? config.hardware.vm_id;
  if (name === undefined) return;
  const at = own !== undefined ? ['config', 'hostname'] : ['hardware', 'vm_id'];
  const because = own !== undefined ? '' : ' (with no [config] hostname, vm_id names the guest)';
  if (own === undefined) {
    const r = v.checkHostname(name);
    if (!r.ok) {
      report(at, 'error', 'CFG_HOSTNAME', `${r.message}${because}`, r.hint ?? 'set [config] hostname, or give vm_id letters, digits and \'-\' only');
      return;
    }
  }
  if (!isWindows(os)) return;
  const r = v.checkWindowsComputerName(name);
  if (!r.ok) report(at, 'error', 'CFG_HOSTNAME', `${r.message}${because}`, r.hint ?? (own === undefined ? 'set [config] hostname to a name of 15 characters at most' : undefined));
}

/** Linux names each NIC as the config does (eth0…), in the guest's files and in LXC's config. */
function checkNicNames({ config, os, report }: SemanticContext): void {
  if (isWindows(os)) return;
  for (const section of ['hardware', 'network'] as const) {
    for (const name of Object.keys(config[section].eths)) {
      const r = v.checkInterfaceName(name);
      if (!r.ok) report([section, 'eths', name], 'error', 'CFG_NIC_NAME', r.message, r.hint, 'key');
    }
  }
}

/** A Linux guest adds each route through the NIC that reaches its next hop; one no NIC reaches cannot be added. */
function checkRoutes({ config, os, report }: SemanticContext): void {
  if (isWindows(os)) return;
  const nics = resolveNics(config);
  const names = nics.map((n) => n.name);
  for (const [name, route] of Object.entries(config.network.routes)) {
    if (route.dev !== undefined) {
      if (!names.includes(route.dev)) {
        report(['network', 'routes', name, 'dev'], 'error', 'CFG_ROUTE_DEV', `the route to ${route.to} names ${v.quote(route.dev)}, which is not one of the NICs`,
          names.length > 0 ? `NICs: ${names.join(', ')}` : 'add the NIC to [[eths]]');
      }
      continue;
    }
    const hop = v.parseIPv4(route.via);
    if (hop.ok && nextHopNic(nics, hop.value) === undefined) {
      report(['network', 'routes', name, 'via'], 'error', 'CFG_ROUTE_UNREACHABLE', `next hop ${route.via} of the route to ${route.to} is in no static NIC's subnet, and no NIC uses DHCP`,
        "give a NIC an address in the next hop's subnet, or name the NIC with 'dev = eth0'");
    }
  }
  const gw = config.network.gateway;
  const hop = gw === undefined ? undefined : v.parseIPv4(gw);
  if (hop?.ok && nics.length === 0) {
    report(['network', 'gateway'], 'error', 'CFG_GATEWAY_SUBNET', `gateway ${gw} has no NIC to reach it`, 'add a NIC in [[eths]]');
  }
}

function checkAdapters({ config, report }: SemanticContext): void {
  const hwNames = Object.keys(config.hardware.eths);
  for (const [name, eth] of Object.entries(config.network.eths)) {
    const at = ['network', 'eths', name];
    if (hwNames.length > 0 && !hwNames.includes(name)) {
      report(at, 'warning', 'CFG_NIC_UNKNOWN', `[${name}] is configured but [hardware] has no adapter '${name}'`,
        `adapters in [hardware]: ${hwNames.join(', ')}`);
    }
    if (eth.type === 'dhcp') {
      for (const key of ['address', 'network', 'gateway'] as const) {
        if (eth[key] !== undefined) report([...at, key], 'warning', 'CFG_DHCP_STATIC', `'${key}' is ignored: ${name} uses dhcp`, "set 'type = static' to use it");
      }
      continue;
    }
    // About the missing key (the form shows it at the empty field); the file says it at 'type = static'.
    if (eth.address === undefined) report([...at, 'address'], 'error', 'CFG_STATIC_ADDRESS', `${name} is static but has no address`, "add 'address = 192.168.1.2'", { near: [...at, 'type'] });
    if (eth.network === undefined) report([...at, 'network'], 'error', 'CFG_STATIC_NETMASK', `${name} is static but has no netmask`, "add 'network = 255.255.255.0'", { near: [...at, 'type'] });
    if (eth.address === undefined || eth.network === undefined) continue;
    const ip = ip4(eth.address);
    if (!v.isUsableHost(ip, eth.network)) {
      report([...at, 'address'], 'error', 'CFG_ADDRESS_RESERVED',
        `${eth.address} is the ${ip === v.networkAddress(ip, eth.network) ? 'network' : 'broadcast'} address of ${subnetText(ip, eth.network)}`,
        'pick a host address inside the subnet');
    }
    if (eth.gateway !== undefined) {
      const gw = ip4(eth.gateway);
      if (!v.ipInSubnet(gw, v.networkAddress(ip, eth.network), eth.network)) {
        report([...at, 'gateway'], 'error', 'CFG_GATEWAY_SUBNET', `gateway ${eth.gateway} is outside ${name}'s subnet ${subnetText(ip, eth.network)}`,
          'a gateway must be reachable directly: use an address of that subnet, or fix the netmask');
      } else if (gw === ip) {
        report([...at, 'gateway'], 'error', 'CFG_GATEWAY_SELF', `gateway ${eth.gateway} is ${name}'s own address`);
      }
    }
  }
}

function checkLinuxWideNetwork({ config, os, report }: SemanticContext): void {
  const gw = config.network.gateway;
  if (gw === undefined || isWindows(os)) return;
  const statics = Object.values(config.network.eths).filter((e) => e.type === 'static' && e.address && e.network !== undefined);
  if (statics.length === 0) return;
  const reachable = statics.some((e) => v.ipInSubnet(ip4(gw), v.networkAddress(ip4(e.address!), e.network!), e.network!));
  const anyDhcp = Object.values(config.network.eths).some((e) => e.type === 'dhcp');
  if (!reachable) {
    report(['network', 'gateway'], anyDhcp ? 'warning' : 'error', 'CFG_GATEWAY_SUBNET',
      `gateway ${gw} is outside every static adapter's subnet`,
      statics.map((e) => subnetText(ip4(e.address!), e.network!)).join(', ') + ' are the static subnets');
  }
}

function checkPorts({ config, report }: SemanticContext): void {
  const seen = new Map<string, string>();
  for (const [name, port] of Object.entries(config.network.open_ports)) {
    const protos = port.proto === 'all' ? ['tcp', 'udp'] : [port.proto];
    for (const proto of protos) {
      const key = `${proto}/${port.port.from}-${port.port.to}`;
      const prior = seen.get(key);
      if (prior) report(['network', 'open_ports', name, 'port'], 'warning', 'CFG_PORT_DUPLICATE', `${proto} port ${port.port.from} is already opened by [${prior}]`);
      else seen.set(key, name);
    }
  }
}

/** Linux guests load raw rules verbatim into nftables' input chain; Windows rules are netsh commands, checked elsewhere. */
function checkFirewallRules({ config, os, report }: SemanticContext): void {
  if (isWindows(os)) return;
  for (const [name, rule] of Object.entries(config.network['firewall-rules'])) {
    const r = checkRawNftRule(rule);
    if (!r.ok) report(['network', 'firewall-rules', name], 'error', 'CFG_FIREWALL_RULE', r.message, r.hint);
  }
}

function checkAccounts({ config, os, report }: SemanticContext): void {
  const windows = isWindows(os);
  const groupNames = new Set<string>();
  for (const [key, group] of Object.entries(config.users.groups)) {
    const r = windows ? v.checkWindowsAccountName(group, 'group') : v.checkPosixName(group, 'group');
    if (!r.ok) report(['users', 'groups', key], 'error', 'CFG_GROUP_NAME', r.message, r.hint);
    if (groupNames.has(group)) report(['users', 'groups', key], 'error', 'CFG_GROUP_DUPLICATE', `group '${group}' is listed twice`);
    groupNames.add(group);
  }
  const known = new Set([...groupNames, ...(SYSTEM_GROUPS[kernelOf(os)])]);
  const userNames = new Map<string, string>();
  for (const [key, user] of Object.entries(config.users.users)) {
    const at = ['users', 'users', key];
    const r = windows ? v.checkWindowsAccountName(user.name, 'user') : v.checkPosixName(user.name, 'user');
    if (!r.ok) report([...at, 'name'], 'error', 'CFG_USER_NAME', r.message, r.hint);
    const prior = userNames.get(user.name);
    if (prior) report([...at, 'name'], 'error', 'CFG_USER_DUPLICATE', `user '${user.name}' is already defined in [${prior}]`);
    userNames.set(user.name, key);
    if (!windows && user.name === 'root') report([...at, 'name'], 'error', 'CFG_USER_ROOT', "'root' exists already", "set its password with config.root_passwd");
    user.groups.forEach((g, i) => {
      if (!known.has(g)) {
        report([...at, 'groups', i], 'error', 'CFG_GROUP_UNKNOWN', `user '${user.name}' joins group '${g}', which [[groups]] does not define`,
          v.didYouMean(g, known) ? `did you mean '${v.didYouMean(g, known)}'?` : `add it to [[groups]]: group${groupNames.size} = ${g}`);
      }
    });
    if (user.passwd !== undefined && user.password_hash !== undefined) {
      report([...at, 'password_hash'], 'error', 'CFG_PASSWORD_TWICE', 'give passwd or password_hash, not both');
    }
    if (user.password_hash !== undefined && !windows && !/^\$(?:1|5|6|y|gy|7|2[abxy]?)\$/.test(user.password_hash)) {
      report([...at, 'password_hash'], 'error', 'CFG_PASSWORD_HASH', 'password_hash is not a crypt(3) hash', 'make one with: mkpasswd -m yescrypt (or openssl passwd -6)');
    }
    if (user.home_dir !== undefined) {
      const h = windows ? v.checkWindowsPath(user.home_dir) : v.checkGuestAbsolutePath(user.home_dir);
      if (!h.ok) report([...at, 'home_dir'], 'error', 'CFG_HOME_DIR', h.message, h.hint);
    }
    if (user.shell !== undefined && !windows) {
      const s = v.checkGuestAbsolutePath(user.shell);
      if (!s.ok) report([...at, 'shell'], 'error', 'CFG_SHELL', s.message, s.hint);
    }
    // Home and shell are fields of /etc/passwd, a hash one of /etc/shadow: ':' would split them.
    if (!windows) {
      for (const key of ['home_dir', 'shell', 'password_hash'] as const) {
        if (user[key]?.includes(':')) report([...at, key], 'error', key === 'password_hash' ? 'CFG_PASSWORD_HASH' : key === 'shell' ? 'CFG_SHELL' : 'CFG_HOME_DIR', `${key} contains ':', the /etc/passwd and /etc/shadow field separator`);
      }
      if (user.passwd === '') report([...at, 'passwd'], 'error', 'CFG_PASSWORD_EMPTY', 'an empty password cannot be set', 'leave passwd out to lock the account');
    }
    user.ssh_keys.forEach((k, i) => {
      if (!/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/.test(k)) {
        report([...at, 'ssh_keys', i], 'error', 'CFG_SSH_KEY', 'not an SSH public key', "paste one line of ~/.ssh/id_ed25519.pub: 'ssh-ed25519 AAAA… comment'");
      }
    });
  }
  if (!windows && config.config.root_passwd === '') report(['config', 'root_passwd'], 'error', 'CFG_PASSWORD_EMPTY', 'an empty password cannot be set', 'leave root_passwd out to keep root locked');
  if (!windows && config.config.root_password_hash?.includes(':')) {
    report(['config', 'root_password_hash'], 'error', 'CFG_PASSWORD_HASH', "root_password_hash contains ':', the /etc/shadow field separator");
  }
  if (!windows && config.config.root_passwd === undefined && config.config.root_password_hash === undefined) {
    report(['config'], 'warning', 'CFG_ROOT_LOCKED', 'no root password: root stays locked', 'set root_passwd in [config] to log in as root');
  }
}

/** Positions by controller family: SCSI variants share the scsiN:M namespace in a .vmx. */

function checkPosition(ctx: SemanticContext, at: string[], controller: ControllerName, pos: string, taken: Map<string, string>): void {
  const bus = CONTROLLERS[controller];
  const [c, u] = pos.split(':').map(Number) as [number, number];
  if (c > bus.maxController || u > bus.maxUnit || u === bus.reserved) {
    ctx.report([...at, 'pos'], 'error', 'CFG_POSITION_RANGE', `${bus.bus}${c}:${u} does not exist`,
      `${bus.bus} positions go from 0:0 to ${bus.maxController}:${bus.maxUnit}${bus.reserved !== undefined ? ` (unit ${bus.reserved} is the controller's own)` : ''}`);
  }
  const slot = `${bus.bus}${c}:${u}`;
  const prior = taken.get(slot);
  if (prior) ctx.report([...at, 'pos'], 'error', 'CFG_POSITION_TAKEN', `${slot} is already used by [${prior}]`, 'give each disk and CD drive its own position');
  else taken.set(slot, at[at.length - 1]!);
}

function checkDisks(ctx: SemanticContext): void {
  const { config, os, report } = ctx;
  if (!ctx.hardware) return;
  const taken = new Map<string, string>();
  Object.entries(config.hardware.cd_drives).forEach(([name, cd]) => {
    if (cd.pos) checkPosition(ctx, ['hardware', 'cd_drives', name], cd.type ?? 'ide', cd.pos, taken);
  });
  for (const [name, disk] of Object.entries(config.hardware.hdds)) {
    const at = ['hardware', 'hdds', name];
    const controller = disk.type ?? os.defaultController;
    if (disk.pos) checkPosition(ctx, at, controller, disk.pos, taken);
    const parts = Object.entries(disk.partitions);
    const logicals = parts.filter(([, p]) => p.type === 'logical').length;
    if (disk.table === 'gpt' && logicals > 0) {
      report([...at, 'table'], 'error', 'CFG_LOGICAL_GPT', 'GPT has no logical partitions', 'use table = mbr, or make them primary');
    }
    parts.forEach(([pname, p]) => {
      const pat = [...at, 'partitions', pname];
      if (p.fs === 'swap' && p.mount !== undefined && p.mount !== 'none') {
        report([...pat, 'mount'], 'error', 'CFG_SWAP_MOUNT', 'a swap partition has no mount point');
      }
      if (p.mount !== undefined && p.mount !== 'none' && !isWindows(os)) {
        const m = v.checkGuestAbsolutePath(p.mount);
        if (!m.ok) report([...pat, 'mount'], 'error', 'CFG_MOUNT', m.message, m.hint);
      }
      if (isWindows(os) && !filesystem(p.fs).windows) {
        report([...pat, 'fs'], 'error', 'CFG_FS_WINDOWS', `Windows cannot use ${p.fs}: Windows Setup and the base-disk method make NTFS and FAT only`, 'use ntfs');
      }
      if (isWindows(os) && p.type === 'logical') {
        report([...pat, 'type'], 'error', 'CFG_LOGICAL_WINDOWS', 'Windows guests get primary partitions only (autounattend.xml creates no logical ones)', "use 'type = primary', or 'table = gpt' for more than four");
      }
    });
  }
  const mounts = new Map<string, string>();
  for (const [dname, disk] of Object.entries(config.hardware.hdds)) {
    for (const [pname, p] of Object.entries(disk.partitions)) {
      if (!p.mount || p.mount === 'none') continue;
      const prior = mounts.get(p.mount);
      if (prior) report(['hardware', 'hdds', dname, 'partitions', pname, 'mount'], 'error', 'CFG_MOUNT_TWICE', `${p.mount} is already mounted from [${prior}]`);
      else mounts.set(p.mount, pname);
    }
  }
}

/**
 * What the disk builder and every VM target's description file would refuse, checked on the
 * layout they are made from (default disk, automatic positions and the ESP vmgen adds included).
 */
function checkLayout(ctx: SemanticContext): void {
  const { config, os, report } = ctx;
  if (!ctx.hardware) return;
  const { layout, unplaced } = ctx.plan();
  for (const u of unplaced) {
    report(['hardware', u.kind, u.name], 'error', 'CFG_NO_POSITION', `no free position left on the ${u.controller} controllers for [${u.name}]`,
      "give it another 'type', or fewer devices that controller kind");
  }
  const configured = new Set(Object.keys(config.hardware.hdds));
  for (const disk of layout.disks) {
    const at = configured.has(disk.name) ? ['hardware', 'hdds', disk.name] : ['hardware'];
    for (const problem of partitionProblems(disk)) {
      // A duplicate name is the added ESP's; the others are the disk's as a whole, or one partition's.
      const path = problem.code === 'CFG_PARTITIONS_TOO_BIG' ? [...at, 'size']
        : problem.partition !== undefined && config.hardware.hdds[disk.name]?.partitions[problem.partition] ? [...at, 'partitions', problem.partition]
          : [...at, 'partitions'];
      report(path, 'error', problem.code, problem.message, problem.hint);
    }
  }
  checkControllers(ctx, layout);
  if (!isWindows(os)) checkLinuxBoot(ctx, layout);
}

/** What the disk builder needs to boot a Linux guest: a root file system it can fill, and an ESP for UEFI. */
function checkLinuxBoot({ config, report }: SemanticContext, layout: VmLayout): void {
  const partitionPath = (mount: string): (string | number)[] => {
    for (const [dname, disk] of Object.entries(config.hardware.hdds)) {
      for (const [pname, p] of Object.entries(disk.partitions)) if (p.mount === mount) return ['hardware', 'hdds', dname, 'partitions', pname, 'fs'];
    }
    const boot = layout.disks.find((d) => d.boot)!;
    return config.hardware.hdds[boot.name] ? ['hardware', 'hdds', boot.name] : ['hardware'];
  };
  const partitions = layout.disks.flatMap((d) => d.partitions);
  if (!partitions.some((p) => p.mount === '/' && filesystem(p.fs).mountable)) {
    report(partitionPath('/'), 'error', 'CFG_ROOT_PARTITION', `no partition can hold the root file system: it needs ${MOUNTABLE_FILESYSTEMS.join(', ')} and 'mount = /'`,
      "give one partition 'mount = /' and 'fs = ext4'");
  }
  if (layout.firmware === 'efi' && !layout.disks.some((d) => d.boot && d.partitions.some(isEsp))) {
    report(partitionPath('/boot/efi'), 'error', 'CFG_ESP', 'UEFI boot needs the partition mounted at /boot/efi to be vfat, on the disk holding /',
      "set 'fs = vfat' on it, or leave /boot/efi out and vmgen adds one");
  }
}

/** Devices sharing a controller: VMware, QEMU and VirtualBox give each controller one model, and NVMe holds no CD drives. */
function checkControllers({ config, report }: SemanticContext, layout: VmLayout): void {
  const models = new Map<string, { model: string; disk: string }>();
  for (const slot of deviceSlots(layout)) {
    const key = `${slot.bus}${slot.index}`;
    const typePath = ['hardware', slot.kind, slot.name, config.hardware[slot.kind][slot.name]?.type !== undefined ? 'type' : 'pos'];
    if (slot.kind === 'cd_drives') {
      if (slot.bus === 'nvme') report(typePath, 'error', 'CFG_CD_NVME', `CD drive [${slot.name}] is on an NVMe controller, which holds disks only`, `use ${orList(cdBuses())}`);
      continue;
    }
    const first = models.get(key);
    if (first === undefined) models.set(key, { model: slot.controller, disk: slot.name });
    else if (first.model !== slot.controller) {
      report(typePath, 'error', 'CFG_SCSI_MIXED', `${key} would be both ${first.model} (for [${first.disk}]) and ${slot.controller}: a controller has one model`,
        `give [${slot.name}] the type of [${first.disk}], or a position on another controller ('pos = ${slot.index + 1}:0')`);
    }
  }
}

function checkCdDrives({ config, report }: SemanticContext): void {
  for (const [name, cd] of Object.entries(config.hardware.cd_drives)) {
    if (cd.path !== undefined && !/\.iso$/i.test(cd.path)) {
      report(['hardware', 'cd_drives', name, 'path'], 'warning', 'CFG_CD_PATH', `'${cd.path}' does not look like an ISO image`, 'CD drives take the path of an .iso file');
    }
  }
}

function checkApplications({ config, os, catalogs, report }: SemanticContext): void {
  for (const section of APP_SECTIONS) {
    for (const [name, wanted] of Object.entries(config[section])) {
      if (!wanted) continue;
      const r = resolveApp(catalogs, name, os);
      if (!r.ok) report([section, name], 'error', 'CFG_APP_UNAVAILABLE', r.reason, r.hint, 'key');
    }
  }
}

function checkFamilySpecific({ config, os, report }: SemanticContext): void {
  if (isWindows(os)) {
    const linuxOnly: Array<[readonly string[], boolean]> = [
      [['config', 'bash_completion'], config.config.bash_completion],
      [['config', 'repos'], Object.keys(config.config.repos).length > 0],
      [['network', 'routes'], Object.keys(config.network.routes).length > 0],
      [['network', 'gateway'], config.network.gateway !== undefined],
      [['network', 'dns'], config.network.dns.length > 0],
    ];
    for (const [path, used] of linuxOnly) {
      if (used) report(path, 'warning', 'CFG_IGNORED_WINDOWS', `${path.join('.')} is ignored for Windows guests`,
        path[0] === 'network' ? 'Windows takes gateway and dns per adapter, in [[eths]]' : undefined);
    }
    return;
  }
  if (config.config.mirror !== undefined && !/^(https?|file):\/\/\S+$/.test(config.config.mirror)) {
    report(['config', 'mirror'], 'error', 'CFG_MIRROR', `'${config.config.mirror}' is not a mirror URL`, 'write it like http://mirror.example/debian');
  }
  if (!readsAptSources(os.installer)) {
    for (const key of Object.keys(config.config.repos)) {
      report(['config', 'repos', key], 'error', 'CFG_REPO', `extra repositories are apt source lines; ${os.label} guests cannot use them yet`, 'set mirror = URL to the dnf repository instead');
    }
  }
  if (readsAptSources(os.installer)) {
    for (const [key, line] of Object.entries(config.config.repos)) {
      if (!v.isAptSourceLine(line)) {
        report(['config', 'repos', key], 'error', 'CFG_REPO', 'not an apt source line', "write it like 'deb http://mirror.example/debian stable main'");
      }
    }
  }
}

/**
 * What the Windows scripts and answer file need (src/families/windows): checked here so
 * that a Windows config that validates also builds, by either method (base disk or autounattend).
 */
function checkWindows(ctx: SemanticContext): void {
  const { config, os, places, report } = ctx;
  if (!isWindows(os)) return;
  let release: ReturnType<typeof windowsRelease>;
  try {
    release = windowsRelease(os);
  } catch (err) {
    report(['hardware', 'os'], 'error', 'CFG_OS_UNSUPPORTED', (err as Error).message, (err as { hint?: string }).hint);
    return;
  }
  const cfg = config.config;
  if (cfg.root_password_hash !== undefined) {
    report(['config', 'root_password_hash'], 'error', 'CFG_WINDOWS_PASSWORD', 'root_password_hash is a crypt(3) hash, which Windows cannot use', 'set root_passwd for a Windows guest');
  } else if (cfg.root_passwd === undefined) {
    report(places.has(pathKey(['config'])) ? ['config'] : ['hardware', 'os'], 'error', 'CFG_WINDOWS_PASSWORD', 'Windows guests need root_passwd: the Administrator logs on once with it to run vmgen\'s scripts',
      "add 'root_passwd = …' to [config]");
  }
  const batch = (path: (string | number)[], value: string | undefined, what: string): void => {
    if (value === undefined) return;
    const problem = batchProblem(value);
    if (problem !== undefined) report(path, 'error', 'CFG_WINDOWS_SCRIPT', `${what} cannot be written into a Windows batch file: ${problem}`);
  };
  const password = (path: (string | number)[], value: string | undefined, what: string): void => {
    if (value !== undefined && (value === '*' || value.startsWith('/'))) {
      report(path, 'error', 'CFG_WINDOWS_SCRIPT', `${what} cannot be given to "net user": it is "*" or starts with "/"`);
    } else batch(path, value, what);
  };
  password(['config', 'root_passwd'], cfg.root_passwd, 'the Administrator password');
  for (const [key, group] of Object.entries(config.users.groups)) batch(['users', 'groups', key], group, `group ${group}`);
  for (const [key, user] of Object.entries(config.users.users)) {
    const at = ['users', 'users', key];
    batch([...at, 'name'], user.name, 'a user name');
    password([...at, 'passwd'], user.passwd, `the password of ${user.name}`);
    batch([...at, 'home_dir'], user.home_dir, `the home_dir of ${user.name}`);
    if (user.password_hash !== undefined) {
      report([...at, 'password_hash'], 'error', 'CFG_WINDOWS_PASSWORD', 'password_hash is a crypt(3) hash, which Windows cannot use', 'set passwd for a Windows guest');
    }
  }
  for (const [key, port] of Object.entries(config.network.open_ports)) {
    batch(['network', 'open_ports', key, 'description'], port.description, `the description of [${key}]`);
    const count = port.port.to - port.port.from + 1;
    if (release.firewall === 'netsh-firewall' && count > XP_MAX_RANGE) {
      report(['network', 'open_ports', key, 'port'], 'error', 'CFG_PORT_RANGE_XP',
        `Windows XP's firewall opens single ports only, and ${count} ports is more than vmgen writes (${XP_MAX_RANGE})`, 'open a smaller range');
    }
  }
  Object.entries(config.network['firewall-rules']).forEach(([key, rule], i) => {
    const problem = windowsRawRuleProblem(rule, i);
    if (problem) report(['network', 'firewall-rules', key], 'error', 'CFG_FIREWALL_RULE', problem.message, problem.hint);
  });
  if (cfg.locale !== undefined) {
    try {
      windowsLocale(cfg.locale);
    } catch (err) {
      report(['config', 'locale'], 'error', 'CFG_LOCALE_WINDOWS', `${v.quote(cfg.locale)} names no Windows language`, (err as { hint?: string }).hint ?? 'write it like en_US.UTF-8');
    }
  }
  checkWindowsDisks(ctx, release.autounattend);
}

/** [kits] (Windows only), and [files], [scripts] and the services as a Windows guest takes them. */
function checkWindowsProvision({ config, os, catalogs, report }: SemanticContext): void {
  const windows = isWindows(os);
  const problems = kitsProblems(config, os, catalogs, windows);
  if (windows) {
    let release: ReturnType<typeof windowsRelease> | undefined;
    try {
      release = windowsRelease(os);
    } catch {
      // checkWindows reports the unknown release.
    }
    if (release !== undefined) problems.push(...windowsProvisionProblems(config, os, release));
  }
  for (const p of problems) report(p.path, p.severity, p.code, p.message, p.hint, p.at);
}

/** The system partition and the boot disk's table, as Windows Setup and the base-disk method need them. */
function checkWindowsDisks({ config, os, report, plan }: SemanticContext, autounattend: boolean): void {
  const { layout } = plan();
  if (!autounattend && layout.firmware !== 'bios') {
    report(['hardware', 'firmware'], 'error', 'CFG_FIRMWARE_WINDOWS', `${os.label} is made from a BIOS base disk; it cannot boot with UEFI`, "set 'firmware = bios'");
  }
  const boot = layout.disks.find((d) => d.boot)!;
  const configured = config.hardware.hdds[boot.name];
  if (configured === undefined) {
    report(['hardware'], 'error', 'CFG_WINDOWS_SYSTEM', 'a Windows guest needs a disk with an NTFS partition for Windows; the default disk is Linux\'s',
      'add [[hdds]] with a partition: fs = ntfs');
  } else if (!boot.partitions.some((p) => p.fs === 'ntfs' && !isEsp(p))) {
    report(['hardware', 'hdds', boot.name], 'error', 'CFG_WINDOWS_SYSTEM', `[${boot.name}] has no NTFS partition to hold Windows`, 'add a partition with fs = ntfs');
  }
  if (configured !== undefined) {
    const at = ['hardware', 'hdds', boot.name, configured.table !== undefined ? 'table' : 'partitions'];
    if (layout.firmware === 'efi' && boot.table !== 'gpt') report(at, 'error', 'CFG_WINDOWS_TABLE', `Windows boots from an MBR disk only with BIOS firmware; [${boot.name}] is MBR`, "set 'table = gpt' or 'firmware = bios'");
    if (layout.firmware === 'bios' && boot.table === 'gpt') report(at, 'error', 'CFG_WINDOWS_TABLE', `Windows boots from a GPT disk only with UEFI firmware; [${boot.name}] is GPT`, "set 'table = mbr' or 'firmware = efi'");
  }
  if (autounattend) {
    const ide = CONTROLLERS.ide;
    const ideSlots = (ide.maxController + 1) * (ide.maxUnit + 1);
    if (deviceSlots(layout).filter((s) => s.bus === 'ide').length >= ideSlots) {
      report(['hardware', 'cd_drives'], 'error', 'CFG_NO_POSITION', `a ${os.label} install adds a CD drive with its answer file on IDE, and every IDE position is taken`,
        'move a CD drive or disk to sata or scsi');
    }
  }
}

const ip4 = (s: string): number => {
  const r = v.parseIPv4(s);
  if (!r.ok) throw new Error(`internal: unvalidated address ${s}`);
  return r.value;
};

const subnetText = (ip: number, prefix: number): string => `${v.formatIPv4(v.networkAddress(ip, prefix))}/${prefix}`;
