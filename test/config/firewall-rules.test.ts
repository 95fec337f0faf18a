import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { checkRawNftRule } from '../../src/families/linux/nftables.js';

const catalogs = loadCatalogs({ env: {} });

/** A small valid machine of `os` with the given [[firewall-rules]] lines (the rules start on line 6). */
const machine = (os: string, ...rules: string[]): string =>
  [`[hardware]`, `    os = ${os}`, `[config]`, `    root_passwd = change-me`, `[network]`, `    [[firewall-rules]]`, ...rules.map((r) => `        ${r}`), ''].join('\n');

const ruleDiagnostics = (text: string) => loadConfig(text, { catalogs }).diagnostics.filter((d) => d.code === 'CFG_FIREWALL_RULE');

describe('[network] firewall-rules on Linux guests', () => {
  it('accepts nft rules', () => {
    const r = loadConfig(machine('debian12-64', 'r1 = tcp dport 8080 accept', 'r2 = "ip saddr 10.0.0.0/8 tcp dport { 8080, 8443 } accept"'), { catalogs });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.config?.network['firewall-rules'], { r1: 'tcp dport 8080 accept', r2: 'ip saddr 10.0.0.0/8 tcp dport { 8080, 8443 } accept' });
  });

  it('refuses a rule that would run a second statement, at its line, with the checker\'s message and hint', () => {
    const rule = 'tcp dport 1 accept; flush ruleset';
    const d = ruleDiagnostics(machine('debian12-64', 'r1 = tcp dport 8080 accept', `r2 = ${rule}`));
    const expected = checkRawNftRule(rule);
    assert.equal(expected.ok, false);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.severity, 'error');
    assert.equal(d[0]!.line, 8);
    assert.equal(d[0]!.message, expected.message);
    assert.equal(d[0]!.hint, expected.hint);
    assert.match(d[0]!.message, /';'/);
  });

  it('reports every bad rule, not only the first', () => {
    const d = ruleDiagnostics(machine('ubuntu24.04-64', 'a = policy accept', 'b = tcp dport 22 accept', 'c = counter } drop'));
    assert.deepEqual(d.map((x) => x.line), [7, 9]);
    assert.match(d[0]!.message, /not a rule/);
  });

  it('checks rules of dnf-installed Linux guests too', () => {
    assert.equal(ruleDiagnostics(machine('fedora42-64', 'r = accept; flush ruleset')).length, 1);
  });

  it('refuses a rule made of two lines', () => {
    const d = ruleDiagnostics(machine('debian12-64', "r = '''tcp dport 22 accept", "flush ruleset'''"));
    assert.equal(d.length, 1);
    assert.equal(d[0]!.line, 7);
    assert.match(d[0]!.message, /line break/);
  });
});

describe('[network] firewall-rules on Windows guests', () => {
  it('leaves them alone: they are netsh commands, not nft rules', () => {
    const netsh = 'r1 = netsh advfirewall firewall add rule name="web" dir=in action=allow protocol=TCP localport=80; echo done';
    assert.deepEqual(ruleDiagnostics(machine('windows10-64', netsh)), []);
  });
});
