import { z } from 'zod';
import type { ErrorCode } from '../../errors.js';
import {
  AppsOfferSchema, AppsQuery, DiagnosticSchema, BuildAcceptedSchema, BuildDetailSchema, BuildViewSchema, CatalogSchema, DownloadLinkBody, DownloadLinkSchema,
  EditBody, EditedConfigSchema, HealthSchema, JsonSchemaObject, LabAcceptedSchema, LabDiagnosticSchema, LabListQuery, LabViewSchema, LinkQuery,
  ListQuery, MeSchema, ParseBody, ParsedConfigSchema, PresetsQuery, PresetsSchema, SetBody, SubmitBuildBody, SubmitLabBody, TargetInfoSchema, UnsetBody,
} from './schemas.js';

/*
 * The one table of the HTTP API's routes: what each takes and answers, and who may call it. The
 * OpenAPI description (openapi.ts) and its docs page are made from it, the app's token check asks
 * it which /api/ routes are public, and test/service/openapi.test.ts calls every row and fails when
 * a route answers what its row does not say, or fastify has a route the table lacks.
 */

/** token: `Authorization: Bearer TOKEN`; public: anyone; link: a signed download link in the query. */
export type RouteAuth = 'token' | 'public' | 'link';

export type ApiReply =
  | { description: string; json: z.ZodType; headers?: readonly string[] }
  | { description: string; media: string; headers?: readonly string[] }
  | { description: string; empty: true };

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** As fastify has it: `:id` parameters, `*` a trailing wildcard. */
  url: string;
  /** A GET that also answers HEAD with the same headers and no body. */
  head?: boolean;
  operationId: string;
  summary: string;
  tag: 'builds' | 'labs' | 'config' | 'info' | 'operations' | 'page';
  auth: RouteAuth;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean };
  /** The answers that are not errors, by status. */
  replies: Readonly<Record<number, ApiReply>>;
  /** The route's own error codes; each is answered with the status src/errors.ts gives it. */
  errors: readonly ErrorCode[];
  /** The diagnostics a 422 VMG_CONFIG_INVALID carries, when it carries any. */
  diagnostics?: z.ZodType;
}

