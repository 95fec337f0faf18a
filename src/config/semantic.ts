import type { Diagnostic, Severity } from '../diagnostics.js';
import { CONTROLLER_BUS } from '../vm/controllers.js';
import type { Catalogs, OsEntry } from '../catalog/schema.js';
import { resolveApp } from '../catalog/load.js';
import { checkRawNftRule } from '../guests/firewall/nftables.js';
import { diagnosticAt } from './diagnose.js';
import { APP_SECTIONS, type VmConfig } from './model.js';
import type { PlaceIndex } from './normalize.js';
import * as v from './validators.js';

/**
 * Checks that need more than one field, or the OS: what zod's per-field codecs cannot see.
 * Each check is a small function over the resolved config; all of them run, so a file gets every
 * problem at once.
 */
export interface SemanticContext {
  config: VmConfig;
  os: OsEntry;
  catalogs: Catalogs;
  places: PlaceIndex;
  report: (path: readonly (string | number)[], severity: Severity, code: string, message: string, hint?: string, at?: 'value' | 'key') => void;
}

/** Groups every Linux or Windows install has, which users may join without declaring them. */
const SYSTEM_GROUPS: Record<string, readonly string[]> = {
  linux: ['root', 'sudo', 'adm', 'wheel', 'users', 'staff', 'audio', 'video', 'plugdev', 'netdev', 'dialout', 'cdrom', 'docker', 'systemd-journal', 'www-data'],
  windows: ['Administrators', 'Users', 'Power Users', 'Guests', 'Remote Desktop Users', 'Backup Operators', 'Network Configuration Operators'],
};

const CHECKS: ReadonlyArray<(c: SemanticContext) => void> = [
  checkHostname,
  checkAdapters,
  checkLinuxWideNetwork,
  checkPorts,
  checkFirewallRules,
  checkAccounts,
  checkDisks,
  checkCdDrives,
  checkApplications,
  checkFamilySpecific,
];

export function semanticDiagnostics(config: VmConfig, os: OsEntry, catalogs: Catalogs, places: PlaceIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ctx: SemanticContext = {
    config, os, catalogs, places,
    report: (path, severity, code, message, hint, at) => out.push(diagnosticAt(places, path, severity, code, message, hint, at)),
  };
  for (const check of CHECKS) check(ctx);
  return out;
}

const isWindows = (os: OsEntry): boolean => os.family === 'windows';

function checkHostname({ config, os, report }: SemanticContext): void {
  const name = config.config.hostname;
  if (name === undefined || !isWindows(os)) return;
  const r = v.checkWindowsComputerName(name);
  if (!r.ok) report(['config', 'hostname'], 'error', 'CFG_HOSTNAME', r.message, r.hint);
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
    if (eth.address === undefined) report([...at, 'type'], 'error', 'CFG_STATIC_ADDRESS', `${name} is static but has no address`, "add 'address = 192.168.1.2'");
    if (eth.network === undefined) report([...at, 'type'], 'error', 'CFG_STATIC_NETMASK', `${name} is static but has no netmask`, "add 'network = 255.255.255.0'");
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
  const known = new Set([...groupNames, ...(SYSTEM_GROUPS[windows ? 'windows' : 'linux'] ?? [])]);
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
      const h = windows ? checkWindowsPath(user.home_dir) : v.checkGuestAbsolutePath(user.home_dir);
      if (!h.ok) report([...at, 'home_dir'], 'error', 'CFG_HOME_DIR', h.message, h.hint);
    }
    if (user.shell !== undefined && !windows) {
      const s = v.checkGuestAbsolutePath(user.shell);
      if (!s.ok) report([...at, 'shell'], 'error', 'CFG_SHELL', s.message, s.hint);
    }
    user.ssh_keys.forEach((k, i) => {
      if (!/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/.test(k)) {
        report([...at, 'ssh_keys', i], 'error', 'CFG_SSH_KEY', 'not an SSH public key', "paste one line of ~/.ssh/id_ed25519.pub: 'ssh-ed25519 AAAA… comment'");
      }
    });
  }
  if (!windows && config.config.root_passwd === undefined && config.config.root_password_hash === undefined) {
    report(['config'], 'warning', 'CFG_ROOT_LOCKED', 'no root password: root stays locked', 'set root_passwd in [config] to log in as root');
  }
}

