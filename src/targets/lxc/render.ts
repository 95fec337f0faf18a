import type { ResolvedNic, ResolvedSpec } from '../../config/resolve.js';
import { broadcastAddress, formatIPv4, ipInSubnet, parseIPv4 } from '../../config/validators.js';
import { IP_FORWARD_KEY } from '../../families/linux/services/router.js';
import type { GuestFile } from '../../families/types.js';
import { SAFE_NAME } from '../names.js';
import type { ArchiveEntry, TargetRender } from '../types.js';

/**
 * LXC 5 container configuration (lxc.container.conf(5); no LXC 1 keys such as lxc.utsname or
 * lxc.network.*). Pure: the spec in, the text of `config`, `fstab` and the guest's /etc/fstab out.
 *
 * LXC only takes absolute paths: a relative lxc.rootfs.path ("dir:rootfs") fails with EBADF and a
 * relative lxc.mount.fstab is opened against the monitor's cwd ("/"), whatever directory the user
 * starts from. Leaving lxc.rootfs.path out is not an option either: the container then runs on the
 * HOST's root file system. So the paths are written for one container directory, lxcPath/NAME,
 * which defaults to the lxcpath of `lxc-start -n NAME`.
 */
export const DEFAULT_LXC_PATH = '/var/lib/lxc';

/** The members of an image.tar, the two tarballs `lxc-create -t local` takes (--metadata, --fstree). */
export const LXC_IMAGE_FILES = { meta: 'meta.tar.xz', rootfs: 'rootfs.tar.xz' } as const;

export interface LxcOptions {
  /** The directory that holds the container's directory (`lxc-start -P`); absolute. */
  lxcPath?: string;
  /**
   * For hosts without the bridges the NICs name. 'empty': loopback only; 'veth': every NIC keeps its
   * address but its host end joins no bridge.
   */
  netTypeOverride?: 'empty' | 'veth';
  /** A lab's wiring: the bridge each NIC (by name) joins, instead of the one its link type names. */
  links?: Readonly<Record<string, string>>;
  /** A lab's root: an lxc.rootfs.path of its own (overlay:BASE:DELTA) instead of dir:CONTAINER/rootfs. */
  rootfsPath?: string;
}

/**
 * The bridge each link joins: br0 is the usual name of a bridge over the host's own NIC, lxcbr0 is
 * the NAT bridge that lxc-net creates (the one Debian's /etc/lxc/default.conf uses). A host-only
 * NIC joins no bridge: its host end is a bare veth that the host may give an address to.
 */
const LINK_BRIDGE: Record<ResolvedNic['link'], string | undefined> = { bridged: 'br0', nat: 'lxcbr0', hostonly: undefined };

/** The host bridges the machine's NICs join, in NIC order, each once. */
export function lxcBridges(spec: ResolvedSpec): string[] {
  return [...new Set(spec.nics.map((n) => LINK_BRIDGE[n.link]).filter((b) => b !== undefined))];
}

const ARCH: Record<ResolvedSpec['os']['arch'], string> = { amd64: 'x86_64', i386: 'i686' };

// Names become path components and lxc.uts.name; LXC's own container names have the same rule (SAFE_NAME).

/**
 * Whether the guest must configure this NIC itself. LXC sets static addresses on the interface
 * before init starts (the target owns them), but it has no DHCP client: a DHCP NIC is left up
 * without an address, and the guest's own network configuration asks for one.
 */
export function lxcGuestConfiguresNic(nic: ResolvedNic): boolean {
  return nic.mode === 'dhcp';
}

