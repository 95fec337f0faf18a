import { impliedApps, resolveProvision, type ResolvedProvision } from './resolve-services.js';
import type { Catalogs, OsEntry } from '../catalog/schema.js';
import { findOs, resolveApp } from '../catalog/load.js';
import { isWindows } from '../catalog/families.js';
import { APP_SECTIONS, NIC_LINKS, type VmConfig } from './model.js';
import { formatIPv4, networkAddress, parseIPv4, prefixToNetmask } from './validators.js';

/**
 * The read-only description of one machine that every generator and step works from: the config
 * after defaults, with the catalog's package names, the mirror and the target filled in. Resolving
 * is pure (the mirror is passed in), so generators are tested from a spec without touching disk.
 */
export interface ResolvedNic {
  /** Interface name inside the guest: the config's key, e.g. eth0. */
  name: string;
  /** Position among the NICs, 0-based: lxc.net.N, ethernetN. */
  index: number;
  /** Connection to the host from [hardware] (nat, bridged, host-only). */
  link: 'nat' | 'bridged' | 'hostonly';
  connected: boolean;
  mac?: string;
  mode: 'static' | 'dhcp';
  address?: string;
  prefix?: number;
  /** Dotted netmask, for formats that want one. */
  netmask?: string;
  /** Network address, e.g. 192.168.1.0 for 192.168.1.2/24. */
  networkAddress?: string;
  gateway?: string;
  dns: string[];
}

export interface ResolvedUser {
  name: string;
  /** Plain password to hash in the guest, or a ready crypt(3) hash; neither: the account is locked. */
  password?: { plain: string } | { hash: string };
  /** Supplementary groups, in config order. */
  groups: string[];
  home: string;
  shell: string;
  sshKeys: string[];
}

export interface ResolvedPort {
  proto: 'tcp' | 'udp' | 'all';
  from: number;
  to: number;
  description?: string;
}

export interface ResolvedApp {
  name: string;
  category: (typeof APP_SECTIONS)[number];
  packages: string[];
  services: string[];
}

export interface ResolvedSpec {
  /** Machine name: vm_id, else the hostname, else "vmgen". Used for file names. */
  name: string;
  hostname: string;
  target: string;
  os: OsEntry;
  cpus: number;
  ramMiB: number;
  /** Largest configured disk, for container quotas; undefined when no disk is configured. */
  diskMiB?: number;
  mirror: string;
  rootPassword?: { plain: string } | { hash: string };
  /** Groups to create, in config order (system groups users join are not listed). */
  groups: string[];
  users: ResolvedUser[];
  nics: ResolvedNic[];
  /** System-wide DNS: [network] dns, then each NIC's, without duplicates. */
  dns: string[];
  gateway?: string;
  routes: Array<{ to: string; via: string; dev?: string }>;
  openPorts: ResolvedPort[];
  rawRules: string[];
  timezone?: string;
  locale?: string;
  keyboard?: string;
  bashCompletion: boolean;
  /** Extra package sources, as written (apt source lines). */
  repos: string[];
  apps: ResolvedApp[];
  /** Every package the apps need, sorted, without duplicates. */
  appPackages: string[];
  /** Every service the apps enable, in app order, without duplicates. */
  appServices: string[];
  /** [files], [scripts] and the configured services. */
  provision: ResolvedProvision;
  /** [kits]: per-app parameters of the Windows installer kits, by app name. */
  kitParams?: Record<string, KitParameters>;
}

export interface KitParameters {
  installDir?: string;
  args?: string;
}

export interface ResolveOptions {
  target: string;
  /** The mirror to use when the config sets none (the host's own apt sources, read by the caller). */
  defaultMirror: string;
}


/** Assumes a config that validated without errors against the same catalogs. */
/** What a machine's files, container and image are named after: vm_id, else its hostname. */
export function machineNameOf(config: VmConfig): string {
  return config.hardware.vm_id ?? config.config.hostname ?? 'vmgen';
}

