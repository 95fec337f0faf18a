import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from '../../src/service/api/openapi.js';
import { openApiPath } from '../../src/service/api/openapi.js';

/**
 * Checks real answers of the service against its OpenAPI description: the status must be one the
 * operation lists, the content type the one it names, and a JSON body must match its schema (JSON
 * Schema 2020-12, references into the document's components resolved). Returns the problems, so a
 * test can show a drifted answer being refused as well as a real one being accepted.
 */
export interface ApiAnswer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

const DOC_ID = 'https://vmgen.invalid/openapi.json';

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDocument) {
    addFormats.default(this.ajv);
    // The document is the root its `#/components/schemas/…` references resolve in; `components`,
    // `paths` and the rest are not keywords, so they are declared as such to keep strict mode.
    for (const k of ['openapi', 'info', 'paths', 'components', 'jsonSchemaDialect']) this.ajv.addKeyword(k);
    this.ajv.addSchema({ ...doc, $id: DOC_ID } as object);
  }

  operation(method: string, url: string) {
    const op = this.doc.paths[openApiPath(url)]?.[method.toLowerCase()];
    if (!op) throw new Error(`the description has no ${method} ${openApiPath(url)}`);
    return op;
  }

  private validator(pointer: string): ValidateFunction {
    let v = this.compiled.get(pointer);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      this.compiled.set(pointer, v);
    }
    return v;
  }

  /** Problems of a JSON value against the schema at a JSON pointer into the document. */
  private problems(pointer: string, value: unknown): string[] {
    const v = this.validator(pointer);
    return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  /** Problems of a value against the schema at a JSON pointer into the document (`/components/schemas/X`). */
  checkValue(pointer: string, value: unknown): string[] {
    return this.problems(pointer, value);
  }

  /** What is wrong with a request body that a route should accept, by its description. */
  checkRequest(method: string, url: string, body: unknown): string[] {
    const op = this.operation(method, url);
    if (!op.requestBody) return body === undefined ? [] : ['the description takes no request body'];
    const path = openApiPath(url).replace(/~/g, '~0').replace(/\//g, '~1');
    return this.problems(`/paths/${path}/${method.toLowerCase()}/requestBody/content/application~1json/schema`, body);
  }

  /** What is wrong with an answer of route METHOD URL (as fastify names it), by its description. */
  checkResponse(method: string, url: string, res: ApiAnswer): string[] {
    const op = this.operation(method, url);
    const status = String(res.statusCode);
    const documented = op.responses[status];
    if (!documented) return [`${method} ${url} answered ${status}, which its description does not list (${Object.keys(op.responses).join(', ')})`];
    const content = documented.content ?? {};
    const media = Object.keys(content);
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (media.length === 0) return res.body === '' ? [] : [`${status} has no body in the description, but one came: ${res.body.slice(0, 100)}`];
    // HEAD answers carry the GET's headers and no body.
    if (method === 'HEAD') return media.some((m) => m === type || m === '*/*') ? [] : [`content type ${type}, described: ${media.join(', ')}`];
    if (!media.some((m) => m === type || m === '*/*')) return [`${status}: content type ${type || '(none)'}, described: ${media.join(', ')}`];
    if (type !== 'application/json') return [];
    let value: unknown;
    try {
      value = JSON.parse(res.body);
    } catch {
      return [`${status}: the body is not JSON: ${res.body.slice(0, 100)}`];
    }
    const path = openApiPath(url).replace(/~/g, '~0').replace(/\//g, '~1');
    const headers = Object.keys(documented.headers ?? {}).filter((h) => res.headers[h] === undefined).map((h) => `${status}: no ${h} header`);
    return [...headers, ...this.problems(`/paths/${path}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`, value)];
  }
}

/** Compiles every component schema, so a schema strict JSON Schema 2020-12 refuses fails here. */
export function compileComponents(checker: OpenApiChecker): string[] {
  return Object.keys(checker.doc.components.schemas).filter((name) => {
    checker.checkValue(`/components/schemas/${name}`, null);
    return true;
  });
}
