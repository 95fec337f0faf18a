import type { DownloadLink } from '../../src/service/web/shared-types.js';
import type { Diagnostic } from './model.js';
import { SseParser, type SseEvent } from './sse.js';

/** A failed API call, with the service's error code and, for a config, its diagnostics. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly diagnostics?: Diagnostic[],
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; hint?: string };
  diagnostics?: Diagnostic[];
  message?: string;
}

/** Calls to the service with the signed-in token; a 401 signs the page out. */
export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    if (res.ok) return res;
    let parsed: ErrorBody = {};
    try {
      parsed = (await res.json()) as ErrorBody;
    } catch {
      // not JSON: the status says enough
    }
    if (res.status === 401) this.onUnauthorized();
    throw new ApiError(res.status, parsed.error?.code ?? `HTTP_${res.status}`, parsed.error?.message ?? parsed.message ?? res.statusText, parsed.error?.hint, parsed.diagnostics);
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async text(path: string): Promise<string> {
    return (await this.request('GET', path)).text();
  }

  /**
   * A short-lived link to a build's archive that needs no token header, so the browser's own
   * download manager can fetch it (resumable, never held in the page's memory).
   */
  async downloadLink(id: string): Promise<DownloadLink> {
    return this.json<DownloadLink>('POST', `/api/builds/${encodeURIComponent(id)}/download-link`);
  }

  /**
   * Server-sent events from a GET, until the server ends the stream or `signal` aborts. `lastId`
   * resumes after the last event seen, as EventSource would on a reconnect.
   */
  async *events(path: string, signal: AbortSignal, lastId?: string): AsyncGenerator<SseEvent> {
    const res = await this.request('GET', path, undefined, signal, lastId === undefined ? {} : { 'last-event-id': lastId });
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield* parser.push(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
}
