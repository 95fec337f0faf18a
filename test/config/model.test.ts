import { test } from 'node:test';
import assert from 'node:assert/strict';
import { show } from '../helpers/assert-values.js';
import { readFileSync } from 'node:fs';
import { loadCatalogs } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/validate/load.js';
import { findTarget } from '../../src/targets/registry.js';

const catalogs = loadCatalogs({ env: {} });
const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const brief = (text: string, target?: string) =>
  loadConfig(text, { catalogs, ...(target ? { target: findTarget(target)! } : {}) }).diagnostics.map((d) => `${d.line} ${d.severity} ${d.code}`);

test('the seed Windows XP machine (Listings 2.2, 2.4, 2.5, 2.7, 2.8 as printed) gets the reviewer\'s diagnostics', () => {
  assert.deepEqual(brief(read('test/fixtures/seed/winxp-vmware.conf'), 'vmware'), [
    '3 error CFG_WINDOWS_PASSWORD', // no [config] root_passwd: the Administrator's first logon needs one
    '7 warning CFG_FLAT_LIST', // [[hdd0]] beside [[hdds]]
    '19 warning CFG_FLAT_LIST', // [[cd_drive0]] beside [[cd_drives]]
    '21 warning CFG_CD_PATH', // /path/to/iso is a placeholder
    '24 warning CFG_FLAT_LIST', // [[eth0]] beside [[eths]]
    '27 error CFG_BAD_VALUE', // 01:00:de:ad:be:ef is multicast
    '33 warning CFG_FLAT_LIST', // [[user0]] beside [[users]]
    '51 warning CFG_NIC_UNKNOWN', // network eth1 has no hardware adapter
    '54 warning CFG_FLAT_LIST', // [[port0]] beside [[open_ports]]
    '63 error CFG_APP_UNAVAILABLE', // httpd
    '64 error CFG_APP_UNAVAILABLE', // dns-server
    '65 error CFG_APP_UNAVAILABLE', // dhcp-server
    '67 error CFG_APP_UNAVAILABLE', // sshd
  ]);
});

test('the multicast MAC message says why and offers a unicast address', () => {
  const d = loadConfig(read('test/fixtures/seed/winxp-vmware.conf'), { catalogs }).diagnostics.find((x) => x.line === 27)!;
  assert.match(d.message, /multicast/);
  assert.match(d.hint ?? '', /02:00:de:ad:be:ef/);
  assert.equal(d.column, 19);
});

test('the seed Debian machine (Listings 2.3, 2.6, 2.7, 2.8) is refused only for what Debian cannot install', () => {
  assert.deepEqual(brief(read('test/fixtures/seed/debian-seed.conf')), ['13 error CFG_APP_UNAVAILABLE', '30 error CFG_APP_UNAVAILABLE']);
  const hints = loadConfig(read('test/fixtures/seed/debian-seed.conf'), { catalogs }).diagnostics.map((d) => d.hint);
  assert.ok(hints.some((h) => /chromium/.test(h ?? '')), 'google-chrome suggests chromium');
});

test('the README sample validates for every target, containers warning that disks are ignored', () => {
  assert.deepEqual(brief(read('examples/debian-web.conf')), []);
  assert.deepEqual(brief(read('examples/debian-web.conf'), 'lxc'), ['7 warning CFG_TARGET_IGNORED']);
  assert.deepEqual(brief(read('examples/debian-web.conf'), 'vmware'), []);
});

test('flat and nested list sections describe the same machine', () => {
  const flat = `[hardware]\nos = debian12-64\n[[hdds]]\n[[hdd0]]\nsize = 8GB\n[[[partitions]]]\n[[[[partition0]]]]\nfs = ext4\nsize = 5000\n[[eths]]\n[[eth0]]\ntype = nat\n`;
  const nested = `[hardware]\nos = debian12-64\n[[hdds]]\n[[[hdd0]]]\nsize = 8GB\n[[[[partitions]]]]\n[[[[[partition0]]]]]\nfs = ext4\nsize = 5000\n[[eths]]\n[[[eth0]]]\ntype = nat\n`;
  const a = loadConfig(flat, { catalogs });
  const b = loadConfig(nested, { catalogs });
  assert.ok(a.config && b.config, show([a.diagnostics, b.diagnostics]));
  assert.deepEqual(a.config, b.config);
  assert.deepEqual(b.diagnostics.map((d) => d.code), ['CFG_ROOT_LOCKED']);
  assert.deepEqual(a.diagnostics.map((d) => d.code), ['CFG_ROOT_LOCKED', 'CFG_FLAT_LIST', 'CFG_FLAT_LIST']);
});

test('values are typed: sizes in MiB, booleans, lists, defaults', () => {
  const { config, diagnostics } = loadConfig(read('examples/debian-web.conf'), { catalogs });
  assert.deepEqual(diagnostics, []);
  assert.ok(config, 'no config without diagnostics');
  assert.equal(config.hardware.ram, 1024);
  assert.equal(config.hardware.hdds.hdd0!.size, 4096);
  assert.equal(config.hardware.hdds.hdd0!.partitions.root!.size, 3072);
  assert.equal(config.hardware.num_cpu, 2);
  assert.equal(config.config.bash_completion, true);
  assert.deepEqual(config.users.users.user0!.groups, ['julius', 'sudo']);
  assert.deepEqual(config.users.users.user1!.groups, ['vmg']);
  assert.deepEqual(config.network.open_ports.http!.port, { from: 80, to: 80 });
  assert.equal(config.network.eths.eth0!.network, 24);
  assert.deepEqual(config.network.dns, ['192.168.1.254']);
  assert.equal(config.hardware.eths.eth0!.connected, true);
  assert.deepEqual(config.gui, {});
});

test('one bad field does not hide the problems elsewhere in the file', () => {
  const text = `[hardware]\nos = debian12-64\nnum_cpu = two\n[network]\n[[eths]]\n[[[eth0]]]\ntype = static\naddress = 10.0.0.5\nnetwork = 255.255.255.0\ngateway = 10.0.1.1\n`;
  assert.deepEqual(brief(text), ['1 warning CFG_ROOT_LOCKED', '3 error CFG_BAD_VALUE', '10 error CFG_GATEWAY_SUBNET']);
});

test('a hostname or user name that could reach a shell or escape a directory is refused', () => {
  const text = `[hardware]\nos = debian12-64\nvm_id = ../evil\n[config]\nhostname = a;reboot\nroot_passwd = x\n[users]\n[[users]]\n[[[u]]]\nname = ../x\n`;
  const diags = loadConfig(text, { catalogs }).diagnostics;
  assert.deepEqual(diags.map((d) => `${d.line}:${d.column} ${d.code}`), ['3:9 CFG_BAD_VALUE', '5:12 CFG_BAD_VALUE', '10:8 CFG_USER_NAME']);
  assert.equal(loadConfig(text, { catalogs }).config, undefined);
});
