// Build speed next to its baselines, measured in the same run and reported as ratios:
//   npm run bench [-- --json] [-- --cold-runs N]
// A measurement, not a test: it prints PASS/MISS next to each goal and exits 0 either way (1 only
// when it could not measure). Needs root (mmdebstrap --mode=root, overlay mounts), like vmgen build.
//
//   cold  `vmgen build --target lxc` into an empty cache  vs  the mmdebstrap command line vmgen runs, alone
//   warm  the same machine with another hostname, layer cached  vs  tar -cf - ROOTFS | zstd -T0 -3
//
// Both sides of the cold comparison get their own copy of the default cache's .deb pool, so neither
// downloads a package (only apt's indexes come from the mirror). Should the pool lack something,
// the first mmdebstrap run fetches it and is run again with the completed pool, which vmgen's side
// then starts from. One cold pair is noisy (dpkg's fsyncs, other work on the host), so the output
// also splits the cold build into its own mmdebstrap run and the rest; --cold-runs N (default 3) repeats the pair.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { defaultMirror } from '../src/build/mirror.js';
import { defaultCacheRoot, treeBytes } from '../src/cache/store.js';
import { loadCatalogs } from '../src/catalog/load.js';
import { loadConfig } from '../src/config/load.js';
import { resolveSpec } from '../src/config/resolve.js';
import { run } from '../src/exec/run.js';
import { debianConfigurator } from '../src/guests/debian/index.js';
import { mmdebstrapArgv } from '../src/installers/apt/index.js';
import type { LayerSource } from '../src/installers/types.js';
import { findTarget } from '../src/targets/registry.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG_NAME = 'examples/debian-web.conf';
const CONFIG = join(ROOT, CONFIG_NAME);
const VMGEN = join(ROOT, 'bin', 'vmgen.js');
const TARGET = 'lxc';
const REPEATS = 3;
const WARM_HOSTNAME = 'bench-warm';
const GOALS = { cold: 1.2, warm: 2 } as const;
// bash for pipefail: a failing tar must fail the baseline, not just zstd. Paths come in as "$1", "$2".
const TAR_ZSTD = 'set -o pipefail; tar -C "$1" -cf - . | zstd -T0 -3 -q -f -o "$2"';

interface BuildJson {
  archive: string;
  seconds: number;
  layer: { rootfs: string; key: string; bytes?: number; events: string[]; packageToolRuns: number };
}

interface Series {
  runs: number[];
  min: number;
  median: number;
  max: number;
}

