import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadCatalogs } from '../../src/catalog/load.js';
import { dirSources } from '../../src/config/sources.js';
import { assembleLab, labManifest } from '../../src/lab/assemble.js';
import { labManifestNetworks } from '../../src/lab/build-member.js';
import { loadLab } from '../../src/lab/load.js';
import { labBaseId, parseLabManifest } from '../../src/lab/manifest.js';
import { canonicalJson, ociManifest, ociRefEntry, MEDIA_TYPES, type OciIndex, type OciManifest } from '../../src/targets/oci/render.js';
import { composeBridgeAddress, dhcpAddresses, ociLabPlan, podmanNetworkArgs, podmanRunArgs } from '../../src/lab/topology/oci.js';
import type { Lab } from '../../src/lab/types.js';

const EXAMPLE = new URL('../../examples/net101/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'vmgen-oci-layout-'));
after(() => rmSync(work, { recursive: true, force: true }));

function net101(): Lab {
  const r = loadLab(readFileSync(join(EXAMPLE, 'lab.conf'), 'utf8'), { catalogs: loadCatalogs(), sources: dirSources(EXAMPLE), file: 'lab.conf' });
  assert.ok(r.lab, `the example lab loads: ${JSON.stringify(r.diagnostics)}`);
  return r.lab;
}

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

function blob(dir: string, content: string): { digest: string; size: number } {
  writeFileSync(join(dir, sha(content)), content);
  return { digest: `sha256:${sha(content)}`, size: Buffer.byteLength(content) };
}

/** A base layer's blob as a host's cache would keep it (LAYERDIR/oci-layer/HEX). */
function baseLayer(group: string): { dir: string; hex: string; content: string } {
  const dir = join(work, 'cache', 'layers', `key-${group}`, 'oci-layer');
  mkdirSync(dir, { recursive: true });
  const content = `base layer of the ${group} package set\n`;
  writeFileSync(join(dir, sha(content)), content);
  return { dir, hex: sha(content), content };
}

/**
 * An OCI member file as buildLabMember writes it: member.json, machine/blobs (top layer, config,
 * manifest made by the real builders), machine/image.json, and base/HEX when the base is included.
 */
function fakeMember(machine: string, group: string, included: boolean, source?: string): string {
  const base = baseLayer(group);
  const root = join(work, `src-${machine}`);
  const blobs = join(root, 'machine', 'blobs');
  mkdirSync(blobs, { recursive: true });
  const top = blob(blobs, `top layer of ${machine}\n`);
  const config = blob(blobs, canonicalJson({ machine, diff_ids: [`sha256:${base.hex}`, top.digest] }));
  const manifest = blob(blobs, canonicalJson(ociManifest({ mediaType: MEDIA_TYPES.config, ...config }, [
    { mediaType: MEDIA_TYPES.layerGzip, digest: `sha256:${base.hex}`, size: Buffer.byteLength(base.content) },
    { mediaType: MEDIA_TYPES.layerGzip, ...top },
  ])));
  writeFileSync(join(root, 'machine', 'image.json'), canonicalJson(ociRefEntry({ mediaType: MEDIA_TYPES.manifest, ...manifest }, machine)));
  const layerKey = `key-${group}`;
  writeFileSync(join(root, 'member.json'), JSON.stringify({
    version: 1, lab: 'net101', target: 'oci', machine, files: { image: 'image.json' },
    base: { id: labBaseId(layerKey), layerKey, entries: [base.hex], included, source: source ?? base.dir },
  }));
  const entries = ['member.json', 'machine'];
  if (included) {
    mkdirSync(join(root, 'base'), { recursive: true });
    writeFileSync(join(root, 'base', base.hex), base.content);
    entries.push('base');
  }
  const file = join(work, `${machine}-oci.member.tar`);
  const r = spawnSync('tar', ['-cf', file, '-C', root, ...entries]);
  assert.equal(r.status, 0, `tar: ${String(r.stderr)}`);
  return file;
}

const readIn = (archive: string, path: string): string => {
  const r = spawnSync('tar', ['-xOf', archive, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${path} in the archive: ${r.stderr}`);
  return r.stdout;
};

test('a lab\'s OCI archive is one image layout: each package set\'s base layer once, one top layer and one index entry per machine', async () => {
  const lab = net101();
  // gw carries its base; web's is only in "this host's cache"; pc1 carries the students' base and
  // pc2…pc6, built "elsewhere", only name it.
  const files = lab.machines.map((m) => fakeMember(m.name, m.group,
    m.group === 'gw' || m.name === 'pc1', m.group === 'pc' && m.name !== 'pc1' ? '/elsewhere' : undefined));
  const archive = await assembleLab(lab, 'oci', files, join(work, 'out'));
  assert.equal(archive, join(work, 'out', 'net101-oci.tar'), 'the archive is named after the lab and the target');
  const list = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

  const groups = [...new Set(lab.machines.map((m) => m.group))];
  for (const g of groups) {
    const hex = sha(`base layer of the ${g} package set\n`);
    assert.equal(list.filter((p) => p.endsWith(hex)).length, 1, `the ${g} base layer is stored once`);
    assert.ok(list.includes(`oci/blobs/sha256/${hex}`), `the ${g} base layer is a blob of the layout`);
  }
  for (const m of lab.machines) assert.ok(list.includes(`oci/blobs/sha256/${sha(`top layer of ${m.name}\n`)}`), `${m.name}'s top layer is a blob of the layout`);
  const blobs = list.filter((p) => /^oci\/blobs\/sha256\/[0-9a-f]{64}$/.test(p));
  assert.equal(blobs.length, groups.length + 3 * lab.machines.length, 'bases once, and per machine a top layer, a config and a manifest');
  assert.deepEqual(list.filter((p) => p.startsWith('bases/') || /^machines\/[^/]+\/blobs/.test(p)), [], 'no blob outside the layout');
  assert.equal(readIn(archive, 'oci/oci-layout'), '{"imageLayoutVersion":"1.0.0"}', 'the layout is marked');

  const index = JSON.parse(readIn(archive, 'oci/index.json')) as OciIndex;
  assert.equal(index.mediaType, MEDIA_TYPES.index, 'index.json is an image index');
  assert.deepEqual(index.manifests.map((e) => e.annotations?.['org.opencontainers.image.ref.name']), lab.machines.map((m) => m.name), 'one entry per machine, named after it');
  for (const entry of index.manifests) {
    const manifest = JSON.parse(readIn(archive, `oci/blobs/sha256/${entry.digest.slice(7)}`)) as OciManifest;
    for (const d of [manifest.config, ...manifest.layers]) assert.ok(list.includes(`oci/blobs/sha256/${d.digest.slice(7)}`), `${d.digest} of ${entry.annotations?.['org.opencontainers.image.ref.name']} is in the layout`);
    assert.equal(manifest.layers.length, 2, 'base and top');
  }

  const manifest = parseLabManifest(readIn(archive, 'lab.json'));
  assert.deepEqual(manifest.bases.map((b) => b.path).sort(), groups.map((g) => `oci/blobs/sha256/${sha(`base layer of the ${g} package set\n`)}`).sort(),
    'lab.json names each base by its blob');
  for (const m of manifest.machines) {
    assert.equal(m.files.image, `${m.dir}/image.json`, `${m.name}: its index entry`);
    assert.equal(m.base, labBaseId(`key-${lab.machines.find((x) => x.name === m.name)!.group}`), `${m.name} stands on its package set's base`);
    assert.ok(list.includes(m.config), `${m.name}'s machine.conf is in the archive`);
  }
  assert.equal(manifest.topology.compose, 'topology/compose.yaml', 'the compose file is the topology');
  assert.ok(list.includes('topology/compose.yaml'), 'and is in the archive');
});

test('a member whose image entry names a manifest it does not carry is refused', async () => {
  const lab = net101();
  const files = lab.machines.map((m) => fakeMember(m.name, m.group, true));
  const broken = join(work, 'broken');
  mkdirSync(join(broken, 'machine'), { recursive: true });
  spawnSync('tar', ['-xf', files[1]!, '-C', broken]);
  writeFileSync(join(broken, 'machine', 'image.json'), canonicalJson(ociRefEntry({ mediaType: MEDIA_TYPES.manifest, digest: `sha256:${sha('nothing')}`, size: 7 }, lab.machines[1]!.name)));
  spawnSync('tar', ['-cf', files[1]!, '-C', broken, 'member.json', 'machine', 'base']);
  await assert.rejects(assembleLab(lab, 'oci', files, join(work, 'out-broken')), /no manifest blob/);
});

test('lab.json of an OCI lab names bases by blob even before assembly (labManifest is pure)', () => {
  const lab = net101();
  const infos = lab.machines.map((m) => ({
    version: 1 as const, lab: lab.name, target: 'oci', machine: m.name, files: { image: 'image.json' },
    base: { id: labBaseId(`key-${m.group}`), layerKey: `key-${m.group}`, entries: ['ab'.repeat(32)], included: false, source: '/x' },
  }));
  const manifest = labManifest(lab, 'oci', 'tar', infos);
  assert.ok(manifest.bases.every((b) => b.path === `oci/blobs/sha256/${'ab'.repeat(32)}`), 'oci bases are blobs');
  const lxc = labManifest(lab, 'lxc', 'tar.zst', infos);
  assert.ok(lxc.bases.every((b) => b.path === `bases/${b.id}`), 'other targets keep bases/ID');
});

test('the compose networks\' bridges take the highest address no machine has, never the router\'s', () => {
  const lab = net101();
  const dmz = labManifestNetworks(lab).find((n) => n.name === 'dmz')!;
  assert.equal(composeBridgeAddress(lab, dmz), '10.20.0.254', 'the last host address when it is free');
  const taken = { ...lab, machines: lab.machines.map((m) => (m.name === 'web' ? { ...m, nics: m.nics.map((n) => ({ ...n, address: '10.20.0.254' })) } : m)) };
  assert.equal(composeBridgeAddress(taken, dmz), '10.20.0.253', 'the next one down when a machine has it');
});

test('the podman arguments of the example lab are the ones that ran it by hand, from the same plan as compose.yaml', () => {
  const lab = net101();
  const plan = ociLabPlan(lab, labManifestNetworks(lab));
  assert.deepEqual(plan.networks.map(podmanNetworkArgs), [
    ['--internal', '--disable-dns', '--subnet', '10.20.0.0/24', '--gateway', '10.20.0.254', 'net101-dmz'],
    ['--internal', '--disable-dns', '--subnet', '10.10.0.0/24', '--gateway', '10.10.0.254', 'net101-lan'],
  ], 'internal networks whose bridges leave .1 to the router');
  const run = (name: string): string[] => podmanRunArgs(lab.name, plan.services.find((s) => s.name === name)!);
  assert.deepEqual(run('gw'), ['--name', 'net101-gw', '--hostname', 'gw', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--sysctl', 'net.ipv4.ip_forward=1', '--dns', '10.20.0.1', '--dns', '10.10.0.1',
    '--network', 'net101-dmz:ip=10.20.0.1,mac=52:54:00:7a:3f:7e,interface_name=eth0', '--network', 'net101-lan:ip=10.10.0.1,mac=52:54:00:1c:09:fd,interface_name=eth1', 'localhost/net101-gw:latest'], 'the router, with both its NICs\' DNS servers as its config names them');
  assert.deepEqual(run('web'), ['--name', 'net101-web', '--hostname', 'web', '--cap-add', 'NET_ADMIN', '--dns', '10.20.0.1',
    '--network', 'net101-dmz:ip=10.20.0.10,mac=52:54:00:6e:d4:c1,interface_name=eth0', 'localhost/net101-web:latest'], 'a static server');
  assert.deepEqual(run('pc1'), ['--name', 'net101-pc1', '--hostname', 'pc1', '--cap-add', 'NET_ADMIN', '--dns', '10.10.0.1',
    '--network', 'net101-lan:ip=10.10.0.100,mac=52:54:00:af:b5:b6,interface_name=eth0', 'localhost/net101-pc1:latest'], 'a DHCP client: the first address of the lab\'s DHCP range');
  assert.deepEqual(plan.services.map((x) => `${x.name}:${x.defaultRoute ?? '-'}`), ['gw:-', 'web:10.20.0.1', ...[1, 2, 3, 4, 5, 6].map((i) => `pc${i}:10.10.0.1`)],
    'every machine routes through the router, which has the gateways\' addresses itself');
});

test('DHCP NICs get the first free addresses of the lab\'s DHCP range on their network, in machine order', () => {
  const lab = net101();
  const [dmz, lan] = ['dmz', 'lan'].map((name) => labManifestNetworks(lab).find((n) => n.name === name)!);
  assert.deepEqual([...dhcpAddresses(lab, lan!)], [1, 2, 3, 4, 5, 6].map((i) => [`pc${i}/eth0`, `10.10.0.${99 + i}`]), 'pc1…pc6 from 10.10.0.100');
  assert.equal(dhcpAddresses(lab, dmz!).size, 0, 'no DHCP server on the DMZ: the runtime\'s IPAM decides');
  const withRange = (range: string, hosts: Record<string, string[]> = {}): Lab => ({ ...lab, machines: lab.machines.map((m) => (m.config.dhcp === undefined ? m
    : { ...m, config: { ...m.config, dhcp: Object.fromEntries(Object.entries(m.config.dhcp).map(([k, scope]) => [k, { ...scope, range, hosts }])) } })) });
  assert.deepEqual([...dhcpAddresses(withRange('10.10.0.1 - 10.10.0.4'), lan!).values()], ['10.10.0.2', '10.10.0.3', '10.10.0.4'],
    'the router\'s address is skipped, and machines past the range\'s end are left to IPAM');
  assert.deepEqual([...dhcpAddresses(withRange('10.10.0.10 - 10.10.0.20', { printer: ['52:54:00:00:01:50', '10.10.0.11'] }), lan!).values()].slice(0, 2),
    ['10.10.0.10', '10.10.0.12'], 'a fixed host\'s address is skipped');
});
