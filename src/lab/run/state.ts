import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Catalogs } from '../../catalog/schema.js';
import type { VmConfig } from '../../config/model.js';
import { resolveSpec, type ResolvedSpec } from '../../config/resolve.js';
import { run } from '../../exec/run.js';
import { VmgenError } from '../../errors.js';
import { loadConfig } from '../../validate/load.js';
import { DEFAULT_LAB_ROOT, LAB_MANIFEST_FILE, parseLabManifest, type LabManifest, type LabManifestMachine } from '../manifest.js';
import { checkLabName } from './netns.js';

/*
 * Where a lab that is up lives, and what `up` made, so `verify` and `down` (other processes) find it.
 *
 * The lab is unpacked into its state directory, by default DEFAULT_LAB_ROOT/NAME
 * (/var/lib/vmgen/labs/NAME): LXC's configs name absolute paths, and the builder writes them for
 * that directory, so the default needs no rewriting. `--state-dir` moves it; run.json in it is the
 * record of what `up` made (the namespace, the machines started, the runtime's own items). `down`
 * removes the directory with everything in it.
 */

export const RUN_STATE_FILE = 'run.json';

export const runStateSchema = z.object({
  lab: z.string(),
  archive: z.string(),
  /** The namespace `up` made: vmgen-NAME. */
  netns: z.string(),
  /** Which row of the runtime table started the machines. */
  runtime: z.string(),
  /** 'starting' until every machine is up: a crashed up leaves it there, and `down` still cleans. */
  phase: z.enum(['starting', 'up']),
  startedAt: z.string(),
  /** Machines in the order they were started: `down` stops them in reverse. */
  started: z.array(z.string()),
  /** What the runtime made besides the machines (images loaded, taps), by kind, for `down`. */
  made: z.record(z.string(), z.array(z.string())),
}).strict();

export type RunState = z.infer<typeof runStateSchema>;

export function defaultStateDir(lab: string): string {
  return join(DEFAULT_LAB_ROOT, checkLabName(lab));
}

export async function readRunState(stateDir: string): Promise<RunState | undefined> {
  const path = join(stateDir, RUN_STATE_FILE);
  if (!existsSync(path)) return undefined;
  return runStateSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** Written whole and renamed over, so a reader never sees half a record. */
export async function writeRunState(stateDir: string, state: RunState): Promise<void> {
  const path = join(stateDir, RUN_STATE_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** lab.json from a lab archive without unpacking the rest; tar stores it as lab.json or ./lab.json. */
export async function manifestOfArchive(archive: string, signal?: AbortSignal): Promise<LabManifest> {
  let text: string | undefined;
  for (const member of [LAB_MANIFEST_FILE, `./${LAB_MANIFEST_FILE}`]) {
    try {
      text = (await run(['tar', '-xOf', archive, member], signal ? { signal } : {})).stdout;
      break;
    } catch {
      continue;
    }
  }
  if (text === undefined) {
    throw new VmgenError('VMG_FILE_READ', `${archive} has no ${LAB_MANIFEST_FILE}: it is not a lab archive`, { hint: 'give the archive vmgen lab build printed' });
  }
  try {
    return parseLabManifest(text);
  } catch (err) {
    throw new VmgenError('VMG_FILE_READ', `${archive}: ${LAB_MANIFEST_FILE} is not a manifest this vmgen reads`, { hint: 'rebuild the lab with this version of vmgen', cause: err });
  }
}

export async function readManifest(labDir: string): Promise<LabManifest> {
  return parseLabManifest(await readFile(join(labDir, LAB_MANIFEST_FILE), 'utf8'));
}

/** A machine's config and spec, from the config as built that the archive carries beside it. */
export async function loadMachine(labDir: string, m: LabManifestMachine, catalogs: Catalogs): Promise<{ config: VmConfig; spec: ResolvedSpec }> {
  const file = join(labDir, m.config);
  const loaded = loadConfig(await readFile(file, 'utf8'), { catalogs });
  if (loaded.config === undefined) {
    const first = loaded.diagnostics[0];
    throw new VmgenError('VMG_CONFIG_INVALID', `${file}${first ? `:${first.line}:${first.column}: ${first.message}` : ''}`, { hint: 'the lab archive carries a config this vmgen does not read: rebuild the lab' });
  }
  // The mirror is not used to run or check a machine; the spec only wants one.
  return { config: loaded.config, spec: resolveSpec(loaded.config, catalogs, { target: 'verify', defaultMirror: loaded.config.config.mirror ?? 'http://mirror.invalid/' }) };
}

/**
 * Start order: the machines that serve the others (routers, DNS and DHCP servers) first, then the
 * rest, each stage in lab order. Vagrant users ask for this; here a DHCP client that boots before
 * its server would wait out its first lease request.
 */
export function startStages(machines: ReadonlyArray<{ name: string; spec: ResolvedSpec }>): string[][] {
  const serves = (spec: ResolvedSpec): boolean => {
    const s = spec.provision.services;
    return s.router !== undefined || s.dns !== undefined || s.dhcp !== undefined;
  };
  const first = machines.filter((m) => serves(m.spec)).map((m) => m.name);
  const rest = machines.filter((m) => !serves(m.spec)).map((m) => m.name);
  return [first, rest].filter((s) => s.length > 0);
}
