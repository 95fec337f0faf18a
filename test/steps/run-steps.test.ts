import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, runPipeline, type Step, type StepEvent } from '../../src/steps/run-steps.js';

interface State { log: string[]; wantDisks: boolean }

const step = (name: string, extra: Partial<Step<State>> = {}): Step<State> => ({
  name,
  run: ({ state, defer }) => {
    state.log.push(`run ${name}`);
    defer(() => void state.log.push(`undo ${name}`));
  },
  ...extra,
});

test('steps run in order and their cleanups in reverse order', async () => {
  const state: State = { log: [], wantDisks: true };
  await runPipeline([step('hardware'), step('partitions'), step('os')], state);
  assert.deepEqual(state.log, ['run hardware', 'run partitions', 'run os', 'undo os', 'undo partitions', 'undo hardware']);
});

test('a failing step stops the build, and what ran before is cleaned up', async () => {
  const state: State = { log: [], wantDisks: true };
  const failing = step('configure', { run: ({ state: s }) => { s.log.push('run configure'); throw new Error('boom'); } });
  await assert.rejects(runPipeline([step('os'), failing, step('install')], state), /boom/);
  assert.deepEqual(state.log, ['run os', 'run configure', 'undo os']);
});

test('cancellation is checked between steps', async () => {
  const state: State = { log: [], wantDisks: true };
  const ac = new AbortController();
  const cancelling = step('start', { run: ({ state: s, defer }) => { s.log.push('run start'); defer(() => void s.log.push('undo start')); ac.abort('user'); } });
  await assert.rejects(runPipeline([step('os'), cancelling, step('install')], state, { signal: ac.signal }), CancelledError);
  assert.deepEqual(state.log, ['run os', 'run start', 'undo start', 'undo os']);
});

test('steps that do not apply are skipped and reported; a failing cleanup does not stop the others', async () => {
  const state: State = { log: [], wantDisks: false };
  const events: StepEvent[] = [];
  const badCleanup = step('mount', { run: ({ defer }) => defer(() => { throw new Error('busy'); }) });
  await runPipeline([step('os'), step('partitions', { applies: (s) => s.wantDisks }), badCleanup], state, { onEvent: (e) => events.push(e) });
  assert.deepEqual(state.log, ['run os', 'undo os']);
  assert.deepEqual(events.map((e) => `${e.kind} ${e.step}`), ['start os', 'done os', 'skip partitions', 'start mount', 'done mount', 'cleanup-failed mount']);
});
