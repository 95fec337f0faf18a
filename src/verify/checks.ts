import { probe } from '../communicators/probe.js';
import type { Communicator } from '../communicators/types.js';
import type { ResolvedNic, ResolvedSpec, ResolvedUser } from '../config/resolve.js';
import { VmgenError } from '../errors.js';
import { check, fail, pass, readGuestFile, shown, sleep, why, type Check, type CheckResult, type FamilyChecks, type VerifyOptions } from '../families/check-kit.js';
import { MAX_NAMESERVERS, isBuiltinLocale } from '../families/debian/render.js';
import { FAMILIES } from '../families/registry.js';
import { firstBootChecks } from '../families/linux/first-boot.js';

/*
 * `vmgen verify`'s checks: what a built guest should look like from inside, derived from the spec
 * alone, and read back only through commands run in the guest, so the same checks serve every
 * runtime (lxc-attach, podman exec, nsenter) and a recorded fake in tests. Each check is one line
 * of the report. Passwords travel on stdin only; no detail ever shows a password or a hash.
 */

export type { Check, CheckResult, FamilyChecks, VerifyOptions } from '../families/check-kit.js';

export interface NamedResult extends CheckResult {
  name: string;
}

const ACTIVE_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 1_000;

/** The family row's checks, or a refusal: checking a Windows guest with Linux commands would only time out. */
export function familyChecksFor(spec: ResolvedSpec): FamilyChecks {
  const family = FAMILIES[spec.os.family].checks;
  if (family === undefined) {
    throw new VmgenError('VMG_UNSUPPORTED', `vmgen verify checks Linux guests; it cannot check a ${spec.os.label} guest`, {
      hint: 'review the generated files with vmgen render instead (Windows guests are not booted on vmgen\'s build hosts)',
    });
  }
  return family;
}

export function verifyChecks(spec: ResolvedSpec, opts: VerifyOptions): Check[] {
  const family = familyChecksFor(spec);
  return [
    ...hostnameChecks(spec, opts),
    ...spec.groups.map(groupCheck),
    ...spec.users.flatMap(userChecks),
    ...(spec.rootPassword === undefined ? [] : [passwordCheck('root', spec.rootPassword)]),
    ...spec.appPackages.map((p) => family.packageCheck(p)),
    ...serviceChecks(spec, opts, family.services(spec)),
    ...(opts.addressesInGuest ? addressChecks(spec) : []),
    ...family.firewallChecks(spec, opts),
    ...family.serviceChecks(spec, opts),
    ...regionalChecks(spec, family.localeFile),
    ...firstBootChecks(spec, opts),
  ];
}

/** Runs every check in order; a check that cannot run at all (the guest is unreachable) fails with the reason. */
export async function runChecks(checks: readonly Check[], comm: Communicator): Promise<NamedResult[]> {
  const results: NamedResult[] = [];
  for (const c of checks) {
    try {
      results.push({ name: c.name, ...(await c.run(comm)) });
    } catch (err) {
      results.push({ name: c.name, ok: false, detail: `could not check: ${shown(err instanceof Error ? err.message : String(err))}` });
    }
  }
  return results;
}

