import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CATALOG_KEY_OF, PackageInstallerId } from '../../catalog/families.js';
import type { OsEntry } from '../../catalog/schema.js';
import { VmgenError } from '../../errors.js';
import { CommandError, run } from '../../exec/run.js';
import { runLogged } from '../run-logged.js';
import { writeSetupFiles } from '../setup-files.js';
import type { InstallContext, Installer, LayerSource } from '../types.js';

/*
 * The RedHat-family installer: `dnf --installroot` run on the build host against one configured
 * repository (the config's `mirror`), the way mkosi does it. Nothing of the host's own dnf or rpm
 * setup is used: an empty reposdir, a private dnf.conf, and a private HOME whose .rpmmacros puts
 * the rpm database where the guest's own rpm looks for it (Debian's rpm would otherwise put it in
 * ~/.rpmdb).
 */

/** The repository id dnf knows the mirror by; it shows in dnf's messages. */
export const REPO_ID = 'vmgen';

const ARCH: Record<OsEntry['arch'], string> = { amd64: 'x86_64', i386: 'i686' };

/** Where each distribution's rpm keeps its database: Fedora moved it to /usr/lib/sysimage in 36; EL9 did not. */
const RPM_DBPATH: Partial<Record<OsEntry['distribution'], string>> = {
  fedora: '/usr/lib/sysimage/rpm',
  rocky: '/var/lib/rpm',
  alma: '/var/lib/rpm',
};

export function rpmDbPath(os: OsEntry): string {
  const path = RPM_DBPATH[os.distribution];
  if (path === undefined) throw new Error(`${os.id} is not an RPM distribution`);
  return path;
}

/** Host-side files dnf is pointed at instead of the host's own configuration. */
export interface DnfPrivate {
  /** A dnf.conf with nothing but [main]. */
  config: string;
  /** An empty directory, so no host .repo file is read. */
  reposDir: string;
  /** The shared package cache (like apt's debs/), so a package is downloaded once for all builds. */
  cacheDir: string;
}

/**
 * Mounts /proc and /dev into the root before dnf runs, so package scriptlets (run chrooted by rpm)
 * find them; inside the private mount namespace the mounts end with the command. A constant: the
 * root and dnf's arguments reach it as positional parameters, never as shell text.
 */
export const IN_ROOT_SCRIPT = 'set -eu; root=$1; shift; mkdir -p "$root/proc" "$root/dev"; mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"; exec "$@"';

/** dnf's options for the configured repository: everything but the verb and the packages. */
export function dnfOptions(source: LayerSource, rootfs: string, priv: DnfPrivate): string[] {
  const local = source.mirror.startsWith('file://');
  return [
    `--config=${priv.config}`, `--installroot=${rootfs}`, `--releasever=${source.os.release}`, `--forcearch=${ARCH[source.os.arch]}`,
    '--noplugins', '--refresh', '-y',
    `--setopt=reposdir=${priv.reposDir}`, `--setopt=cachedir=${priv.cacheDir}`, '--setopt=keepcache=True',
    '--setopt=install_weak_deps=False',
    `--repofrompath=${REPO_ID},${source.mirror}`,
    // A missing repository must fail the build, not leave a root without packages.
    `--setopt=${REPO_ID}.skip_if_unavailable=False`,
    // vmgen has no signing key to give dnf. A file:// repository is the build host's own (the
    // tests make one); any other keeps signature checking on, and fails until the key is known.
    ...(local ? [`--setopt=${REPO_ID}.gpgcheck=False`] : []),
  ];
}

/**
 * The RPM package tools vmgen drives: the installers that read dnf's package names (CATALOG_KEY_OF);
 * yum takes dnf's options (on every current RPM distribution it is dnf).
 */
export type RpmProgram = { [K in PackageInstallerId]: (typeof CATALOG_KEY_OF)[K] extends 'dnf' ? K : never }[PackageInstallerId];

export function dnfArgv(source: LayerSource, rootfs: string, packages: readonly string[], priv: DnfPrivate, program: RpmProgram = 'dnf'): [string, ...string[]] {
  if (packages.length === 0) throw new Error(`${program} needs at least one package to install`);
  return [
    'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
    'sh', '-c', IN_ROOT_SCRIPT, 'sh', rootfs,
    program, ...dnfOptions(source, rootfs, priv), 'install', '--', ...[...packages].sort(),
  ];
}

/** Turns dnf's messages into errors that name what the user can fix. */
export function classifyDnfFailure(output: string, source: LayerSource): VmgenError | undefined {
  const missing = [...output.matchAll(/(?:No match for argument|Unable to find a match):?\s+([^\s,]+(?:[ ,]+[^\s,]+)*)/g)]
    .flatMap((m) => (m[1] ?? '').split(/[\s,]+/)).filter(Boolean);
  if (missing.length > 0) {
    return new VmgenError('VMG_PACKAGE', `package ${[...new Set(missing)].join(', ')} is not in ${source.mirror} (${source.os.label})`, {
      hint: 'check the application catalog entry (vmgen catalog apps) or point `mirror` at a repository that has it',
    });
  }
  if (/public key .* is not installed|GPG check FAILED|you do not have any GPG public keys installed/i.test(output)) {
    return new VmgenError('VMG_MIRROR', `the packages of ${source.mirror} are signed with a key this host does not have`, {
      hint: 'vmgen checks RPM signatures for remote repositories; import the distribution key on the build host, or use a local file:// copy of the repository you trust',
    });
  }
  if (/Failed to download metadata|Cannot download repomd\.xml|Curl error|Cannot find a valid baseurl|Errors during downloading metadata/i.test(output)) {
    return new VmgenError('VMG_MIRROR', `cannot read the repository ${source.mirror} for ${source.os.label}`, {
      hint: 'check that the mirror is reachable from this host and is a dnf repository (it has repodata/repomd.xml), or set `mirror` in [config]',
    });
  }
  if (/No space left on device|needs \S+ more space on the \S+ filesystem|At least \S+ more space needed/i.test(output)) {
    return new VmgenError('VMG_DISK_FULL', 'no space left on device while installing packages', { hint: 'free space in the cache directory (vmgen cache prune) or set VMGEN_CACHE_DIR elsewhere' });
  }
  return undefined;
}

