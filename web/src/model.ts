/**
 * The form's model, free of the DOM so it runs under node's test runner too. The form is derived
 * from two JSON Schemas of the one zod model: /api/schema (what each key means: type, choices,
 * range, default, description) and /api/config/text-schema (what the file holds at each key: a
 * section, a list or a string). Form fields read the logical tree of the config text (strings, as
 * ConfigObj reads them) and turn each change into an edit of one key path, which the server
 * applies to the text in place, so the user's comments and layout survive the form.
 */

// Type-only: the declaration file compiles to nothing, so the page loads no module for it.
import type { OfferedApp } from '../../src/service/web/shared-types.js';

export interface SchemaNode {
  type?: string | string[];
  enum?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  propertyNames?: SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  required?: string[];
  /** text/plain: a document of its own (a file's text, a script), where line breaks belong. */
  contentMediaType?: string;
  /** Choices that are another spelling of an earlier one (a NIC's `bridge` is `bridged`). */
  'x-same-as'?: Record<string, string>;
}

export type Value = string | string[];
export type Tree = { [key: string]: Value | Tree };
export type Edit = { path: string[]; value: Value } | { path: string[]; unset: true };

export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  line: number;
  column: number;
  hint?: string;
  path?: string[];
}

export interface Schemas {
  /** What each key means (the typed model). */
  model: SchemaNode;
  /** What the text holds at each key. */
  text: SchemaNode;
}

