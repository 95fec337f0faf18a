import { z } from 'zod';
import * as v from './validators.js';

/**
 * Field types of the config model. The file holds strings (ConfigObj values); each field is a zod
 * codec from that text to a typed value, so one schema parses the file, encodes values back for
 * vmgctl and the web form, and yields the JSON Schema of the typed model.
 */

/** zod's ctx in codec decoders; only `issues` is used. */
interface DecodeCtx {
  issues: { push(issue: { code: 'custom'; message: string; input: unknown; params?: Record<string, unknown> }): void };
}

function fromCheck<O>(out: z.ZodType<O, O>, check: (s: string) => v.Check<O>, encode: (value: O) => string) {
  return z.codec(z.string(), out, {
    decode: (s: string, ctx: DecodeCtx): O => {
      const r = check(s);
      if (r.ok) return r.value;
      ctx.issues.push({ code: 'custom', message: r.message, input: s, params: r.hint ? { hint: r.hint } : {} });
      return z.NEVER;
    },
    encode: (value: O) => encode(value),
  });
}

const text = String;

export const int = (min: number, max: number, description?: string) =>
  fromCheck(z.number().int().min(min).max(max), (s) => v.parseIntInRange(s, min, max), text).meta(description ? { description } : {});

export const bool = (description?: string) =>
  fromCheck(z.boolean(), v.parseBool, (b) => (b ? '1' : '0')).meta(description ? { description } : {});

/** A size in MiB; bare numbers are in `bare` units, as the seed writes them. */
export const size = (bare: v.SizeUnit, description: string) =>
  fromCheck(z.number().int().positive(), (s) => v.parseSize(s, bare), (mib) => (mib % 1024 === 0 ? `${mib / 1024}GB` : `${mib}MB`))
    .meta({ description: `${description} (MiB; write 8GB, 512MB, or a bare number in ${bare})` });

export const ipv4 = (description?: string) =>
  fromCheck(z.string().meta({ format: 'ipv4' }), (s) => {
    const r = v.parseIPv4(s);
    return r.ok ? v.ok(v.formatIPv4(r.value)) : r;
  }, text).meta(description ? { description } : {});

/** A network in CIDR form; the model holds it normalized to its network address. */
export const cidr = (description: string) =>
  fromCheck(z.string(), (s) => {
    const r = v.parseCidr(s);
    if (!r.ok) return r;
    const net = v.networkAddress(r.value.address, r.value.prefix);
    return net === r.value.address ? v.ok(`${v.formatIPv4(net)}/${r.value.prefix}`)
      : v.fail(`'${s}' has host bits set`, `the network is ${v.formatIPv4(net)}/${r.value.prefix}`);
  }, text).meta({ description });

/**
 * Text that becomes a file name or a line in the guest (a time zone is a path under
 * /usr/share/zoneinfo), so it is held to the shape such names have.
 */
export const pattern = (re: RegExp, example: string, description: string) =>
  fromCheck(z.string().regex(re), (s) => (re.test(s) ? v.ok(s) : v.fail(`${v.quote(s)} is not a valid ${description}`, `write it like ${example}`)), text)
    .meta({ description: `${description}, e.g. ${example}` });

/** A netmask, dotted or as a prefix length; the model holds the prefix length. */
export const netmask = () =>
  fromCheck(z.number().int().min(0).max(32), v.parseNetmask, (p) => v.formatIPv4(v.prefixToNetmask(p)))
    .meta({ description: 'netmask, dotted (255.255.255.0) or a prefix length (24)' });

export const mac = () =>
  fromCheck(z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), v.isUnicastMac, text).meta({ description: 'unicast MAC address' });

export const portRange = () =>
  fromCheck(z.object({ from: z.number().int(), to: z.number().int() }), v.parsePortSpec, (r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`))
    .meta({ description: 'a port (22) or a range (6000-6010)' });

/** `bus:unit` on a controller, each number checked at the value's line. */
export const position = () =>
  fromCheck(z.string().regex(/^\d+:\d+$/), v.parsePosition, text).meta({ description: 'bus:unit on the controller, e.g. 0:0' });

export const hostname = () => fromCheck(z.string(), v.checkHostname, text).meta({ description: 'RFC 1123 host name' });

/** A file or directory name that stays inside the directory it is joined to. */
export const safeName = (description: string) => fromCheck(z.string(), v.checkSafeRelativeName, text).meta({ description });

/**
 * A value that may be one item or a list: ConfigObj gives a string for `groups = julius` and an
 * array for `groups = julius, vmg`.
 */
export const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z.codec(z.union([z.string(), z.array(z.string())]), z.array(z.string()), {
    decode: (s: string | string[]) => (Array.isArray(s) ? s : s === '' ? [] : [s]),
    encode: (a: string[]) => a,
  }).pipe(z.array(item));

export const textField = (description?: string) => z.string().meta(description ? { description } : {});

/**
 * A value that is a document of its own (a file's text, a script), where line breaks belong. JSON
 * Schema's contentMediaType marks it, so the web form offers a text area and the one-line check
 * (validate/semantic.ts) lets it be.
 */
export const MULTI_LINE = { contentMediaType: 'text/plain' } as const;
export const multiLineText = (description: string) => z.string().meta({ description, ...MULTI_LINE });

export const choice = <const T extends readonly [string, ...string[]]>(values: T, description?: string) =>
  z.enum(values).meta(description ? { description } : {});
