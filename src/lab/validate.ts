import type { Diagnostic, Severity } from '../diagnostics.js';
import type { IniDocument, IniValue } from '../config/ini/document.js';
import { getValue, parseKeyPath } from '../config/ini/edit.js';
import { pathKey, type LogicalTree, type PlaceIndex } from '../config/normalize.js';
import { broadcastAddress, didYouMean, formatIPv4, ipInSubnet, isUsableHost, networkAddress, parseCidr, parseIPv4, checkHostname } from '../config/validators.js';
import { VmgenError } from '../errors.js';
import { MACHINE_KEYS, NIC_KEY, NIC_SPEC, type LabFile } from './model.js';
import type { CopyPlan, LabRef } from './machine.js';
import { parseRoster, type Roster } from './roster.js';
import { copyName, expandTemplate, parseTemplate, rosterColumns, type TemplatePart } from './template.js';
import type { LabNetwork } from './types.js';
import type { ConfigSources } from '../config/sources.js';

/*
 * The lab's own checks: its names, networks, NIC lines, templates and rosters, each reported at
 * its place in the lab file (or in the roster). The machines' configs are checked by loadConfig,
 * in load.ts; what needs both (a DHCP NIC needs a server among the machines) is at the end.
 */

export type Report = (d: Diagnostic, file?: string) => void;

/** Where the lab file says things: places from normalize plus the document's lines for columns inside values. */
export class LabPlaces {
  constructor(readonly doc: IniDocument, readonly places: PlaceIndex) {}

  ref(path: readonly string[], at: 'value' | 'key' = 'value'): LabRef {
    const p = this.places.get(pathKey(path));
    if (!p) return { line: 1, column: 1 };
    return { line: p.line, column: at === 'key' ? p.keyColumn ?? p.column : p.column };
  }

  /** The column of the character at `offset` in a value as read (after its opening quote, if quoted). */
  inValue(path: readonly string[], offset: number): LabRef {
    const base = this.ref(path);
    const line = this.doc.lines[base.line - 1] ?? '';
    const quoted = line[base.column - 1] === '"' || line[base.column - 1] === "'";
    return { line: base.line, column: base.column + offset + (quoted ? 1 : 0) };
  }
}

const diag = (at: LabRef, code: string, message: string, hint?: string, severity: Severity = 'error'): Diagnostic =>
  ({ code, severity, line: at.line, column: at.column, message, ...(hint ? { hint } : {}) });

/** Network names become bridge names (at most 15 characters with a prefix): short and plain. */
const NETWORK_NAME = /^[a-z][a-z0-9-]{0,9}$/;
const ENTRY_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * Keys of a [machines] entry that are neither its settings nor NIC lines: a NIC line whose name is
 * not ethN, or an unknown key. They are reported and removed so the model checks the rest.
 */
export function checkMachineKeys(tree: LogicalTree, lab: LabPlaces, report: Report): void {
  const machines = tree.machines;
  if (!machines || typeof machines !== 'object' || Array.isArray(machines)) return;
  for (const [entry, body] of Object.entries(machines)) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) continue;
    for (const [key, value] of Object.entries(body)) {
      if (MACHINE_KEYS.includes(key) || NIC_KEY.test(key)) continue;
      const at = lab.ref(['machines', entry, key], 'key');
      if (typeof value === 'string' && NIC_SPEC.test(value)) {
        report(diag(at, 'LAB_NIC_NAME', `'${key}' is not a NIC name`, 'NICs are named eth0, eth1, … as in the machine config\'s [hardware] [[eths]]'));
      } else {
        const guess = didYouMean(key, MACHINE_KEYS);
        report(diag(at, 'LAB_UNKNOWN_KEY', `unknown key '${key}' in [machines] [[${entry}]]`,
          guess ? `did you mean '${guess}'?` : `known: ${MACHINE_KEYS.join(', ')}, and ethN = NETWORK:ADDRESS`));
      }
      delete (body as LogicalTree)[key];
    }
  }
}

