'use strict';
const { readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

// Runs the CLI's CommonJS bundle (scripts/bundle-cli.mjs) as a vm.Script with V8's code cache, kept
// beside it in FILE.cache: Node 20 has no compile cache, and compiling what `vmgen validate` runs was
// a third of its time. The cache starts with a line naming what it was made from (V8's version, the
// architecture, the bundle's size and mtime): V8 itself checks its version and the source's length
// only, so a rebuilt bundle of the same length would otherwise run another bundle's code. A cache
// that is missing, of another bundle or rejected by V8 is ignored, and written anew once the command
// has run (so it holds the functions the command compiled); a cache that cannot be written (a
// read-only install) is left as it is. Writing goes through a temporary file and a rename, so a
// concurrent run reads the old cache or the new one, never half of one.

/** The CLI's bundle (scripts/bundle-cli.mjs, made by npm run build), which bin/'s entries run. */
const CLI_BUNDLE = join(__dirname, '..', 'dist', 'bundle', 'main.cjs');

/** The parameters the bundle's code is wrapped in, as Node wraps a CommonJS module, plus its import.meta. */
const PARAMS = 'exports, require, module, __filename, __dirname, __vmgenImportMeta';

function cacheKey(file) {
  const st = statSync(file);
  return `${process.versions.v8} ${process.arch} ${st.size} ${st.mtimeMs}`;
}

/** The cached data in `cacheFile` when its first line is `key`; else undefined. */
function readCache(cacheFile, key) {
  let buf;
  try {
    buf = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const eol = buf.indexOf(10);
  return eol !== -1 && buf.toString('latin1', 0, eol) === key ? buf.subarray(eol + 1) : undefined;
}

function writeCache(cacheFile, key, data) {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${key}\n`, 'latin1'), data]));
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/**
 * Runs `file` (ASCII CommonJS) and returns its exports, and `save()`, which writes the code cache
 * when the one read was missing or not taken; call it once the command has run.
 */
function loadCachedScript(file, cacheFile = `${file}.cache`) {
  const key = cacheKey(file);
  const cachedData = readCache(cacheFile, key);
  const script = new Script(`(function (${PARAMS}) {${readFileSync(file, 'latin1')}\n})`, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), { url: pathToFileURL(file).href });
  const stale = cachedData === undefined || script.cachedDataRejected === true;
  return {
    exports: module.exports,
    /** Whether V8 took the cache that was read. */
    cacheUsed: !stale,
    save() {
      if (stale) writeCache(cacheFile, key, script.createCachedData());
    },
  };
}

module.exports = { CLI_BUNDLE, loadCachedScript };
