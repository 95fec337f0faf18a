import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuestFile } from '../../families/types.js';
import { VmgenError } from '../../errors.js';
import { packagePath } from '../../package-root.js';
import { CommandError } from '../../exec/run.js';
import { runLogged } from '../run-logged.js';
import { writeSetupFiles } from '../setup-files.js';
import type { InstallContext, Installer, LayerSource } from '../types.js';

// With its slash: the argv builders below append the script's name.
const LIBEXEC = `${packagePath('libexec')}/`;

/** Options both paths give apt, so a layer holds the same packages however it was made. */
const APT_OPTIONS = ['APT::Install-Recommends "false"', 'Acquire::Retries "3"'];

/**
 * mmdebstrap's command line for a layer. mmdebstrap runs inside a private mount and PID namespace:
 * whatever it mounts in the chroot, and whatever it starts, ends with it even if vmgen is killed.
 */
export function mmdebstrapArgv(source: LayerSource, rootfs: string, libexec = LIBEXEC): [string, ...string[]] {
  const suite = source.os.suite;
  if (suite === undefined) throw new Error(`${source.os.id} has no apt suite`);
  return [
    'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
    'mmdebstrap', '--mode=root', '--variant=minbase', `--arch=${source.os.arch}`, '--components=main',
    ...(source.packages.length > 0 ? [`--include=${[...source.packages].sort().join(',')}`] : []),
    ...APT_OPTIONS.map((o) => `--aptopt=${o}`),
    `--setup-hook=${libexec}debs-in`,
    ...(source.setupFiles?.length ? [`--setup-hook=${libexec}files-in`] : []),
    `--customize-hook=${libexec}debs-out`,
    '--skip=download/empty', '--skip=essential/unlink',
    suite, rootfs, source.mirror,
  ];
}

export function aptInstallArgv(rootfs: string, packages: readonly string[], libexec = LIBEXEC): [string, ...string[]] {
  return ['unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', `${libexec}apt-install`, rootfs, ...packages];
}

/** Turns apt's and mmdebstrap's messages into errors that name what the user can fix. */
export function classifyAptFailure(stderr: string, source: LayerSource): VmgenError | undefined {
  const missing = [...stderr.matchAll(/Unable to locate package (\S+)|Package '?([^' ]+)'? has no installation candidate/g)].map((m) => m[1] ?? m[2]);
  if (missing.length > 0) {
    return new VmgenError('VMG_PACKAGE', `package ${[...new Set(missing)].join(', ')} is not in ${source.mirror} ${source.os.suite ?? ''}`.trimEnd(), {
      hint: 'check the application catalog entry (vmgen catalog apps) or add the repository that has it',
    });
  }
  if (/Failed to fetch|Could not resolve|Could not connect|Connection failed|does not have a Release file|Temporary failure resolving|Unable to connect|No such file or directory.*Release/i.test(stderr)
    || /failed to download|apt-get update.*failed|E: The repository .* does not have/i.test(stderr)) {
    return new VmgenError('VMG_MIRROR', `cannot fetch suite ${source.os.suite ?? '?'} from mirror ${source.mirror}`, {
      hint: 'check that the mirror is reachable from this host and serves that suite, or set `mirror` in [config]',
    });
  }
  if (/No space left on device/i.test(stderr)) {
    return new VmgenError('VMG_DISK_FULL', 'no space left on device while installing packages', { hint: 'free space in the cache directory (vmgen cache prune) or set VMGEN_CACHE_DIR elsewhere' });
  }
  return undefined;
}

/**
 * Writes a layer's setup files into a directory that the files-in hook copies from. The hook's
 * `cp -a DIR/. ROOT/` gives ROOT the directory's own mode too, and mkdtemp makes it 0700: a guest
 * whose / is 0700 fails every service that drops root (status=200/CHDIR). Hence 0755.
 */
export async function stageSetupFiles(files: readonly GuestFile[]): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'vmgen-files-'));
  await chmod(dir, 0o755);
  await writeSetupFiles(dir, files);
  return dir;
}

async function runApt(argv: [string, ...string[]], source: LayerSource, ctx: InstallContext): Promise<void> {
  const files = await stageSetupFiles(source.setupFiles ?? []);
  try {
    const env = { ...process.env, VMGEN_DEBS: ctx.debsDir, DEBIAN_FRONTEND: 'noninteractive', ...(files ? { VMGEN_FILES: files } : {}) };
    await runLogged(argv, env, ctx, 'install mmdebstrap (bash scripts/setup.sh does it)');
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (err instanceof CommandError) {
      throw classifyAptFailure(err.stderr, source)
        ?? new VmgenError('VMG_BUILD', `${argv.includes('mmdebstrap') ? 'mmdebstrap' : 'apt-get'} failed for ${source.os.suite} from ${source.mirror}: ${lastLines(err.stderr)}`, { cause: err });
    }
    throw err;
  } finally {
    if (files) await rm(files, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').filter((l) => !l.startsWith('I: ')).slice(-3).join(' | ');
}

export const aptInstaller: Installer = {
  id: 'apt',
  // mmdebstrapArgv and aptInstallArgv run under unshare.
  hostTools: ['mmdebstrap', 'unshare'],
  bootstrap: (source, rootfs, ctx) => runApt(mmdebstrapArgv(source, rootfs), source, ctx),
  install: (source, rootfs, packages, ctx) => runApt(aptInstallArgv(rootfs, packages), source, ctx),
};
