import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { someItem, everyItem } from '../helpers/assert-values.js';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { z } from 'zod';
import type { ResolvedSpec } from '../../src/config/resolve.js';
import {
  MEDIA_TYPES,
  canonicalJson,
  isOciDigest,
  ociDescriptor,
  ociImageConfig,
  ociIndex,
  ociLayout,
  ociManifest,
  ociPlatform,
  renderOci,
  PENDING_DIFF_ID,
  type OciDescriptor,
} from '../../src/targets/oci/render.js';
import { assertGolden } from '../helpers/golden.js';
import { CASE_NAMES, specFor, type CaseName } from './specs.js';

const CREATED = '2024-01-01T00:00:00Z';
const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
// Stand-ins for the digests the packer computes while it writes the layer.
const DIFF_ID = sha256('uncompressed layer');
const LAYER: OciDescriptor = { mediaType: MEDIA_TYPES.layerGzip, digest: sha256('compressed layer'), size: 123456 };

/*
 * The structure image-spec v1.1 requires of each document: its REQUIRED fields, media types and
 * the sha256 digest grammar. Written from the spec, independently of the builders.
 */
const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/);
const Annotations = z.record(z.string(), z.string());
const Descriptor = z.object({
  mediaType: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/),
  digest: Digest,
  size: z.number().int().nonnegative(),
  annotations: Annotations.optional(),
  platform: z.object({ architecture: z.string().min(1), os: z.string().min(1) }).optional(),
});
const LAYER_TYPES = [MEDIA_TYPES.layerTar, MEDIA_TYPES.layerGzip, MEDIA_TYPES.layerZstd] as const;
const ImageConfig = z.object({
  created: z.string().optional(),
  architecture: z.string().min(1),
  os: z.string().min(1),
  config: z.object({
    Env: z.array(z.string().regex(/^[^=]+=/)).optional(),
    Cmd: z.array(z.string()).optional(),
    Entrypoint: z.array(z.string()).optional(),
    StopSignal: z.string().regex(/^SIG[A-Z0-9+-]+$/).optional(),
    ExposedPorts: z.record(z.string().regex(/^\d+(\/(tcp|udp))?$/), z.strictObject({})).optional(),
    Labels: Annotations.optional(),
  }).optional(),
  rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(Digest) }),
  history: z.array(z.object({ created: z.string().optional(), created_by: z.string().optional(), comment: z.string().optional(), empty_layer: z.boolean().optional() })).optional(),
});
const Manifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(MEDIA_TYPES.manifest),
  config: Descriptor.extend({ mediaType: z.literal(MEDIA_TYPES.config) }),
  layers: z.array(Descriptor.extend({ mediaType: z.enum(LAYER_TYPES) })).min(1),
  annotations: Annotations.optional(),
});
const Index = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(MEDIA_TYPES.index),
  manifests: z.array(Descriptor.extend({ mediaType: z.literal(MEDIA_TYPES.manifest) })),
  annotations: Annotations.optional(),
});

/** The layout's documents as the packer builds them, each with its canonical bytes. */
function build(spec: ResolvedSpec) {
  const config = ociImageConfig(spec, { diffId: DIFF_ID, created: CREATED });
  const configText = canonicalJson(config);
  const configDesc = ociDescriptor(MEDIA_TYPES.config, configText);
  const manifest = ociManifest(configDesc, LAYER);
  const manifestText = canonicalJson(manifest);
  const manifestDesc = ociDescriptor(MEDIA_TYPES.manifest, manifestText, ociPlatform(spec));
  const index = ociIndex(manifestDesc, `${spec.name}:latest`);
  return { config, configText, configDesc, manifest, manifestText, manifestDesc, index, indexText: canonicalJson(index) };
}

const pretty = (canonical: string) => `${JSON.stringify(JSON.parse(canonical), null, 2)}\n`;
const spec = (name: CaseName) => specFor(name, 'oci');

describe('OCI golden files', () => {
  for (const name of CASE_NAMES) {
    it(`renders ${name}`, () => {
      const b = build(spec(name));
      assertGolden(`oci/${name}/config.json`, pretty(b.configText));
      assertGolden(`oci/${name}/manifest.json`, pretty(b.manifestText));
      assertGolden(`oci/${name}/index.json`, pretty(b.indexText));
      // Pins the canonical bytes themselves, not only their content.
      assertGolden(`oci/${name}/digests`, `config ${b.configDesc.digest} ${b.configDesc.size}\nmanifest ${b.manifestDesc.digest} ${b.manifestDesc.size}\n`);
    });
  }
});