/** The lab's networks, checked: names, overlaps, and gateway and DNS addresses inside their subnet. */
export function labNetworks(model: LabFile, lab: LabPlaces, report: Report): LabNetwork[] {
  const out: LabNetwork[] = [];
  const seen: Array<{ name: string; net: number; prefix: number }> = [];
  for (const [name, n] of Object.entries(model.networks)) {
    const at = (key?: string): LabRef => lab.ref(key ? ['networks', name, key] : ['networks', name]);
    if (!NETWORK_NAME.test(name)) {
      report(diag(at(), 'LAB_NAME', `network name '${name}' is not allowed`, 'a network name is a lower-case letter, then up to 9 letters, digits or -: it names a bridge'));
    }
    const cidr = parseCidr(n.subnet);
    if (!cidr.ok) continue; // the model normalized it, so this does not happen
    const { address: net, prefix } = cidr.value;
    for (const other of seen) {
      const shorter = Math.min(prefix, other.prefix);
      if (networkAddress(net, shorter) === networkAddress(other.net, shorter)) {
        report(diag(at('subnet'), 'LAB_NETWORK_OVERLAP', `${n.subnet} overlaps network '${other.name}' (${formatIPv4(other.net)}/${other.prefix})`,
          'give each network its own subnet: the lab routes between them'));
      }
    }
    seen.push({ name, net, prefix });
    const inside = (key: string, address: string, where: LabRef): void => {
      const ip = parseIPv4(address);
      if (!ip.ok) return;
      if (!ipInSubnet(ip.value, net, prefix)) {
        report(diag(where, 'LAB_ADDRESS_OUTSIDE', `${key} ${address} is outside ${n.subnet}`, `a ${key} of network '${name}' is an address in ${n.subnet}`));
      } else if (!isUsableHost(ip.value, prefix)) {
        report(diag(where, 'LAB_ADDRESS_RESERVED', `${key} ${address} is the network's ${ip.value === net ? 'network' : 'broadcast'} address`, 'no host can have it'));
      }
    };
    if (n.gateway !== undefined) inside('gateway', n.gateway, at('gateway'));
    out.push({ name, subnet: n.subnet, prefix, ...(n.gateway !== undefined ? { gateway: n.gateway } : {}), dns: n.dns, ...(n.domain !== undefined ? { domain: n.domain } : {}) });
  }
  return out;
}

/** A copy of an entry, planned: its plan for the editor and what the lab record keeps. */
export interface PlannedCopy {
  plan: CopyPlan;
  group: string;
  index?: number;
  configPath: string;
}

interface Template {
  parts: TemplatePart[];
  /** Place of the value's first character; offsets are added to it. */
  path: string[];
  offset: number;
}

/** Parses a templated value at `path`, reporting its error at its column. */
function template(lab: LabPlaces, path: string[], value: string, offset: number, report: Report): Template | undefined {
  const t = parseTemplate(value);
  if (t.ok) return { parts: t.parts, path, offset };
  report(diag(lab.inValue(path, offset + t.error.offset), 'LAB_TEMPLATE', t.error.message, t.error.hint));
  return undefined;
}

const posixJoin = (dir: string, rel: string): string => (dir === '' || dir === '.' ? rel : `${dir}/${rel}`);

export interface EntryContext {
  sources: ConfigSources;
  /** How diagnostics name the lab file's directory ('' when they name files as they are in sources). */
  displayDir: string;
}

function readRoster(lab: LabPlaces, entry: string, path: string, ctx: EntryContext, report: Report): Roster | undefined {
  const at = lab.ref(['machines', entry, 'roster']);
  const st = ctx.sources.stat(path);
  if (st?.kind !== 'file') {
    report(diag(at, 'LAB_ROSTER_MISSING', `no roster file '${path}' beside the lab file`, 'a roster path is relative to the lab file and stays in its directory'));
    return undefined;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(ctx.sources.readFile(path));
  } catch {
    report(diag(at, 'LAB_ROSTER_SYNTAX', `the roster '${path}' is not UTF-8 text`, 'save it as UTF-8 CSV'));
    return undefined;
  }
  const parsed = parseRoster(text);
  for (const d of parsed.diagnostics) report(d, posixJoin(ctx.displayDir, path));
  return parsed.roster;
}

/**
 * Every [machines] entry as its copies: names, NICs with their addresses, set entries with their
 * values, for each n; and every problem of the templates, rosters, names and addresses.
 */
