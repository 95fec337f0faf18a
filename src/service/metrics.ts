import { BUILD_STATES, type BuildState } from './types.js';

/**
 * Prometheus text exposition (version 0.0.4), written by hand: counters and histograms kept here,
 * gauges (builds by state) read from the job table at scrape time so they survive restarts.
 */
export const DURATION_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600] as const;
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (v <= b) this.counts[i]!++;
    });
  }
  lines(name: string, labels: string): string[] {
    const sep = labels ? `${labels},` : '';
    return [
      ...this.buckets.map((b, i) => `${name}_bucket{${sep}le="${b}"} ${this.counts[i]}`),
      `${name}_bucket{${sep}le="+Inf"} ${this.count}`,
      `${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`,
      `${name}_count${labels ? `{${labels}}` : ''} ${this.count}`,
    ];
  }
}

/** A label value in the exposition format: backslash, quote and newline escaped. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface Gauges {
  builds: Record<BuildState, number>;
  /** Builds waiting for a slot (the job table's queued builds). */
  queueLength: number;
  followers: number;
}

export class Metrics {
  private readonly http = new Map<string, number>();
  private readonly httpDuration = new Histogram(HTTP_BUCKETS);
  private readonly durations = new Map<BuildState, Histogram>();
  private readonly finished = new Map<BuildState, number>();

  /** `route` is the route's pattern (/api/builds/:id), never the raw URL: ids would explode the label set. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${labelValue(method)}",route="${labelValue(route)}",status="${status}"`;
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
    this.httpDuration.observe(seconds);
  }

  buildFinished(state: BuildState, seconds: number | undefined): void {
    this.finished.set(state, (this.finished.get(state) ?? 0) + 1);
    if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return;
    let h = this.durations.get(state);
    if (!h) this.durations.set(state, (h = new Histogram(DURATION_BUCKETS)));
    h.observe(seconds);
  }

  render(g: Gauges): string {
    const out: string[] = [];
    out.push('# HELP vmgen_builds Builds in the job table, by state.', '# TYPE vmgen_builds gauge');
    for (const s of BUILD_STATES) out.push(`vmgen_builds{state="${s}"} ${g.builds[s]}`);
    out.push('# HELP vmgen_queue_length Builds waiting for a build slot.', '# TYPE vmgen_queue_length gauge', `vmgen_queue_length ${g.queueLength}`);
    out.push('# HELP vmgen_event_followers Open event streams.', '# TYPE vmgen_event_followers gauge', `vmgen_event_followers ${g.followers}`);
    out.push('# HELP vmgen_builds_finished_total Builds that ended since the server started, by final state.', '# TYPE vmgen_builds_finished_total counter');
    for (const s of BUILD_STATES) if (this.finished.has(s)) out.push(`vmgen_builds_finished_total{state="${s}"} ${this.finished.get(s)}`);
    out.push('# HELP vmgen_build_duration_seconds From start to end of builds that ran, by final state.', '# TYPE vmgen_build_duration_seconds histogram');
    for (const [s, h] of this.durations) out.push(...h.lines('vmgen_build_duration_seconds', `state="${s}"`));
    out.push('# HELP vmgen_http_requests_total HTTP requests, by method, route and status.', '# TYPE vmgen_http_requests_total counter');
    for (const [k, n] of this.http) out.push(`vmgen_http_requests_total{${k}} ${n}`);
    out.push('# HELP vmgen_http_request_duration_seconds Time to answer HTTP requests.', '# TYPE vmgen_http_request_duration_seconds histogram');
    out.push(...this.httpDuration.lines('vmgen_http_request_duration_seconds', ''));
    return `${out.join('\n')}\n`;
  }
}