describe('OCI documents follow image-spec v1.1', () => {
  for (const name of CASE_NAMES) {
    it(`${name}: config, manifest and index have the required fields, media types and digests`, () => {
      const b = build(spec(name));
      ImageConfig.parse(JSON.parse(b.configText));
      Manifest.parse(JSON.parse(b.manifestText));
      const index = Index.parse(JSON.parse(b.indexText));
      assert.equal(index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'], `${spec(name).name}:latest`);
      // Each descriptor names its blob: the digest and size of exactly those bytes.
      assert.equal(b.manifest.config.digest, sha256(b.configText));
      assert.equal(b.manifest.config.size, Buffer.byteLength(b.configText));
      assert.equal(index.manifests[0]?.digest, sha256(b.manifestText));
    });
  }

  it('oci-layout is exactly the version object', () => {
    assert.equal(ociLayout(), '{"imageLayoutVersion":"1.0.0"}');
  });

  it('digests are reproducible and follow the content', () => {
    assert.equal(build(spec('web')).manifestDesc.digest, build(spec('web')).manifestDesc.digest);
    const later = ociImageConfig(spec('web'), { diffId: DIFF_ID, created: '2024-01-02T00:00:00Z' });
    assert.notEqual(ociDescriptor(MEDIA_TYPES.config, canonicalJson(later)).digest, build(spec('web')).configDesc.digest);
    assert.equal(isOciDigest(build(spec('web')).configDesc.digest), true, build(spec('web')).configDesc.digest);
  });
});

describe('ociImageConfig', () => {
  it('boots systemd: /sbin/init, stopped with SIGRTMIN+3', () => {
    const c = ociImageConfig(spec('web'), { diffId: DIFF_ID, created: CREATED });
    assert.deepEqual(c.config.Cmd, ['/sbin/init']);
    assert.equal(c.config.StopSignal, 'SIGRTMIN+3');
    someItem(c.config.Env, (e) => e.startsWith('PATH='), 'PATH=');
    assert.deepEqual([c.architecture, c.os], ['amd64', 'linux']);
    assert.equal(ociPlatform({ ...spec('web'), os: { ...spec('web').os, arch: 'i386', bits: 32 } }).architecture, '386');
  });

  it('exposes the open ports; "all" means tcp and udp, ranges are expanded', () => {
    const web = spec('web');
    assert.deepEqual(Object.keys(ociImageConfig(web, { diffId: DIFF_ID, created: CREATED }).config.ExposedPorts ?? {}), ['22/tcp', '80/tcp']);
    const ports = ociImageConfig({ ...web, openPorts: [{ proto: 'all', from: 53, to: 53 }, { proto: 'udp', from: 6000, to: 6002 }] }, { diffId: DIFF_ID, created: CREATED });
    assert.deepEqual(Object.keys(ports.config.ExposedPorts ?? {}), ['53/tcp', '53/udp', '6000/udp', '6001/udp', '6002/udp']);
    assert.equal(ociImageConfig(spec('no-nic'), { diffId: DIFF_ID, created: CREATED }).config.ExposedPorts, undefined);
  });

  it('labels the image with its name, hostname, OS and spec', () => {
    const labels = ociImageConfig(spec('web'), { diffId: DIFF_ID, created: CREATED }).config.Labels;
    assert.equal(labels['org.opencontainers.image.title'], 'web1');
    assert.equal(labels['io.vmgen.hostname'], 'web1');
    assert.equal(labels['io.vmgen.os'], 'debian12-64');
    const embedded = JSON.parse(labels['io.vmgen.spec'] ?? '') as { nics: Array<{ address: string }> };
    assert.equal(embedded.nics[0]?.address, '192.168.1.2');
  });

  it('keeps passwords, plain or hashed, out of the spec label', () => {
    const web = spec('web');
    const hashed: ResolvedSpec = { ...web, rootPassword: { hash: '$6$salt$secrethash' }, users: web.users.map((u) => ({ ...u, password: { hash: '$y$j9T$other' } })) };
    for (const s of [web, hashed]) {
      const text = ociImageConfig(s, { diffId: DIFF_ID, created: CREATED }).config.Labels['io.vmgen.spec'] ?? '';
      for (const secret of ['change-me', 'alesia', '"pass"', 'secrethash', '$y$j9T$other']) assert.ok(!text.includes(secret), `${secret} leaked`);
      const embedded = JSON.parse(text) as { rootPassword: unknown; users: Array<{ password: unknown }> };
      assert.equal(embedded.rootPassword, '<redacted>');
      assert.deepEqual(embedded.users.map((u) => u.password), ['<redacted>', '<redacted>']);
    }
  });

  it('keeps database passwords and inline file and script texts out of the spec label', () => {
    const web = spec('web');
    const provision: ResolvedSpec['provision'] = {
      files: [{ id: 'key', path: ['files', 'key'], guestPath: '/etc/app.key', from: { kind: 'inline', content: 'file-secret' }, owner: 'root', group: 'root', mode: 0o600 }],
      scripts: [{ id: 'seed', path: ['scripts', 'seed'], when: 'build', from: { kind: 'inline', content: 'echo script-secret' }, network: false }],
      services: { database: { engine: 'mariadb', databases: [{ name: 'shop', user: 'shop', password: 'db-secret' }] } },
    };
    const text = ociImageConfig({ ...web, provision }, { diffId: DIFF_ID, created: CREATED }).config.Labels['io.vmgen.spec'] ?? '';
    for (const secret of ['file-secret', 'script-secret', 'db-secret']) assert.ok(!text.includes(secret), `${secret} leaked into the label`);
    const embedded = JSON.parse(text) as { provision: { files: Array<{ guestPath: string }>; services: { database: { databases: Array<{ user: string; password: string }> } } } };
    assert.deepEqual(embedded.provision.files.map((f) => f.guestPath), ['/etc/app.key']);
    assert.deepEqual(embedded.provision.services.database.databases, [{ name: 'shop', user: 'shop', password: '<redacted>' }]);
    const plain = JSON.parse(ociImageConfig(web, { diffId: DIFF_ID, created: CREATED }).config.Labels['io.vmgen.spec'] ?? '') as Record<string, unknown>;
    assert.equal(plain.provision, undefined, 'a machine without files, scripts or services carries no provision in its label');
  });

  it('refuses a malformed diff ID or creation time', () => {
    assert.throws(() => ociImageConfig(spec('web'), { diffId: 'sha256:abc', created: CREATED }), /diffId/);
    assert.throws(() => ociImageConfig(spec('web'), { diffId: DIFF_ID.toUpperCase(), created: CREATED }), /diffId/);
    assert.throws(() => ociImageConfig(spec('web'), { diffId: DIFF_ID, created: 'yesterday' }), /RFC 3339/);
  });
});

describe('ociManifest and ociIndex', () => {
  const config = ociDescriptor(MEDIA_TYPES.config, '{}');

  it('refuse descriptors with a malformed digest, size or media type', () => {
    assert.throws(() => ociManifest({ ...config, digest: 'md5:00' }, LAYER), /config digest/);
    assert.throws(() => ociManifest(config, { ...LAYER, size: -1 }), /layer size/);
    assert.throws(() => ociManifest(config, { ...LAYER, mediaType: 'gzip' }), /media type/);
  });

  it('refuse ref names outside the image-layout grammar', () => {
    const manifest = ociDescriptor(MEDIA_TYPES.manifest, '{}');
    for (const ref of ['', 'web1:', ':latest', 'a b', 'web1/../x', 'a__b']) assert.throws(() => ociIndex(manifest, ref), /ref name/, ref);
    for (const ref of ['web1:latest', 'example.com/vmgen/web1:1.0', 'a--b', 'v1.0.0-vendor.0']) assert.doesNotThrow(() => ociIndex(manifest, ref), ref);
  });
});

describe('canonicalJson', () => {
  it('sorts keys, drops undefined members and writes no whitespace', () => {
    assert.equal(canonicalJson({ b: [1, { d: null, c: 'x y' }], a: true, z: undefined }), '{"a":true,"b":[1,{"c":"x y","d":null}]}');
  });

  it('round-trips any JSON value and ignores key order', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
      assert.equal(canonicalJson(JSON.parse(text)), text);
      assert.equal(canonicalJson(reversedKeys(value)), text);
    }));
  });

  it('refuses what JSON cannot hold', () => {
    for (const bad of [Number.NaN, Infinity, [undefined], new Date(0), new Map(), () => 1, 1n]) assert.throws(() => canonicalJson(bad), String(bad));
  });
});

describe('renderOci', () => {
  it('previews the image config with placeholder digest and time, and a comment-only guest fstab', () => {
    const render = renderOci(spec('web'));
    assert.deepEqual(render.archiveFiles.map((f) => f.path), ['image-config.json']);
    const preview = JSON.parse(render.archiveFiles[0]!.content) as { rootfs: { diff_ids: string[] }; config: { Labels: Record<string, string>; ExposedPorts: object } };
    assert.deepEqual(preview.rootfs.diff_ids, [PENDING_DIFF_ID]);
    assert.equal(preview.config.Labels['io.vmgen.hostname'], 'web1');
    assert.deepEqual(Object.keys(preview.config.ExposedPorts), ['22/tcp', '80/tcp']);
    assert.equal(render.guestFiles[0]?.path, '/etc/fstab');
    everyItem(render.guestFiles[0]?.content.split('\n') ?? [], (l) => l === '' || l.startsWith('#'));
  });
});

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
  }
  return value;
}
