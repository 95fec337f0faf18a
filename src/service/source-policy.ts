import { isIP } from 'node:net';
import { isAbsolute, resolve, sep } from 'node:path';
import { diagnosticAt } from '../config/diagnose.js';
import { parseBool } from '../config/validators.js';
import { SCRIPT_WHEN } from '../config/model-services.js';
import { hostAptSources } from '../installers/apt/mirror.js';
import type { LogicalTree, PlaceIndex } from '../config/normalize.js';
import type { Diagnostic } from '../diagnostics.js';
import { ipv4Problem, ipv6Problem } from './ip.js';

/**
 * What a config sent to the service may make the build host read. A build fetches from `mirror`
 * and from every URL in `repos`, and copies a CD drive's `path` with `copy = 1` into the archive,
 * so without a check any user with a token could make the host fetch from its own loopback
 * services, the cloud's metadata address or the private network, or hand them any of its files
 * (its database with the link-signing key, /etc/shadow) inside an archive.
 */
export interface SourcePolicy {
  /** URL prefixes (scheme, host, port and a leading part of the path) a config may name. */
  allow: readonly string[];
  /** Also any http(s) URL whose host is a public name or address (`--allow-mirror public`). */
  allowPublic: boolean;
  /** Directories whose ISO images a config may copy into its archive (`--allow-iso-dir`); none by default. */
  isoDirs?: readonly string[];
  /**
   * Whether [scripts] that run at build time are accepted (`--allow-scripts`): they are the user's
   * code on the build host, sandboxed but still there. First-boot scripts run in the guest and are always accepted.
   */
  allowBuildScripts?: boolean;
}

/** The word `--allow-mirror` takes for "any public http(s) server". */
export const ALLOW_PUBLIC = 'public';

export const DIAG_MIRROR_NOT_ALLOWED = 'CFG_MIRROR_NOT_ALLOWED';
export const DIAG_ISO_NOT_ALLOWED = 'CFG_ISO_NOT_ALLOWED';
export const DIAG_SCRIPTS_NOT_ALLOWED = 'SVC_SCRIPTS_DISABLED';

/** Policy from `--allow-mirror` values (none given means the host's own mirrors) and `--allow-iso-dir` directories. */
export function sourcePolicy(values: readonly string[], hostMirrors: readonly string[], isoDirs: readonly string[] = []): SourcePolicy {
  const dirs = isoDirs.map((d) => resolve(d));
  if (values.length === 0) return { allow: [...hostMirrors], allowPublic: false, isoDirs: dirs };
  return { allow: values.filter((v) => v !== ALLOW_PUBLIC), allowPublic: values.includes(ALLOW_PUBLIC), isoDirs: dirs };
}

/** The URIs of the host's own apt sources: what its admin already trusts the host to fetch from. */
export function hostMirrorUris(aptDir?: string): string[] {
  const uris = hostAptSources(aptDir).filter((s) => s.types.includes('deb')).flatMap((s) => s.uris);
  return [...new Set(uris.map((u) => u.replace(/\/+$/, '')))];
}

/** The default policy: the host's own mirrors, nothing else. */
export function hostSourcePolicy(aptDir?: string): SourcePolicy {
  return sourcePolicy([], hostMirrorUris(aptDir));
}