/** The schema node that describes `path`; item names of records match their record's item schema. */
export function nodeAt(schema: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const seg of path) {
    if (!node) return undefined;
    if (node.properties && Object.hasOwn(node.properties, seg)) node = node.properties[seg];
    else if (typeof node.additionalProperties === 'object') node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

export function getAt(tree: Tree | undefined, path: readonly string[]): Value | Tree | undefined {
  let node: Value | Tree | undefined = tree;
  for (const seg of path) {
    if (node === undefined || typeof node === 'string' || Array.isArray(node) || !Object.hasOwn(node, seg)) return undefined;
    node = node[seg];
  }
  return node;
}

const isSection = (v: Value | Tree | undefined): v is Tree => v !== undefined && typeof v === 'object' && !Array.isArray(v);

// ---- what kind of field a key is --------------------------------------------------------------

export type FieldKind = 'section' | 'record' | 'apps' | 'select' | 'checkbox' | 'list' | 'password' | 'multiline' | 'source' | 'text';

export interface FieldSpec {
  kind: FieldKind;
  path: string[];
  label: string;
  help?: string;
  /** Choices of a select, one spelling each. */
  options?: string[];
  /** Other spellings the text may hold, each to the choice it is the same as. */
  aliases?: Record<string, string>;
  /** The model's default, as the text would write it ('1' for true). */
  defaultText?: string;
  /** The default as a person reads it, with its unit ("1 GB" for ram's 1024 MiB); unset where that is defaultText. */
  defaultShown?: string;
  required: boolean;
  numeric: boolean;
  /** A section with keys of its own and items named by the user besides ([dns]: forwarders and zones). */
  items?: boolean;
}

const PASSWORD_KEYS = new Set(['root_passwd', 'passwd', 'password']);
/** Paths of files beside the config: the page keeps the files the user picks for them and sends them along. */
const SOURCE_FIELDS = new Set(['files.*.source', 'scripts.*.source']);

/** Whether a section's schema takes items beside its own keys (zod's catchall). */
const hasItems = (node: SchemaNode | undefined): boolean => typeof node?.additionalProperties === 'object' && !!node.properties;

export function fieldSpec(schemas: Schemas, path: readonly string[]): FieldSpec | undefined {
  const model = nodeAt(schemas.model, path);
  const text = nodeAt(schemas.text, path);
  if (!model || !text) return undefined;
  const key = path[path.length - 1] ?? '';
  const parent = nodeAt(schemas.model, path.slice(0, -1));
  const label = labelFor(schemas, path);
  const base = {
    path: [...path],
    label,
    // A description that only repeats the label ("file system") is noise beside it.
    ...(model.description && model.description.toLowerCase() !== label.toLowerCase() ? { help: model.description } : {}),
    required: parent?.required?.includes(key) === true && model.default === undefined,
    numeric: false,
  };
  if (text.type === 'object') {
    if (text.properties) return { ...base, kind: 'section', ...(hasItems(text) ? { items: true } : {}) };
    // A record whose keys are a closed list of names set to yes/no: an application section.
    if (model.propertyNames?.enum && typeof model.additionalProperties === 'object' && model.additionalProperties.type === 'boolean') {
      return { ...base, kind: 'apps', options: [...model.propertyNames.enum] };
    }
    return { ...base, kind: 'record' };
  }
  const defaultText = defaultAsText(model.default);
  const shown = defaultText === undefined ? undefined : withUnit(defaultText, model.description ?? '');
  const withDefault = defaultText === undefined ? base : { ...base, defaultText, ...(shown !== defaultText ? { defaultShown: shown } : {}) };
  if (model.enum) {
    const aliases = model['x-same-as'] ?? {};
    return { ...withDefault, kind: 'select', options: model.enum.filter((v) => !Object.hasOwn(aliases, v)), ...(Object.keys(aliases).length > 0 ? { aliases } : {}) };
  }
  if (model.type === 'boolean') return { ...withDefault, kind: 'checkbox' };
  if (text.anyOf || model.type === 'array') return { ...withDefault, kind: 'list' };
  if (PASSWORD_KEYS.has(key)) return { ...withDefault, kind: 'password' };
  if (model.contentMediaType === 'text/plain') return { ...withDefault, kind: 'multiline' };
  if (SOURCE_FIELDS.has(patternOf(schemas, path))) return { ...withDefault, kind: 'source' };
  return { ...withDefault, kind: 'text', numeric: model.type === 'integer' && !/MiB|netmask/.test(model.description ?? '') };
}

/** A bare number with the unit its description names: sizes in MiB as MB or GB, times in seconds. */
export function withUnit(text: string, description: string): string {
  if (!/^\d+$/.test(text)) return text;
  const n = Number(text);
  if (/\bMiB\b/.test(description)) return n >= 1024 && n % 1024 === 0 ? `${n / 1024} GB` : `${n} MB`;
  if (/\bseconds\b/.test(description)) return `${n} seconds`;
  return text;
}

function defaultAsText(value: unknown): string | undefined {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * The keys of a section in the model's order, then any the file has that the model does not know;
 * in a section that takes items beside its keys, the others are its items (itemNames).
 */
export function sectionKeys(schemas: Schemas, path: readonly string[], tree?: Tree): string[] {
  const node = nodeAt(schemas.model, path);
  const keys = Object.keys(node?.properties ?? {});
  const here = getAt(tree, path);
  if (isSection(here) && !hasItems(node)) for (const k of Object.keys(here)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

// ---- values: text ↔ input ---------------------------------------------------------------------

const TRUE = new Set(['1', 'yes', 'true', 'on']);

/** A list as the form reads it: comma-separated text or the text's list, items trimmed, empty ones dropped. */
const listOf = (v: Value | Tree | undefined): string[] =>
  (typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : []).map((g) => g.trim()).filter((g) => g !== '');

/** What an input shows for the value the text holds. */
export function toInput(spec: FieldSpec, raw: Value | Tree | undefined): string | boolean {
  const value = isSection(raw) ? undefined : raw;
  if (spec.kind === 'checkbox') {
    const text = value === undefined ? spec.defaultText : Array.isArray(value) ? value.join(',') : value;
    return text !== undefined && TRUE.has(text.toLowerCase());
  }
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The edit an input's new state makes. An empty field removes the key (the model's default
 * applies); a checkbox writes 0 only where the default is yes, as the examples do.
 */
export function fromInput(spec: FieldSpec, input: string | boolean): Edit {
  const path = spec.path;
  if (spec.kind === 'checkbox') {
    if (input === true) return { path, value: '1' };
    return spec.defaultText === '1' ? { path, value: '0' } : { path, unset: true };
  }
  const text = String(input);
  if (spec.kind === 'list') {
    const items = listOf(text);
    if (items.length === 0) return { path, unset: true };
    return { path, value: items.length === 1 ? items[0]! : items };
  }
  // A password may begin or end with a space, a script or a file's text with a line break; nothing else the form writes does.
  const value = spec.kind === 'password' || spec.kind === 'multiline' ? (text.trim() === '' ? '' : text) : text.trim();
  return value === '' ? { path, unset: true } : { path, value };
}

// ---- records: disks, partitions, users, ports … -----------------------------------------------

export interface RecordSpec {
  /** Items are named prefix0, prefix1, … as the seed names them. */
  prefix: string;
  /** The one thing asked for before an item exists (a section needs one key to be in the file). */
  ask?: string;
  /** Items are named by the user, not prefixN (a DHCP scope by its NIC, a record by its owner name): what the name is. */
  askName?: string;
  /** Keys every new item gets, besides the asked one. */
  seed?: Record<string, string>;
  /** Edits beyond the item itself (a NIC is in [hardware] and in [network]). */
  alsoAdd?: (name: string) => Edit[];
  alsoRemove?: (name: string) => Edit[];
  /** Items shown: defaults to the record's own keys. */
  names?: (tree: Tree | undefined) => string[];
  /** Whether the form offers to add items here (network adapters are added under hardware). */
  addable?: boolean;
  /**
   * Another section whose item of the same name is the same thing, shown in one place with this
   * one's: a network adapter is its card in [hardware] and its addresses in [network].
   */
  joined?: (name: string) => string[];
  /** Word for one item in headings and buttons. */
  noun: string;
}

/** Names of the NICs in either section, hardware's first: one adapter, two halves of config. */
export function nicNames(tree: Tree | undefined): string[] {
  const names = [...itemNames(tree, ['hardware', 'eths'])];
  for (const n of itemNames(tree, ['network', 'eths'])) if (!names.includes(n)) names.push(n);
  return names;
}

const nicBoth = (name: string): Edit[] => [
  { path: ['hardware', 'eths', name], unset: true },
  { path: ['network', 'eths', name], unset: true },
];

export const RECORDS: Record<string, RecordSpec> = {
  'hardware.hdds': { prefix: 'hdd', ask: 'size', noun: 'disk' },
  'hardware.hdds.*.partitions': { prefix: 'partition', ask: 'fs', noun: 'partition' },
  'hardware.cd_drives': { prefix: 'cd_drive', ask: 'path', noun: 'CD drive' },
  'hardware.eths': {
    prefix: 'eth', seed: { type: 'nat' }, noun: 'network adapter', names: nicNames,
    alsoAdd: (name) => [{ path: ['network', 'eths', name, 'type'], value: 'dhcp' }], alsoRemove: nicBoth,
    joined: (name) => ['network', 'eths', name],
  },
  'network.eths': { prefix: 'eth', noun: 'network adapter', names: nicNames, addable: false, alsoRemove: nicBoth },
  'users.groups': { prefix: 'group', noun: 'group' },
  'users.users': { prefix: 'user', ask: 'name', noun: 'user' },
  'network.routes': { prefix: 'route', ask: 'to', noun: 'route' },
  'network.open_ports': { prefix: 'port', ask: 'port', seed: { proto: 'tcp' }, noun: 'open port' },
  'network.firewall-rules': { prefix: 'rule', noun: 'firewall rule' },
  'config.repos': { prefix: 'repo', noun: 'package source' },
  files: { prefix: 'file', ask: 'path', noun: 'file' },
  scripts: { prefix: 'script', seed: { when: 'build' }, noun: 'script' },
  web: { prefix: 'site', ask: 'server_name', noun: 'web site' },
  dns: { prefix: 'zone', ask: 'zone', noun: 'zone' },
  'dns.*.records': { prefix: 'name', askName: 'name (www, or @ for the zone)', noun: 'record' },
  // A scope is named after its NIC and needs a range to be a section; the empty one shows its hint at once.
  dhcp: { prefix: 'eth', askName: 'NIC (e.g. eth1)', seed: { range: '' }, noun: 'DHCP scope' },
  'dhcp.*.hosts': { prefix: 'host', askName: 'host name', noun: 'fixed address' },
  database: { prefix: 'db', ask: 'user', noun: 'database' },
};

/** A path with item names replaced by '*', to look up tables keyed by pattern. */
export function patternOf(schemas: Schemas, path: readonly string[]): string {
  const out: string[] = [];
  let node: SchemaNode | undefined = schemas.model;
  for (const seg of path) {
    if (node?.properties && Object.hasOwn(node.properties, seg)) {
      out.push(seg);
      node = node.properties[seg];
    } else {
      out.push(typeof node?.additionalProperties === 'object' && !node.propertyNames?.enum ? '*' : seg);
      node = typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined;
    }
  }
  return out.join('.');
}

export function recordSpec(schemas: Schemas, path: readonly string[]): RecordSpec {
  const key = path[path.length - 1] ?? 'item';
  return RECORDS[patternOf(schemas, path)] ?? { prefix: key.replace(/s$/, ''), noun: key.replace(/s$/, '').replace(/_/g, ' ') };
}

/** The items of a record, or of a section with items beside its own keys (given the schemas). */
export function itemNames(tree: Tree | undefined, path: readonly string[], schemas?: Schemas): string[] {
  const here = getAt(tree, path);
  const own = schemas ? Object.keys(nodeAt(schemas.model, path)?.properties ?? {}) : [];
  return isSection(here) ? Object.keys(here).filter((k) => !own.includes(k)) : [];
}

/** The first prefixN not taken. */
export function nextItemName(taken: readonly string[], prefix: string): string {
  for (let n = 0; ; n++) if (!taken.includes(`${prefix}${n}`)) return `${prefix}${n}`;
}

/** The edits that add an item to the record at `path`; `asked` is the value the user gave first. */
export function addItemEdits(schemas: Schemas, tree: Tree | undefined, path: readonly string[], asked?: string): { name: string; edits: Edit[] } {
  const spec = recordSpec(schemas, path);
  const taken = spec.names ? spec.names(tree) : itemNames(tree, path, schemas);
  const name = spec.askName !== undefined && asked !== undefined ? asked : nextItemName(taken, spec.prefix);
  const item = [...path, name];
  const itemText = nodeAt(schemas.text, item);
  const edits: Edit[] = [];
  if (itemText?.type !== 'object') {
    // A record of plain values (groups, repos): the item is its value.
    edits.push({ path: item, value: spec.askName !== undefined ? '' : asked ?? '' });
  } else {
    for (const [k, v] of Object.entries(spec.seed ?? {})) edits.push({ path: [...item, k], value: v });
    // Named by what was asked, the item still needs a key to be in the file.
    if (spec.askName !== undefined && edits.length === 0) edits.push({ path: [...item, sectionKeys(schemas, item)[0]!], value: '' });
    if (spec.ask && asked !== undefined) edits.push({ path: [...item, spec.ask], value: asked });
  }
  edits.push(...(spec.alsoAdd?.(name) ?? []));
  return { name, edits };
}

export function removeItemEdits(schemas: Schemas, path: readonly string[], name: string): Edit[] {
  const spec = recordSpec(schemas, path);
  return spec.alsoRemove ? spec.alsoRemove(name) : [{ path: [...path, name], unset: true }];
}

/**
 * The keys an item shows at once; the rest wait under "more" (opened when they hold a value).
 * Addresses of a NIC matter only when it is static.
 */
const ITEM_KEYS: Record<string, (item: Tree) => string[]> = {
  'hardware.hdds.*': () => ['size', 'type', 'table', 'partitions'],
  'hardware.hdds.*.partitions.*': () => ['fs', 'size', 'mount'],
  'hardware.cd_drives.*': () => ['path', 'type', 'connected'],
  'users.users.*': () => ['name', 'passwd', 'groups', 'shell'],
  'hardware.eths.*': () => ['type'],
  'network.eths.*': (item) => (item.type === 'static' ? ['type', 'address', 'network', 'gateway', 'dns'] : ['type']),
  'files.*': () => ['path', 'source', 'content'],
  'scripts.*': () => ['when', 'run', 'source'],
  'dns.*': () => ['zone', 'records'],
  'dhcp.*': () => ['range', 'gateway', 'dns', 'hosts'],
};

/** An item's keys in the model's order, split into those shown at once and the rest. */
export function itemKeys(schemas: Schemas, path: readonly string[], tree: Tree | undefined): { primary: string[]; more: string[] } {
  const keys = sectionKeys(schemas, path, tree);
  const pick = ITEM_KEYS[patternOf(schemas, path)];
  if (!pick) return { primary: keys, more: [] };
  const here = getAt(tree, path);
  const primary = new Set(pick(isSection(here) ? here : {}));
  return { primary: keys.filter((k) => primary.has(k)), more: keys.filter((k) => !primary.has(k)) };
}

// ---- applications -----------------------------------------------------------------------------

// The server's own declaration of what GET /api/config/apps answers.
export type { OfferedApp };

export interface AppChoice extends OfferedApp {
  checked: boolean;
}

/**
 * What the form offers in an application section: the apps the chosen OS can install, plus any the
 * text asks for that it cannot (checked, with the reason), so nothing in the file is hidden.
 */
export function appChoices(category: string, apps: readonly OfferedApp[], tree: Tree | undefined): AppChoice[] {
  const section = getAt(tree, [category]);
  const asked = isSection(section) ? section : {};
  const isOn = (name: string): boolean => {
    const v = asked[name];
    return typeof v === 'string' && TRUE.has(v.toLowerCase());
  };
  const offered = apps.filter((a) => a.category === category && (a.available || Object.hasOwn(asked, a.name)));
  const out: AppChoice[] = offered.map((a) => ({ ...a, checked: isOn(a.name) }));
  for (const name of Object.keys(asked)) {
    if (out.some((a) => a.name === name)) continue;
    // The model takes any app in any of the three sections (the seed puts git under [devel]).
    const known = apps.find((a) => a.name === name);
    out.push(known ? { ...known, category, checked: isOn(name) }
      : { name, category, description: '', available: false, reason: 'not in the catalog for this OS', checked: isOn(name) });
  }
  return out;
}

export function appEdit(category: string, name: string, on: boolean): Edit {
  return on ? { path: [category, name], value: '1' } : { path: [category, name], unset: true };
}

// ---- where a diagnostic is shown --------------------------------------------------------------

export const pathId = (path: readonly string[]): string => path.join('.');

/** The shown field nearest to a diagnostic's path: itself, or the section or item it is in. */
export function fieldFor(path: readonly string[] | undefined, shown: ReadonlySet<string>): string | undefined {
  if (!path) return undefined;
  for (let n = path.length; n > 0; n--) {
    const id = pathId(path.slice(0, n));
    if (shown.has(id)) return id;
  }
  return undefined;
}

// ---- the guided layout ------------------------------------------------------------------------

export interface StepSpec {
  id: string;
  title: string;
  /** The section whose own messages (a missing root password) the step shows. */
  section?: string;
  /**
   * Key paths shown in this step, in order; 'x.*' is every other key of x, under "more options";
   * 'a+b': b is shown with a (its items joined to a's, RecordSpec.joined).
   */
  fields: string[];
}

export const TARGET_FIELD = '@target';

export const STEPS: readonly StepSpec[] = [
  { id: 'machine', title: 'Target and operating system', fields: [TARGET_FIELD, 'hardware.os', 'hardware.vm_id'] },
  { id: 'hardware', title: 'Hardware', section: 'hardware', fields: ['hardware.num_cpu', 'hardware.ram', 'hardware.hdds', 'hardware.cd_drives', 'hardware.*'] },
  { id: 'system', title: 'System', section: 'config', fields: ['config.hostname', 'config.root_passwd', 'config.timezone', 'config.*'] },
  { id: 'users', title: 'Users and groups', section: 'users', fields: ['users.groups', 'users.users', 'users.*'] },
  // A network adapter in one place: its card ([hardware]) and its addresses ([network]).
  { id: 'network', title: 'Network', section: 'network', fields: ['hardware.eths+network.eths', 'network.gateway', 'network.dns', 'network.open_ports', 'network.*'] },
  { id: 'apps', title: 'Applications', fields: ['devel', 'services', 'gui', 'kits'] },
  { id: 'provision', title: 'Files, scripts and services', fields: ['files', 'scripts', 'web', 'dns', 'dhcp', 'router', 'database'] },
];

export type Placed = { kind: 'field'; path: string[]; also?: string[][] } | { kind: 'more'; path: string[]; keys: string[] } | { kind: 'target' };

/**
 * The steps with every key of the model placed exactly once: a key no step names lands in its
 * section's "more options", and a section no step names gets a step of its own.
 */
export function layout(schemas: Schemas): { id: string; title: string; section?: string; items: Placed[] }[] {
  const named = new Set<string>();
  for (const step of STEPS) for (const f of step.fields) if (!f.endsWith('.*') && f !== TARGET_FIELD) f.split('+').forEach((p) => named.add(p));
  const steps = STEPS.map((step) => ({
    id: step.id,
    title: step.title,
    ...(step.section ? { section: step.section } : {}),
    items: step.fields.map((f): Placed => {
      if (f === TARGET_FIELD) return { kind: 'target' };
      const [first, ...also] = f.split('+');
      const path = first!.split('.');
      if (also.length > 0) return { kind: 'field', path, also: also.map((a) => a.split('.')) };
      if (path[path.length - 1] !== '*') return { kind: 'field', path };
      const section = path.slice(0, -1);
      const keys = sectionKeys(schemas, section).filter((k) => !named.has(pathId([...section, k])));
      keys.forEach((k) => named.add(pathId([...section, k])));
      return { kind: 'more', path: section, keys };
    }).filter((p) => p.kind !== 'more' || p.keys.length > 0),
  }));
  const rest = sectionKeys(schemas, []).filter((k) => ![...named].some((n) => n === k || n.startsWith(`${k}.`)));
  if (rest.length > 0) steps.push({ id: 'other', title: 'Other settings', items: rest.map((k) => ({ kind: 'field', path: [k] })) });
  return steps;
}

// ---- labels -----------------------------------------------------------------------------------

const LABELS: Record<string, string> = {
  'hardware.os': 'Operating system',
  'hardware.vm_id': 'Machine name',
  'hardware.num_cpu': 'CPUs',
  'hardware.ram': 'Memory',
  'hardware.firmware': 'Firmware',
  'hardware.hdds': 'Disks',
  'hardware.hdds.*.size': 'Size',
  'hardware.hdds.*.type': 'Controller',
  'hardware.hdds.*.scsi_index': 'SCSI controller index',
  'hardware.hdds.*.pos': 'Position (bus:unit)',
  'hardware.hdds.*.name': 'File name',
  'hardware.hdds.*.table': 'Partition table',
  'hardware.hdds.*.partitions': 'Partitions',
  'hardware.hdds.*.partitions.*.type': 'Kind',
  'hardware.hdds.*.partitions.*.fs': 'File system',
  'hardware.hdds.*.partitions.*.size': 'Size',
  'hardware.hdds.*.partitions.*.mount': 'Mount point',
  'hardware.hdds.*.partitions.*.label': 'Label',
  'hardware.cd_drives': 'CD/DVD drives',
  'hardware.cd_drives.*.type': 'Controller',
  'hardware.cd_drives.*.pos': 'Position (bus:unit)',
  'hardware.cd_drives.*.path': 'ISO image',
  'hardware.cd_drives.*.copy': 'Copy the ISO into the archive',
  'hardware.cd_drives.*.connected': 'Connected at power on',
  'hardware.eths': 'Network adapters',
  'hardware.eths.*.type': 'Connection to the host',
  'hardware.eths.*.connected': 'Connected at power on',
  'hardware.eths.*.hw_addr': 'MAC address',
  'config.hostname': 'Host name',
  'config.root_passwd': 'Root password',
  'config.root_password_hash': 'Root password hash',
  'config.bash_completion': 'Bash completion',
  'config.repos': 'Extra package sources',
  'config.timezone': 'Time zone',
  'config.locale': 'Locale',
  'config.keyboard': 'Keyboard layout',
  'config.mirror': 'Package mirror',
  'users.groups': 'Groups',
  'users.users': 'Users',
  'users.users.*.name': 'Login name',
  'users.users.*.passwd': 'Password',
  'users.users.*.password_hash': 'Password hash',
  'users.users.*.groups': 'Groups (comma-separated)',
  'users.users.*.home_dir': 'Home directory',
  'users.users.*.shell': 'Login shell',
  'users.users.*.ssh_keys': 'SSH public keys (comma-separated)',
  'network.eths': 'Addresses of the network adapters',
  'network.eths.*.type': 'Addressing',
  'network.eths.*.address': 'IPv4 address',
  'network.eths.*.network': 'Netmask',
  'network.eths.*.gateway': 'Gateway of this adapter',
  'network.eths.*.dns': 'DNS servers of this adapter (comma-separated)',
  'network.dns': 'DNS servers of the machine (comma-separated)',
  'network.gateway': 'Default gateway of the machine',
  'network.routes': 'Routes',
  'network.routes.*.to': 'Destination (CIDR)',
  'network.routes.*.via': 'Next hop',
  'network.routes.*.dev': 'Interface',
  'network.open_ports': 'Open ports',
  'network.open_ports.*.proto': 'Protocol',
  'network.open_ports.*.port': 'Port or range',
  'network.open_ports.*.description': 'Description',
  'network.firewall-rules': 'Raw firewall rules',
  files: 'Files',
  'files.*.path': 'Path in the guest',
  'files.*.source': 'File or directory beside the config',
  'files.*.content': 'Content',
  'files.*.mode': 'Mode (octal)',
  scripts: 'Scripts',
  'scripts.*.when': 'When',
  'scripts.*.run': 'Commands',
  'scripts.*.source': 'Script file beside the config',
  'scripts.*.network': 'Network access while it runs (build scripts)',
  web: 'Web sites',
  'web.*.server_name': 'Server name',
  'web.*.aliases': 'Other names (comma-separated)',
  'web.*.root': 'Document root',
  'web.*.tls': 'HTTPS with a self-signed certificate',
  dns: 'DNS server',
  'dns.forwarders': 'Forwarders (comma-separated)',
  'dns.*.zone': 'Zone',
  'dns.*.ttl': 'Default TTL (seconds)',
  'dns.*.ns': 'Name server',
  'dns.*.email': 'Contact address',
  'dns.*.records': 'Records',
  dhcp: 'DHCP server',
  'dhcp.*.range': 'Address range (first - last)',
  'dhcp.*.gateway': 'Gateway handed out',
  'dhcp.*.dns': 'DNS servers handed out (comma-separated)',
  'dhcp.*.domain': 'Domain handed out',
  'dhcp.*.lease': 'Lease time (seconds)',
  'dhcp.*.hosts': 'Fixed addresses (MAC, address)',
  router: 'Router',
  'router.forward': 'Route between NICs (comma-separated)',
  'router.nat': 'NAT out of NIC',
  database: 'Database server',
  'database.*.name': 'Database name',
  'database.*.user': 'Owner',
  'database.*.password': 'Owner\'s password',
  devel: 'Development tools',
  services: 'Services',
  gui: 'Graphical applications',
  kits: 'Windows installer parameters',
  'kits.*.install_dir': 'Install directory (a Windows path)',
  'kits.*.args': 'Extra installer arguments',
};

/** Label by pattern (hardware.hdds.hdd0.size → hardware.hdds.*.size), else the key in words. */
export function labelFor(schemas: Schemas, path: readonly string[]): string {
  const known = LABELS[patternOf(schemas, path)];
  if (known) return known;
  const key = path[path.length - 1] ?? '';
  const words = key.replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ---- files beside the config ------------------------------------------------------------------

/** A file the user picked: its name, and its path inside a picked directory (webkitRelativePath), if any. */
export interface PickedFile {
  name: string;
  relativePath?: string;
  size: number;
}

/** A source as a kept path: no leading ./, no trailing /. */
function cleanSource(source: string): string {
  return source.trim().replace(/^(\.\/+)+/, '').replace(/\/+$/, '');
}

/**
 * Where picked files go among the files kept beside the config, and what the source key then says.
 * One file: it is the source (named as the key already says, else by its own name). A directory:
 * its files keep their paths inside it, under the name the key says, else the directory's own.
 */
export function placePicked(current: string, picked: readonly PickedFile[]): { source: string; paths: string[] } | undefined {
  if (picked.length === 0) return undefined;
  const named = cleanSource(current);
  const inDir = picked.filter((f) => f.relativePath?.includes('/'));
  if (inDir.length === picked.length) {
    const top = inDir[0]!.relativePath!.split('/')[0]!;
    const base = named || top;
    return { source: base, paths: inDir.map((f) => `${base}${f.relativePath!.slice(top.length)}`) };
  }
  const name = named || picked[0]!.name;
  return { source: name, paths: [name] };
}

/** The kept files a source names: itself, or everything under it. */
export function filesUnder(source: string, kept: Iterable<string>): string[] {
  const s = cleanSource(source);
  if (s === '') return [];
  return [...kept].filter((p) => p === s || p.startsWith(`${s}/`)).sort();
}

// ---- the form's words for items and places ------------------------------------------------------

const text = (v: Value | Tree | undefined): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
/** "8GB" as a person writes it: "8 GB". */
const spaced = (size: string): string => size.replace(/^(\d+(?:\.\d+)?)\s*([A-Za-z]+)$/, '$1 $2');

/**
 * An item's title by what it holds, per record pattern; the item's key where it holds nothing to
 * name it by yet. `n` is its place in the record, from 1.
 */
const nicTitle = (_v: Value | Tree | undefined, _n: number, name: string, tree: Tree | undefined): string => {
  const addr = getAt(tree, ['network', 'eths', name]);
  const type = text(getAt(addr as Tree, ['type'])) ?? 'dhcp';
  const address = text(getAt(addr as Tree, ['address']));
  return `Network adapter ${name} (${type === 'static' ? address ?? 'static' : type.toUpperCase()})`;
};

const ITEM_TITLES: Record<string, (item: Value | Tree | undefined, n: number, name: string, tree: Tree | undefined) => string | undefined> = {
  'hardware.hdds': (v, n) => `Disk ${n}${text(getAt(v as Tree, ['size'])) ? `: ${spaced(text(getAt(v as Tree, ['size']))!)}` : ''}`,
  'hardware.hdds.*.partitions': (v, n) => {
    const fs = text(getAt(v as Tree, ['fs']));
    const mount = text(getAt(v as Tree, ['mount']));
    return `Partition ${n}${fs ? `: ${fs}` : ''}${mount ? ` on ${mount}` : ''}`;
  },
  'hardware.cd_drives': (_v, n) => `CD drive ${n}`,
  // One adapter, whichever half a message is about.
  'hardware.eths': nicTitle,
  'network.eths': nicTitle,
  'users.users': (v) => (text(getAt(v as Tree, ['name'])) ? `User ${text(getAt(v as Tree, ['name']))}` : undefined),
  'users.groups': (v) => (text(v) ? `Group ${text(v)}` : undefined),
  'network.open_ports': (v) => {
    const port = text(getAt(v as Tree, ['port']));
    return port ? `Port ${port}/${text(getAt(v as Tree, ['proto'])) ?? 'tcp'}` : undefined;
  },
  files: (v) => (text(getAt(v as Tree, ['path'])) ? `File ${text(getAt(v as Tree, ['path']))}` : undefined),
  web: (v) => (text(getAt(v as Tree, ['server_name'])) ? `Web site ${text(getAt(v as Tree, ['server_name']))}` : undefined),
  dns: (v) => (text(getAt(v as Tree, ['zone'])) ? `Zone ${text(getAt(v as Tree, ['zone']))}` : undefined),
  database: (v, _n, name) => `Database ${text(getAt(v as Tree, ['name'])) ?? name}`,
};

/** What the form calls the item `name` of the record at `path`: "User alice", "Port 80/tcp", "Disk 1: 8 GB". */
export function itemTitle(schemas: Schemas, tree: Tree | undefined, path: readonly string[], name: string): string {
  const rec = recordSpec(schemas, path);
  const names = rec.names ? rec.names(tree) : itemNames(tree, path, schemas);
  const n = Math.max(0, names.indexOf(name)) + 1;
  const titled = ITEM_TITLES[patternOf(schemas, path)]?.(getAt(tree, [...path, name]), n, name, tree);
  return titled ?? `${rec.noun.charAt(0).toUpperCase()}${rec.noun.slice(1)} ${name}`;
}

/** Whether `path` names a record of items (disks, users, ports…), as opposed to a section of keys. */
const isRecord = (schemas: Schemas, path: readonly string[]): boolean => fieldSpec(schemas, path)?.kind === 'record' || fieldSpec(schemas, path)?.items === true;

/** The number of the form step (from 1) that shows a key path, or undefined for one no step shows. */
export function stepOf(schemas: Schemas, path: readonly string[]): number | undefined {
  const key = pathId(path);
  const under = (p: readonly string[]): boolean => key === pathId(p) || key.startsWith(`${pathId(p)}.`);
  const i = layout(schemas).findIndex((step) => step.items.some((it) => (it.kind === 'field' && [it.path, ...(it.also ?? [])].some(under))
    || (it.kind === 'more' && it.keys.some((k) => under([...it.path, k])))));
  return i === -1 ? undefined : i + 1;
}

/**
 * Where a key path is in the form, in its words: "Root password, step 3", "User alice: Password,
 * step 4". The file's keys stay in the text and its messages; the form speaks of what it shows.
 */
export function placeInForm(schemas: Schemas, tree: Tree | undefined, path: readonly string[]): string {
  const parts: string[] = [];
  let i = 0;
  for (; i < path.length; i++) {
    const at = path.slice(0, i + 1);
    if (i + 1 < path.length && isRecord(schemas, at)) {
      parts.length = 0;
      parts.push(itemTitle(schemas, tree, at, path[i + 1]!));
      i++;
    }
  }
  const leaf = path.length > 0 && !(path.length >= 2 && isRecord(schemas, path.slice(0, -1))) ? labelFor(schemas, path) : undefined;
  if (leaf) parts.push(leaf);
  const step = stepOf(schemas, path);
  return `${parts.join(': ')}${step ? `, step ${step}` : ''}`;
}

/** A message in the form's words: without the leading key the CLI names, and a CLI flag said as the form's control. */
export function formMessage(message: string, path: readonly string[] | undefined): string {
  const last = path?.[path.length - 1];
  const withoutKey = last && message.startsWith(`${last}: `) ? message.slice(last.length + 2) : message;
  return withoutKey.replace(/--target /g, 'the build target ');
}

/**
 * A hint in the form's words: the file's `'key = value'` becomes the field's label and the value
 * ("add 'address = 192.168.1.2'" at the address field: "for example 192.168.1.2"), for keys of the
 * item the diagnostic is about; anything else as formMessage says it.
 */
export function formHint(schemas: Schemas, hint: string, path: readonly string[] | undefined): string {
  if (!path || path.length === 0) return formMessage(hint, undefined);
  const item = path.slice(0, -1);
  const own = path[path.length - 1];
  const adds = /^add '([\w-]+) = ([^']+)'$/.exec(hint);
  if (adds && adds[1] === own) return `for example ${adds[2]}`;
  const worded = hint.replace(/'([\w-]+) = ([^']+)'/g, (all, key: string, value: string) => {
    const known = LABELS[patternOf(schemas, [...item, key])];
    return known ? `${known}: ${value}` : all;
  });
  return formMessage(worded, undefined);
}