/** One line per check, `ok    NAME: DETAIL` or `FAIL  NAME: DETAIL`, then a summary line. */
export function formatResults(results: ReadonlyArray<{ name: string; ok: boolean; detail: string }>): string {
  const lines = results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.detail === '' ? '' : `: ${r.detail}`}`);
  const failed = results.filter((r) => !r.ok).length;
  const total = `${results.length} check${results.length === 1 ? '' : 's'}`;
  const summary = failed === 0 ? `all ${total} passed` : `${failed} of ${total} failed`;
  return `${[...lines, summary].join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Identity

/** The running name only when booted: a command run in a stopped guest's root reports the host's. */
function hostnameChecks(spec: ResolvedSpec, opts: VerifyOptions): Check[] {
  const file = check('/etc/hostname', async (comm) => {
    const f = await readGuestFile(comm, '/etc/hostname');
    if (!f.ok) return fail(f.detail);
    return equalOrFail(f.text.trim(), spec.hostname);
  });
  const running = check('hostname (running)', async (comm) => {
    const r = await probe(comm, ['hostname']);
    return r.exitCode === 0 ? equalOrFail(r.stdout.trim(), spec.hostname) : fail(why(r, 'hostname'));
  });
  return opts.booted ? [running, file] : [file];
}

function equalOrFail(got: string, want: string): CheckResult {
  return got === want ? pass(want) : fail(`is ${shown(got)}, want ${want}`);
}

function groupCheck(group: string): Check {
  return check(`group ${group}`, async (comm) => {
    const r = await probe(comm, ['getent', 'group', '--', group]);
    // getent: 2 means "no such key"; other statuses are real errors worth showing.
    if (r.exitCode === 2) return fail('does not exist');
    return r.exitCode === 0 ? pass('exists') : fail(why(r, 'getent'));
  });
}

// ---------------------------------------------------------------------------------------------
// Users

function userChecks(user: ResolvedUser): Check[] {
  return [
    accountCheck(user),
    ...user.groups.map((g) => membershipCheck(user.name, g)),
    homeCheck(user),
    ...(user.sshKeys.length > 0 ? [sshKeysCheck(user)] : []),
    passwordCheck(user.name, user.password),
  ];
}

function accountCheck(user: ResolvedUser): Check {
  return check(`user ${user.name}`, async (comm) => {
    const r = await probe(comm, ['getent', 'passwd', '--', user.name]);
    if (r.exitCode === 2) return fail('does not exist');
    if (r.exitCode !== 0) return fail(why(r, 'getent'));
    // name:password:uid:gid:gecos:home:shell
    const [, , uid, , , home, shell] = r.stdout.trim().split(':');
    const problems = [
      ...(home === user.home ? [] : [`home is ${shown(home ?? '')}, want ${user.home}`]),
      ...(shell === user.shell ? [] : [`shell is ${shown(shell ?? '')}, want ${user.shell}`]),
    ];
    return problems.length > 0 ? fail(problems.join('; ')) : pass(`uid ${shown(uid ?? '?')}, home ${user.home}, shell ${user.shell}`);
  });
}

function membershipCheck(user: string, group: string): Check {
  return check(`user ${user} in group ${group}`, async (comm) => {
    const r = await probe(comm, ['id', '-nG', '--', user]);
    if (r.exitCode !== 0) return fail(why(r, 'id'));
    const groups = r.stdout.trim().split(/\s+/);
    const detail = `groups are ${shown(groups.join(' '))}`;
    return groups.includes(group) ? pass(detail) : fail(detail);
  });
}

function homeCheck(user: ResolvedUser): Check {
  return check(`home of ${user.name}`, async (comm) => {
    const r = await probe(comm, ['stat', '-c', '%U %F', '--', user.home]);
    if (r.exitCode !== 0) return fail(why(r, 'stat'));
    const line = r.stdout.trim();
    const owner = line.slice(0, line.indexOf(' '));
    const type = line.slice(line.indexOf(' ') + 1);
    if (type !== 'directory') return fail(`${user.home} is a ${shown(type)}, not a directory`);
    return owner === user.name ? pass(`${user.home}, owned by ${user.name}`) : fail(`${user.home} is owned by ${shown(owner)}, not ${user.name}`);
  });
}

/** sshd ignores a key file its owner does not own (StrictModes), so the owner is checked with the content. */
function sshKeysCheck(user: ResolvedUser): Check {
  const path = `${user.home.replace(/\/+$/, '')}/.ssh/authorized_keys`;
  return check(`SSH keys of ${user.name}`, async (comm) => {
    const f = await readGuestFile(comm, path);
    if (!f.ok) return fail(f.detail);
    const lines = new Set(f.text.split('\n').map((l) => l.trim()));
    const missing = user.sshKeys.filter((k) => !lines.has(k.trim()));
    if (missing.length > 0) return fail(`${path} lacks ${missing.length} of the ${user.sshKeys.length} configured keys`);
    const owner = await probe(comm, ['stat', '-c', '%U', '--', path]);
    if (owner.exitCode !== 0) return fail(why(owner, 'stat'));
    const who = owner.stdout.trim();
    return who === user.name ? pass(`${user.sshKeys.length} in ${path}`) : fail(`${path} is owned by ${shown(who)}, not ${user.name}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Passwords

const HASH_KINDS: ReadonlyArray<{ prefix: string; name: string }> = [
  { prefix: '$y$', name: 'yescrypt' },
  { prefix: '$6$', name: 'SHA-512' },
];

/**
 * Asks the guest's own crypt(3), through perl (perl-base is Essential in Debian), whether the
 * password gives the hash: Node has no yescrypt. The hash and the password both go on stdin,
 * one line each, so neither shows in the guest's process list.
 */
export const CRYPT_SCRIPT = [
  'my $h = <STDIN>; my $p = <STDIN>;',
  'chomp($h, $p);',
  'my $c = crypt($p, $h);',
  'print !defined($c) || $c =~ /^\\*/ ? "unsupported" : $c eq $h ? "match" : "differ";',
].join(' ');

function passwordCheck(account: string, password: ResolvedUser['password']): Check {
  return check(`password of ${account}`, async (comm) => {
    const r = await probe(comm, ['getent', 'shadow', '--', account]);
    if (r.exitCode === 2) return fail('no shadow entry');
    if (r.exitCode !== 0) return fail(why(r, 'getent'));
    const hash = r.stdout.trim().split(':')[1] ?? '';
    if (password === undefined) return lockedOrFail(hash);
    if ('hash' in password) return hash === password.hash ? pass("the config's hash") : fail("differs from the config's hash");
    return plainPassword(comm, hash, password.plain);
  });
}

/** The config sets no password, so the account must not accept one; an empty field would accept any. */
function lockedOrFail(hash: string): CheckResult {
  if (hash.startsWith('!') || hash.startsWith('*')) return pass('locked, as the config sets no password');
  return fail(hash === '' ? 'empty: the account logs in without a password' : 'set, but the config sets none');
}

async function plainPassword(comm: Communicator, hash: string, plain: string): Promise<CheckResult> {
  if (hash.startsWith('!') || hash.startsWith('*')) return fail('the account is locked');
  const kind = HASH_KINDS.find((k) => hash.startsWith(k.prefix));
  if (kind === undefined) return fail(`not a yescrypt ($y$) or SHA-512 ($6$) hash (starts ${shown(hash.slice(0, 3))})`);
  const r = await probe(comm, ['perl', '-e', CRYPT_SCRIPT], `${hash}\n${plain}\n`);
  if (r.exitCode !== 0) return fail(why(r, 'perl'));
  const verdict = r.stdout.trim();
  if (verdict === 'match') return pass(`${kind.name} hash of the config's password`);
  if (verdict === 'differ') return fail(`${kind.name} hash of another password than the config's`);
  return fail(`the guest's crypt(3) cannot check a ${kind.name} hash`);
}

// ---------------------------------------------------------------------------------------------
// Services

function serviceChecks(spec: ResolvedSpec, opts: VerifyOptions, base: readonly string[]): Check[] {
  const units = [...new Set([...base, ...spec.appServices])];
  return units.flatMap((unit) => [enabledCheck(unit), ...(opts.booted ? [activeCheck(unit, opts)] : [])]);
}

function enabledCheck(unit: string): Check {
  return check(`service ${unit} enabled`, async (comm) => {
    const r = await probe(comm, ['systemctl', 'is-enabled', '--', unit]);
    const state = r.stdout.trim();
    if (state === 'enabled') return pass(state);
    return fail(state === '' ? why(r, 'systemctl') : state);
  });
}

/** A service still starting is given time: right after boot, a slow one (a database) may still be activating. */
function activeCheck(unit: string, opts: VerifyOptions): Check {
  const timeout = opts.activeTimeoutMs ?? ACTIVE_TIMEOUT_MS;
  const interval = opts.pollIntervalMs ?? POLL_INTERVAL_MS;
  return check(`service ${unit} active`, async (comm) => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const r = await probe(comm, ['systemctl', 'is-active', '--', unit]);
      const state = r.stdout.trim();
      if (state === 'active') return pass(state);
      const settling = state === 'activating' || state === 'reloading';
      if (!settling) return fail(state === '' ? why(r, 'systemctl') : state);
      if (Date.now() >= deadline) return fail(`still ${state} after ${timeout / 1000} s`);
      await sleep(interval);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Network

function addressChecks(spec: ResolvedSpec): Check[] {
  const statics = spec.nics.filter((n) => n.mode === 'static' && n.address !== undefined && n.prefix !== undefined);
  const dns = spec.dns.slice(0, MAX_NAMESERVERS); // glibc reads no more, and the configurator writes no more
  return [
    ...statics.map(addressCheck),
    ...(spec.gateway === undefined ? [] : [gatewayCheck(spec.gateway)]),
    ...(dns.length === 0 ? [] : [dnsCheck(dns)]),
  ];
}

function addressCheck(nic: ResolvedNic): Check {
  const want = `${nic.address}/${nic.prefix}`;
  return check(`address of ${nic.name}`, async (comm) => {
    const r = await probe(comm, ['ip', '-o', '-4', 'addr', 'show', 'dev', nic.name]);
    if (r.exitCode !== 0) return fail(why(r, 'ip'));
    const have = [...r.stdout.matchAll(/\binet (\S+)/g)].map((m) => m[1] ?? '');
    if (have.includes(want)) return pass(want);
    return fail(have.length === 0 ? `${nic.name} has no IPv4 address, want ${want}` : `${nic.name} has ${shown(have.join(', '))}, want ${want}`);
  });
}

function gatewayCheck(gateway: string): Check {
  return check('default gateway', async (comm) => {
    const r = await probe(comm, ['ip', '-4', 'route', 'show', 'default']);
    if (r.exitCode !== 0) return fail(why(r, 'ip'));
    const vias = [...r.stdout.matchAll(/^default via (\S+)/gm)].map((m) => m[1] ?? '');
    if (vias.includes(gateway)) return pass(gateway);
    return fail(vias.length === 0 ? `no default route, want via ${gateway}` : `via ${shown(vias.join(', '))}, want ${gateway}`);
  });
}

function dnsCheck(servers: readonly string[]): Check {
  return check('DNS servers', async (comm) => {
    const f = await readGuestFile(comm, '/etc/resolv.conf');
    if (!f.ok) return fail(f.detail);
    const have = [...f.text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1] ?? '');
    const missing = servers.filter((s) => !have.includes(s));
    if (missing.length === 0) return pass(servers.join(', '));
    return fail(`/etc/resolv.conf lacks ${missing.join(', ')} (has ${have.length === 0 ? 'none' : shown(have.join(', '))})`);
  });
}

// ---------------------------------------------------------------------------------------------
// Time zone and locale

function regionalChecks(spec: ResolvedSpec, localeFile: string): Check[] {
  const locale = spec.locale;
  return [
    ...(spec.timezone === undefined ? [] : [timezoneCheck(spec.timezone)]),
    ...(locale === undefined ? [] : [localeCheck(locale, localeFile), ...(isBuiltinLocale(locale) ? [] : [localeGeneratedCheck(locale)])]),
  ];
}

/**
 * The link's own text, not its resolved path: zones like US/Eastern are themselves links inside
 * zoneinfo, so the resolved path would name another zone. `test -f` then makes sure it does not
 * dangle (tzdata missing), which would leave the guest on UTC.
 */
function timezoneCheck(zone: string): Check {
  return check('time zone', async (comm) => {
    const r = await probe(comm, ['readlink', '--', '/etc/localtime']);
    if (r.exitCode !== 0) return fail(`/etc/localtime is not a link (${why(r, 'readlink')})`);
    const target = r.stdout.trim();
    if (!target.endsWith(`/${zone}`)) return fail(`/etc/localtime points to ${shown(target)}, want ${zone}`);
    const exists = await probe(comm, ['test', '-f', '/etc/localtime']);
    return exists.exitCode === 0 ? pass(zone) : fail(`/etc/localtime points to ${shown(target)}, which does not exist`);
  });
}

function localeCheck(locale: string, path: string): Check {
  return check('locale', async (comm) => {
    const f = await readGuestFile(comm, path);
    if (!f.ok) return fail(f.detail);
    const lang = /^\s*LANG=(?:"([^"]*)"|(\S*))/m.exec(f.text);
    const value = lang?.[1] ?? lang?.[2];
    if (value === undefined) return fail(`${path} sets no LANG`);
    return value === locale ? pass(`LANG=${locale}`) : fail(`LANG is ${shown(value)}, want ${locale}`);
  });
}

/** `locale -a` lists names as glibc normalizes them: the codeset lower-case, without punctuation (en_US.utf8). */
export function normalizeLocaleName(locale: string): string {
  const m = /^([^.@]+)(?:\.([^@]+))?(@.+)?$/.exec(locale);
  if (m === null) return locale;
  const codeset = m[2] === undefined ? '' : `.${m[2].toLowerCase().replace(/[^a-z0-9]/g, '')}`;
  return `${m[1]}${codeset}${m[3] ?? ''}`;
}

function localeGeneratedCheck(locale: string): Check {
  const want = normalizeLocaleName(locale);
  return check(`locale ${locale} generated`, async (comm) => {
    const r = await probe(comm, ['locale', '-a']);
    if (r.exitCode !== 0) return fail(why(r, 'locale'));
    const have = r.stdout.split('\n').map((l) => l.trim());
    return have.includes(want) ? pass(want) : fail(`locale -a does not list ${want}`);
  });
}
