import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { show } from '../helpers/assert-values.js';
import { StepReporter } from '../../src/cli/progress.js';

const CLEAR = '\r\x1b[2K';

/** A stream that records each write. */
function fakeStream(opts: { isTTY?: boolean; columns?: number } = {}) {
  const writes: string[] = [];
  return { writes, write: (s: string) => writes.push(s), text: () => writes.join(''), ...opts };
}

describe('StepReporter, plain (logs and pipes)', () => {
  it('prints one line per step event', () => {
    const out = fakeStream();
    const r = new StepReporter(out, false);
    r.onEvent({ kind: 'skip', step: 'fetch layer', index: 0, total: 3 });
    r.onEvent({ kind: 'start', step: 'configure', index: 1, total: 3 });
    r.onEvent({ kind: 'done', step: 'configure', index: 1, total: 3, ms: 1234 });
    r.onEvent({ kind: 'cleanup-failed', step: 'mount', error: new Error('umount: target is busy') });
    r.onEvent({ kind: 'cleanup-failed', step: 'mount', error: 'gone' });
    r.finish();
    assert.equal(out.text(), [
      '[1/3] fetch layer: skipped',
      '[2/3] configure',
      '[2/3] configure: done in 1.2 s',
      'cleanup of mount failed: umount: target is busy',
      'cleanup of mount failed: gone',
      '',
    ].join('\n'));
    assert.doesNotMatch(out.text(), /\r/);
  });

  it('prints progress at most once per 10%, never going back', () => {
    const out = fakeStream();
    const r = new StepReporter(out, false);
    r.onEvent({ kind: 'start', step: 'pack', index: 0, total: 1 });
    for (const fraction of [0, 0.02, 0.09, 0.1, 0.15, 0.19, 0.5, 0.45, 0.51, 0.99, 1]) r.onEvent({ kind: 'progress', step: 'pack', fraction });
    assert.deepEqual(out.writes, ['[1/1] pack\n', '    0%\n', '    10%\n', '    50%\n', '    90%\n', '    100%\n']);
  });

  it('starts counting again for the next step', () => {
    const out = fakeStream();
    const r = new StepReporter(out, false);
    r.onEvent({ kind: 'start', step: 'a', index: 0, total: 2 });
    r.onEvent({ kind: 'progress', step: 'a', fraction: 0.6 });
    r.onEvent({ kind: 'done', step: 'a', index: 0, total: 2, ms: 50 });
    r.onEvent({ kind: 'start', step: 'b', index: 1, total: 2 });
    r.onEvent({ kind: 'progress', step: 'b', fraction: 0.3 });
    assert.deepEqual(out.writes, ['[1/2] a\n', '    60%\n', '[1/2] a: done in 0.1 s\n', '[2/2] b\n', '    30%\n']);
  });

  it('ignores progress outside a step and prints details and lines as they come', () => {
    const out = fakeStream();
    const r = new StepReporter(out, false);
    r.onEvent({ kind: 'progress', step: 'x', fraction: 0.5 });
    r.detail('Unpacking libc6 ...');
    r.line('cache hit: base layer');
    assert.deepEqual(out.writes, ['    Unpacking libc6 ...\n', 'cache hit: base layer\n']);
  });

  it("follows the stream's isTTY when not told", () => {
    const out = fakeStream({ isTTY: false });
    new StepReporter(out).onEvent({ kind: 'start', step: 's', index: 0, total: 1 });
    assert.deepEqual(out.writes, ['[1/1] s\n']);
    const tty = fakeStream({ isTTY: true });
    new StepReporter(tty).onEvent({ kind: 'start', step: 's', index: 0, total: 1 });
    assert.ok(tty.writes[0]!.startsWith(CLEAR), `first write ${show(tty.writes[0])}`);
  });
});

describe('StepReporter, on a terminal', () => {
  it('redraws the running step in place with a bar', () => {
    const out = fakeStream({ columns: 80 });
    const r = new StepReporter(out, true);
    r.onEvent({ kind: 'start', step: 'install packages', index: 1, total: 4 });
    r.onEvent({ kind: 'progress', step: 'install packages', fraction: 0.5 });
    r.onEvent({ kind: 'progress', step: 'install packages', fraction: 1 });
    assert.equal(out.writes.length, 3);
    assert.match(out.writes[0]!, /^\r\x1b\[2K\[2\/4\] install packages \[-{24}\] \d+s $/);
    assert.match(out.writes[1]!, /^\r\x1b\[2K\[2\/4\] install packages \[#{12}-{12}\] \d+s $/);
    assert.match(out.writes[2]!, /^\r\x1b\[2K\[2\/4\] install packages \[#{24}\] \d+s $/);
    assert.ok(!out.text().includes('\n'), 'redraws end no line');
  });

  it('shows details on the bar, cut to the terminal width', () => {
    const out = fakeStream({ columns: 60 });
    const r = new StepReporter(out, true);
    r.onEvent({ kind: 'start', step: 'bootstrap', index: 0, total: 2 });
    r.detail(`Retrieving ${'x'.repeat(100)}`);
    const last = out.writes.at(-1)!;
    assert.match(last, /^\r\x1b\[2K\[1\/2\] bootstrap \[-{24}\] \d+s Retrieving x+$/);
    assert.equal(last.length - CLEAR.length, 60 - 1);
  });

  it('clears the bar before a permanent line, then draws it again', () => {
    const out = fakeStream();
    const r = new StepReporter(out, true);
    r.onEvent({ kind: 'start', step: 'bootstrap', index: 0, total: 2 });
    out.writes.length = 0;
    r.line('cache hit: base layer');
    assert.equal(out.writes[0], CLEAR);
    assert.equal(out.writes[1], 'cache hit: base layer\n');
    assert.match(out.writes[2]!, /^\r\x1b\[2K\[1\/2\] bootstrap \[/);
    assert.equal(out.writes.length, 3);
  });

  it('clears the bar before the done line and draws nothing after it', () => {
    const out = fakeStream();
    const r = new StepReporter(out, true);
    r.onEvent({ kind: 'start', step: 'bootstrap', index: 0, total: 2 });
    out.writes.length = 0;
    r.onEvent({ kind: 'done', step: 'bootstrap', index: 0, total: 2, ms: 61_250 });
    r.line('warning: something');
    r.onEvent({ kind: 'skip', step: 'pack', index: 1, total: 2 });
    r.finish();
    assert.deepEqual(out.writes, [
      CLEAR, '[1/2] bootstrap: done in 61.3 s\n',
      CLEAR, 'warning: something\n',
      CLEAR, '[2/2] pack: skipped\n',
      CLEAR,
    ]);
  });

  it('prints details as lines when no step runs', () => {
    const out = fakeStream();
    new StepReporter(out, true).detail('between steps');
    assert.deepEqual(out.writes, ['    between steps\n']);
  });
});
