import { probe, type ProbeResult } from '../../../communicators/probe.js';
import type { Communicator } from '../../../communicators/types.js';
import type { ResolvedDatabase, ResolvedSite } from '../../../config/resolve-services.js';
import { check, fail, pass, shown, sleep, why, type Check, type CheckResult, type VerifyOptions } from '../../check-kit.js';
import { ENGINES, SETUP_MARKER, SETUP_UNIT } from './database.js';
import { siteNames, type WebLayout } from './web.js';

/*
 * `vmgen verify`'s checks of the web sites and databases, from inside the booted guest as a
 * client there would see them: curl asks each site by each of its names, and each database's user
 * logs in with its password. They need the servers running, so they are for booted guests only.
 */

/** Right after boot a server may still be starting, and the database setup still running. */
const SETTLE_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 1_000;
/** curl's exit status when nothing listens yet. */
const CURL_COULD_NOT_CONNECT = 7;

function deadline(opts: VerifyOptions): { timeoutMs: number; intervalMs: number } {
  return { timeoutMs: opts.activeTimeoutMs ?? SETTLE_TIMEOUT_MS, intervalMs: opts.pollIntervalMs ?? POLL_INTERVAL_MS };
}

// ---------------------------------------------------------------------------------------------
// Web

export function webChecks(sites: readonly ResolvedSite[], layout: WebLayout, opts: VerifyOptions): Check[] {
  if (!opts.booted) return [];
  return sites.flatMap((site) => [siteCheck(site, 'http', layout, opts), ...(site.tls ? [siteCheck(site, 'https', layout, opts)] : [])]);
}

/**
 * Every name of the site must answer with the document root's index.html as the guest has it;
 * a root without one (content from a script, another index) only needs a non-empty answer.
 * HTTPS is checked against the site's own certificate, so its names are checked too.
 */
function siteCheck(site: ResolvedSite, scheme: 'http' | 'https', layout: WebLayout, opts: VerifyOptions): Check {
  const names = siteNames(site);
  const port = scheme === 'http' ? 80 : 443;
  return check(`site ${names[0]!} over ${scheme}`, async (comm) => {
    const index = `${site.root.replace(/\/+$/, '')}/index.html`;
    const want = await probe(comm, ['cat', '--', index]);
    for (const name of names) {
      const argv = [
        'curl', '-fsS', '--max-time', '10', '--resolve', `${name}:${port}:127.0.0.1`,
        ...(scheme === 'https' ? ['--cacert', layout.certFile(names[0]!)] : []),
        `${scheme}://${name}/`,
      ];
      const r = await untilListening(comm, argv, opts);
      if (r.exitCode !== 0) return fail(`${name}: ${why(r, 'curl')}`);
      if (want.exitCode === 0 && r.stdout !== want.stdout) return fail(`${name} answers ${shown(r.stdout)}, not the content of ${index}`);
      if (r.stdout === '') return fail(`${name} answers with an empty page`);
    }
    const what = want.exitCode === 0 ? `the content of ${index}` : `a page (${index} is not there to compare)`;
    return pass(`${names.join(', ')} answer with ${what}`);
  });
}

async function untilListening(comm: Communicator, argv: readonly string[], opts: VerifyOptions): Promise<ProbeResult> {
  const { timeoutMs, intervalMs } = deadline(opts);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await probe(comm, argv);
    if (r.exitCode !== CURL_COULD_NOT_CONNECT || Date.now() >= end) return r;
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Databases

export function databaseChecks(db: ResolvedDatabase | undefined, opts: VerifyOptions): Check[] {
  if (db === undefined || !opts.booted) return [];
  const engine = ENGINES[db.engine];
  return db.databases.map((d) => check(`database ${d.name} (user ${d.user})`, async (comm): Promise<CheckResult> => {
    const setup = await setupFinished(comm, opts);
    if (!setup.ok) return setup;
    const r = await probe(comm, engine.login, `${d.password}\n`);
    if (r.exitCode !== 0) return fail(`${d.user} cannot log in: ${why(r, engine.login[0]!)}`);
    const got = r.stdout.trim();
    const want = engine.loginAnswer(d);
    return got === want ? pass(`${d.user} logs in with the config's password and sees ${d.name}`) : fail(`the login answered ${shown(got)}, want ${shown(want)}`);
  }));
}

/**
 * The setup unit runs once, after the server: it may still be running (activating) or not yet
 * started when verify comes in. On a later boot it is skipped, and its marker says it ran.
 */
async function setupFinished(comm: Communicator, opts: VerifyOptions): Promise<CheckResult> {
  const { timeoutMs, intervalMs } = deadline(opts);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await probe(comm, ['systemctl', 'is-active', '--', SETUP_UNIT]);
    const state = r.stdout.trim();
    if (state === 'active') return pass(state);
    if (state === 'failed') return fail(`${SETUP_UNIT}.service failed (journalctl -u ${SETUP_UNIT} in the guest says why)`);
    const marker = await probe(comm, ['test', '-e', SETUP_MARKER]);
    if (marker.exitCode === 0) return pass(`set up on an earlier boot (${SETUP_MARKER})`);
    if (Date.now() >= end) return fail(`${SETUP_UNIT}.service is still ${state === '' ? why(r, 'systemctl') : state} after ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}
