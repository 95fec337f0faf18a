import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostics.js';
import { VmgenError } from '../errors.js';
import { serializeDocument, type IniDocument, type IniValue } from '../config/ini/document.js';
import { getValue, setValue, unsetValue } from '../config/ini/edit.js';
import { parseIni } from '../config/ini/parse.js';
import type { LabNetwork } from './types.js';

/*
 * One copy's machine config: the entry's config with the lab's edits applied through the vmgctl
 * editor, so the text a copy is built from is the config as its author wrote it plus the lines
 * the lab changed. Every line of the result remembers where it came from (a line of the config,
 * or the lab file's line that made it), so a problem in the copy is reported where it can be fixed.
 */

/** A place in the lab file. */
export interface LabRef {
  line: number;
  column: number;
}

/** Where a line of a copy's config text comes from. */
export type LineOrigin = { kind: 'config'; line: number } | { kind: 'lab'; at: LabRef };

export interface CopyNic {
  nic: string;
  network: LabNetwork;
  /** A dotted IPv4 address, or 'dhcp'. */
  address: string;
  at: LabRef;
}

export interface CopySet {
  path: string[];
  value: IniValue;
  at: LabRef;
}

/** What the lab does to one copy of a [machines] entry. */
export interface CopyPlan {
  name: string;
  /** The entry's header line: vm_id and hostname come from the entry itself. */
  entryAt: LabRef;
  sets: CopySet[];
  nics: CopyNic[];
}

export interface AppliedCopy {
  doc: IniDocument;
  text: string;
  /** By 0-based line of `text`. */
  origins: LineOrigin[];
  /** The MAC of each NIC (given by the config or made here). */
  macs: Map<string, string>;
  /** Edits the editor refused, at the lab line that asked for them. */
  diagnostics: Array<Diagnostic & { at: LabRef }>;
}

/**
 * The MAC for a NIC: QEMU's locally administered prefix and three bytes of a hash of the lab's,
 * the machine's and the NIC's names, so a lab built twice has the same MACs. `taken` holds the
 * lab's MACs so far; a collision moves on to the next bytes of the hash.
 */
export function labMac(lab: string, machine: string, nic: string, taken: ReadonlySet<string>): string {
  const digest = createHash('sha256').update(`${lab}\0${machine}\0${nic}`).digest();
  for (let i = 0; i + 3 <= digest.length; i += 3) {
    const mac = ['52', '54', '00', ...[...digest.subarray(i, i + 3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
    if (!taken.has(mac)) return mac;
  }
  throw new Error(`no free MAC for ${machine} ${nic}`);
}

/** Origins after an edit: lines before and after the changed block keep theirs, the block is the lab's. */
function track(before: readonly string[], after: readonly string[], origins: readonly LineOrigin[], at: LabRef): LineOrigin[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  const added = after.length - head - tail;
  return [...origins.slice(0, head), ...Array.from({ length: added }, (): LineOrigin => ({ kind: 'lab', at })), ...origins.slice(origins.length - tail)];
}

const has = (doc: IniDocument, path: readonly string[]): boolean => {
  try {
    return getValue(doc, path) !== undefined;
  } catch {
    return false;
  }
};

function single(values: readonly string[]): IniValue {
  return values.length === 1 ? values[0]! : [...values];
}

/** Applies a copy's plan to its entry's config text (which parses: the caller checked). */
export function applyCopy(configText: string, plan: CopyPlan, labName: string, takenMacs: Set<string>): AppliedCopy {
  let doc = parseIni(configText).doc;
  let origins: LineOrigin[] = doc.lines.map((_, line) => ({ kind: 'config', line }));
  const diagnostics: AppliedCopy['diagnostics'] = [];

  const edit = (at: LabRef, change: (d: IniDocument) => void): void => {
    const before = [...doc.lines];
    try {
      change(doc);
    } catch (err) {
      if (!(err instanceof VmgenError)) throw err;
      diagnostics.push({ code: 'LAB_SET', severity: 'error', line: at.line, column: at.column, message: `${plan.name}: ${err.message}`, ...(err.hint ? { hint: err.hint } : {}), at });
      return;
    }
    origins = track(before, doc.lines, origins, at);
    // Line numbers below the edit moved: read the text again so the next edit finds its places.
    doc = parseIni(serializeDocument(doc)).doc;
  };
  const set = (at: LabRef, path: string[], value: IniValue): void => edit(at, (d) => setValue(d, path, value));
  const unset = (at: LabRef, path: string[]): void => edit(at, (d) => { unsetValue(d, path); });

  for (const s of plan.sets) set(s.at, s.path, s.value);
  set(plan.entryAt, ['hardware', 'vm_id'], plan.name);
  if (!plan.sets.some((s) => s.path.join('.') === 'config.hostname')) set(plan.entryAt, ['config', 'hostname'], plan.name);

  const macs = new Map<string, string>();
  const configGateway = has(doc, ['network', 'gateway'])
    || plan.nics.some((nic) => has(doc, ['network', 'eths', nic.nic, 'gateway']));
  let gatewayGiven = configGateway;
  for (const nic of plan.nics) {
    const hw = ['hardware', 'eths', nic.nic];
    const net = ['network', 'eths', nic.nic];
    if (!has(doc, [...hw, 'type'])) set(nic.at, [...hw, 'type'], 'host-only');
    const own = getValue(doc, [...hw, 'hw_addr']);
    const mac = typeof own === 'string' ? own.toLowerCase() : labMac(labName, plan.name, nic.nic, takenMacs);
    if (typeof own !== 'string') set(nic.at, [...hw, 'hw_addr'], mac);
    takenMacs.add(mac);
    macs.set(nic.nic, mac);
    if (nic.address === 'dhcp') {
      set(nic.at, [...net, 'type'], 'dhcp');
      for (const key of ['address', 'network', 'gateway']) if (has(doc, [...net, key])) unset(nic.at, [...net, key]);
      continue;
    }
    set(nic.at, [...net, 'type'], 'static');
    set(nic.at, [...net, 'address'], nic.address);
    set(nic.at, [...net, 'network'], String(nic.network.prefix));
    // One default route: the first static NIC whose network has a router other than this machine.
    if (!gatewayGiven && nic.network.gateway !== undefined && nic.network.gateway !== nic.address) {
      set(nic.at, [...net, 'gateway'], nic.network.gateway);
      gatewayGiven = true;
    }
    if (nic.network.dns.length > 0 && !has(doc, ['network', 'dns']) && !has(doc, [...net, 'dns'])) {
      set(nic.at, [...net, 'dns'], single(nic.network.dns));
    }
  }
  return { doc, text: serializeDocument(doc), origins, macs, diagnostics };
}
