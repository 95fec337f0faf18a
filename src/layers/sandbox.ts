import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GUEST_ENV } from '../communicators/command.js';
import { CommandError, run } from '../exec/run.js';
import { VmgenError } from '../errors.js';
import type { MountedRootfs } from './mount.js';
import { sandboxArgv, type SandboxRoot } from './sandbox-argv.js';

/** A [scripts] when = build entry with its text read. */
export interface BuildScript {
  id: string;
  /** Its key in the config (['scripts', id, 'run']), so a failure is reported at its line. */
  at: string[];
  text: string | Buffer;
  network: boolean;
}

export interface SandboxContext {
  signal: AbortSignal;
  log(line: string): void;
  /** A directory of the build's own for the scripts' files and the sandbox's mount points. */
  workDir: string;
}

/**
 * Runs the build scripts in order in the guest's root, each in a fresh sandbox (sandbox-argv.ts),
 * their output in the build log. The build's own overlay is unmounted meanwhile: two overlays
 * writing the same upper directory at once would each miss what the other did.
 */
export async function runBuildScripts(rootfs: MountedRootfs, scripts: readonly BuildScript[], ctx: SandboxContext): Promise<void> {
  const root: SandboxRoot = rootfs.layers && rootfs.lower
    ? { kind: 'overlay', lower: rootfs.lower, ...rootfs.layers }
    : { kind: 'dir', path: rootfs.path };
  const dir = join(ctx.workDir, 'build-scripts');
  await mkdir(dir, { recursive: true });
  const resume = await rootfs.suspend?.();
  try {
    for (const [i, script] of scripts.entries()) {
      const scriptFile = join(dir, `${i + 1}.script`);
      const scratch = join(dir, `${i + 1}.mounts`);
      await writeFile(scriptFile, script.text, { mode: 0o600 });
      await mkdir(scratch);
      ctx.log(`build script '${script.id}'${script.network ? ' (with network)' : ''}`);
      const started = Date.now();
      await runOne(script, sandboxArgv({ root, scratch, scriptFile, network: script.network }), ctx);
      ctx.log(`build script '${script.id}' done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await resume?.();
    await rm(dir, { recursive: true, force: true });
  }
}

async function runOne(script: BuildScript, argv: [string, ...string[]], ctx: SandboxContext): Promise<void> {
  const pending = { out: '', err: '' };
  const lines = (which: 'out' | 'err', chunk: string): void => {
    pending[which] += chunk;
    const parts = pending[which].split(/\r?\n/);
    pending[which] = parts.pop() ?? '';
    for (const line of parts) ctx.log(`${script.id}: ${line}`);
  };
  try {
    // The guest's environment, not the host's: nothing of the build host's own settings or secrets.
    await run(argv, { env: { ...GUEST_ENV }, signal: ctx.signal, killSignal: 'SIGKILL', onStderr: (c) => lines('err', c), onStdout: (c) => lines('out', c) });
  } catch (err) {
    if (ctx.signal.aborted || !(err instanceof CommandError)) throw err;
    const last = err.stderr.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? '';
    const how = err.signal ? `killed by ${err.signal}` : `exit ${err.exitCode}`;
    throw new VmgenError('VMG_BUILD', `build script '${script.id}' failed (${how})${last ? `: ${last}` : ''}`, { cause: err, at: script.at });
  } finally {
    for (const which of ['out', 'err'] as const) if (pending[which].trim()) ctx.log(`${script.id}: ${pending[which]}`);
  }
}
