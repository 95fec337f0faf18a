import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedDatabase, ResolvedSite } from '../../../src/config/resolve-services.js';
import type { VerifyOptions } from '../../../src/families/check-kit.js';
import { DEBIAN_WEB } from '../../../src/families/debian/services/web.js';
import { databaseChecks } from '../../../src/families/linux/services/database-checks.js';
import { webChecks } from '../../../src/families/linux/services/web-checks.js';
import { ENGINES, SETUP_MARKER, SETUP_UNIT } from '../../../src/families/linux/services/database.js';
import { REDHAT_WEB } from '../../../src/families/redhat/services/web.js';
import { formatResults, runChecks } from '../../../src/verify/checks.js';
import { FakeCommunicator } from '../../helpers/fake-communicator.js';
import { includesNone } from '../../helpers/assert-values.js';

const BOOTED: VerifyOptions = { booted: true, addressesInGuest: true, activeTimeoutMs: 50, pollIntervalMs: 1 };
const OFFLINE: VerifyOptions = { booted: false, addressesInGuest: false };

const site: ResolvedSite = { id: 'lab', serverName: 'www.lab.example', aliases: ['lab.example'], root: '/srv/www/lab/', tls: true };
const PAGE = '<h1>lab</h1>\n';

const curl = (name: string, scheme: 'http' | 'https', cert?: string): string[] => [
  'curl', '-fsS', '--max-time', '10', '--resolve', `${name}:${scheme === 'http' ? 80 : 443}:127.0.0.1`,
  ...(cert === undefined ? [] : ['--cacert', cert]), `${scheme}://${name}/`,
];

async function lines(checks: ReturnType<typeof webChecks>, comm: FakeCommunicator): Promise<string[]> {
  return formatResults(await runChecks(checks, comm)).trimEnd().split('\n');
}

describe('web checks', () => {
  const cert = DEBIAN_WEB.certFile('www.lab.example');
  const guest = (): FakeCommunicator => new FakeCommunicator()
    .on(['cat', '--', '/srv/www/lab/index.html'], { stdout: PAGE })
    .on(curl('www.lab.example', 'http'), { stdout: PAGE })
    .on(curl('lab.example', 'http'), { stdout: PAGE })
    .on(curl('www.lab.example', 'https', cert), { stdout: PAGE })
    .on(curl('lab.example', 'https', cert), { stdout: PAGE });

  it('every name answers with the root\'s index.html, over HTTP and, against the site\'s certificate, HTTPS', async () => {
    assert.deepEqual(await lines(webChecks([site], DEBIAN_WEB, BOOTED), guest()), [
      'ok    site www.lab.example over http: www.lab.example, lab.example answer with the content of /srv/www/lab/index.html',
      'ok    site www.lab.example over https: www.lab.example, lab.example answer with the content of /srv/www/lab/index.html',
      'all 2 checks passed',
    ]);
  });

  it('a name answering with another page fails, naming it', async () => {
    const comm = guest().on(curl('lab.example', 'http'), { stdout: 'It works!' });
    const [http] = await lines(webChecks([site], DEBIAN_WEB, BOOTED), comm);
    assert.equal(http, 'FAIL  site www.lab.example over http: lab.example answers It works!, not the content of /srv/www/lab/index.html');
  });

  it('a server not listening yet is asked again; curl\'s error is shown when it never answers', async () => {
    const comm = guest().on(curl('www.lab.example', 'http'), { exitCode: 7, stderr: 'curl: (7) Failed to connect' }, { stdout: PAGE });
    assert.match((await lines(webChecks([{ ...site, tls: false }], DEBIAN_WEB, BOOTED), comm))[0] ?? '', /^ok /);
    const down = guest().on(curl('www.lab.example', 'http'), { exitCode: 7, stderr: 'curl: (7) Failed to connect' });
    assert.equal((await lines(webChecks([{ ...site, tls: false }], DEBIAN_WEB, BOOTED), down))[0], 'FAIL  site www.lab.example over http: www.lab.example: curl: (7) Failed to connect');
  });

  it('without an index.html a non-empty page will do, and the detail says it was not compared', async () => {
    const comm = guest().on(['cat', '--', '/srv/www/lab/index.html'], { exitCode: 1, stderr: 'No such file' });
    const [http] = await lines(webChecks([{ ...site, tls: false }], DEBIAN_WEB, BOOTED), comm);
    assert.equal(http, 'ok    site www.lab.example over http: www.lab.example, lab.example answer with a page (/srv/www/lab/index.html is not there to compare)');
  });

  it('RedHat checks HTTPS against its own certificate path; a stopped guest has no site checks', () => {
    const https = webChecks([site], REDHAT_WEB, BOOTED).map((c) => c.name);
    assert.deepEqual(https, ['site www.lab.example over http', 'site www.lab.example over https']);
    assert.deepEqual(webChecks([site], DEBIAN_WEB, OFFLINE), []);
  });
});

