import { z } from 'zod';
import { CONTROLLER_NAMES, controllerChoices } from '../catalog/controllers.js';
import { FILESYSTEM_NAMES } from '../catalog/filesystems.js';
import { provisionSections } from './model-services.js';
import { kitsSection } from './model-kits.js';
import { bool, choice, cidr, hostname, int, ipv4, list, mac, netmask, pattern, portRange, position, safeName, size, textField } from './fields.js';

/**
 * The typed model of a vmgen config: one zod schema per section. It is the single source of the
 * parser's output type, the JSON Schema (`vmgen schema`), the web form and the API's validation.
 * Names the catalogs define (OS ids, applications) are passed in, so the schema's enums are the
 * catalog's own lists.
 */
export interface ModelVocabulary {
  osIds: readonly string[];
  appNames: readonly string[];
}

/**
 * A NIC's connection to the host, by every spelling the model reads (the seed's and VMware's words
 * for the same three links), each to the link it names. The first spelling of a link is the one a
 * form offers; the others are the same as it (`x-same-as` in the JSON Schema).
 */
export const NIC_LINKS = { nat: 'nat', bridged: 'bridged', 'host-only': 'hostonly', bridge: 'bridged', hostonly: 'hostonly' } as const;
export const NIC_TYPES = Object.keys(NIC_LINKS) as [keyof typeof NIC_LINKS, ...(keyof typeof NIC_LINKS)[]];
/** Each later spelling of a link, to the first. */
const NIC_SAME_AS = Object.fromEntries(NIC_TYPES.flatMap((t) => {
  const first = NIC_TYPES.find((u) => NIC_LINKS[u] === NIC_LINKS[t])!;
  return first === t ? [] : [[t, first]];
}));
export const APP_SECTIONS = ['devel', 'services', 'gui'] as const;

const partition = z.strictObject({
  type: choice(['primary', 'logical'], 'primary or logical (logical partitions live in an extended one, MBR only)').default('primary'),
  fs: choice(FILESYSTEM_NAMES, 'file system'),
  size: size('MB', 'partition size').optional().meta({ description: 'partition size; the last partition may omit it to fill the disk' }),
  mount: textField('mount point in the guest, e.g. / or /home (Linux guests)').optional(),
  label: textField('file system label').optional(),
});

const hdd = z.strictObject({
  size: size('MB', 'disk size'),
  type: choice(CONTROLLER_NAMES, `controller: ${controllerChoices()}`).optional(),
  scsi_index: int(0, 3, 'index of the SCSI controller').optional(),
  pos: position().optional(),
  name: safeName('disk file name, e.g. hdd.vmdk').optional(),
  table: choice(['mbr', 'gpt'], 'partition table').optional(),
  partitions: z.record(z.string(), partition).default({}),
});

const cdDrive = z.strictObject({
  type: choice(CONTROLLER_NAMES, 'controller').optional(),
  pos: position().optional(),
  path: textField('ISO image on the build host').optional(),
  copy: bool('copy the ISO into the archive (1) or reference its path (0)').default(false),
  connected: bool('connected at power on').default(true),
});

const hwEth = z.strictObject({
  type: z.enum(NIC_TYPES).meta({ description: 'connection to the host: nat, bridged or host-only', 'x-same-as': NIC_SAME_AS }).default('nat'),
  connected: bool('connected at power on').default(true),
  hw_addr: mac().optional(),
});

export const hardwareSection = (vocab: ModelVocabulary) =>
  z.strictObject({
    vm_id: safeName('machine name, used for file names').optional(),
    os: z.enum(vocab.osIds as [string, ...string[]]).meta({ description: 'operating system id (vmgen catalog os)' }),
    num_cpu: int(1, 128, 'number of virtual CPUs').default(1),
    ram: size('MB', 'memory').default(1024),
    firmware: choice(['bios', 'efi'], 'firmware; the OS table gives the default').optional(),
    hdds: z.record(z.string(), hdd).default({}),
    cd_drives: z.record(z.string(), cdDrive).default({}),
    eths: z.record(z.string(), hwEth).default({}),
  });

