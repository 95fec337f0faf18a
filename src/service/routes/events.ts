import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import type { BuildRow, LogLine } from '../db.js';
import { isFinalState } from '../types.js';
import type { BuildEvent } from '../events.js';
import { buildView, userOf, visibleBuild } from './common.js';

/** A comment line every so often keeps proxies and load balancers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** One SSE event; a value with newlines becomes several data lines, which the client joins back. */
export function sseEvent(event: string, data: string, id?: number): string {
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('');
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines}\n`;
}

/**
 * GET /api/builds/:id/events: server-sent events. First the build as it is (`update`) and its log
 * so far (`log`, one event per line, the line's sequence number as the event id, so a client that
 * reconnects with Last-Event-ID gets only what it missed), then changes as they happen; the stream
 * ends after the update that carries a final state.
 */
export function eventRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db, events } = deps;
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;

  app.get<{ Params: { id: string } }>('/api/builds/:id/events', async (req, reply) => {
    const row = visibleBuild((id) => db.getBuild(id), req, req.params.id);
    const user = userOf(req);
    const lastHeader = req.headers['last-event-id'];
    const last = typeof lastHeader === 'string' && /^\d{1,15}$/.test(lastHeader) ? Number(lastHeader) : 0;

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let open = true;
    const write = (s: string): void => {
      if (open) res.write(s);
    };
    const sendUpdate = (b: BuildRow): void => write(sseEvent('update', JSON.stringify(buildView(b, user))));
    const sendLog = (lines: LogLine[]): void => {
      for (const l of lines) if (l.seq > last) write(sseEvent('log', l.line, l.seq));
    };

    // Snapshot and subscription in one tick: the executor's updates arrive between ticks.
    write('retry: 2000\n\n');
    sendLog(db.logLines(row.id, last));
    sendUpdate(row);
    if (isFinalState(row.state)) {
      open = false;
      res.end();
      return;
    }
    let unsubscribe = (): void => {};
    const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs);
    const end = (): void => {
      if (!open) return;
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
      res.end();
    };
    unsubscribe = events.subscribe(row.id, (e: BuildEvent) => {
      if (e.kind === 'log') sendLog(e.lines);
      else if (e.kind === 'update') {
        sendUpdate(e.build);
        if (isFinalState(e.build.state)) end();
      } else end();
    });
    // The response's close, not the request's: a GET's request closes as soon as it has been read.
    res.on('close', end);
    res.on('error', end);
  });
}