// ---- review before Build -------------------------------------------------------------------------

/** Ports that mean nothing without a server behind them, and the applications that are one. */
const PORT_SERVERS: readonly { port: string; apps: readonly string[]; what: string }[] = [
  { port: '22', apps: ['services.sshd'], what: 'an SSH server (Applications: sshd)' },
  { port: '80', apps: ['services.httpd', 'services.nginx'], what: 'a web server (Applications: httpd or nginx)' },
  { port: '443', apps: ['services.httpd', 'services.nginx'], what: 'a web server (Applications: httpd or nginx)' },
];

export interface Review {
  /** What the machine is, one line a fact, in the form's words. */
  facts: [string, string][];
  /** What may not be what the user meant; none stops the build. */
  warnings: string[];
}

const on = (tree: Tree | undefined, path: string): boolean => TRUE.has((text(getAt(tree, path.split('.'))) ?? '').toLowerCase());

/** The machine summed up before Build, with what looks unmeant (a port open with no server behind it). */
export function reviewOf(schemas: Schemas, tree: Tree | undefined, target: string): Review {
  const at = (path: string): string | undefined => text(getAt(tree, path.split('.')));
  const nics = nicNames(tree).map((n) => {
    const type = at(`network.eths.${n}.type`) ?? 'dhcp';
    return `${n}: ${type === 'static' ? `static ${at(`network.eths.${n}.address`) ?? '(no address)'}` : type}`;
  });
  const ports = itemNames(tree, ['network', 'open_ports'], schemas);
  const open = ports.map((p) => ({ port: at(`network.open_ports.${p}.port`) ?? '', proto: at(`network.open_ports.${p}.proto`) ?? 'tcp' }));
  const apps = ['devel', 'services', 'gui'].flatMap((c) => Object.keys((getAt(tree, [c]) as Tree | undefined) ?? {}).filter((a) => on(tree, `${c}.${a}`)));
  const ram = at('hardware.ram');
  const facts: [string, string][] = [
    ['Machine', `${at('hardware.vm_id') ?? '(no name)'}${at('config.hostname') ? `, host name ${at('config.hostname')}` : ''}`],
    ['Operating system', at('hardware.os') ?? '(none chosen)'],
    ['Build target', target],
    ['CPUs', at('hardware.num_cpu') ?? '1 (default)'],
    ['Memory', ram ? (/^\d+$/.test(ram) ? withUnit(ram, 'MiB') : spaced(ram)) : '1 GB (default)'],
    ['Disks', itemNames(tree, ['hardware', 'hdds'], schemas).map((d) => itemTitle(schemas, tree, ['hardware', 'hdds'], d)).join('; ') || 'none'],
    ['Network', nics.join('; ') || 'no network adapter'],
    ['Users', itemNames(tree, ['users', 'users'], schemas).map((u) => at(`users.users.${u}.name`) ?? u).join(', ') || 'root only'],
    ['Open ports', open.length > 0 ? `${open.map((p) => `${p.port}/${p.proto}`).join(', ')}; every port not listed is closed` : 'none: every port is closed'],
    ['Applications', apps.join(', ') || 'none'],
  ];
  const warnings = PORT_SERVERS.filter((s) => open.some((p) => p.port === s.port && p.proto !== 'udp') && !s.apps.some((a) => on(tree, a)))
    .map((s) => `Port ${s.port}/tcp is open, but the machine has no ${s.what.replace(/^an? /, '')}: nothing will answer there.`);
  const served = PORT_SERVERS.filter((s) => s.port === '22' && on(tree, s.apps[0]!) && !open.some((p) => p.port === '22'));
  if (served.length > 0) warnings.push('An SSH server is installed, but port 22 is not open: every port not listed is closed, so it cannot be reached.');
  return { facts, warnings };
}

