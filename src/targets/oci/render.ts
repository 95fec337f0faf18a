import { createHash } from 'node:crypto';
import { REF_NAME } from './ref-name.js';
import type { ResolvedPort, ResolvedSpec } from '../../config/resolve.js';
import type { GuestFile } from '../../families/types.js';
import type { TargetRender } from '../types.js';

/**
 * The JSON documents of an OCI image layout (image-spec v1.1): the image config, the manifest,
 * index.json and oci-layout. Pure builders: the packer computes the layer's digests while it
 * compresses and passes them in; every document is serialized with canonicalJson so that the same
 * spec and layer always give the same digests.
 */
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export type OciPlatform = { architecture: string; os: string };

export type OciDescriptor = {
  mediaType: string;
  /** sha256:<64 lower-case hex digits>. */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: OciPlatform;
};

export type OciImageConfig = {
  created: string;
  architecture: string;
  os: string;
  config: {
    Env: string[];
    Cmd: string[];
    StopSignal: string;
    ExposedPorts?: Record<string, Record<string, never>>;
    Labels: Record<string, string>;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: Array<{ created: string; created_by: string; comment: string }>;
};

export type OciManifest = {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPES.manifest;
  config: OciDescriptor;
  layers: OciDescriptor[];
};

export type OciIndex = {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPES.index;
  manifests: OciDescriptor[];
};

const DIGEST = /^sha256:[a-f0-9]{64}$/;
// RFC 3339, which the spec's "ISO-8601 combined date and time" means in practice.
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

const GOARCH: Record<ResolvedSpec['os']['arch'], string> = { amd64: 'amd64', i386: '386' };
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const REDACTED = '<redacted>';

export function isOciDigest(s: string): boolean {
  return DIGEST.test(s);
}

export function ociPlatform(spec: ResolvedSpec): OciPlatform {
  return { architecture: GOARCH[spec.os.arch], os: 'linux' };
}

/**
 * The image runs the guest's init, like the other targets boot it: systemd as PID 1 stops on
 * SIGRTMIN+3, not on the runtime's default SIGTERM. The hostname is a label only, because podman
 * sets the container's hostname itself.
 */
export function ociImageConfig(spec: ResolvedSpec, opts: ({ diffId: string } | { diffIds: readonly string[] }) & { created: string }): OciImageConfig {
  // A lab's image stands on its package set's shared base layer: diff_ids [base, top], lowest first.
  const diffIds = 'diffIds' in opts ? [...opts.diffIds] : [opts.diffId];
  if (diffIds.length === 0) throw new Error('an image needs at least one layer');
  for (const d of diffIds) checkDigest('diffId', d);
  if (!TIMESTAMP.test(opts.created)) throw new Error(`created ${JSON.stringify(opts.created)} is not an RFC 3339 date and time`);
  const ports = exposedPorts(spec.openPorts);
  return {
    created: opts.created,
    ...ociPlatform(spec),
    config: {
      Env: [PATH],
      Cmd: ['/sbin/init'],
      StopSignal: 'SIGRTMIN+3',
      ...(Object.keys(ports).length > 0 ? { ExposedPorts: ports } : {}),
      Labels: labels(spec),
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: opts.created, created_by: 'vmgen', comment: `${spec.os.label} root file system configured by vmgen` }],
  };
}

/** `layers` lowest first, in the order of the config's diff_ids. */
export function ociManifest(config: OciDescriptor, layer: OciDescriptor | readonly OciDescriptor[]): OciManifest {
  checkDescriptor('config', config);
  const layers = Array.isArray(layer) ? [...layer] as OciDescriptor[] : [layer as OciDescriptor];
  for (const l of layers) checkDescriptor('layer', l);
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config, layers };
}

/** index.json of the layout; the ref name is what `podman load` and skopeo's oci:DIR:REF find the image by. */
export function ociIndex(manifest: OciDescriptor, refName: string): OciIndex {
  return ociIndexOf([ociRefEntry(manifest, refName)]);
}

/** A manifest's entry in index.json, named by its ref name. */
export function ociRefEntry(manifest: OciDescriptor, refName: string): OciDescriptor {
  checkDescriptor('manifest', manifest);
  if (!REF_NAME.test(refName)) throw new Error(`ref name ${JSON.stringify(refName)} does not follow the image-layout grammar`);
  return { ...manifest, annotations: { ...manifest.annotations, 'org.opencontainers.image.ref.name': refName } };
}

/** index.json of a layout holding several images (a lab's), each entry made by ociRefEntry; one ref name names one image. */
export function ociIndexOf(entries: readonly OciDescriptor[]): OciIndex {
  const names = entries.map((e) => e.annotations?.['org.opencontainers.image.ref.name']);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`ref name ${JSON.stringify(twice)} names two images`);
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [...entries] };
}

export function ociLayout(): string {
  return canonicalJson({ imageLayoutVersion: '1.0.0' });
}

