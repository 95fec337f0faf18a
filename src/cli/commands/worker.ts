import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultCacheRoot } from '../../cache/store.js';
import { VmgenError } from '../../errors.js';
import { defaultDataDir, wholeNumber } from './serve.js';
import type { RegisterCommand } from './types.js';
import { stopSignal } from '../stop-signal.js';

interface WorkerFlags {
  queue: string;
  data: string;
  concurrency?: string;
  cacheDir?: string;
  artifacts?: string;
  s3Endpoint?: string;
  name?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const registerWorker: RegisterCommand = (program, io) => {
  program
    .command('worker')
    .description('take builds from the queue of a `vmgen serve --queue` and run them here (README: Service)')
    .requiredOption('--queue <url>', 'redis://HOST:PORT, the same as the server\'s')
    .option('--data <dir>', 'data directory: temp output under DATA/work, artifacts in DATA/artifacts (default: $VMGEN_DATA_DIR or /var/lib/vmgen)', defaultDataDir())
    .option('--concurrency <n>', 'builds at once (default: the number of cores)')
    .option('--cache-dir <dir>', 'build cache directory (default: $VMGEN_CACHE_DIR or /var/cache/vmgen)')
    .option('--artifacts <dir|s3://bucket/prefix>', 'where finished archives go, shared with the server (default: DATA/artifacts)')
    .option('--s3-endpoint <url>', 'an S3-compatible server for s3:// artifacts (default: AWS, or $AWS_ENDPOINT_URL_S3)')
    .option('--name <name>', 'this worker\'s name, reported with each build it runs (default: HOST-PID)')
    .action(async (flags: WorkerFlags) => {
      const concurrency = flags.concurrency === undefined ? availableParallelism() : wholeNumber('--concurrency', flags.concurrency, 1, 256);
      const name = flags.name ?? `${hostname()}-${process.pid}`;
      if (!NAME.test(name)) throw new VmgenError('VMG_USAGE', `--name takes letters, digits, '.', '_' and '-' (up to 63), not "${name}"`);
      const data = resolve(io.cwd, flags.data);
      // Loaded here, not at the top: the queue's modules would slow down every other vmgen command.
      const { artifactStoreFromArg } = await import('../../service/artifacts/index.js');
      const { startQueueWorker } = await import('../../service/executors/worker.js');
      const { lockMsFromEnv, redisOptions } = await import('../../service/executors/queue.js');
      const { cleanWorkDir, processRunner } = await import('../../service/runner/run.js');
      redisOptions(flags.queue);
      const artifacts = artifactStoreFromArg(
        flags.artifacts === undefined ? join(data, 'artifacts') : flags.artifacts.startsWith('s3://') ? flags.artifacts : resolve(io.cwd, flags.artifacts),
        flags.s3Endpoint,
      );
      const workDir = join(data, 'work');
      const log = (line: string): void => void io.stderr.write(`${new Date().toISOString()} ${name}: ${line}\n`);
      const removed = await cleanWorkDir(workDir);
      if (removed.length > 0) log(`removed the temp output of ${removed.length} earlier process(es) from ${workDir}`);
      const worker = await startQueueWorker({
        url: flags.queue, concurrency, name, log, lockMs: lockMsFromEnv(),
        runner: processRunner({
          workDir, cacheRoot: flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheRoot(), artifacts, hidePaths: [{ path: data, as: '<data>' }],
        }),
      });
      io.stdout.write(`worker ${name} taking builds from ${flags.queue} (${concurrency} at once)\n`);
      const sig = await stopSignal();
      log(`${sig}: taking no more builds; waiting for the running ones (send it again to stop now)`);
      if (!(await worker.close())) {
        log('could not tell the queue this worker is leaving (redis unreachable); leaving anyway');
        // BullMQ keeps retrying the lost connection on its own timers, which would hold the process
        // open for good; everything of ours is closed, so end it once main() has set the exit code.
        setTimeout(() => process.exit(), 1000).unref();
      }
    });
};