export function renderLxcConfig(spec: ResolvedSpec, opts: LxcOptions = {}): string {
  const dir = containerDir(spec, opts);
  const sections = [
    header(spec, opts),
    [
      // common.conf ships with liblxc itself; Debian's debian.common.conf needs lxc-templates, often not installed.
      line('lxc.include', '/usr/share/lxc/config/common.conf'),
      line('lxc.arch', ARCH[spec.os.arch]),
      line('lxc.uts.name', spec.hostname),
    ],
    [
      '# /proc, /sys and the cgroup tree come from common.conf (lxc.mount.auto); the fstab holds extra mounts.',
      line('lxc.rootfs.path', opts.rootfsPath ?? `dir:${dir}/rootfs`),
      line('lxc.mount.fstab', `${dir}/fstab`),
    ],
    apparmor(),
    limits(spec),
    ...sysctls(spec),
    network(spec, opts),
  ];
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

/** LXC's own fstab for the container: extra mounts only, relative targets land in the rootfs. */
export function renderLxcFstab(spec: ResolvedSpec): string {
  return [
    `# Extra mounts for the LXC container ${spec.name}, in fstab(5) format; lxc.mount.fstab points here.`,
    '# LXC itself mounts /proc, /sys and the cgroups (lxc.mount.auto in common.conf) and sets up',
    '# /dev and /dev/pts, so they are not listed. Write targets without a leading "/" so that they',
    '# resolve inside the container, for example:',
    '#   /srv/data srv/data none bind,create=dir 0 0',
    '',
  ].join('\n');
}

/**
 * The guest's /etc/fstab. A VM's fstab names disks the container does not have, and
 * systemd-remount-fs then fails at every boot; LXC has mounted everything the guest needs.
 */
export function lxcGuestFstab(): GuestFile {
  return {
    path: '/etc/fstab',
    mode: 0o644,
    content: '# This system runs in an LXC container: LXC mounts the root file system, /proc, /sys and /dev.\n'
      + '# Extra mounts belong in the container\'s own fstab on the host (lxc.mount.fstab).\n',
  };
}

/**
 * The image's `config` for LXC's `local` template (lxc/lxc templates/lxc-local.in), which appends it
 * to the container's config after what `lxc-create` wrote and then adds lxc.rootfs.path,
 * lxc.mount.fstab (when the image has an fstab) and `lxc.uts.name = NAME` itself. So this file names
 * no path and no name: the container can be created under any -P directory. lxc-local replaces
 * LXC_TEMPLATE_CONFIG with the directory of LXC's own config snippets, as distrobuilder's images use it.
 * `user`: config-user, which lxc-local picks for an unprivileged container instead.
 */
export function renderLxcImageConfig(spec: ResolvedSpec, opts: Pick<LxcOptions, 'netTypeOverride'> & { user?: boolean } = {}): string {
  const sections = [
    [
      `# LXC 5 configuration of ${spec.name} (${spec.os.label}), generated by vmgen, for: lxc-create -t local.`,
      '# The local template adds the root file system, the fstab and lxc.uts.name (the container\'s name);',
      `# the guest still sets its own hostname (${spec.hostname}) from /etc/hostname when it boots.`,
    ],
    [
      line('lxc.include', 'LXC_TEMPLATE_CONFIG/common.conf'),
      ...(opts.user === true ? [line('lxc.include', 'LXC_TEMPLATE_CONFIG/userns.conf')] : []),
      line('lxc.arch', ARCH[spec.os.arch]),
    ],
    apparmor(),
    limits(spec),
    ...sysctls(spec),
    network(spec, opts),
  ];
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

/** What `lxc-create -t local` prints once the container exists. */
export function renderLxcCreateMessage(spec: ResolvedSpec): string {
  return [
    `${spec.os.label} container ${spec.name}, made by vmgen. Start it with: lxc-start -n NAME -P DIR`,
    'The network settings come from the machine config. Created without "-f /dev/null", the host\'s',
    'default configuration adds its own lxc.net.0 lines at the end of the container\'s config, and',
    'those win: delete the block under "# Network configuration" to keep the machine\'s.',
    '',
  ].join('\n');
}

/** The metadata tarball's files, relative to its top level; excludes-user is added from the root file system. */
export function renderLxcImageMeta(spec: ResolvedSpec): ArchiveEntry[] {
  return [
    { path: 'config', content: renderLxcImageConfig(spec), mode: 0o644 },
    { path: 'config-user', content: renderLxcImageConfig(spec, { user: true }), mode: 0o644 },
    { path: 'fstab', content: renderLxcFstab(spec), mode: 0o644 },
    { path: 'create-message', content: renderLxcCreateMessage(spec), mode: 0o644 },
  ];
}

/** Where the image's metadata files show in `vmgen render`'s output. */
export const LXC_IMAGE_META_DIR = 'meta';

/**
 * Both layouts' files: `config` and `fstab` for the archive unpacked in place, and the image's
 * metadata under meta/, which the image.tar format packs into meta.tar.xz.
 */
export function renderLxc(spec: ResolvedSpec, opts: LxcOptions = {}): TargetRender {
  return {
    archiveFiles: [
      { path: 'config', content: renderLxcConfig(spec, opts), mode: 0o644 },
      { path: 'fstab', content: renderLxcFstab(spec), mode: 0o644 },
      ...renderLxcImageMeta(spec).map((f) => ({ ...f, path: `${LXC_IMAGE_META_DIR}/${f.path}` })),
    ],
    guestFiles: [lxcGuestFstab()],
  };
}

/**
 * lxc-local unpacks the root file system with tar; in an unprivileged container (`excludes-user`)
 * tar cannot make device nodes, so they are left out there, as distrobuilder's images list them.
 */
export function renderLxcExcludesUser(deviceNodes: readonly string[]): string {
  return deviceNodes.map((p) => `./${p.replace(/^\/+/, '')}\n`).join('');
}

function containerDir(spec: ResolvedSpec, opts: LxcOptions): string {
  const lxcPath = (opts.lxcPath ?? DEFAULT_LXC_PATH).replace(/\/+$/, '');
  if (!lxcPath.startsWith('/') || /[\s\0]/.test(lxcPath)) {
    throw new Error(`lxcPath ${JSON.stringify(opts.lxcPath)} must be an absolute path without whitespace: LXC resolves nothing relative`);
  }
  if (!SAFE_NAME.test(spec.name)) throw new Error(`machine name ${JSON.stringify(spec.name)} cannot name an LXC container`);
  return `${lxcPath}/${spec.name}`;
}

function header(spec: ResolvedSpec, opts: LxcOptions): string[] {
  const lxcPath = opts.lxcPath ?? DEFAULT_LXC_PATH;
  const start = lxcPath === DEFAULT_LXC_PATH ? `lxc-start -n ${spec.name}` : `lxc-start -n ${spec.name} -P ${lxcPath}`;
  return [
    `# LXC 5 configuration of ${spec.name} (${spec.os.label}), generated by vmgen.`,
    `# Unpack the archive into ${containerDir(spec, opts)}, then run: ${start}`,
    '# LXC accepts only absolute paths below, so the container works from that directory only.',
  ];
}

/**
 * "generated" makes LXC write and load a profile on AppArmor hosts (Debian's default), and is
 * ignored where AppArmor is off. Nesting is what Debian's /etc/lxc/default.conf sets too: newer
 * systemd mounts its own namespaces for sandboxed services.
 */
function apparmor(): string[] {
  return [
    '# AppArmor: LXC writes a profile where AppArmor is on and ignores this where it is off.',
    line('lxc.apparmor.profile', 'generated'),
    line('lxc.apparmor.allow_nesting', '1'),
  ];
}

/** cgroup v2 only: a host still on cgroup v1 for these controllers ignores them with a warning. */
function limits(spec: ResolvedSpec): string[] {
  const period = 100000;
  return [
    '# Limits (cgroup v2; a host on cgroup v1 starts the container without them).',
    line('lxc.cgroup2.memory.max', `${spec.ramMiB}M`),
    line('lxc.cgroup2.cpu.max', `${spec.cpus * period} ${period}`),
  ];
}

/**
 * A container's /proc/sys is read-only inside, so the guest's own sysctl.d file cannot turn
 * forwarding on; LXC sets it in the container's network namespace before init starts.
 */
function sysctls(spec: ResolvedSpec): string[][] {
  if (spec.provision.services.router === undefined) return [];
  return [['# Forwarding for [router] (/proc/sys is read-only inside the container).', line(`lxc.sysctl.${IP_FORWARD_KEY}`, '1')]];
}

function network(spec: ResolvedSpec, opts: Pick<LxcOptions, 'netTypeOverride' | 'links'>): string[] {
  // Without any lxc.net entry the container would share the host's network namespace.
  if (spec.nics.length === 0) return ['# No NIC configured: loopback only.', line('lxc.net.0.type', 'empty')];
  if (opts.netTypeOverride === 'empty') return ['# NICs replaced by loopback only (netTypeOverride = empty).', line('lxc.net.0.type', 'empty')];
  const gatewayNic = defaultRouteNic(spec);
  const blocks = spec.nics.map((nic) => nicLines(nic, nic === gatewayNic?.nic ? gatewayNic.gateway : undefined, opts));
  return blocks.flatMap((block, i) => (i === 0 ? block : ['', ...block]));
}

function nicLines(nic: ResolvedNic, gateway: string | undefined, opts: Pick<LxcOptions, 'netTypeOverride' | 'links'>): string[] {
  const key = (k: string) => `lxc.net.${nic.index}.${k}`;
  const bridge = opts.netTypeOverride === 'veth' ? undefined : opts.links?.[nic.name] ?? LINK_BRIDGE[nic.link];
  const out = [`# ${nic.name}: ${describeLink(nic, bridge)}, ${describeMode(nic)}`, line(key('type'), 'veth')];
  if (bridge !== undefined) out.push(line(key('link'), bridge));
  out.push(line(key('name'), nic.name));
  if (nic.mac !== undefined) out.push(line(key('hwaddr'), nic.mac));
  if (nic.connected) out.push(line(key('flags'), 'up'));
  if (!lxcGuestConfiguresNic(nic) && nic.address !== undefined && nic.prefix !== undefined) {
    // LXC derives a wrong broadcast (0.0.0.255) when none is given, so it is spelled out.
    out.push(line(key('ipv4.address'), `${nic.address}/${nic.prefix} ${broadcastOf(nic.address, nic.prefix)}`));
    if (gateway !== undefined) out.push(line(key('ipv4.gateway'), gateway));
  }
  return out;
}

function describeLink(nic: ResolvedNic, bridge: string | undefined): string {
  const state = nic.connected ? '' : ', disconnected (left down)';
  return bridge === undefined ? `${nic.link}, host end on no bridge${state}` : `${nic.link} via ${bridge}${state}`;
}

function describeMode(nic: ResolvedNic): string {
  return lxcGuestConfiguresNic(nic) ? 'DHCP by the guest' : 'static address set by LXC';
}

/**
 * LXC adds a default route for every NIC with ipv4.gateway, and a second one fails the start; so
 * only the first static NIC that has a gateway (its own, or the system gateway when that lies in
 * its subnet) gets one.
 */
function defaultRouteNic(spec: ResolvedSpec): { nic: ResolvedNic; gateway: string } | undefined {
  for (const nic of spec.nics) {
    if (lxcGuestConfiguresNic(nic) || nic.address === undefined || nic.prefix === undefined) continue;
    const gateway = nic.gateway ?? (spec.gateway !== undefined && inSubnet(spec.gateway, nic.address, nic.prefix) ? spec.gateway : undefined);
    if (gateway !== undefined) return { nic, gateway };
  }
  return undefined;
}

function inSubnet(ip: string, address: string, prefix: number): boolean {
  const a = parseIPv4(ip);
  const b = parseIPv4(address);
  return a.ok && b.ok && ipInSubnet(a.value, b.value, prefix);
}

/** The config is line based: a line break inside a value would smuggle in another key. */
function line(key: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${key}: value ${JSON.stringify(value)} contains a line break or NUL`);
  return `${key} = ${value}`;
}

function broadcastOf(address: string, prefix: number): string {
  const ip = parseIPv4(address);
  if (!ip.ok) throw new Error(`not an IPv4 address: ${address}`);
  return formatIPv4(broadcastAddress(ip.value, prefix));
}