const configSection = z.strictObject({
  root_passwd: textField('password of root (Administrator on Windows)').optional(),
  root_password_hash: textField('crypt(3) hash of the root password, instead of root_passwd').optional(),
  hostname: hostname().optional(),
  bash_completion: bool('install and enable bash completion').default(false),
  repos: z.record(z.string(), textField('an apt source line or a dnf baseurl')).default({}),
  timezone: pattern(/^(?:UTC|[A-Z][A-Za-z_+-]*(?:\/[A-Za-z0-9_+-]+){1,2})$/, 'Europe/Bucharest', 'time zone').optional(),
  locale: pattern(/^(?:C|POSIX|C\.UTF-8|[a-z]{2,3}_[A-Z]{2}(?:\.[A-Za-z0-9-]+)?(?:@[a-z]+)?)$/, 'en_US.UTF-8', 'locale').optional(),
  keyboard: pattern(/^[a-z]{2,8}(?:[(_-][a-z0-9_]+\)?)?$/, 'us', 'keyboard layout').optional(),
  mirror: textField('package mirror URL; default: the build host\'s own apt sources').optional(),
});

const user = z.strictObject({
  name: textField('login name'),
  passwd: textField('password (stored hashed in the guest)').optional(),
  password_hash: textField('crypt(3) hash, instead of passwd').optional(),
  groups: list(textField()).default([]),
  home_dir: textField('home directory').optional(),
  shell: textField('login shell, e.g. /bin/bash').optional(),
  ssh_keys: list(textField()).default([]).meta({ description: 'SSH public keys for authorized_keys' }),
});

const usersSection = z.strictObject({
  groups: z.record(z.string(), textField('group name')).default({}),
  users: z.record(z.string(), user).default({}),
});

const netEth = z.strictObject({
  type: choice(['static', 'dhcp'], 'static or dhcp').default('dhcp'),
  address: ipv4('IPv4 address').optional(),
  network: netmask().optional(),
  gateway: ipv4('gateway of this adapter').optional(),
  dns: list(ipv4()).default([]).meta({ description: 'DNS servers of this adapter' }),
});

const route = z.strictObject({
  to: cidr('destination network, CIDR (10.0.0.0/8)'),
  via: ipv4('next hop'),
  dev: textField('interface').optional(),
});

const openPort = z.strictObject({
  proto: choice(['tcp', 'udp', 'all'], 'tcp, udp or all').default('tcp'),
  port: portRange(),
  description: textField().optional(),
});

const networkSection = z.strictObject({
  eths: z.record(z.string(), netEth).default({}),
  dns: list(ipv4()).default([]).meta({ description: 'DNS servers (Linux guests: system-wide)' }),
  gateway: ipv4('default gateway (Linux guests: system-wide)').optional(),
  routes: z.record(z.string(), route).default({}),
  open_ports: z.record(z.string(), openPort).default({}),
  'firewall-rules': z.record(z.string(), textField('a raw rule, run in the guest')).default({}),
});

const appSection = (vocab: ModelVocabulary, category: string) =>
  z.partialRecord(z.enum(vocab.appNames as [string, ...string[]]), bool()).default({}).meta({ description: `${category} to install: name = 1` });

export function configSchema(vocab: ModelVocabulary) {
  return z.strictObject({
    hardware: hardwareSection(vocab),
    config: configSection.default(() => configSection.parse({})),
    users: usersSection.default(() => usersSection.parse({})),
    network: networkSection.default(() => networkSection.parse({})),
    devel: appSection(vocab, 'development tools'),
    services: appSection(vocab, 'services'),
    gui: appSection(vocab, 'graphical applications'),
    ...provisionSections,
    ...kitsSection,
  });
}

export type ConfigSchema = ReturnType<typeof configSchema>;
export type VmConfig = z.output<ConfigSchema>;
export type Hdd = z.output<typeof hdd>;
export type Partition = z.output<typeof partition>;
export type CdDrive = z.output<typeof cdDrive>;
export type HwEth = z.output<typeof hwEth>;
export type NetEth = z.output<typeof netEth>;
export type User = z.output<typeof user>;
