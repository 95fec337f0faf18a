import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { includesAll, noItem } from '../helpers/assert-values.js';
import { fileURLToPath } from 'node:url';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import { formatResults, runChecks, verifyChecks, type VerifyOptions } from '../../src/verify/checks.js';
import { parseInfoZone, parseZoneFile, rawRuleLines } from '../../src/families/redhat/checks.js';
import { FakeCommunicator } from '../helpers/fake-communicator.js';
import { recordedSpec, wrongSpec } from '../fixtures/rpm/capture-verify.js';

/*
 * verify's RedHat row against what a real guest answered: transcripts recorded from an lxc build of
 * test/fixtures/rpm/redhat-web.conf (synthetic repository, see capture-verify.ts there), booted and
 * stopped. rpm, firewall-cmd and nft printed these bytes; the checks must read them right.
 */
const fixtures = (name: string): string => fileURLToPath(new URL(`../fixtures/rpm/${name}/`, import.meta.url));
const BOOTED: VerifyOptions = { booted: true, addressesInGuest: true };
const OFFLINE: VerifyOptions = { booted: false, addressesInGuest: false };

async function report(spec: ResolvedSpec, opts: VerifyOptions, dir: string): Promise<string[]> {
  const text = formatResults(await runChecks(verifyChecks(spec, opts), FakeCommunicator.fromFixtures(fixtures(dir))));
  return text.trimEnd().split('\n');
}

describe('verify, RedHat family, booted guest', () => {
  it('the guest built from redhat-web.conf passes every check, asked through rpm and firewalld', async () => {
    const lines = await report(recordedSpec(), BOOTED, 'verify-booted');
    assert.deepEqual(lines.filter((l) => !l.startsWith('ok    ')), ['all 36 checks passed']);
    for (const expected of [
      'ok    package httpd: installed (httpd-1-1)',
      'ok    service firewalld active: active',
      'ok    service NetworkManager active: active',
      'ok    service vmgen-raw-rules active: active',
      "ok    firewall input policy: DROP, in firewalld's running zone vmgen",
      "ok    firewall accepts tcp 22: in firewalld's running zone vmgen",
      'ok    firewall raw rules: 1 in table inet vmgen_raw',
    ]) assert.ok(lines.includes(expected), `missing line: ${expected}\n${lines.join('\n')}`);
    // Debian's row is not asked: no dpkg, no nftables.service, no inet filter table.
    noItem(lines, (l) => /nftables|dpkg/.test(l));
  });

  it('a spec the guest does not match fails exactly where it differs', async () => {
    const lines = await report(wrongSpec(), BOOTED, 'verify-booted');
    assert.deepEqual(lines.filter((l) => l.startsWith('FAIL')), [
      'FAIL  package emacs: not installed (unknown to rpm)',
      "FAIL  firewall accepts udp 53: no port 53/udp in firewalld's running zone vmgen",
      'FAIL  firewall raw rules: table inet vmgen_raw has 1 rules, want 2',
    ]);
  });
});

describe('verify, RedHat family, stopped guest', () => {
  it('reads the zone, firewalld.conf and the raw rules file instead of asking firewalld', async () => {
    const lines = await report(recordedSpec(), OFFLINE, 'verify-offline');
    assert.equal(lines.at(-1), 'all 27 checks passed');
    includesAll(lines, ['ok    firewall input policy: DROP, in /etc/firewalld/zones/vmgen.xml', 'ok    firewall raw rules: 1 in /etc/vmgen/raw-rules.nft (loaded by vmgen-raw-rules.service)']);
  });

  it('and fails where the files differ from the spec', async () => {
    const lines = await report(wrongSpec(), OFFLINE, 'verify-offline');
    assert.deepEqual(lines.filter((l) => l.startsWith('FAIL')), [
      'FAIL  package emacs: not installed (unknown to rpm)',
      'FAIL  firewall accepts udp 53: no port 53/udp in /etc/firewalld/zones/vmgen.xml',
      'FAIL  firewall raw rules: /etc/vmgen/raw-rules.nft (loaded by vmgen-raw-rules.service) has 1 rules, want 2',
    ]);
  });
});

describe('parsers', () => {
  it('parseInfoZone reads the target and the ports', () => {
    assert.deepEqual(parseInfoZone('vmgen (active)\n  target: DROP\n  ports: 22/tcp 6000-6010/udp\n  protocols: \n'), { target: 'DROP', ports: ['22/tcp', '6000-6010/udp'] });
    assert.deepEqual(parseInfoZone('x\n  target: default\n  ports: \n'), { target: 'default', ports: [] });
  });

  it('parseZoneFile takes attributes in either order', () => {
    assert.deepEqual(parseZoneFile('<zone target="DROP"><port port="80" protocol="tcp"/><port protocol="udp" port="53"/></zone>'), { target: 'DROP', ports: ['80/tcp', '53/udp'] });
  });

  it('rawRuleLines skips the table structure', () => {
    assert.deepEqual(rawRuleLines('table inet t\ndelete table inet t\ntable inet t {\n\tchain input {\n\t\ttype filter hook input priority filter - 10; policy accept;\n\t\ttcp dport 1 drop\n\t}\n}\n'), ['tcp dport 1 drop']);
  });
});
