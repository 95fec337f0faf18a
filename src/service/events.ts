import type { BuildRow, LogLine } from './db.js';

/**
 * Per-build fan-out of changes to the clients following a build (SSE). Publishing happens in the
 * same tick as the database write, and a subscriber reads its snapshot in the same tick it
 * subscribes, so a follower neither misses nor repeats an event.
 */
export type BuildEvent =
  | { kind: 'update'; build: BuildRow }
  | { kind: 'log'; lines: LogLine[] }
  /** The server is shutting down: followers end their streams so it can close. */
  | { kind: 'close' };

type Listener = (e: BuildEvent) => void;

export class BuildEvents {
  private readonly listeners = new Map<string, Set<Listener>>();

  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  publish(id: string, e: BuildEvent): void {
    const set = this.listeners.get(id);
    if (!set) return;
    // A listener may unsubscribe while being called; iterate over a copy.
    for (const l of [...set]) {
      try {
        l(e);
      } catch {
        // One broken follower (a socket that died mid-write) must not stop the others.
        set.delete(l);
      }
    }
  }

  /** Followers of one build, for tests and metrics. */
  count(id?: string): number {
    if (id !== undefined) return this.listeners.get(id)?.size ?? 0;
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  closeAll(): void {
    for (const id of [...this.listeners.keys()]) this.publish(id, { kind: 'close' });
    this.listeners.clear();
  }
}
