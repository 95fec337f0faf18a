// Whether other work on the host weighed on a pair, and what to do then: a pair (a vmgen run and
// its baseline run, side by side) measured under load is run again, up to LOAD_RETRIES more times;
// if the host stays busy, the last try is kept and marked, so that a figure is never silently
// taken from a loaded machine. Pure given its readings (the ones from /proc are in bench-proc.ts),
// so its tests feed it made-up loads.

/**
 * Other work, in runnable tasks, above which a pair counts as measured under load: more than one
 * core's worth on this project's 2-core machines leaves the pair less than one core of its own.
 */
export const LOAD_LIMIT = 1.0;
/** How many times a loaded pair is run again before it is kept, marked. */
export const LOAD_RETRIES = 2;

/** The host at one moment. */
export interface LoadPoint {
  /** The kernel's 1-minute load average, as /proc/loadavg gives it (the bench's own work included). */
  avg1: number;
  /** Runnable tasks that are not the bench's or its children's. */
  others: number;
}

/** The host around and during one pair. */
export interface PairLoad {
  before: LoadPoint;
  after: LoadPoint;
  /** `others` over every reading from before to after (the two ends included). */
  others: { mean: number; max: number; samples: number };
}

/**
 * The decision rests on the other work's runnable tasks, averaged over the pair, and not on the
 * 1-minute load average: that average still carries the bench's own previous pair for a minute
 * (two cores busy with a build read as a load near 2), and it lags behind a load that has just
 * started or stopped. It is recorded beside, for the reader.
 */
export function underLoad(load: PairLoad, limit: number = LOAD_LIMIT): boolean {
  return load.others.mean > limit;
}

/** Summarises readings taken from a pair's start to its end. */
export function pairLoad(points: readonly LoadPoint[]): PairLoad {
  if (points.length === 0) throw new Error('a pair\'s load needs at least one reading');
  const others = points.map((p) => p.others);
  return {
    before: points[0]!,
    after: points[points.length - 1]!,
    others: { mean: others.reduce((a, b) => a + b, 0) / others.length, max: Math.max(...others), samples: others.length },
  };
}

/** Readings taken while one try of a pair runs. */
export interface LoadWatch {
  stop(): Promise<PairLoad>;
}

export interface MeasureDeps {
  /** Starts reading the host's load; the try runs until its stop(). */
  watch: () => Promise<LoadWatch>;
  retries?: number;
  limit?: number;
  /** Before a loaded pair is run again: a chance to wait for the other work to pass. */
  calm?: () => Promise<void>;
  /** Told of each loaded try, with whether it is run again. */
  onLoaded?: (load: PairLoad, tryNumber: number, again: boolean) => void;
}

export interface Measured<T> {
  value: T;
  load: PairLoad;
  loaded: boolean;
  /** Tries made, the kept one included. */
  tries: number;
  /** The loads of the tries that were run again. */
  discarded: PairLoad[];
}

export async function measurePair<T>(pair: () => Promise<T>, deps: MeasureDeps): Promise<Measured<T>> {
  const retries = deps.retries ?? LOAD_RETRIES;
  const discarded: PairLoad[] = [];
  for (let tryNumber = 1; ; tryNumber++) {
    const watch = await deps.watch();
    let value: T;
    try {
      value = await pair();
    } catch (err) {
      // A failed try still stops its readings: their timer would keep the process alive.
      await watch.stop();
      throw err;
    }
    const load = await watch.stop();
    const loaded = underLoad(load, deps.limit);
    const again = loaded && tryNumber <= retries;
    if (loaded) deps.onLoaded?.(load, tryNumber, again);
    if (!again) return { value, load, loaded, tries: tryNumber, discarded };
    discarded.push(load);
    await deps.calm?.();
  }
}

/** What the parts call: runs one pair under watch (see measurePair), `label` naming it in notes. */
export type Measure = <T>(label: string, pair: () => Promise<T>) => Promise<Measured<T>>;