export function planCopies(model: LabFile, networks: readonly LabNetwork[], lab: LabPlaces, ctx: EntryContext, report: Report): PlannedCopy[] {
  const out: PlannedCopy[] = [];
  const names = new Map<string, string>();
  const addresses = new Map<string, { machine: string; network: string }>();
  for (const [entry, m] of Object.entries(model.machines)) {
    const base = ['machines', entry];
    const entryAt = lab.ref(base);
    if (!ENTRY_NAME.test(entry)) {
      report(diag(entryAt, 'LAB_NAME', `machine name '${entry}' is not allowed`, 'a machine name is lower-case letters, digits and -, not starting or ending with -: it becomes a host and container name'));
      continue;
    }
    const st = ctx.sources.stat(m.config);
    if (st?.kind !== 'file') {
      report(diag(lab.ref([...base, 'config']), 'LAB_CONFIG_MISSING', `no machine config '${m.config}' beside the lab file`, 'a config path is relative to the lab file and stays in its directory'));
    }
    const roster = m.roster === undefined ? undefined : readRoster(lab, entry, m.roster, ctx, report);
    if (roster && roster.rows.length < m.count) {
      report(diag(lab.ref([...base, 'roster']), 'LAB_ROSTER_SHORT', `the roster '${m.roster}' has ${roster.rows.length} row${roster.rows.length === 1 ? '' : 's'}, count is ${m.count}`,
        'one row per copy: add rows, or lower count'));
    }
    let broken = false;
    const checkColumns = (t: Template): void => {
      for (const { column, offset } of rosterColumns(t.parts)) {
        const at = lab.inValue(t.path, t.offset + offset);
        if (m.roster === undefined) {
          report(diag(at, 'LAB_NO_ROSTER', `{roster.${column}} but [[${entry}]] has no roster`, 'add roster = FILE.csv to the entry'));
          broken = true;
        } else if (roster && !roster.columns.includes(column)) {
          const guess = didYouMean(column, roster.columns);
          report(diag(at, 'LAB_ROSTER_COLUMN', `the roster '${m.roster}' has no column '${column}'`, guess ? `did you mean '${guess}'?` : `its columns: ${roster.columns.join(', ')}`));
          broken = true;
        }
      }
    };
    // NIC lines: NETWORK:ADDRESS with templates in the address.
    const nics: Array<{ nic: string; network: LabNetwork; address: Template | 'dhcp' }> = [];
    for (const [key, value] of Object.entries(m)) {
      if (!NIC_KEY.test(key) || typeof value !== 'string') continue;
      const path = [...base, key];
      const [, netName, addr] = NIC_SPEC.exec(value) as unknown as [string, string, string];
      const network = networks.find((n) => n.name === netName);
      if (!network) {
        const guess = didYouMean(netName, networks.map((n) => n.name));
        report(diag(lab.inValue(path, 0), 'LAB_UNKNOWN_NETWORK', `unknown network '${netName}'`, guess ? `did you mean '${guess}'?` : `the lab's networks: ${networks.map((n) => n.name).join(', ') || 'none ([networks] [[NAME]] subnet = …)'}`));
        broken = true;
        continue;
      }
      if (addr === 'dhcp') {
        nics.push({ nic: key, network, address: 'dhcp' });
        continue;
      }
      const t = template(lab, path, addr, netName.length + 1, report);
      if (!t) {
        broken = true;
        continue;
      }
      checkColumns(t);
      nics.push({ nic: key, network, address: t });
    }
    const sets: Array<{ key: Template; value: Template[]; list: boolean; at: LabRef }> = [];
    for (const [key, value] of Object.entries(m.set)) {
      const path = [...base, 'set', key];
      const keyT = parseTemplate(key);
      if (!keyT.ok) {
        const at = lab.ref(path, 'key');
        report(diag({ line: at.line, column: at.column + keyT.error.offset }, 'LAB_TEMPLATE', keyT.error.message, keyT.error.hint));
        broken = true;
        continue;
      }
      const items = Array.isArray(value) ? value : [value];
      const parts = items.map((item) => template(lab, path, item, 0, report));
      if (parts.some((p) => p === undefined)) {
        broken = true;
        continue;
      }
      for (const p of parts) checkColumns(p!);
      checkColumns({ parts: keyT.parts, path, offset: 0 });
      sets.push({ key: { parts: keyT.parts, path, offset: 0 }, value: parts as Template[], list: Array.isArray(value), at: lab.ref(path, 'key') });
    }
    if (broken) continue;

    for (let n = 1; n <= m.count; n++) {
      const name = copyName(entry, m.count, n);
      const tctx = { n, ...(roster?.rows[n - 1] ? { row: roster.rows[n - 1]! } : {}) };
      const host = checkHostname(name);
      if (!host.ok || name.length > 63) {
        report(diag(entryAt, 'LAB_NAME', `machine name '${name}' is too long`, 'a machine name is at most 63 characters with its number'));
        continue;
      }
      const prior = names.get(name);
      if (prior !== undefined) {
        report(diag(entryAt, 'LAB_DUPLICATE_NAME', `machine '${name}' ${prior === entry ? 'is made twice' : `is also a copy of [[${prior}]]`}`, 'rename the entry: copies are named NAME + their number'));
        continue;
      }
      names.set(name, entry);
      const plan: CopyPlan = { name, entryAt, sets: [], nics: [] };
      for (const s of sets) {
        const key = expandTemplate(s.key.parts, tctx);
        let path: string[];
        try {
          path = parseKeyPath(key);
        } catch (err) {
          if (!(err instanceof VmgenError)) throw err;
          report(diag(s.at, 'LAB_SET_KEY', `${name}: ${err.message}`, err.hint));
          continue;
        }
        const values = s.value.map((t) => expandTemplate(t.parts, tctx));
        const value: IniValue = s.list ? values : values[0]!;
        plan.sets.push({ path, value, at: s.at });
      }
      for (const nic of nics) {
        const at = lab.ref([...base, nic.nic]);
        if (nic.address === 'dhcp') {
          plan.nics.push({ nic: nic.nic, network: nic.network, address: 'dhcp', at });
          continue;
        }
        const text = expandTemplate(nic.address.parts, tctx);
        const addrAt = lab.inValue(nic.address.path, nic.address.offset);
        const who = m.count > 1 ? `${name}: ` : '';
        const ip = parseIPv4(text);
        if (!ip.ok) {
          report(diag(addrAt, 'LAB_BAD_ADDRESS', `${who}${ip.message}`, 'write NETWORK:ADDRESS (lan:10.10.0.5) or NETWORK:dhcp'));
          continue;
        }
        const cidr = parseCidr(nic.network.subnet);
        const net = cidr.ok ? cidr.value.address : 0;
        if (!ipInSubnet(ip.value, net, nic.network.prefix)) {
          report(diag(addrAt, 'LAB_ADDRESS_OUTSIDE', `${who}${text} is outside network '${nic.network.name}' (${nic.network.subnet})`,
            `an address on '${nic.network.name}' is in ${nic.network.subnet}`));
          continue;
        }
        if (!isUsableHost(ip.value, nic.network.prefix)) {
          report(diag(addrAt, 'LAB_ADDRESS_RESERVED', `${who}${text} is the ${ip.value === net ? 'network' : 'broadcast'} address of '${nic.network.name}'`,
            `hosts on ${nic.network.subnet} are ${formatIPv4(net + 1)} to ${formatIPv4(broadcastAddress(net, nic.network.prefix) - 1)}`));
          continue;
        }
        const taken = addresses.get(text);
        if (taken) {
          report(diag(addrAt, 'LAB_ADDRESS_TAKEN', `${text} is both ${taken.machine}'s and ${name}'s`, 'give every NIC of the lab its own address'));
          continue;
        }
        addresses.set(text, { machine: name, network: nic.network.name });
        plan.nics.push({ nic: nic.nic, network: nic.network, address: text, at });
      }
      out.push({ plan, group: entry, ...(m.count > 1 ? { index: n } : {}), configPath: m.config });
    }
  }
  for (const network of networks) {
    if (network.gateway !== undefined && !addresses.has(network.gateway)) {
      report(diag(lab.ref(['networks', network.name, 'gateway']), 'LAB_GATEWAY_NONE', `no machine of the lab has ${network.gateway}`,
        `the gateway is the address of the lab's router on '${network.name}': give a NIC of it this address`, 'warning'));
    }
  }
  return out;
}

