import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The default mirror is whatever the build host's own apt uses: vmgen never names a mirror
 * itself. Only a host of the same distribution can lend its mirror (a Debian host's mirror has no
 * Ubuntu suites), so other distributions need `mirror` in the config.
 */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

/** Parses deb822 `.sources` stanzas (Types/URIs/Suites/Components); disabled stanzas are skipped. */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1]!.toLowerCase();
        fields.set(last, m[2]!.trim());
      }
    }
    if (fields.get('enabled')?.toLowerCase() === 'no') continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (words('types').length === 0 || words('uris').length === 0) continue;
    sources.push({ types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components') });
  }
  return sources;
}

/** Parses one-line `deb [options] URI SUITE COMPONENT...` entries. */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) sources.push({ types: [m[1]!], uris: [m[2]!], suites: [m[3]!], components: m[4]!.split(/\s+/).filter(Boolean) });
  }
  return sources;
}

/** The first binary source that serves a release suite (not -security, -updates, -backports). */
export function pickMirror(sources: readonly AptSource[]): string | undefined {
  for (const s of sources) {
    if (!s.types.includes('deb')) continue;
    if (!s.suites.some((suite) => !/-(security|updates|backports|proposed)$|\/updates$/.test(suite))) continue;
    const uri = s.uris.find((u) => /^(https?|file):\/\//.test(u));
    if (uri !== undefined) return uri.replace(/\/+$/, '');
  }
  return undefined;
}

export interface HostMirrorOptions {
  aptDir?: string;
  osRelease?: string;
}

/** The host's mirror for `distribution`, or undefined when the host cannot lend one. */
export function hostMirror(distribution: string, opts: HostMirrorOptions = {}): string | undefined {
  const osRelease = opts.osRelease ?? '/etc/os-release';
  if (hostDistribution(osRelease) !== distribution) return undefined;
  return pickMirror(hostAptSources(opts.aptDir));
}

/** Every source in the host's apt configuration (sources.list, then sources.list.d in name order). */
export function hostAptSources(aptDir = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = [];
  const dir = join(aptDir, 'sources.list.d');
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const list = read(join(aptDir, 'sources.list'));
  if (list !== undefined) sources.push(...parseOneLineSources(list));
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    const text = read(join(dir, name));
    if (text === undefined) continue;
    if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
    else if (name.endsWith('.list')) sources.push(...parseOneLineSources(text));
  }
  return sources;
}

function hostDistribution(osRelease: string): string | undefined {
  try {
    return /^ID="?([^"\n]+)"?$/m.exec(readFileSync(osRelease, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
