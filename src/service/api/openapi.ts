import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../errors.js';
import { BuildIdSchema, errorBodySchema } from './schemas.js';
import * as schemas from './schemas.js';
import { API_ROUTES, type ApiReply, type ApiRoute } from './routes.js';

/*
 * The OpenAPI 3.1 description of the API, made from the route table (routes.ts) and the zod
 * schemas (schemas.ts), nothing written per route by hand. OpenAPI 3.1's schemas are JSON Schema
 * 2020-12, which is what z.toJSONSchema emits: every exported schema of schemas.ts becomes a
 * component, and each operation's own schemas (a list, an error body with the route's codes) are
 * made in the same pass, so their references to components resolve, then moved into the operation.
 */

export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> };
};
export interface OpenApiOperation {
  operationId: string;
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }>; headers?: Record<string, unknown> }>;
  [key: string]: unknown;
}

const COMPONENT_PREFIX = '#/components/schemas/';
/** Ids of the schemas that belong to one operation; they are inlined, not kept as components. */
const INLINE = 'inline:';

/** The errors a route can answer besides its own: the token check, the rate limit, the body parser, a bug. */
export function routeErrors(route: ApiRoute): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.errors);
  if (route.auth === 'token') codes.add('VMG_UNAUTHORIZED');
  if (route.url.startsWith('/api/') || route.auth === 'link') codes.add('VMG_RATE_LIMITED');
  if (route.body) {
    codes.add('VMG_USAGE');
    codes.add('VMG_TOO_LARGE');
  }
  codes.add('VMG_INTERNAL');
  return [...codes];
}

/** The error codes of a route grouped by the HTTP status each is answered with. */
export function errorsByStatus(route: ApiRoute): Map<number, ErrorCode[]> {
  const by = new Map<number, ErrorCode[]>();
  for (const code of routeErrors(route)) {
    const status = ERROR_CODES[code].http;
    by.set(status, [...(by.get(status) ?? []), code]);
  }
  return by;
}

/** `/api/builds/:id` → `/api/builds/{id}`; a trailing `*` is the `{path}` parameter. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}');
}

function pathParams(url: string): string[] {
  return [...openApiPath(url).matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
}

/** The zod schemas exported by schemas.ts, by name: the document's components. */
function componentSchemas(): Map<z.ZodType, string> {
  const named = new Map<z.ZodType, string>();
  for (const [name, value] of Object.entries(schemas)) {
    if (value instanceof z.ZodType && !named.has(value)) named.set(value, name.replace(/Schema$/, ''));
  }
  return named;
}

function replyHeaders(names: readonly string[] | undefined): Record<string, unknown> | undefined {
  if (!names?.length) return undefined;
  return Object.fromEntries(names.map((n) => [n, { schema: { type: 'string' } }]));
}

/**
 * Every schema the operations name, converted in one registry pass (`io` input for request bodies
 * and queries, output for answers), so a schema used twice is one component.
 */
function convert(io: 'input' | 'output', roots: Map<string, z.ZodType>, named: Map<z.ZodType, string>): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of named) registry.add(schema, { id });
  for (const [id, schema] of roots) if (!named.has(schema)) registry.add(schema, { id: `${INLINE}${id}` });
  const out = z.toJSONSchema(registry, { target: 'draft-2020-12', io, unrepresentable: 'any', uri: (id) => `${COMPONENT_PREFIX}${id}` }).schemas;
  for (const s of Object.values(out)) {
    // Each is a schema object inside the document, not a document of its own.
    delete s.$schema;
    delete s.$id;
  }
  return out as Record<string, Record<string, unknown>>;
}

export interface OpenApiOptions {
  version: string;
}