/** The networks each copy serves DHCP on: its [dhcp] scopes, named after its NICs. */
export function dhcpServed(doc: IniDocument, plan: CopyPlan): string[] {
  let scopes: unknown;
  try {
    scopes = getValue(doc, ['dhcp']);
  } catch {
    return [];
  }
  if (!scopes || typeof scopes !== 'object' || Array.isArray(scopes) || !('entries' in scopes)) return [];
  const names = [...(scopes as { entries: Map<string, unknown> }).entries.keys()];
  return plan.nics.filter((n) => names.includes(n.nic)).map((n) => n.network.name);
}

/** A DHCP NIC needs a DHCP server on its network: a machine whose [dhcp] serves a NIC on it. */
export function checkDhcp(copies: ReadonlyArray<{ plan: CopyPlan; served: readonly string[] }>, report: Report): void {
  const served = new Set(copies.flatMap((c) => c.served));
  const reported = new Set<string>();
  for (const { plan } of copies) {
    for (const nic of plan.nics) {
      if (nic.address !== 'dhcp' || served.has(nic.network.name)) continue;
      const key = `${nic.at.line}:${nic.at.column}`;
      if (reported.has(key)) continue;
      reported.add(key);
      report(diag(nic.at, 'LAB_NO_DHCP_SERVER', `no DHCP server on network '${nic.network.name}'`,
        `a machine on '${nic.network.name}' serves DHCP when its config has a [dhcp] [[ethN]] scope for its NIC there; or give this NIC an address`));
    }
  }
}