interface Comparison {
  vmgen: Series;
  baseline: Series;
  ratio: number;
  goal: number;
  pass: boolean;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const controller = new AbortController();
const coldRunsArg = args.indexOf('--cold-runs');
// One cold pair swings by ±20 % with dpkg's disk writes; the median of three is what is reported.
const COLD_RUNS = coldRunsArg === -1 ? 3 : Number(args[coldRunsArg + 1]);

function note(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function timed<T>(what: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await what();
  return { seconds: (performance.now() - start) / 1000, value };
}

function series(runs: number[]): Series {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs, min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

function compare(vmgen: number[], baseline: number[], goal: number): Comparison {
  const v = series(vmgen);
  const b = series(baseline);
  const ratio = v.median / b.median;
  return { vmgen: v, baseline: b, ratio, goal, pass: ratio <= goal };
}

async function debCount(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.deb')).length;
}

async function seedPool(from: string, to: string, signal: AbortSignal): Promise<void> {
  await mkdir(to, { recursive: true });
  if ((await debCount(from)) > 0) await run(['cp', '-a', '--reflink=auto', `${from}/.`, to], { signal });
}

interface BuildRun {
  seconds: number;
  result: BuildJson;
  /** How long mmdebstrap said it took inside the build ("I: success in N seconds"), when it ran. */
  mmdebstrapSeconds: number | undefined;
}

async function vmgenBuild(config: string, outDir: string, cacheDir: string, signal: AbortSignal): Promise<BuildRun> {
  const { seconds, value } = await timed(() =>
    run(['node', VMGEN, 'build', config, '--target', TARGET, '--out', outDir, '--cache-dir', cacheDir, '--json'], { cwd: ROOT, signal }));
  const said = /I: success in ([\d.]+) seconds/.exec(value.stderr)?.[1];
  return { seconds, result: JSON.parse(value.stdout) as BuildJson, mmdebstrapSeconds: said === undefined ? undefined : Number(said) };
}

async function tarZstd(rootfs: string, output: string, signal: AbortSignal): Promise<number> {
  return (await timed(() => run(['bash', '-c', TAR_ZSTD, 'bench-tar-zstd', rootfs, output], { signal }))).seconds;
}

async function fileBytes(path: string): Promise<number> {
  return (await stat(path)).size;
}

const s = (n: number): string => `${n.toFixed(1)} s`;
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
const verdict = (c: { pass: boolean }): string => (c.pass ? 'PASS' : 'MISS');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<number> {
  if (!Number.isInteger(COLD_RUNS) || COLD_RUNS < 1) {
    note('--cold-runs takes a whole number from 1');
    return 1;
  }
  if (process.getuid?.() !== 0) {
    note('needs root, like vmgen build (mmdebstrap --mode=root and overlay mounts)');
    return 1;
  }
  // Stays registered: Ctrl-C reaches this process twice under tsx (from the terminal and relayed by
  // its parent), and a second signal with no listener would exit before the temp dir is removed.
  const onSignal = (sig: NodeJS.Signals): void => controller.abort(new Error(`received ${sig}`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const signal = controller.signal;

  note('npm run build');
  await run(['npm', 'run', 'build'], { cwd: ROOT, signal });

  // What vmgen build would make the packages layer from, computed the way build.ts does.
  const catalogs = loadCatalogs();
  const text = await readFile(CONFIG, 'utf8');
  const loaded = loadConfig(text, { catalogs });
  if (!loaded.config) throw new Error(`${CONFIG_NAME} does not validate: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  const config = loaded.config;
  const mirror = config.config.mirror ?? defaultMirror(catalogs, config.hardware.os);
  const spec = resolveSpec(config, catalogs, { target: TARGET, defaultMirror: mirror });
  const commander = findTarget(TARGET)?.commander;
  if (!commander) throw new Error(`target ${TARGET} has no commander`);
  const packages = [...new Set([
    ...debianConfigurator.packages({ spec, nicOwner: commander.nicOwner }),
    ...(commander.packages?.(spec) ?? []),
    ...spec.appPackages,
  ])].sort();
  const source: LayerSource = { os: spec.os, mirror: spec.mirror, packages };

  const warmText = text.replace(/^(\s*hostname\s*=\s*)\S.*$/m, `$1${WARM_HOSTNAME}`);
  if (warmText === text) throw new Error(`${CONFIG_NAME} has no hostname line to change`);

  const defaultPool = join(defaultCacheRoot(), 'debs');
  const tmp = await mkdtemp('/var/tmp/vmgen-bench-');
  try {
    const pool = join(tmp, 'mmdebstrap-debs');
    const outDir = join(tmp, 'out');
    const warmConfig = join(tmp, 'warm.conf');
    const tarOut = join(tmp, 'baseline.tar.zst');
    await writeFile(warmConfig, warmText);

    // 1. cold: mmdebstrap alone, then vmgen build into an empty cache; COLD_RUNS such pairs.
    await seedPool(defaultPool, pool, signal);
    const seeded = await debCount(pool);
    note(`.deb pool: ${seeded} files copied from ${defaultPool}`);
    const mmdebstrapRuns: number[] = [];
    const coldRuns: BuildRun[] = [];
    let primed = 0;
    let mmdebstrapBytes = 0;
    let coldFetched = 0;
    let cache = '';
    for (let i = 1; i <= COLD_RUNS; i++) {
      const nth = COLD_RUNS > 1 ? ` ${i}/${COLD_RUNS}` : '';
      for (;;) {
        const rootfs = join(tmp, 'mmdebstrap-rootfs');
        await rm(rootfs, { recursive: true, force: true });
        await mkdir(rootfs);
        const before = await debCount(pool);
        note(`cold baseline${nth}: mmdebstrap alone (${packages.length} packages)`);
        const seconds = (await timed(() => run(mmdebstrapArgv(source, rootfs), {
          signal, env: { ...process.env, VMGEN_DEBS: pool, DEBIAN_FRONTEND: 'noninteractive' },
        }))).seconds;
        const fetched = (await debCount(pool)) - before;
        mmdebstrapBytes = await treeBytes(rootfs);
        await rm(rootfs, { recursive: true, force: true });
        if (fetched === 0) {
          mmdebstrapRuns.push(seconds);
          break;
        }
        if (primed > 0) throw new Error(`mmdebstrap downloaded ${fetched} more packages with a completed pool`);
        primed = fetched;
        note(`the default pool lacked ${fetched} packages; mmdebstrap downloaded them, so that run does not count`);
      }

      // Only the last cold build's cache is kept, for the warm builds.
      if (cache !== '') await rm(cache, { recursive: true, force: true });
      cache = join(tmp, `cache-${i}`);
      await seedPool(pool, join(cache, 'debs'), signal);
      const coldPool = await debCount(join(cache, 'debs'));
      note(`cold${nth}: vmgen build into an empty cache`);
      coldRuns.push(await vmgenBuild(CONFIG, outDir, cache, signal));
      coldFetched += (await debCount(join(cache, 'debs'))) - coldPool;
    }
    const cold = coldRuns[coldRuns.length - 1]!;
    const coldArchiveBytes = await fileBytes(cold.result.archive);
    const rootfs = cold.result.layer.rootfs;
    const meta = JSON.parse(await readFile(join(dirname(rootfs), 'meta.json'), 'utf8')) as { parts: { packages: string[] } };
    const samePackages = JSON.stringify([...meta.parts.packages].sort()) === JSON.stringify(packages);
    const inner = coldRuns.map((r) => r.mmdebstrapSeconds);
    const innerKnown = inner.every((n): n is number => n !== undefined);

    // 2. warm: same machine, another hostname, interleaved with tar|zstd of the cached layer.
    const warmRuns: number[] = [];
    const warmInternal: number[] = [];
    const toolRuns: number[] = [];
    const tarRuns: number[] = [];
    const layerReused: boolean[] = [];
    let warmArchiveBytes = 0;
    let tarBytes = 0;
    for (let i = 1; i <= REPEATS; i++) {
      note(`warm ${i}/${REPEATS}: vmgen build, hostname ${WARM_HOSTNAME}`);
      const warm = await vmgenBuild(warmConfig, outDir, cache, signal);
      warmRuns.push(warm.seconds);
      warmInternal.push(warm.result.seconds);
      toolRuns.push(warm.result.layer.packageToolRuns);
      layerReused.push(warm.result.layer.rootfs === rootfs);
      warmArchiveBytes = await fileBytes(warm.result.archive);
      note(`warm ${i}/${REPEATS}: tar | zstd -T0 -3 of the layer`);
      tarRuns.push(await tarZstd(rootfs, tarOut, signal));
      tarBytes = await fileBytes(tarOut);
    }

    const coldCmp = compare(coldRuns.map((r) => r.seconds), mmdebstrapRuns, GOALS.cold);
    const warmCmp = compare(warmRuns, tarRuns, GOALS.warm);
    const noApt = { runs: toolRuns, pass: toolRuns.every((n) => n === 0) };
    const results = {
      config: CONFIG_NAME,
      target: TARGET,
      packages,
      debPool: {
        seededFrom: defaultPool, seeded, primedByMmdebstrap: primed,
        downloadedDuringTimedRuns: { vmgen: coldFetched, mmdebstrap: 0 },
      },
      cold: {
        ...coldCmp, baselineName: 'mmdebstrap alone, same command line', samePackages,
        buildSeconds: coldRuns.map((r) => r.result.seconds),
        ownMmdebstrapSeconds: inner,
        restSeconds: innerKnown ? coldRuns.map((r, i) => r.seconds - inner[i]!) : undefined,
        layerBytes: cold.result.layer.bytes, mmdebstrapBytes, archiveBytes: coldArchiveBytes,
      },
      warm: { ...warmCmp, baselineName: 'tar -cf - | zstd -T0 -3 of the layer', layerReused: layerReused.every(Boolean), archiveBytes: warmArchiveBytes, baselineBytes: tarBytes, buildSeconds: warmInternal },
      warmPackageToolRuns: noApt,
    };

    if (json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } else {
      const range = (x: Series): string => `${x.runs.map((r) => r.toFixed(1)).join(', ')} (min ${x.min.toFixed(1)}, max ${x.max.toFixed(1)})`;
      const lines = [
        `vmgen bench: ${CONFIG_NAME}, target ${TARGET}, ${packages.length} packages; times are wall clock, vmgen via node bin/vmgen.js`,
        `.deb pool: both sides start from a copy of ${defaultPool} (${seeded} files${primed > 0 ? `, +${primed} fetched by an untimed mmdebstrap run` : ''}),`,
        `  so neither downloads packages (only apt's indexes); .debs downloaded in timed runs: vmgen ${coldFetched}, mmdebstrap 0`,
        '',
        table([
          ['', 'vmgen', 'baseline', 'ratio', 'goal', ''],
          [`cold build  vs mmdebstrap alone${COLD_RUNS > 1 ? ` (median of ${COLD_RUNS})` : ''}`, s(coldCmp.vmgen.median), s(coldCmp.baseline.median), `${coldCmp.ratio.toFixed(2)}×`, `≤ ${GOALS.cold}×`, verdict(coldCmp)],
          [`warm build  vs tar | zstd (median of ${REPEATS})`, s(warmCmp.vmgen.median), s(warmCmp.baseline.median), `${warmCmp.ratio.toFixed(2)}×`, `≤ ${GOALS.warm}×`, verdict(warmCmp)],
        ]),
        '',
        ...(COLD_RUNS > 1 ? [`cold build runs, s:  ${range(coldCmp.vmgen)}`, `mmdebstrap runs, s:  ${range(coldCmp.baseline)}`] : []),
        innerKnown
          ? `cold build split: its own mmdebstrap run ${inner.map((n) => n.toFixed(1)).join(', ')} s (mmdebstrap's count), everything else ${coldRuns.map((r, i) => (r.seconds - inner[i]!).toFixed(1)).join(', ')} s`
          : 'cold build split: mmdebstrap\'s "success in" line was not in the build log',
        `warm build runs, s:  ${range(warmCmp.vmgen)}`,
        `tar | zstd runs, s:  ${range(warmCmp.baseline)}`,
        `warm build packageToolRuns (--json): ${toolRuns.join(', ')}  (goal 0: no apt) ${verdict(noApt)}`,
        `same packages as the baseline: ${samePackages ? 'yes' : 'NO'}; warm builds reused the cold build's layer: ${results.warm.layerReused ? 'yes' : 'NO'}`,
        `sizes: layer ${cold.result.layer.bytes === undefined ? '?' : mib(cold.result.layer.bytes)}, mmdebstrap rootfs ${mib(mmdebstrapBytes)}; archive ${mib(warmArchiveBytes)}, tar|zstd ${mib(tarBytes)}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return 0;
  } finally {
    note(`removing ${tmp}`);
    await rm(tmp, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  const why = controller.signal.aborted ? controller.signal.reason : err;
  note(`${controller.signal.aborted ? 'interrupted' : 'could not measure'}: ${why instanceof Error ? why.message : String(why)}`);
  process.exitCode = 1;
}
