import type { VmConfig } from '../config/model.js';
import { memorySources, normalRelative, walkSource, type ConfigSources } from '../config/sources.js';
import { VmgenError } from '../errors.js';

/*
 * The files a request carries beside its config: what its [files] and [scripts] `source` keys name,
 * as JSON {"site/index.html": "<base64>"}. They are checked as the CLI checks a directory beside a
 * config (relative paths only, no `..`, nothing absolute, no NUL), and kept base64 all the way to
 * the build process, because every hop (the job table, a queue job, the build's IPC) is JSON.
 */

/** Relative path (normal form) → content, base64. */
export type RequestFiles = Record<string, string>;

export interface RequestFileLimits {
  /** Largest file, bytes (decoded). */
  maxFileBytes: number;
  /** All files of one request together, bytes (decoded). */
  maxTotalBytes: number;
  maxFiles: number;
}

/** Enough for a site's pages and a few scripts; disk images and packages belong in a mirror, not a request. */
export const REQUEST_FILE_LIMITS: RequestFileLimits = { maxFileBytes: 8 * 2 ** 20, maxTotalBytes: 16 * 2 ** 20, maxFiles: 1000 };

/** Characters base64 needs for `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The body limit of a route that takes files: the config's own limit, the files in base64, and
 * JSON's quotes, colon and comma plus the longest path for each file.
 */
export function filesBodyLimit(configLimit: number, limits: RequestFileLimits = REQUEST_FILE_LIMITS): number {
  return configLimit + base64Length(limits.maxTotalBytes) + limits.maxFiles * (4096 + 8);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_PATH = 4096;

function decodedBytes(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - pad;
}

const mib = (n: number): string => `${+(n / 2 ** 20).toFixed(1)} MiB`;

/**
 * A request's `files` field checked: undefined when absent, else every path in normal form with its
 * content. Throws VMG_USAGE (400) for what is not a relative path or not base64, VMG_TOO_LARGE (413)
 * over a limit.
 */
export function readRequestFiles(value: unknown, limits: RequestFileLimits = REQUEST_FILE_LIMITS): RequestFiles | undefined {
  if (value === undefined || value === null) return undefined;
  const shape = 'send files as {"RELATIVE/PATH": "BASE64", …}: the files the config\'s source keys name, as they sit beside it';
  if (typeof value !== 'object' || Array.isArray(value)) throw new VmgenError('VMG_USAGE', '"files" must be an object of relative path → base64 content', { hint: shape });
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > limits.maxFiles) {
    throw new VmgenError('VMG_TOO_LARGE', `the request carries ${entries.length} files; the limit is ${limits.maxFiles}`, { hint: 'send only the files the config names' });
  }
  const out: RequestFiles = {};
  let total = 0;
  for (const [path, content] of entries) {
    const shown = JSON.stringify(path.slice(0, 200));
    const rel = path.length > MAX_PATH ? undefined : normalRelative(path);
    if (rel === undefined || rel === '') {
      throw new VmgenError('VMG_USAGE', `files: ${shown} is not a relative path inside the config's directory`,
        { hint: 'paths are relative to the config, with / between names; no leading /, no .., no backslash or NUL' });
    }
    if (Object.hasOwn(out, rel)) throw new VmgenError('VMG_USAGE', `files: ${shown} names ${rel} a second time`);
    if (typeof content !== 'string' || content.length % 4 !== 0 || !BASE64.test(content)) {
      throw new VmgenError('VMG_USAGE', `files: the content of ${rel} is not base64`, { hint: shape });
    }
    const bytes = decodedBytes(content);
    if (bytes > limits.maxFileBytes) {
      throw new VmgenError('VMG_TOO_LARGE', `files: ${rel} is ${bytes} bytes; one file may be at most ${mib(limits.maxFileBytes)}`,
        { hint: 'build from the CLI on the build host for larger files, or fetch them in a build script' });
    }
    total += bytes;
    if (total > limits.maxTotalBytes) {
      throw new VmgenError('VMG_TOO_LARGE', `the request's files are more than ${mib(limits.maxTotalBytes)} together`,
        { hint: 'build from the CLI on the build host for larger files, or fetch them in a build script' });
    }
    out[rel] = content;
  }
  // A name that is a file cannot also hold files: the guest would get one or the other.
  const names = Object.keys(out);
  for (const rel of names) {
    const dir = names.find((other) => other.startsWith(`${rel}/`));
    if (dir) throw new VmgenError('VMG_USAGE', `files: ${rel} is a file, and ${dir} puts a file inside it`);
  }
  return out;
}

/**
 * The files as the loader and the build read them: the same interface as a directory beside a
 * config. A request without files has an empty one, so a source it names is reported missing.
 */
export function requestSources(files: RequestFiles | undefined): ConfigSources {
  return memorySources(new Map(Object.entries(files ?? {}).map(([rel, b64]) => [rel, Buffer.from(b64, 'base64')])));
}

/**
 * What a client sends with a config: every file under each [files] and [scripts] source, read from
 * its sources (`vmgen submit`: the directory beside the config), held to the server's limits before
 * anything is sent. A source that is not there is left out: the loader has reported it.
 */
export function configRequestFiles(config: VmConfig, sources: ConfigSources, limits: RequestFileLimits = REQUEST_FILE_LIMITS): RequestFiles {
  const named = [...Object.values(config.files).map((f) => f.source), ...Object.values(config.scripts).map((s) => s.source)];
  const hint = 'a server takes fewer files than vmgen build: build on the build host, or fetch large content in a build script';
  const out: RequestFiles = {};
  let total = 0;
  let count = 0;
  for (const source of named) {
    if (source === undefined) continue;
    for (const f of walkSource(sources, source)?.files ?? []) {
      const rel = normalRelative(f.rel === '' ? source : `${source}/${f.rel}`);
      if (rel === undefined || Object.hasOwn(out, rel)) continue;
      // Sizes first, so an oversized tree is refused without reading it.
      total += f.bytes;
      if (f.bytes > limits.maxFileBytes) throw new VmgenError('VMG_TOO_LARGE', `${rel} is ${f.bytes} bytes; a server takes at most ${mib(limits.maxFileBytes)} a file`, { hint });
      if (total > limits.maxTotalBytes) throw new VmgenError('VMG_TOO_LARGE', `the files the config names come to more than ${mib(limits.maxTotalBytes)}, what a server takes`, { hint });
      if (++count > limits.maxFiles) throw new VmgenError('VMG_TOO_LARGE', `the config names more than ${limits.maxFiles} files, what a server takes`, { hint });
      out[rel] = sources.readFile(rel).toString('base64');
    }
  }
  return out;
}