export function resolveSpec(config: VmConfig, catalogs: Catalogs, opts: ResolveOptions): ResolvedSpec {
  const os = findOs(catalogs, config.hardware.os);
  if (os === undefined) throw new Error(`unknown OS ${config.hardware.os}: resolveSpec needs a validated config`);
  const hostname = config.config.hostname ?? config.hardware.vm_id ?? 'vmgen';
  const nics = resolveNics(config);
  const provision = resolveProvision(config, nics, hostname);
  const apps = resolveApps(config, catalogs, os, isWindows(os) ? [] : impliedApps(provision.services));
  const disks = Object.values(config.hardware.hdds).map((d) => d.size);
  const dns = dnsServersOf(config);
  const spec: ResolvedSpec = {
    name: machineNameOf(config),
    hostname,
    target: opts.target,
    os,
    cpus: config.hardware.num_cpu,
    ramMiB: config.hardware.ram,
    mirror: (config.config.mirror ?? opts.defaultMirror).replace(/\/+$/, ''),
    groups: Object.values(config.users.groups),
    users: Object.values(config.users.users).map((u) => ({
      name: u.name,
      ...password(u.passwd, u.password_hash),
      groups: u.groups,
      home: u.home_dir ?? `/home/${u.name}`,
      shell: u.shell ?? '/bin/bash',
      sshKeys: u.ssh_keys,
    })),
    nics,
    dns,
    routes: Object.values(config.network.routes).map((r) => (r.dev === undefined ? { to: r.to, via: r.via } : { to: r.to, via: r.via, dev: r.dev })),
    openPorts: Object.values(config.network.open_ports).map((p) => ({
      proto: p.proto, from: p.port.from, to: p.port.to, ...(p.description === undefined ? {} : { description: p.description }),
    })),
    rawRules: Object.values(config.network['firewall-rules']),
    bashCompletion: config.config.bash_completion,
    repos: Object.values(config.config.repos),
    apps,
    appPackages: unique(apps.flatMap((a) => a.packages)).sort(),
    appServices: unique(apps.flatMap((a) => a.services)),
    provision,
  };
  // Only when set: the spec is also an OCI label, which stays as it was for machines without [kits].
  if (Object.keys(config.kits).length > 0) {
    spec.kitParams = Object.fromEntries(Object.entries(config.kits).map(([app, k]) => [app, {
      ...(k.install_dir === undefined ? {} : { installDir: k.install_dir }),
      ...(k.args === undefined ? {} : { args: k.args }),
    }]));
  }
  const root = password(config.config.root_passwd, config.config.root_password_hash);
  if (root.password) spec.rootPassword = root.password;
  if (disks.length > 0) spec.diskMiB = Math.max(...disks);
  if (config.network.gateway !== undefined) spec.gateway = config.network.gateway;
  if (config.config.timezone !== undefined) spec.timezone = config.config.timezone;
  if (config.config.locale !== undefined) spec.locale = config.config.locale;
  if (config.config.keyboard !== undefined) spec.keyboard = config.config.keyboard;
  return spec;
}

function password(plain: string | undefined, hash: string | undefined): { password?: { plain: string } | { hash: string } } {
  if (hash !== undefined) return { password: { hash } };
  if (plain !== undefined) return { password: { plain } };
  return {};
}

/** The machine's own DNS servers: [network] dns, then each NIC's, without duplicates. */
export function dnsServersOf(config: VmConfig): string[] {
  return unique([...config.network.dns, ...resolveNics(config).flatMap((n) => n.dns)]);
}

/** Hardware NICs in config order; a NIC configured only under [network] still gets one. */
export function resolveNics(config: VmConfig): ResolvedNic[] {
  const names = unique([...Object.keys(config.hardware.eths), ...Object.keys(config.network.eths)]);
  return names.map((name, index) => {
    const hw = config.hardware.eths[name];
    const net = config.network.eths[name];
    const nic: ResolvedNic = {
      name, index,
      link: NIC_LINKS[hw?.type ?? 'nat'],
      connected: hw?.connected ?? true,
      mode: net?.type ?? 'dhcp',
      dns: net?.dns ?? [],
    };
    if (hw?.hw_addr !== undefined) nic.mac = hw.hw_addr;
    if (net?.type === 'static' && net.address !== undefined && net.network !== undefined) {
      nic.address = net.address;
      nic.prefix = net.network;
      nic.netmask = formatIPv4(prefixToNetmask(net.network));
      const ip = parseIPv4(net.address);
      if (ip.ok) nic.networkAddress = formatIPv4(networkAddress(ip.value, net.network));
    }
    if (net?.gateway !== undefined) nic.gateway = net.gateway;
    return nic;
  });
}

/** The apps the config names, then those its service sections imply (the server, verify's client), each once. */
function resolveApps(config: VmConfig, catalogs: Catalogs, os: OsEntry, implied: readonly string[]): ResolvedApp[] {
  const apps: ResolvedApp[] = [];
  const add = (name: string, category: ResolvedApp['category']): void => {
    if (apps.some((a) => a.name === name)) return;
    const r = resolveApp(catalogs, name, os);
    if (!r.ok) throw new Error(`app ${name} does not resolve on ${os.id}: resolveSpec needs a validated config`);
    apps.push({ name, category, packages: r.packages, services: r.services });
  };
  for (const category of APP_SECTIONS) {
    for (const [name, wanted] of Object.entries(config[category])) if (wanted) add(name, category);
  }
  for (const name of implied) add(name, 'services');
  return apps;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