// ---- suggestions for free-text keys -----------------------------------------------------------------

/**
 * Values offered as a picker (a datalist: any other value can still be typed) for keys whose values
 * come from a list the config does not close: time zones from the browser's own table.
 */
export const SUGGESTIONS: Record<string, () => readonly string[]> = {
  'config.timezone': () => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['Etc/UTC']),
  'config.locale': () => ['en_US.UTF-8', 'en_GB.UTF-8', 'de_DE.UTF-8', 'fr_FR.UTF-8', 'es_ES.UTF-8', 'it_IT.UTF-8', 'ro_RO.UTF-8', 'pt_BR.UTF-8', 'nl_NL.UTF-8', 'pl_PL.UTF-8', 'C.UTF-8'],
  'config.keyboard': () => ['us', 'gb', 'de', 'fr', 'es', 'it', 'ro', 'pt', 'br', 'nl', 'pl', 'se', 'no', 'dk', 'fi', 'ch'],
  'users.users.*.shell': () => ['/bin/bash', '/bin/sh', '/usr/bin/zsh', '/usr/bin/fish', '/usr/sbin/nologin'],
};

// ---- a user's groups ----------------------------------------------------------------------------

export interface GroupChoice {
  name: string;
  checked: boolean;
}

/**
 * A user's groups as the form offers them: a checklist of the groups the config defines ([users]
 * groups), and the user's other groups (the OS's own, such as sudo), which stay typed.
 */
export function groupChoices(schemas: Schemas, tree: Tree | undefined, groupsPath: readonly string[]): { defined: GroupChoice[]; others: string[] } {
  const has = listOf(getAt(tree, groupsPath));
  const defined = [...new Set(itemNames(tree, ['users', 'groups'], schemas).map((g) => text(getAt(tree, ['users', 'groups', g]))).filter((g): g is string => g !== undefined))];
  return { defined: defined.map((name) => ({ name, checked: has.includes(name) })), others: has.filter((g) => !defined.includes(g)) };
}

/** The edit that gives a user these groups: the checked defined ones in their order, then the others. */
export function groupsEdit(groupsPath: readonly string[], checked: readonly string[], others: string): Edit {
  const names = [...new Set([...checked, ...listOf(others)])];
  if (names.length === 0) return { path: [...groupsPath], unset: true };
  return { path: [...groupsPath], value: names.length === 1 ? names[0]! : names };
}
