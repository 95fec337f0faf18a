import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { clientAddressKey } from '../../src/service/ip.js';
import { allowEntryProblem, hostMirrorUris, isoRefusal, sourcePolicy, repoUrls, urlRefusal, type SourcePolicy } from '../../src/service/source-policy.js';
import { testService, WEB_CONF, type TestService } from './fakes.js';

const CONFIG = readFileSync(WEB_CONF, 'utf8');
const withConfigLines = (...lines: string[]): string => CONFIG.replace('[config]\n', `[config]\n${lines.map((l) => `    ${l}\n`).join('')}`);

const ONLY_EXAMPLE: SourcePolicy = { allow: ['http://mirror.example/debian'], allowPublic: false };
const PUBLIC: SourcePolicy = { allow: ['http://10.0.0.5/debian'], allowPublic: true };

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('mirror policy: which URLs a config sent to the service may name', () => {
  it('allows a listed prefix by whole path segments, scheme, host and port', () => {
    assert.equal(urlRefusal('http://mirror.example/debian', ONLY_EXAMPLE), undefined);
    assert.equal(urlRefusal('http://mirror.example/debian/', ONLY_EXAMPLE), undefined);
    assert.equal(urlRefusal('http://MIRROR.example/debian/pool', ONLY_EXAMPLE), undefined);
    for (const other of ['http://mirror.example/debian-evil', 'https://mirror.example/debian', 'http://mirror.example:81/debian',
      'http://mirror.example.evil.example/debian', 'http://user@mirror.example/debian', 'http://mirror.example/']) {
      assert.ok(urlRefusal(other, ONLY_EXAMPLE), `${other} is not under the allowed prefix`);
    }
  });

  it('refuses loopback, private, link-local and local names in every spelling, and file://, unless listed', () => {
    const refused: Record<string, RegExp> = {
      'http://127.0.0.1/debian': /loopback/,
      'http://127.1.2.3:3142/debian': /loopback/,
      'http://0x7f.1/debian': /loopback/, // WHATWG URL reads hex and short forms as 127.0.0.1, as getaddrinfo does
      'http://2130706433/debian': /loopback/,
      'http://localhost/debian': /this host/,
      'http://apt.localhost/debian': /this host/,
      'http://[::1]/debian': /loopback/,
      'http://[::ffff:127.0.0.1]/debian': /loopback/,
      'http://[::ffff:10.1.1.1]/debian': /private/,
      'http://[64:ff9b::a9fe:a9fe]/': /link-local/,
      'http://10.1.2.3/debian': /private/,
      'http://172.20.0.1/debian': /private/,
      'http://192.168.1.1/debian': /private/,
      'http://169.254.169.254/latest/meta-data': /link-local/,
      'http://100.64.0.1/': /carrier NAT/,
      'http://0.0.0.0/': /this network/,
      'http://[fe80::1]/': /link-local/,
      'http://[fd12:3456::1]/': /unique local/,
      'http://[::]/': /unspecified/,
      'http://apt-cacher/debian': /single-label/,
      'http://mirror.internal/debian': /local network/,
      'file:///srv/mirror': /file:\/\//,
      'ftp://mirror.example/debian': /not http/,
    };
    for (const [url, why] of Object.entries(refused)) {
      assert.match(urlRefusal(url, PUBLIC) ?? 'allowed', why, url);
    }
    assert.equal(urlRefusal('http://mirror.example/debian', PUBLIC), undefined, 'a public name, with `public` allowed');
    assert.equal(urlRefusal('https://203.0.113.9/debian', PUBLIC), undefined, 'a public address, with `public` allowed');
    assert.equal(urlRefusal('http://10.0.0.5/debian/dists', PUBLIC), undefined, 'a private address the admin listed');
    assert.match(urlRefusal('http://mirror.example/debian', { allow: [], allowPublic: false }) ?? '', /not a mirror this server builds from/);
    assert.equal(urlRefusal('file:///srv/mirror/debian', { allow: ['file:///srv/mirror'], allowPublic: false }), undefined);
  });

  it('finds the URLs of apt lines (options skipped) and dnf baseurls, in time linear in the line', () => {
    assert.deepEqual(repoUrls('deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/x stable main'), ['http://mirror.example/x']);
    assert.deepEqual(repoUrls('https://mirror.example/rocky/9/BaseOS/x86_64/os/'), ['https://mirror.example/rocky/9/BaseOS/x86_64/os/']);
    const t0 = performance.now();
    const long = `deb ${'a://'.repeat(62_000)}`;
    assert.ok(urlRefusal(repoUrls(long)[0]!, ONLY_EXAMPLE), 'a 248 KB non-URL is refused');
    assert.ok(performance.now() - t0 < 500, `checked in ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('defaults to the host apt sources\' URIs; `public` and prefixes from --allow-mirror replace them', () => {
    const apt = mkdtempSync(join(tmpdir(), 'vmgen-apt-'));
    dirs.push(apt);
    mkdirSync(join(apt, 'sources.list.d'));
    writeFileSync(join(apt, 'sources.list'), 'deb http://mirror.example/debian bookworm main\ndeb-src http://src.example/debian bookworm main\n');
    writeFileSync(join(apt, 'sources.list.d', 'debian.sources'), 'Types: deb\nURIs: http://mirror.example/debian-security/\nSuites: bookworm-security\nComponents: main\n');
    assert.deepEqual(hostMirrorUris(apt), ['http://mirror.example/debian', 'http://mirror.example/debian-security']);
    assert.deepEqual(sourcePolicy([], ['http://a.example']), { allow: ['http://a.example'], allowPublic: false, isoDirs: [] });
    assert.deepEqual(sourcePolicy(['public', 'http://b.example'], ['http://a.example'], ['/srv/iso/']),
      { allow: ['http://b.example'], allowPublic: true, isoDirs: ['/srv/iso'] });
    assert.equal(allowEntryProblem('public'), undefined);
    assert.match(allowEntryProblem('mirror.example') ?? '', /not a URL/);
  });

  it('copies ISO images into an archive only from the directories the admin allows', () => {
    const policy: SourcePolicy = { allow: [], allowPublic: false, isoDirs: ['/srv/iso'] };
    assert.equal(isoRefusal('/srv/iso/debian.iso', policy), undefined);
    assert.equal(isoRefusal('/srv/iso/sub/win.iso', policy), undefined);
    for (const p of ['/srv/iso/../../var/lib/vmgen/service.db', '/srv/isos/x.iso', '/etc/shadow', 'relative.iso', '/srv/iso']) {
      assert.match(isoRefusal(p, policy) ?? 'allowed', /outside/, p);
    }
    assert.match(isoRefusal('/srv/iso/debian.iso', { allow: [], allowPublic: false }) ?? '', /copies no ISO image/);
  });

  it('rate-limit keys: an IPv4 address (mapped or not), or an IPv6 /64', () => {
    assert.equal(clientAddressKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientAddressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientAddressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientAddressKey('2001:db8:1:2::ffff'), clientAddressKey('2001:db8:1:2:aaaa::1'));
  });
});

describe('API: mirror policy', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });

  it('a mirror on 127.0.0.1 is refused with 422 at its line; so is a repository on a private address', async () => {
    svc = await testService({ sourcePolicy: ONLY_EXAMPLE });
    const config = withConfigLines('mirror = http://127.0.0.1:3142/debian', '[[repos]]', '    extra = deb http://10.0.0.8/debian bookworm main');
    const r = await svc.app.inject({ method: 'POST', url: '/api/builds', headers: svc.auth('alice'), payload: { config, target: 'lxc' } });
    assert.equal(r.statusCode, 422, r.body);
    const body = r.json() as { error: { code: string }; diagnostics: Array<{ code: string; line: number; column: number; message: string; hint?: string }> };
    assert.equal(body.error.code, 'VMG_CONFIG_INVALID');
    const refused = body.diagnostics.filter((d) => d.code === 'CFG_MIRROR_NOT_ALLOWED');
    const lines = config.split('\n');
    assert.equal(refused.length, 2, r.body);
    assert.match(lines[refused[0]!.line - 1]!, /mirror = http:\/\/127\.0\.0\.1/);
    assert.equal(refused[0]!.column, lines[refused[0]!.line - 1]!.indexOf('http') + 1, 'at the value');
    assert.match(refused[0]!.message, /127\.0\.0\.1:3142 is a loopback address/);
    assert.match(refused[0]!.hint ?? '', /http:\/\/mirror\.example\/debian/);
    assert.match(lines[refused[1]!.line - 1]!, /extra = deb http:\/\/10\.0\.0\.8/);
    assert.match(refused[1]!.message, /private/);
    assert.equal(svc.executor.submitted.length, 0, 'nothing reached the executor');

    const parsed = await svc.app.inject({ method: 'POST', url: '/api/config/parse', headers: svc.auth('alice'), payload: { text: config } });
    assert.equal(parsed.json().valid, false, 'the page hears it too');
    assert.deepEqual(parsed.json().diagnostics.filter((d: { code: string }) => d.code === 'CFG_MIRROR_NOT_ALLOWED').map((d: { path: string[] }) => d.path),
      [['config', 'mirror'], ['config', 'repos', 'extra']]);

    const allowed = withConfigLines('mirror = http://mirror.example/debian');
    assert.equal((await svc.app.inject({ method: 'POST', url: '/api/builds', headers: svc.auth('alice'), payload: { config: allowed, target: 'lxc' } })).statusCode, 202);
  });

  it("a CD image copied from the server's disk is refused outside --allow-iso-dir; one only referenced is not", async () => {
    svc = await testService({ sourcePolicy: { allow: [], allowPublic: false, isoDirs: ['/srv/iso'] } });
    const withCd = (path: string, copy: string) => CONFIG.replace(/(\n\s*\[\[eths\]\])/, `\n    [[cd_drives]]\n        [[[cd0]]]\n            path = ${path}\n            copy = ${copy}$1`);
    const post = (config: string) => svc!.app.inject({ method: 'POST', url: '/api/builds', headers: svc!.auth('alice'), payload: { config, target: 'qemu' } });
    const stolen = withCd('/var/lib/vmgen/service.db', 'yes');
    const r = await post(stolen);
    assert.equal(r.statusCode, 422, r.body);
    const d = (r.json().diagnostics as Array<{ code: string; line: number; message: string }>).find((x) => x.code === 'CFG_ISO_NOT_ALLOWED');
    assert.ok(d, r.body);
    assert.match(stolen.split('\n')[d.line - 1]!, /path = \/var\/lib\/vmgen\/service\.db/);
    const referenced = await post(withCd('/var/lib/vmgen/service.db', '0'));
    assert.ok(!referenced.body.includes('CFG_ISO_NOT_ALLOWED'), `copy = 0 reads nothing from the server: ${referenced.body}`);
    const fromIsoDir = await post(withCd('/srv/iso/debian.iso', '1'));
    assert.ok(!fromIsoDir.body.includes('CFG_ISO_NOT_ALLOWED'), fromIsoDir.body);
  });

  it('an allowed mirror is accepted', async () => {
    svc = await testService({ sourcePolicy: ONLY_EXAMPLE });
    const allowed = withConfigLines('mirror = http://mirror.example/debian');
    const ok = await svc.app.inject({ method: 'POST', url: '/api/builds', headers: svc.auth('alice'), payload: { config: allowed, target: 'lxc' } });
    assert.equal(ok.statusCode, 202, ok.body);
  });
});