export function openApiDocument(opts: OpenApiOptions, routes: readonly ApiRoute[] = API_ROUTES): OpenApiDocument {
  const named = componentSchemas();
  const inputs = new Map<string, z.ZodType>();
  const outputs = new Map<string, z.ZodType>();
  const key = (r: ApiRoute, part: string): string => `${r.operationId}.${part}`;
  for (const r of routes) {
    if (r.body) inputs.set(key(r, 'body'), r.body.schema);
    if (r.query) inputs.set(key(r, 'query'), r.query);
    for (const [status, reply] of Object.entries(r.replies)) if ('json' in reply) outputs.set(key(r, status), reply.json);
    for (const [status, codes] of errorsByStatus(r)) {
      const diagnostics = codes.includes('VMG_CONFIG_INVALID') ? r.diagnostics : undefined;
      outputs.set(key(r, String(status)), errorBodySchema(codes as [ErrorCode, ...ErrorCode[]], diagnostics));
    }
  }
  const ins = convert('input', inputs, named);
  const outs = convert('output', outputs, named);
  const ref = (schema: z.ZodType): Record<string, unknown> => ({ $ref: `${COMPONENT_PREFIX}${named.get(schema)}` });
  const inline = (all: Record<string, Record<string, unknown>>, id: string, schema: z.ZodType): Record<string, unknown> =>
    named.has(schema) ? ref(schema) : all[`${INLINE}${id}`]!;

  const paths: OpenApiDocument['paths'] = {};
  for (const r of routes) {
    const responses: OpenApiOperation['responses'] = {};
    for (const [status, reply] of Object.entries(r.replies) as Array<[string, ApiReply]>) {
      const headers = 'empty' in reply ? undefined : replyHeaders(reply.headers);
      responses[status] = {
        description: reply.description,
        ...('json' in reply ? { content: { 'application/json': { schema: inline(outs, key(r, status), reply.json) } } } : {}),
        ...('media' in reply ? { content: { [reply.media]: { schema: { type: 'string', ...(reply.media === 'application/octet-stream' ? { format: 'binary' } : {}) } } } } : {}),
        ...(headers ? { headers } : {}),
      };
    }
    for (const [status, codes] of errorsByStatus(r)) {
      responses[String(status)] = {
        description: codes.map((c) => `${c}: ${ERROR_CODES[c].message}`).join('; '),
        content: { 'application/json': { schema: outs[`${INLINE}${key(r, String(status))}`]! } },
      };
    }
    const params = [
      ...pathParams(r.url).map((name) => ({
        name, in: 'path', required: true, schema: name === 'id' ? ref(BuildIdSchema) : { type: 'string' },
      })),
      ...(r.query ? queryParams(inline(ins, key(r, 'query'), r.query)) : []),
    ];
    const operation: OpenApiOperation = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      security: r.auth === 'token' ? [{ bearerToken: [] }] : [],
      ...(r.auth === 'link' ? { description: 'No token: the link\'s `expires` and `sig` (HMAC-SHA256 over the build, its owner and the expiry) are the permission.' } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: r.body.required, content: { 'application/json': { schema: inline(ins, key(r, 'body'), r.body.schema) } } } } : {}),
      responses,
    };
    const path = (paths[openApiPath(r.url)] ??= {});
    path[r.method.toLowerCase()] = operation;
    if (r.head) path.head = { ...operation, operationId: `${r.operationId}Head`, summary: `${r.summary} (headers only)` };
  }

  const components = Object.fromEntries(Object.entries({ ...ins, ...outs }).filter(([id]) => !id.startsWith(INLINE)));
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'vmgen service',
      version: opts.version,
      description: 'Builds machines from vmgen configs. Every error is `{"error": {"code", "message", "hint"?}}` with the HTTP status of its code.',
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'An API token: `vmgen token create NAME` prints one (43 characters of base64url).' },
      },
    },
  };
}

/** A query object's properties as OpenAPI query parameters. */
function queryParams(schema: Record<string, unknown>): Array<Record<string, unknown>> {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, in: 'query', required: required.has(name), schema: s }));
}
