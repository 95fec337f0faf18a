import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { parseSize } from '../../config/validators.js';
import { VmgenError } from '../../errors.js';
import { REQUEST_LOG_SERIALIZERS } from '../../service/log-serializers.js';
import { DEFAULT_LIMITS } from '../../service/routes/common.js';
import { catalogsFor, collect } from '../shared.js';
import type { RegisterCommand } from './types.js';
import { stopSignal } from '../stop-signal.js';

/** Where the service keeps its job table, tokens and (by default) artifacts. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VMGEN_DATA_DIR || '/var/lib/vmgen';
}

export const DEFAULT_ARTIFACT_MAX_AGE_DAYS = 7;
export const DEFAULT_ARTIFACT_MAX_BYTES = '20GB';
export const DEFAULT_KEEP_BUILDS_DAYS = 30;

interface ServeFlags {
  port: string;
  host: string;
  data: string;
  concurrency?: string;
  cacheDir?: string;
  queue?: string;
  artifacts?: string;
  s3Endpoint?: string;
  maxQueued: string;
  rateLimit: string;
  artifactMaxAge: string;
  artifactMaxBytes: string;
  keepBuilds: string;
  checkTimeout: string;
  allowMirror?: string[];
  allowIsoDir?: string[];
  allowScripts?: boolean;
  catalog?: string[];
}

export function wholeNumber(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new VmgenError('VMG_USAGE', `${flag} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, not "${value}"`);
  }
  return n;
}

function bytesFlag(flag: string, value: string): number {
  const r = parseSize(value, 'GB');
  if (!r.ok) throw new VmgenError('VMG_USAGE', `${flag}: ${r.message}`, r.hint ? { hint: r.hint } : undefined);
  return r.value * 2 ** 20;
}

export const registerServe: RegisterCommand = (program, io) => {
  program
    .command('serve')
    .description('run the HTTP API: builds queued for many users, run here or by `vmgen worker`s (README: Service)')
    .option('--port <port>', 'TCP port; 0 picks a free one (the URL is printed)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory: job table, tokens, artifacts ($VMGEN_DATA_DIR sets the default)', defaultDataDir())
    .option('--concurrency <n>', 'builds at once (default: the number of cores)')
    .option('--cache-dir <dir>', 'build cache directory (default: $VMGEN_CACHE_DIR or /var/cache/vmgen)')
    .option('--queue <url>', 'redis://HOST:PORT: queue builds for `vmgen worker` processes instead of building here')
    .option('--artifacts <dir|s3://bucket/prefix>', 'where finished archives go (default: DATA/artifacts)')
    .option('--s3-endpoint <url>', 'an S3-compatible server for s3:// artifacts (default: AWS, or $AWS_ENDPOINT_URL_S3)')
    .option('--max-queued <n>', 'builds one user may have waiting', String(DEFAULT_LIMITS.maxQueuedPerUser))
    .option('--rate-limit <n>', 'API requests per token per minute', String(DEFAULT_LIMITS.rateLimitPerMinute))
    .option('--artifact-max-age <days>', 'delete artifacts of builds that ended longer ago', String(DEFAULT_ARTIFACT_MAX_AGE_DAYS))
    .option('--artifact-max-bytes <size>', 'delete the oldest artifacts when all of them take more', DEFAULT_ARTIFACT_MAX_BYTES)
    .option('--check-timeout <seconds>', 'time one submitted config may take to read before it is refused (422 VMG_CONFIG_TOO_COMPLEX)', String(DEFAULT_LIMITS.checkTimeoutMs / 1000))
    .option('--keep-builds <days>', 'delete builds (their row, config, log and artifact) that ended longer ago', String(DEFAULT_KEEP_BUILDS_DAYS))
    .option('--allow-mirror <url-prefix|public>', 'a mirror or repository URL prefix configs may name (repeatable); `public`: any public http(s) server (default: this host\'s apt sources)', collect)
    .option('--allow-iso-dir <dir>', 'a directory whose ISO images configs may copy into archives (cd_drives copy = 1; repeatable; default: none)', collect)
    .option('--allow-scripts', 'accept configs with build-time [scripts] (they run on this host, in a sandbox); first-boot scripts are always accepted')
    .option('--catalog <path>', 'an extra catalog file (repeatable)', collect)
    .action(async (flags: ServeFlags) => {
      const port = wholeNumber('--port', flags.port, 0, 65535);
      const concurrency = flags.concurrency === undefined ? availableParallelism() : wholeNumber('--concurrency', flags.concurrency, 1, 256);
      if (flags.queue !== undefined && !/^rediss?:\/\/[^\s]+$/.test(flags.queue)) {
        throw new VmgenError('VMG_USAGE', `--queue must be a redis:// URL, not "${flags.queue}"`);
      }
      const maxAgeDays = Number(flags.artifactMaxAge);
      if (!(maxAgeDays > 0)) throw new VmgenError('VMG_USAGE', `--artifact-max-age must be a number of days above 0, not "${flags.artifactMaxAge}"`);
      const maxTotalBytes = bytesFlag('--artifact-max-bytes', flags.artifactMaxBytes);
      const keepDays = Number(flags.keepBuilds);
      if (!(keepDays > 0)) throw new VmgenError('VMG_USAGE', `--keep-builds must be a number of days above 0, not "${flags.keepBuilds}"`);
      const { allowEntryProblem, hostMirrorUris, sourcePolicy } = await import('../../service/source-policy.js');
      for (const entry of flags.allowMirror ?? []) {
        const problem = allowEntryProblem(entry);
        if (problem) throw new VmgenError('VMG_USAGE', `--allow-mirror: ${problem}`, { hint: 'give a URL prefix like http://mirror.example/debian, or public' });
      }
      const policy = {
        ...sourcePolicy(flags.allowMirror ?? [], hostMirrorUris(), (flags.allowIsoDir ?? []).map((d) => resolve(io.cwd, d))),
        allowBuildScripts: flags.allowScripts === true,
      };
      const limits = {
        maxQueuedPerUser: wholeNumber('--max-queued', flags.maxQueued, 1), rateLimitPerMinute: wholeNumber('--rate-limit', flags.rateLimit, 1),
        checkTimeoutMs: wholeNumber('--check-timeout', flags.checkTimeout, 1, 600) * 1000,
      };
      const logger = pino({ level: process.env.VMGEN_LOG_LEVEL ?? 'info', base: { pid: process.pid }, serializers: REQUEST_LOG_SERIALIZERS },
        pino.destination({ dest: 2, sync: false }));
      // Loaded here, not at the top: the service's modules would slow down every other vmgen command.
      const { startServer } = await import('../../service/server.js');
      const server = await startServer({
        dataDir: resolve(io.cwd, flags.data),
        host: flags.host,
        port,
        concurrency,
        catalogs: catalogsFor(io, flags.catalog),
        ...(flags.cacheDir ? { cacheDir: resolve(io.cwd, flags.cacheDir) } : {}),
        ...(flags.queue ? { queue: flags.queue } : {}),
        ...(flags.artifacts ? { artifacts: flags.artifacts.startsWith('s3://') ? flags.artifacts : resolve(io.cwd, flags.artifacts) } : {}),
        ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
        limits,
        artifactLimits: { maxAgeMs: maxAgeDays * 86_400_000, maxTotalBytes },
        buildLimits: { maxAgeMs: keepDays * 86_400_000 },
        sourcePolicy: policy,
        logger,
      });
      io.stdout.write(`listening on ${server.url}\n`);
      const sig = await stopSignal();
      logger.info({ signal: sig }, 'shutting down');
      await server.close();
      logger.flush();
    });
};
