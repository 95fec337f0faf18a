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

/**
 * One step. What it returns joins the state the later steps read, so a step's output is typed
 * where it is made (see StepList) instead of being an optional field read back with `!`. A step
 * that may be skipped returns only optional fields.
 */
export interface Step<S, O extends object | void = void> {
  name: string;
  /** The host tools the step runs; a build checks all of them before its first step. */
  tools?: readonly string[];
  /** Decided when the plan was made: the step has nothing to do in this build, and is reported as skipped. */
  skip?: boolean;
  /** Whether the step has anything to do, decided from the state; a skipped step is reported as such. */
  applies?(state: S): boolean;
  run(ctx: StepContext<S>): O | Promise<O>;
}

type Output<O> = O extends object ? O : unknown;

/**
 * Steps in order, the state type growing by each step's output: `then` accepts only a step whose
 * input the earlier steps (and the initial state I) provide.
 */
export class StepList<I, S = I> {
  private constructor(readonly steps: readonly Step<never, object | void>[]) {}

  static start<I>(): StepList<I> {
    return new StepList<I>([]);
  }

  then<O extends object | void>(step: Step<S, O>): StepList<I, S & Output<O>> {
    return new StepList<I, S & Output<O>>([...this.steps, step as Step<never, O>]);
  }

  /** Runs the steps from `initial`; resolves to the state all of them made. */
  async run(initial: I, opts: RunOptions = {}): Promise<S> {
    const state = { ...initial } as Record<string, unknown>;
    await runPipeline(this.steps as readonly Step<Record<string, unknown>, object | void>[], state, opts);
    return state as S;
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  onEvent?: (e: StepEvent) => void;
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

export async function runPipeline<S>(steps: readonly Step<S, object | void>[], state: S, opts: RunOptions = {}): Promise<void> {
  const signal = opts.signal ?? new AbortController().signal;
  const emit = opts.onEvent ?? (() => {});
  const cleanups: Array<{ step: string; fn: () => void | Promise<void> }> = [];
  try {
    for (const [index, step] of steps.entries()) {
      if (signal.aborted) throw new CancelledError(signal.reason);
      if (step.skip === true || (step.applies && !step.applies(state))) {
        emit({ kind: 'skip', step: step.name, index, total: steps.length });
        continue;
      }
      emit({ kind: 'start', step: step.name, index, total: steps.length });
      const started = Date.now();
      const output = await step.run({
        state, signal,
        defer: (fn) => cleanups.push({ step: step.name, fn }),
        progress: (fraction) => emit({ kind: 'progress', step: step.name, fraction }),
      });
      if (output) Object.assign(state as object, output);
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
