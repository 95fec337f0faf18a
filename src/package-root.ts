import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where vmgen's own files are (catalog/, libexec/, dist/web/, package.json), found from this module
 * by walking up to vmgen's package.json. A module's own URL says nothing once it is bundled: the CLI's
 * bundle (dist/bundle/) inlines modules from every folder into a few chunks, so a path counted in
 * `../` from a source file points elsewhere there. Every data path is derived from this root instead.
 */
const PACKAGE_NAME = 'vmgen';

let root: string | undefined;

function isPackageRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The directory holding vmgen's package.json: the checkout, or the installed package. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (isPackageRoot(dir)) return (root = dir);
    // An internal error rather than a VmgenError: only a broken install gets here, not a user's input.
    if (dirname(dir) === dir) throw new Error(`no package.json of ${PACKAGE_NAME} in ${start} or above it`);
  }
}

/** A path below the package's root, given with forward slashes: `packagePath('catalog/os.json')`. */
export function packagePath(relative: string): string {
  return join(packageRoot(), ...relative.split('/'));
}

/**
 * The file of a script started on its own (a child process, a worker thread), named from src/
 * without its extension. Under tsx (tests, development) that is the .ts source; otherwise the tsc
 * output in dist/, which `npm run build` makes next to the bundle: a bundled caller has no sibling
 * file to start. `callerUrl` is the caller's import.meta.url, which tells the two apart.
 */
export function entryScript(fromSrc: string, callerUrl: string): string {
  return callerUrl.endsWith('.ts') ? packagePath(`src/${fromSrc}.ts`) : packagePath(`dist/${fromSrc}.js`);
}

/**
 * How to start a script of `fromSrc` in a process of its own: entryScript's file, except from the
 * bundle (its URL ends in .cjs), which starts it through bin/run-entry.js from the same bundle
 * (src/cli/main.ts ENTRIES lists the scripts it carries).
 */
export function entryCommand(fromSrc: string, callerUrl: string): { script: string; args: string[] } {
  if (callerUrl.endsWith('.cjs')) return { script: packagePath('bin/run-entry.js'), args: [fromSrc] };
  return { script: entryScript(fromSrc, callerUrl), args: [] };
}