describe('database checks', () => {
  const db: ResolvedDatabase = { engine: 'mariadb', databases: [{ name: 'shop', user: 'clerk', password: "s3cr'et" }] };
  const active = ['systemctl', 'is-active', '--', SETUP_UNIT];
  const marker = ['test', '-e', SETUP_MARKER];

  it('waits for the setup unit, then logs in with the password on stdin only', async () => {
    const comm = new FakeCommunicator()
      .on(active, { stdout: 'inactive\n', exitCode: 3 }, { stdout: 'activating\n', exitCode: 3 }, { stdout: 'active\n' })
      .on(marker, { exitCode: 1 })
      .on([...ENGINES.mariadb.login, 'clerk', 'shop'], { stdout: 'shop\n' });
    assert.deepEqual(await lines(databaseChecks(db, BOOTED), comm), [
      "ok    database shop (user clerk): clerk logs in with the config's password and sees shop",
      'all 1 check passed',
    ]);
    const login = comm.calls.find((c) => c.input !== undefined);
    assert.equal(login?.input, "s3cr'et\n");
    includesNone(comm.calls.flatMap((c) => c.argv), ["s3cr'et"]);
  });

  it('PostgreSQL: the user must own its database', async () => {
    const pg: ResolvedDatabase = { ...db, engine: 'postgresql' };
    const comm = new FakeCommunicator().on(active, { stdout: 'active\n' }).on([...ENGINES.postgresql.login, 'clerk', 'shop'], { stdout: 'shop|postgres\n' });
    assert.equal((await lines(databaseChecks(pg, BOOTED), comm))[0], 'FAIL  database shop (user clerk): the login answered shop|postgres, want shop|clerk');
  });

  it('a failed setup, or a login refused, fails with the reason and no password', async () => {
    const failed = new FakeCommunicator().on(active, { stdout: 'failed\n', exitCode: 3 });
    assert.equal((await lines(databaseChecks(db, BOOTED), failed))[0], `FAIL  database shop (user clerk): ${SETUP_UNIT}.service failed (journalctl -u ${SETUP_UNIT} in the guest says why)`);
    const refused = new FakeCommunicator().on(active, { stdout: 'inactive\n', exitCode: 3 }).on(marker, {})
      .on([...ENGINES.mariadb.login, 'clerk', 'shop'], { exitCode: 1, stderr: "ERROR 1045 (28000): Access denied for user 'clerk'@'localhost' (using password: YES)" });
    assert.equal((await lines(databaseChecks(db, BOOTED), refused))[0], "FAIL  database shop (user clerk): clerk cannot log in: ERROR 1045 (28000): Access denied for user 'clerk'@'localhost' (using password: YES)");
  });

  it('a setup that never finishes fails after the timeout; a stopped guest has no database checks', async () => {
    const stuck = new FakeCommunicator().on(active, { stdout: 'activating\n', exitCode: 3 }).on(marker, { exitCode: 1 });
    assert.equal((await lines(databaseChecks(db, BOOTED), stuck))[0], `FAIL  database shop (user clerk): ${SETUP_UNIT}.service is still activating after 0.05 s`);
    assert.deepEqual(databaseChecks(db, OFFLINE), []);
  });
});