/**
 * The device nodes mmdebstrap leaves in a Debian root, which dnf does not make (Fedora's
 * `filesystem` package ships /dev empty): configuring the root runs programs chrooted in it, and
 * those open /dev/null and /dev/urandom. Container runtimes and booted VMs mount their own /dev.
 */
export const DEV_NODES: ReadonlyArray<{ name: string; mode: string; major: number; minor: number }> = [
  { name: 'null', mode: '666', major: 1, minor: 3 },
  { name: 'zero', mode: '666', major: 1, minor: 5 },
  { name: 'full', mode: '666', major: 1, minor: 7 },
  { name: 'random', mode: '666', major: 1, minor: 8 },
  { name: 'urandom', mode: '666', major: 1, minor: 9 },
  { name: 'tty', mode: '666', major: 5, minor: 0 },
  { name: 'console', mode: '600', major: 5, minor: 1 },
  { name: 'ptmx', mode: '666', major: 5, minor: 2 },
];

async function populateDev(rootfs: string, signal: AbortSignal): Promise<void> {
  const dev = join(rootfs, 'dev');
  await mkdir(join(dev, 'pts'), { recursive: true });
  await mkdir(join(dev, 'shm'), { recursive: true });
  for (const n of DEV_NODES) {
    if (existsSync(join(dev, n.name))) continue;
    await run(['mknod', '-m', n.mode, join(dev, n.name), 'c', String(n.major), String(n.minor)], { signal });
  }
  const links: Array<[string, string]> = [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']];
  for (const [name, target] of links) if (!existsSync(join(dev, name))) await symlink(target, join(dev, name)).catch(() => undefined);
}

/** A private dnf.conf, an empty reposdir and a HOME whose .rpmmacros sets the guest's rpm database path. */
async function privateSetup(source: LayerSource, ctx: InstallContext): Promise<{ dir: string; priv: DnfPrivate; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'vmgen-dnf-'));
  // The RPM pool sits next to the .deb pool in the cache root (ROOT/debs, ROOT/rpms).
  const priv: DnfPrivate = { config: join(dir, 'dnf.conf'), reposDir: join(dir, 'repos.d'), cacheDir: join(dirname(ctx.debsDir), 'rpms') };
  await mkdir(priv.reposDir);
  await mkdir(priv.cacheDir, { recursive: true });
  await writeFile(priv.config, '[main]\n');
  await writeFile(join(dir, '.rpmmacros'), `%_dbpath ${rpmDbPath(source.os)}\n`);
  return { dir, priv, env: { ...process.env, HOME: dir, LC_ALL: 'C.UTF-8' } };
}

async function runDnf(program: RpmProgram, source: LayerSource, rootfs: string, packages: readonly string[], ctx: InstallContext): Promise<void> {
  // In place before the packages, as apt's setup hook does: kernel-core's own scriptlets make the initramfs with them.
  await writeSetupFiles(rootfs, source.setupFiles ?? []);
  const { dir, priv, env } = await privateSetup(source, ctx);
  const argv = dnfArgv(source, rootfs, packages, priv, program);
  const hint = `install ${program} and rpm (bash scripts/setup.sh does it)`;
  try {
    await runLogged(argv, env, ctx, hint);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (err instanceof CommandError) {
      if (err.exitCode === 127 || err.stderr.includes(`${program}: not found`)) {
        throw new VmgenError('VMG_TOOL_MISSING', `${program} is not installed on the build host`, { hint, cause: err });
      }
      throw classifyDnfFailure(err.stderr, source)
        ?? new VmgenError('VMG_BUILD', `${program} failed for ${source.os.label} from ${source.mirror}: ${err.stderr.trim().split('\n').slice(-3).join(' | ')}`, { cause: err });
    }
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await populateDev(rootfs, ctx.signal);
}

/** The installer driving `program` (dnf, or yum with the same options). */
export function rpmInstaller(program: RpmProgram): Installer {
  return {
    id: program,
    // dnfArgv runs under unshare; the root's /dev nodes are made with mknod.
    hostTools: [program, 'rpm', 'unshare', 'mknod'],
    // dnf makes a root from nothing itself, so bootstrapping and adding packages are the same command.
    bootstrap: (source, rootfs, ctx) => runDnf(program, source, rootfs, source.packages, ctx),
    install: (source, rootfs, packages, ctx) => runDnf(program, source, rootfs, packages, ctx),
  };
}

export const dnfInstaller: Installer = rpmInstaller('dnf');
