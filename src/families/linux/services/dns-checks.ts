import { probe } from '../../../communicators/probe.js';
import type { ResolvedSpec } from '../../../config/resolve.js';
import type { ResolvedZone } from '../../../config/resolve-services.js';
import { check, fail, pass, shown, why, type Check, type CheckResult, type VerifyOptions } from '../../check-kit.js';
import { firstStaticAddress, type DnsLayout, zoneRecords, type ZoneRecordLine } from './dns.js';
import { untilPass } from './poll.js';

/*
 * The DNS server as a client sees it: named's own checker passes on the configuration and the
 * zones, and, booted, every record resolves to its value at the guest's own server.
 */

export function dnsChecks(spec: ResolvedSpec, opts: VerifyOptions, layout: DnsLayout): Check[] {
  const dns = spec.provision.services.dns;
  if (dns === undefined) return [];
  const own = firstStaticAddress(spec);
  return [
    configCheck(layout),
    ...(opts.booted ? dns.zones.flatMap((z) => zoneRecords(z, own).map((r) => recordCheck(z, r, opts))) : []),
  ];
}

function configCheck(layout: DnsLayout): Check {
  return check('DNS server configuration', async (comm) => {
    const r = await probe(comm, ['named-checkconf', '-z', layout.mainConf]);
    if (r.exitCode === 0) return pass(`named-checkconf -z ${layout.mainConf} passes`);
    // named-checkconf reports the configuration's problems on stderr and the zones' on stdout,
    // between the zones that loaded; the first problem is the one to fix.
    const first = [...r.stderr.split('\n'), ...r.stdout.split('\n')].map((l) => l.trim()).find((l) => l !== '' && !/: loaded serial \d+$/.test(l));
    return fail(first === undefined ? why(r, 'named-checkconf') : shown(first));
  });
}

/** dig's short answer form: one record's data per line. */
export function digArgv(name: string, type: string): string[] {
  return ['dig', '+short', '+time=2', '+tries=2', '@127.0.0.1', name, type];
}

function recordCheck(zone: ResolvedZone, record: ZoneRecordLine, opts: VerifyOptions): Check {
  return check(`DNS ${record.owner} ${record.type} ${record.rdata}`, (comm) => untilPass(comm, opts, async (c): Promise<CheckResult> => {
    const r = await probe(c, digArgv(record.owner, record.type));
    if (r.exitCode !== 0) return fail(why(r, 'dig'));
    const answers = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith(';'));
    if (answers.some((a) => sameRdata(record.type, a, record.rdata))) return pass(`answered by the server for ${zone.zone}`);
    return fail(answers.length === 0 ? 'no answer from 127.0.0.1' : `answers ${shown(answers.join(' | '))}`);
  }));
}

/** dig writes names in lower case and IPv6 addresses compressed; the config may write either otherwise. */
export function sameRdata(type: string, got: string, want: string): boolean {
  if (type === 'AAAA') return expandIPv6(got) !== undefined && expandIPv6(got) === expandIPv6(want);
  return got.toLowerCase() === want.toLowerCase();
}

/** Eight groups of four hex digits, or undefined for what is not an IPv6 address. */
export function expandIPv6(text: string): string | undefined {
  let s = text.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string | undefined): string[] => (h === undefined || h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.map((g) => g.padStart(4, '0')).join(':');
}
