import { z } from 'zod';
import { cidr, hostname, int, ipv4, list, pattern, textField } from '../config/fields.js';

/*
 * The lab file's model (issue 16): the same nested-INI language as a machine config, typed by zod
 * so that one schema checks the file and gives its JSON Schema (`vmgen schema --lab`). What zod
 * cannot say (templates, NIC keys named ethN, addresses inside their subnet) is checked in
 * validate.ts, at the same FILE:LINE:COL.
 */

/** Copies of one [machines] entry at most: a class room, not a data centre. */
export const MAX_COUNT = 250;

/** `ethN` keys of a [machines] entry name the NICs the lab wires. */
export const NIC_KEY = /^eth\d+$/;

/** `NETWORK:ADDRESS` or `NETWORK:dhcp`; the address may hold templates ({10+n}). */
export const NIC_SPEC = /^([^:\s]+):(\S+)$/;

const labSection = z.strictObject({
  name: pattern(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'net101', 'lab name (lower-case letters, digits and -, at most 32 characters)'),
  description: textField('what the lab is for').optional(),
});

const network = z.strictObject({
  subnet: cidr('the network, CIDR (10.10.0.0/24)'),
  gateway: ipv4('router handed to the static machines on this network that name none themselves').optional(),
  dns: list(ipv4()).default([]).meta({ description: 'DNS servers handed to the static machines on this network that name none themselves' }),
  domain: hostname().optional().meta({ description: 'the network\'s DNS domain' }),
});

const nicSpec = pattern(NIC_SPEC, 'lan:10.10.0.{10+n} or lan:dhcp', 'NIC: NETWORK:ADDRESS or NETWORK:dhcp');

/** A [[[set]]] value: one string or a list, like any config value; templates allowed. */
const setValue = z.union([z.string(), z.array(z.string())]).meta({ description: 'a value for the machine config, templates allowed ({n}, {n:02}, {10+n}, {roster.COLUMN})' });

const machine = z.object({
  config: textField('the machine config, relative to the lab file'),
  count: int(1, MAX_COUNT, `number of copies (names NAME1… or NAME01…, zero-padded to the width of count), at most ${MAX_COUNT}`).default(1),
  roster: textField('a CSV file with a header row, one row per copy; its columns are {roster.COLUMN}').optional(),
  set: z.record(z.string(), setValue).default({}).meta({ description: 'vmgctl key paths set in each copy\'s config (config.hostname = pc{n:02})' }),
}).catchall(nicSpec);

export const labSchema = z.strictObject({
  lab: labSection,
  networks: z.record(z.string(), network).default({}),
  machines: z.record(z.string(), machine).default({}),
});

export type LabSchema = typeof labSchema;
export type LabFile = z.output<LabSchema>;
export type LabFileMachine = z.output<typeof machine>;
export type LabFileNetwork = z.output<typeof network>;

/** The keys of a [machines] entry other than its NICs. */
export const MACHINE_KEYS: readonly string[] = Object.keys(machine.shape);

/** The lab file's JSON Schema, for editors and API clients. */
export function labJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(labSchema, { io: 'output', unrepresentable: 'throw' }),
    $id: 'https://vmgen.invalid/schema/lab.json',
    title: 'vmgen lab file',
  };
}