/** Whether an `--allow-mirror` value is something the policy can use; a reason when not. */
export function allowEntryProblem(value: string): string | undefined {
  if (value === ALLOW_PUBLIC) return undefined;
  const u = parseUrl(value);
  if (!u) return `"${value}" is not a URL`;
  if (u.search || u.hash) return `"${value}" has a query or fragment; give a URL prefix like http://mirror.example/debian`;
  return undefined;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

const trimSlashes = (p: string): string => p.replace(/\/+$/, '');

/** Prefixes compare by scheme, host and port exactly, and by whole path segments. */
function matchesPrefix(url: URL, prefix: string): boolean {
  const p = parseUrl(prefix);
  if (!p || p.protocol !== url.protocol || p.host.toLowerCase() !== url.host.toLowerCase()) return false;
  if (p.username !== url.username || p.password !== url.password) return false;
  const base = trimSlashes(p.pathname);
  return base === '' || url.pathname === base || url.pathname.startsWith(`${base}/`);
}

// Names that resolve only inside the host's own network (or to the host itself).
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.lan', '.home.arpa', '.localdomain'];

/** Why a URL's host is not a public server, or undefined when it is one. */
export function nonPublicReason(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return url.protocol === 'file:' ? "a file:// URL reads the build host's own files" : `${url.protocol}// is not http or https`;
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(bare) === 4) return ipv4Problem(bare);
  if (isIP(bare) === 6) return ipv6Problem(bare);
  if (host === 'localhost' || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return 'a name for this host or its local network';
  // A name without a dot resolves only through the host's search domains: an internal server.
  if (!host.includes('.')) return 'a single-label (internal) name';
  return undefined;
}

/** Undefined when the policy allows `text`, else the message of the refusal. */
export function urlRefusal(text: string, policy: SourcePolicy): string | undefined {
  const url = parseUrl(text);
  if (!url) return `'${text}' is not a URL this server can check`;
  if (policy.allow.some((p) => matchesPrefix(url, p))) return undefined;
  const reason = nonPublicReason(url);
  if (policy.allowPublic && reason === undefined) return undefined;
  const shown = `${url.protocol}//${url.host}`;
  return reason ? `${shown} is ${reason}; this server does not build from it` : `${shown} is not a mirror this server builds from`;
}

/** The URLs in one `repos` value: an apt line's URI token(s), or a dnf baseurl. */
export function repoUrls(line: string): string[] {
  return line.split(/\s+/).filter((t) => t.includes('://')).map((t) => t.replace(/^\[.*\]$/, '')).filter((t) => t !== '');
}

function hint(policy: SourcePolicy): string {
  const shown = policy.allow.slice(0, 3).join(', ');
  const also = policy.allowPublic ? 'public http(s) servers' : '';
  const list = [shown, also].filter(Boolean).join('; ');
  return list ? `this server allows: ${list} (its admin sets --allow-mirror)` : 'this server allows no mirror in configs; leave mirror unset to use the server\'s own';
}

/** Undefined when an ISO at `path` may be copied into an archive, else the message of the refusal. */
export function isoRefusal(path: string, policy: SourcePolicy): string | undefined {
  const dirs = policy.isoDirs ?? [];
  if (isAbsolute(path)) {
    const p = resolve(path);
    if (dirs.some((d) => p.startsWith(d.endsWith(sep) ? d : d + sep))) return undefined;
  }
  return dirs.length === 0 ? 'this server copies no ISO image from its disk into an archive'
    : `'${path}' is outside the directories this server copies ISO images from`;
}

function isoHint(policy: SourcePolicy): string {
  const dirs = policy.isoDirs ?? [];
  return dirs.length ? `put the image in ${dirs.slice(0, 3).join(', ')} (its admin sets --allow-iso-dir), or set copy = 0 to reference the path`
    : 'set copy = 0 to reference the path on the VM host instead';
}

const section = (node: unknown): LogicalTree | undefined =>
  node !== undefined && node !== null && typeof node === 'object' && !Array.isArray(node) ? node as LogicalTree : undefined;

/** The [scripts] entries that run at build time, by id: `when` unset means build, as the model reads it. */
function buildScriptIds(tree: LogicalTree): string[] {
  const [build] = SCRIPT_WHEN;
  return Object.entries(section(tree.scripts) ?? {}).filter(([, value]) => {
    const script = section(value);
    return script !== undefined && (script.when === undefined || script.when === build);
  }).map(([id]) => id);
}

/**
 * The policy's errors for a config's `mirror`, `repos`, copied CD images and build scripts, at their lines. Reads
 * the logical tree, not the typed config, so a file with other errors still hears about them.
 */
export function sourceDiagnostics(tree: LogicalTree, places: PlaceIndex, policy: SourcePolicy): Diagnostic[] {
  const out: Diagnostic[] = [];
  const config = section(tree.config);
  const check = (path: string[], url: string): void => {
    const refusal = urlRefusal(url, policy);
    if (refusal) out.push(diagnosticAt(places, path, 'error', DIAG_MIRROR_NOT_ALLOWED, refusal, hint(policy)));
  };
  if (typeof config?.mirror === 'string') check(['config', 'mirror'], config.mirror);
  for (const [key, value] of Object.entries(section(config?.repos) ?? {})) {
    if (typeof value !== 'string') continue;
    for (const url of repoUrls(value)) check(['config', 'repos', key], url);
  }
  for (const [name, cd] of Object.entries(section(section(tree.hardware)?.cd_drives) ?? {})) {
    const drive = section(cd);
    if (typeof drive?.path !== 'string' || drive.copy === undefined) continue;
    // A copy the model reads as false takes nothing from this host; anything else is checked.
    const copy = typeof drive.copy === 'string' ? parseBool(drive.copy) : undefined;
    if (copy?.ok && !copy.value) continue;
    const refusal = isoRefusal(drive.path, policy);
    if (refusal) out.push(diagnosticAt(places, ['hardware', 'cd_drives', name, 'path'], 'error', DIAG_ISO_NOT_ALLOWED, refusal, isoHint(policy)));
  }
  if (!policy.allowBuildScripts) {
    for (const id of buildScriptIds(tree)) {
      // At `when` if the file says it, else at the script's own header.
      out.push(diagnosticAt(places, ['scripts', id, 'when'], 'error', DIAG_SCRIPTS_NOT_ALLOWED,
        `script '${id}' runs at build time, on the build host, and this server does not run build scripts`,
        'the admin can start the service with --allow-scripts; or run it in the guest with when = first-boot'));
    }
  }
  return out;
}