/** The descriptor of a blob held in memory (the config, the manifest). */
export function ociDescriptor(mediaType: string, content: string | Uint8Array, platform?: OciPlatform): OciDescriptor {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { mediaType, digest, size: bytes.byteLength, ...(platform === undefined ? {} : { platform }) };
}

/**
 * JSON with object keys sorted by code unit and no whitespace; undefined members are left out as
 * JSON.stringify does. Equal values always give equal bytes, hence equal digests. Takes any value
 * so that typed documents pass without casts, and refuses what JSON cannot hold instead of
 * silently dropping it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && isPlainObject(value)) {
    const members = Object.keys(value)
      .sort()
      .flatMap((key) => (value[key] === undefined ? [] : [`${JSON.stringify(key)}:${canonicalJson(value[key])}`]));
    return `{${members.join(',')}}`;
  }
  throw new Error(`a ${typeof value === 'object' ? value.constructor.name : typeof value} has no canonical JSON form`);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The guest's /etc/fstab: the runtime mounts everything; a VM's fstab makes systemd-remount-fs fail. */
export function ociGuestFstab(): GuestFile {
  return {
    path: '/etc/fstab',
    mode: 0o644,
    content: '# This system runs in an OCI container: the runtime mounts the root file system, /proc, /sys and /dev.\n',
  };
}

/** The image's documents depend on the layer's digest, so they are made when packing; only the guest file is text. */
/** The layer's digest is known only once it is packed; `vmgen render` shows this placeholder instead. */
export const PENDING_DIFF_ID = `sha256:${'0'.repeat(64)}`;

/**
 * For review (`vmgen render`): the image config the build will write, with the layer digest and
 * the creation time left as placeholders. The build itself writes it into blobs/, not as a file.
 */
export function renderOci(spec: ResolvedSpec): TargetRender {
  const preview = ociImageConfig(spec, { diffId: PENDING_DIFF_ID, created: '1970-01-01T00:00:00Z' });
  return { archiveFiles: [{ path: 'image-config.json', content: `${JSON.stringify(preview, null, 2)}\n` }], guestFiles: [ociGuestFstab()] };
}

/** Docker's EXPOSE expands a range into single ports too; "all" means both protocols. */
function exposedPorts(ports: readonly ResolvedPort[]): Record<string, Record<string, never>> {
  const out: Record<string, Record<string, never>> = {};
  for (const p of ports) {
    const protos = p.proto === 'all' ? ['tcp', 'udp'] : [p.proto];
    for (let port = p.from; port <= p.to; port++) for (const proto of protos) out[`${port}/${proto}`] = {};
  }
  return out;
}

function labels(spec: ResolvedSpec): Record<string, string> {
  return {
    'org.opencontainers.image.title': spec.name,
    'org.opencontainers.image.description': `${spec.os.label}, configured by vmgen`,
    'io.vmgen.hostname': spec.hostname,
    'io.vmgen.os': spec.os.id,
    'io.vmgen.spec': canonicalJson(redacted(spec)),
  };
}

/**
 * Labels are readable by anyone who can pull the image, so neither plain passwords nor crypt
 * hashes (which can be cracked offline) go into the spec label, nor database passwords; files and
 * scripts are named, not copied (they may be large, and are in the image anyway).
 */
function redacted(spec: ResolvedSpec): object {
  const { rootPassword, users, provision, ...rest } = spec;
  return {
    ...rest,
    ...(rootPassword === undefined ? {} : { rootPassword: REDACTED }),
    users: users.map(({ password, ...user }) => ({ ...user, ...(password === undefined ? {} : { password: REDACTED }) })),
    ...(isEmptyProvision(provision) ? {} : { provision: redactedProvision(provision) }),
  };
}

function isEmptyProvision(p: ResolvedSpec['provision']): boolean {
  return p.files.length === 0 && p.scripts.length === 0 && Object.keys(p.services).length === 0;
}

function redactedProvision({ files, scripts, services }: ResolvedSpec['provision']): object {
  const { database, ...rest } = services;
  return {
    files: files.map(({ from, ...f }) => ({ ...f, from: from.kind === 'source' ? from : { kind: 'inline' } })),
    scripts: scripts.map(({ from, ...s }) => ({ ...s, from: from.kind === 'source' ? from : { kind: 'inline' } })),
    services: {
      ...rest,
      ...(database === undefined ? {} : { database: { ...database, databases: database.databases.map((d) => ({ ...d, password: REDACTED })) } }),
    },
  };
}

function checkDigest(what: string, digest: string): void {
  if (!DIGEST.test(digest)) throw new Error(`${what} ${JSON.stringify(digest)} is not a sha256 digest (sha256: and 64 lower-case hex digits)`);
}

function checkDescriptor(what: string, d: OciDescriptor): void {
  checkDigest(`${what} digest`, d.digest);
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new Error(`${what} size ${d.size} is not a byte count`);
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(d.mediaType)) throw new Error(`${what} media type ${JSON.stringify(d.mediaType)} is malformed`);
}
