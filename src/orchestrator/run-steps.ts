/**
 * A build is a flat list of typed steps, run in order (the seed's Listing 2.10 made explicit).
 * Between steps the runner checks for cancellation; every step that ran may leave a cleanup, and
 * the cleanups run in reverse order whatever happened, so a failed or cancelled build leaves no
 * mounts, processes or half-written files behind.
 */
export interface StepContext<S> {
  state: S;
  signal: AbortSignal;
  /** Registers an undo action; it runs even if a later step fails. */
  defer(cleanup: () => void | Promise<void>): void;
  progress(fraction: number): void;
}

export interface Step<S> {
  name: string;
  /** Whether the step has anything to do for this build; a skipped step is reported as such. */
  applies?(state: S): boolean;
  run(ctx: StepContext<S>): void | Promise<void>;
}

export type StepEvent =
  | { kind: 'start'; step: string; index: number; total: number }
  | { kind: 'progress'; step: string; fraction: number }
  | { kind: 'skip'; step: string; index: number; total: number }
  | { kind: 'done'; step: string; index: number; total: number; ms: number }
  | { kind: 'cleanup-failed'; step: string; error: unknown };

export class CancelledError extends Error {
  constructor(reason?: unknown) {
    super(`cancelled${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`);
    this.name = 'CancelledError';
  }
}

export async function runPipeline<S>(
  steps: readonly Step<S>[], state: S, opts: { signal?: AbortSignal; onEvent?: (e: StepEvent) => void } = {},
): Promise<void> {
  const signal = opts.signal ?? new AbortController().signal;
  const emit = opts.onEvent ?? (() => {});
  const cleanups: Array<{ step: string; fn: () => void | Promise<void> }> = [];
  try {
    for (const [index, step] of steps.entries()) {
      if (signal.aborted) throw new CancelledError(signal.reason);
      if (step.applies && !step.applies(state)) {
        emit({ kind: 'skip', step: step.name, index, total: steps.length });
        continue;
      }
      emit({ kind: 'start', step: step.name, index, total: steps.length });
      const started = Date.now();
      await step.run({
        state, signal,
        defer: (fn) => cleanups.push({ step: step.name, fn }),
        progress: (fraction) => emit({ kind: 'progress', step: step.name, fraction }),
      });
      emit({ kind: 'done', step: step.name, index, total: steps.length, ms: Date.now() - started });
    }
    if (signal.aborted) throw new CancelledError(signal.reason);
  } finally {
    for (const { step, fn } of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        emit({ kind: 'cleanup-failed', step, error });
      }
    }
  }
}