const ARCHIVE: Record<number, ApiReply> = {
  200: { description: 'the archive', media: 'application/octet-stream', headers: ['content-disposition', 'x-checksum-sha256', 'digest', 'repr-digest', 'etag'] },
  206: { description: 'one byte range of it (a `Range: bytes=…` request)', media: 'application/octet-stream', headers: ['content-range'] },
};
const ARCHIVE_ERRORS: readonly ErrorCode[] = ['VMG_NOT_FOUND', 'VMG_RANGE'];
/** Every route that reads a config text: it is read in a worker thread under a budget. */
const CONFIG_READ: readonly ErrorCode[] = ['VMG_USAGE', 'VMG_TOO_LARGE', 'VMG_CONFIG_TOO_COMPLEX', 'VMG_BUSY'];
const HTML = 'text/html';

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'POST', url: '/api/builds', operationId: 'submitBuild', tag: 'builds', auth: 'token',
    summary: 'Check a config as `vmgen validate --target` does and queue its build',
    body: { schema: SubmitBuildBody, required: true },
    replies: { 202: { description: 'queued; Location names the build', json: BuildAcceptedSchema, headers: ['location'] } },
    errors: [...CONFIG_READ, 'VMG_CONFIG_INVALID', 'VMG_QUEUE_FULL', 'VMG_QUEUE'],
    diagnostics: DiagnosticSchema,
  },
  {
    method: 'GET', url: '/api/builds', operationId: 'listBuilds', tag: 'builds', auth: 'token', summary: 'The caller\'s builds, newest first',
    query: ListQuery, replies: { 200: { description: 'builds', json: z.array(BuildViewSchema) } }, errors: ['VMG_USAGE'],
  },
  {
    method: 'GET', url: '/api/builds/:id', operationId: 'getBuild', tag: 'builds', auth: 'token', summary: 'One build, with its config',
    replies: { 200: { description: 'the build', json: BuildDetailSchema } }, errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'DELETE', url: '/api/builds/:id', operationId: 'deleteBuild', tag: 'builds', auth: 'token',
    summary: 'Cancel a build that has not ended; delete one that has, with its artifact',
    replies: {
      200: { description: 'cancelled: the build once it has wound down', json: BuildViewSchema },
      202: { description: 'cancelling: it takes longer than 10 s to wind down', json: BuildViewSchema },
      204: { description: 'deleted', empty: true },
    },
    errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/api/builds/:id/log', operationId: 'getBuildLog', tag: 'builds', auth: 'token', summary: 'The build\'s log',
    replies: { 200: { description: 'one line per log line', media: 'text/plain' } }, errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/api/builds/:id/events', operationId: 'followBuild', tag: 'builds', auth: 'token',
    summary: 'Server-sent events: `update` (the build, as in lists) and `log` (a line, its number as the event id; send Last-Event-ID to resume)',
    replies: { 200: { description: 'the stream; it ends after a final state', media: 'text/event-stream' } }, errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/api/builds/:id/artifact', head: true, operationId: 'getArtifact', tag: 'builds', auth: 'token',
    summary: 'The archive of a build that succeeded', replies: ARCHIVE, errors: ARCHIVE_ERRORS,
  },
  {
    method: 'POST', url: '/api/builds/:id/download-link', operationId: 'makeDownloadLink', tag: 'builds', auth: 'token',
    summary: 'A signed link to the archive that needs no token, for a browser\'s download manager',
    body: { schema: DownloadLinkBody, required: false },
    replies: { 200: { description: 'the link', json: DownloadLinkSchema } }, errors: ['VMG_USAGE', 'VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/download/:id', head: true, operationId: 'download', tag: 'builds', auth: 'link',
    summary: 'The archive behind a download link; an altered link, or one for another build, is 404', query: LinkQuery,
    replies: ARCHIVE, errors: ARCHIVE_ERRORS,
  },
  {
    method: 'POST', url: '/api/labs', operationId: 'submitLab', tag: 'labs', auth: 'token',
    summary: 'Check a lab as `vmgen lab validate --target` does and queue a build per machine',
    body: { schema: SubmitLabBody, required: true },
    replies: { 202: { description: 'queued; Location names the lab', json: LabAcceptedSchema, headers: ['location'] } },
    errors: [...CONFIG_READ, 'VMG_CONFIG_INVALID', 'VMG_QUEUE_FULL', 'VMG_QUEUE'], diagnostics: LabDiagnosticSchema,
  },
  {
    method: 'GET', url: '/api/labs', operationId: 'listLabs', tag: 'labs', auth: 'token', summary: 'The caller\'s labs',
    query: LabListQuery, replies: { 200: { description: 'labs', json: z.array(LabViewSchema) } }, errors: [],
  },
  {
    method: 'GET', url: '/api/labs/:id', operationId: 'getLab', tag: 'labs', auth: 'token', summary: 'One lab, its state derived from its jobs',
    replies: { 200: { description: 'the lab', json: LabViewSchema } }, errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'DELETE', url: '/api/labs/:id', operationId: 'deleteLab', tag: 'labs', auth: 'token',
    summary: 'Cancel a lab that has not ended (every job of it); delete one that has, with its jobs and archive',
    replies: { 200: { description: 'cancelled', json: LabViewSchema }, 204: { description: 'deleted', empty: true } }, errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/api/labs/:id/archive', head: true, operationId: 'getLabArchive', tag: 'labs', auth: 'token',
    summary: 'The lab\'s archive, once every machine and the assembly succeeded', replies: ARCHIVE, errors: ARCHIVE_ERRORS,
  },
  {
    method: 'GET', url: '/api/catalog', operationId: 'getCatalog', tag: 'info', auth: 'token', summary: 'The OS table and the application catalog',
    replies: { 200: { description: 'the catalog', json: CatalogSchema } }, errors: [],
  },
  {
    method: 'GET', url: '/api/schema', operationId: 'getConfigSchema', tag: 'info', auth: 'token', summary: 'The config\'s JSON Schema',
    replies: { 200: { description: 'JSON Schema 2020-12', json: JsonSchemaObject } }, errors: [],
  },
  {
    method: 'GET', url: '/api/targets', operationId: 'listTargets', tag: 'info', auth: 'token', summary: 'The targets this server builds, with their formats',
    replies: { 200: { description: 'targets', json: z.array(TargetInfoSchema) } }, errors: [],
  },
  {
    method: 'GET', url: '/api/me', operationId: 'whoAmI', tag: 'info', auth: 'token', summary: 'Who the caller is, and what this server takes from them',
    replies: { 200: { description: 'the caller', json: MeSchema } }, errors: [],
  },
  {
    method: 'GET', url: '/api/config/text-schema', operationId: 'getTextSchema', tag: 'config', auth: 'token',
    summary: 'The config text\'s own shape (sections, lists, strings), for the page\'s editor',
    replies: { 200: { description: 'JSON Schema 2020-12', json: JsonSchemaObject } }, errors: [],
  },
  {
    method: 'POST', url: '/api/config/parse', operationId: 'parseConfig', tag: 'config', auth: 'token',
    summary: 'A config text\'s tree and diagnostics, each with the key path it is about', body: { schema: ParseBody, required: true },
    replies: { 200: { description: 'the parse', json: ParsedConfigSchema } }, errors: CONFIG_READ,
  },
  ...([
    ['edit', EditBody, 'Apply `set`/`unset` edits to a config text in place, as vmgctl does (comments and layout stay)'],
    ['set', SetBody, 'Set one key in a config text, as `vmgctl set` does'],
    ['unset', UnsetBody, 'Remove one key from a config text, as `vmgctl unset` does'],
  ] as const).map(([verb, schema, summary]): ApiRoute => ({
    method: 'POST', url: `/api/config/${verb}`, operationId: `${verb}Config`, tag: 'config', auth: 'token', summary,
    body: { schema, required: true },
    replies: { 200: { description: 'the text after the edits, parsed', json: EditedConfigSchema } },
    // A text that does not parse cannot be edited: 422 with the parser's diagnostics.
    errors: [...CONFIG_READ, 'VMG_KEY_PATH', 'VMG_CONFIG_INVALID'],
    diagnostics: ParsedConfigSchema.shape.diagnostics.element,
  })),
  {
    method: 'GET', url: '/api/config/apps', operationId: 'appsForOs', tag: 'config', auth: 'token', summary: 'Every catalog app, and whether this OS can install it',
    query: AppsQuery, replies: { 200: { description: 'the offer', json: AppsOfferSchema } }, errors: ['VMG_USAGE', 'VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/api/config/presets', operationId: 'presetsForTarget', tag: 'config', auth: 'token', summary: 'The machines a new config can start from, for one target',
    query: PresetsQuery, replies: { 200: { description: 'the presets', json: PresetsSchema } }, errors: ['VMG_USAGE'],
  },
  {
    method: 'GET', url: '/api/openapi.json', operationId: 'getOpenApi', tag: 'info', auth: 'public', summary: 'This description (OpenAPI 3.1)',
    replies: { 200: { description: 'the OpenAPI document', json: JsonSchemaObject } }, errors: [],
  },
  {
    method: 'GET', url: '/api/docs', operationId: 'getApiDocs', tag: 'info', auth: 'public', summary: 'This description as a page',
    replies: { 200: { description: 'an HTML page', media: HTML } }, errors: [],
  },
  {
    method: 'GET', url: '/healthz', operationId: 'health', tag: 'operations', auth: 'public', summary: 'Health, for load balancers',
    replies: { 200: { description: 'the database answers', json: HealthSchema }, 503: { description: 'it does not', json: HealthSchema } }, errors: [],
  },
  {
    method: 'GET', url: '/metrics', operationId: 'metrics', tag: 'operations', auth: 'public',
    summary: 'Prometheus text: builds by state, queue length, build durations, HTTP requests',
    replies: { 200: { description: 'Prometheus exposition format 0.0.4', media: 'text/plain' } }, errors: [],
  },
  {
    method: 'GET', url: '/', operationId: 'webPage', tag: 'page', auth: 'public', summary: 'The web page that writes a config and follows builds',
    replies: { 200: { description: 'the page', media: HTML } }, errors: ['VMG_NOT_FOUND'],
  },
  {
    method: 'GET', url: '/assets/*', head: true, operationId: 'webAsset', tag: 'page', auth: 'public', summary: 'The page\'s scripts and style sheet',
    replies: { 200: { description: 'a file of the page', media: '*/*' } }, errors: ['VMG_NOT_FOUND'],
  },
];

/** Whether a route (as fastify names it: method and URL pattern) is one anybody may call. */
export function isPublicRoute(method: string, url: string | undefined): boolean {
  const m = method === 'HEAD' ? 'GET' : method;
  return API_ROUTES.some((r) => r.url === url && r.method === m && r.auth !== 'token');
}
