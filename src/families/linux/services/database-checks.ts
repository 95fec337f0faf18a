import { probe } from '../../../communicators/probe.js';
import type { Communicator } from '../../../communicators/types.js';
import type { ResolvedDatabase } from '../../../config/resolve-services.js';
import { check, fail, pass, shown, sleep, why, type Check, type CheckResult, type VerifyOptions } from '../../check-kit.js';
import { ENGINES, SETUP_MARKER, SETUP_UNIT } from './database.js';
import { settleTime } from './poll.js';

/*
 * `vmgen verify`'s checks of [database], from inside the booted guest: each database's user logs
 * in over TCP with its password, as a client on the machine would, once the setup unit is done.
 */


export function databaseChecks(db: ResolvedDatabase | undefined, opts: VerifyOptions): Check[] {
  if (db === undefined || !opts.booted) return [];
  const engine = ENGINES[db.engine];
  return db.databases.map((d) => check(`database ${d.name} (user ${d.user})`, async (comm): Promise<CheckResult> => {
    const setup = await setupFinished(comm, opts);
    if (!setup.ok) return setup;
    const r = await probe(comm, [...engine.login, d.user, d.name], `${d.password}\n`);
    if (r.exitCode !== 0) return fail(`${d.user} cannot log in: ${why(r, engine.login[0]!)}`);
    const got = r.stdout.trim();
    const want = engine.loginAnswer(d);
    return got === want ? pass(`${d.user} logs in with the config's password and sees ${d.name}`) : fail(`the login answered ${shown(got)}, want ${shown(want)}`);
  }));
}

/** The setup waits for the server's first start, which makes its files (initdb, mariadb-install-db). */
const SETUP_TIMEOUT_MS = 60_000;

/**
 * The setup unit runs once, after the server: it may still be running (activating) or not yet
 * started when verify comes in. On a later boot it is skipped, and its marker says it ran.
 */
async function setupFinished(comm: Communicator, opts: VerifyOptions): Promise<CheckResult> {
  const { timeoutMs, intervalMs } = settleTime(opts, SETUP_TIMEOUT_MS);
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
