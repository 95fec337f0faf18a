import { readFile } from 'node:fs/promises';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppsQuery, EditBody, ParseBody, PresetsQuery, SetBody, UnsetBody, type PresetsBody } from '../api/schemas.js';
import { appsForOs, findOs, resolveApp } from '../../catalog/load.js';
import type { Catalogs, OsEntry } from '../../catalog/schema.js';
import { schemaFor } from '../../config/schema-for.js';
import type { Diagnostic } from '../../diagnostics.js';
import { ERROR_CODES, VmgenError, type ErrorCode } from '../../errors.js';
import { packagePath } from '../../package-root.js';
import { findTarget } from '../../targets/registry.js';
import { readRequestFiles, type RequestFiles } from '../request-files.js';
import { inlineChecker, type ConfigChecker } from '../validation/checker.js';
import type { ConfigEdit } from './edit.js';
import { presetsFor, presetText } from './presets.js';
import type { OfferedApp } from './shared-types.js';

export type { OfferedApp } from './shared-types.js';
export { parseConfigText, type ParsedConfig } from './parse.js';

/**
 * The web page (GET / and /assets/*, public) and the config endpoints it uses (/api/config/*,
 * behind the app's token check like every /api/ route). The endpoints run the CLI's own code on
 * the text: loadConfig for diagnostics, the vmgctl editor for changes, so the page shows the
 * CLI's exact messages and writes what `vmgen set` would.
 */
export interface WebPluginOptions {
  catalogs: Catalogs;
  /** The built page (index.html, style.css, js/); defaults to dist/web of this checkout or package. */
  assetsDir?: string;
  /** Reads the texts the page sends; the service passes its worker threads, the default reads inline. */
  checker?: ConfigChecker;
  /** Body limit of the routes that take the files a config names (the app's default applies when unset). */
  filesBodyLimit?: number;
}

export const DEFAULT_ASSETS_DIR = `${packagePath('dist/web')}/`;

const SECURITY_HEADERS = {
  // Everything is served from here; nothing inline, so an injected tag in a config value cannot run.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The text's own shape: which keys are sections, lists or plain strings; /api/schema says what they mean. */
export function configTextSchema(catalogs: Catalogs): Record<string, unknown> {
  return { ...z.toJSONSchema(schemaFor(catalogs), { io: 'input', unrepresentable: 'any' }), title: 'vmgen config text' };
}

/** Every catalog app with whether this OS can install it, and why not: the form offers only the first kind. */
export function appOffer(catalogs: Catalogs, os: OsEntry): OfferedApp[] {
  const available = new Set(appsForOs(catalogs, os).map((a) => a.name));
  return catalogs.apps.map((app) => {
    const head = { name: app.name, category: app.category, description: app.description };
    if (available.has(app.name)) return { ...head, available: true };
    const r = resolveApp(catalogs, app.name, os);
    return { ...head, available: false, ...(r.ok ? {} : { reason: r.reason, ...(r.hint ? { hint: r.hint } : {}) }) };
  });
}

function sendError(reply: FastifyReply, code: ErrorCode, message: string, extra: { hint?: string; diagnostics?: Diagnostic[] } = {}): FastifyReply {
  const { hint, diagnostics } = extra;
  return reply.code(ERROR_CODES[code].http).send({ error: { code, message, ...(hint ? { hint } : {}) }, ...(diagnostics ? { diagnostics } : {}) });
}

function parsed<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new VmgenError('VMG_USAGE', `bad request: ${where}${issue.message}`);
}

export const webPlugin: FastifyPluginAsync<WebPluginOptions> = async (app, opts) => {
  const catalogs = opts.catalogs;
  const assets = opts.assetsDir ?? DEFAULT_ASSETS_DIR;
  const checker = opts.checker ?? inlineChecker(catalogs);
  const textSchema = configTextSchema(catalogs);

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof VmgenError) {
      return sendError(reply, err.code, err.message, { ...(err.hint ? { hint: err.hint } : {}), ...(err.diagnostics ? { diagnostics: err.diagnostics.items } : {}) });
    }
    throw err;
  });

  const page = async (reply: FastifyReply): Promise<FastifyReply> => {
    let html: string;
    try {
      html = await readFile(`${assets}/index.html`, 'utf8');
    } catch {
      return sendError(reply.headers(SECURITY_HEADERS), 'VMG_NOT_FOUND', 'the web page is not built', { hint: 'run npm run build' });
    }
    return reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8').send(html);
  };
  app.get('/', (_req, reply) => page(reply));

  await app.register(fastifyStatic, {
    root: assets,
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    wildcard: true,
    cacheControl: true,
    maxAge: 0,
    // Never serve what is not part of the page (source maps name the build machine's paths).
    allowedPath: (pathname) => /\.(?:js|css|svg|ico)$/.test(pathname),
    setHeaders: (reply) => {
      reply.headers(SECURITY_HEADERS);
    },
  });

  app.get('/api/config/text-schema', async () => textSchema);

  const who = (req: FastifyRequest): string | undefined => req.user?.id;
  // The page sends the files it keeps with every text, so a `source` is checked as the CLI checks it.
  const withFiles = (body: { files?: unknown }): { files?: RequestFiles } => {
    const files = readRequestFiles(body.files);
    return files ? { files } : {};
  };
  const routeOptions = opts.filesBodyLimit === undefined ? {} : { bodyLimit: opts.filesBodyLimit };
  app.post('/api/config/parse', routeOptions, async (req) => {
    const body = parsed(ParseBody, req.body);
    return checker.check({ kind: 'parse', text: body.text, ...(body.target ? { target: body.target } : {}), ...withFiles(body) }, who(req));
  });

  const edit = (req: FastifyRequest, body: { text: string; target?: string | undefined; files?: unknown }, edits: ConfigEdit[]) =>
    checker.check({ kind: 'edit', text: body.text, edits, ...(body.target ? { target: body.target } : {}), ...withFiles(body) }, who(req));
  app.post('/api/config/edit', routeOptions, async (req) => {
    const body = parsed(EditBody, req.body);
    return edit(req, body, body.edits);
  });
  app.post('/api/config/set', routeOptions, async (req) => {
    const body = parsed(SetBody, req.body);
    return edit(req, body, [{ path: body.path, value: body.value }]);
  });
  app.post('/api/config/unset', routeOptions, async (req) => {
    const body = parsed(UnsetBody, req.body);
    return edit(req, body, [{ path: body.path, unset: true }]);
  });

  // The machines a new config starts from, each as this target's kind needs it (a VM's disk, no disk for a container).
  app.get('/api/config/presets', async (req): Promise<PresetsBody> => {
    const kind = findTarget(parsed(PresetsQuery, req.query).target)!.kind;
    return { presets: presetsFor(kind).map((p) => ({ id: p.id, label: p.label, summary: p.summary, text: presetText(p, kind) })) };
  });

  app.get('/api/config/apps', async (req) => {
    const query = parsed(AppsQuery, req.query);
    const os = findOs(catalogs, query.os);
    if (!os) throw new VmgenError('VMG_NOT_FOUND', `unknown OS id '${query.os}'`, { hint: 'GET /api/catalog lists the OS ids' });
    return { os: { id: os.id, label: os.label, family: os.family }, apps: appOffer(catalogs, os) };
  });
};