function checkWindowsPath(p: string): v.Check<string> {
  if (!/^[A-Za-z]:\\/.test(p)) return v.fail(`'${p}' is not an absolute Windows path`, 'write it like C:\\Users\\name');
  if (p.split('\\').includes('..')) return v.fail(`'${p}' contains '..'`);
  if (/[<>:"|?*\u0000-\u001f]/.test(p.slice(2))) return v.fail(`'${p}' contains a character Windows forbids in paths`);
  return v.ok(p);
}

/** Positions by controller family: SCSI variants share the scsiN:M namespace in a .vmx. */

function checkPosition(ctx: SemanticContext, at: string[], controller: string, pos: string, taken: Map<string, string>): void {
  const bus = CONTROLLER_BUS[controller]!;
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

/** Space sfdisk keeps before the first partition, and per logical partition's EBR. */
const ALIGN_MIB = 1;

function checkDisks(ctx: SemanticContext): void {
  const { config, os, report } = ctx;
  const taken = new Map<string, string>();
  Object.entries(config.hardware.cd_drives).forEach(([name, cd]) => {
    if (cd.pos) checkPosition(ctx, ['hardware', 'cd_drives', name], cd.type ?? 'ide', cd.pos, taken);
  });
  for (const [name, disk] of Object.entries(config.hardware.hdds)) {
    const at = ['hardware', 'hdds', name];
    const controller = disk.type ?? os.defaultController;
    if (disk.pos) checkPosition(ctx, at, controller, disk.pos, taken);
    const parts = Object.entries(disk.partitions);
    const table = disk.table ?? 'mbr';
    const primaries = parts.filter(([, p]) => p.type === 'primary').length;
    const logicals = parts.filter(([, p]) => p.type === 'logical').length;
    if (table === 'mbr' && primaries + (logicals > 0 ? 1 : 0) > 4) {
      report([...at, 'partitions'], 'error', 'CFG_TOO_MANY_PRIMARY',
        `[${name}] has ${primaries} primary partitions${logicals ? ' plus an extended one for the logical ones' : ''}; MBR holds 4`,
        logicals ? 'make one more partition logical' : "make some partitions 'type = logical', or set 'table = gpt'");
    }
    if (table === 'gpt' && logicals > 0) {
      report([...at, 'table'], 'error', 'CFG_LOGICAL_GPT', 'GPT has no logical partitions', 'use table = mbr, or make them primary');
    }
    let used = ALIGN_MIB;
    parts.forEach(([pname, p], i) => {
      const pat = [...at, 'partitions', pname];
      if (p.size === undefined && i !== parts.length - 1) {
        report(pat, 'error', 'CFG_PARTITION_SIZE', `[${pname}] has no size; only the last partition may fill the rest of the disk`, "add 'size = 2GB'");
      }
      used += (p.size ?? 1) + (p.type === 'logical' ? ALIGN_MIB : 0);
      if (p.fs === 'swap' && p.mount !== undefined && p.mount !== 'none') {
        report([...pat, 'mount'], 'error', 'CFG_SWAP_MOUNT', 'a swap partition has no mount point');
      }
      if (p.mount !== undefined && p.mount !== 'none' && !isWindows(os)) {
        const m = v.checkGuestAbsolutePath(p.mount);
        if (!m.ok) report([...pat, 'mount'], 'error', 'CFG_MOUNT', m.message, m.hint);
      }
      if (isWindows(os) && !['ntfs', 'vfat'].includes(p.fs)) {
        report([...pat, 'fs'], 'warning', 'CFG_FS_WINDOWS', `Windows cannot use ${p.fs}`, 'use ntfs');
      }
    });
    if (used > disk.size) {
      report([...at, 'size'], 'error', 'CFG_PARTITIONS_TOO_BIG', `the partitions of [${name}] need ${used} MiB but the disk has ${disk.size} MiB`,
        `make the disk at least ${Math.ceil(used / 1024)}GB, or the partitions smaller`);
    }
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
  if (os.installer === 'apt') {
    for (const [key, line] of Object.entries(config.config.repos)) {
      if (!v.isAptSourceLine(line)) {
        report(['config', 'repos', key], 'error', 'CFG_REPO', 'not an apt source line', "write it like 'deb http://mirror.example/debian stable main'");
      }
    }
  }
}

const ip4 = (s: string): number => {
  const r = v.parseIPv4(s);
  if (!r.ok) throw new Error(`internal: unvalidated address ${s}`);
  return r.value;
};

const subnetText = (ip: number, prefix: number): string => `${v.formatIPv4(v.networkAddress(ip, prefix))}/${prefix}`;
