import { checkHostname, formatIPv4, parseCidr, parseIPv4 } from '../../config/validators.js';

/*
 * Last-line checks the Linux renderers share. The spec is validated upstream; these only stop a
 * value that slipped past from producing a file that means something else, so they throw.
 */

export function assertHostname(hostname: string): string {
  const r = checkHostname(hostname);
  if (!r.ok) throw new Error(r.message);
  return hostname;
}

/** Returns the address in its canonical dotted form. */
export function assertIPv4(address: string, what: string): string {
  const r = parseIPv4(address);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  return formatIPv4(r.value);
}

/** Returns the prefix in its canonical ADDRESS/BITS form. */
export function assertCidr(cidr: string, what: string): string {
  const r = parseCidr(cidr);
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  return `${formatIPv4(r.value.address)}/${r.value.prefix}`;
}
