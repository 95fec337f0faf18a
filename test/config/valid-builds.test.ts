import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BUILDABLE_TARGET_IDS } from '../../src/targets/commanders.js';
import { machineConfig, machineText } from '../helpers/arbitraries.js';
import { validateThenRender } from '../helpers/valid-builds.js';

/**
 * Valid means it builds: for every generated machine that `vmgen validate --target T` accepts,
 * `vmgen render -t T` (everything a build generates, in-process) succeeds. Seeded, so a failure
 * is reproduced by its seed; VMGEN_PROPERTY_SEED and VMGEN_PROPERTY_RUNS override.
 */
const RUNS = Number(process.env.VMGEN_PROPERTY_RUNS ?? 300);
const SEED = Number(process.env.VMGEN_PROPERTY_SEED ?? 1313);

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'vmgen-valid-builds-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

describe('every config validate --target accepts renders for that target', () => {
  BUILDABLE_TARGET_IDS.forEach((target, t) => {
    it(target, async () => {
      let n = 0;
      let accepted = 0;
      await fc.assert(fc.asyncProperty(machineConfig, async (m) => {
        const text = machineText(m);
        const r = await validateThenRender(target, text, dir, n++);
        if (r.accepted) accepted++;
        assert.equal(r.failure, undefined, `validate --target ${target} accepted this config, but render failed (${r.failure}):\n${text}`);
      }), { numRuns: RUNS, seed: SEED + t });
      // A generator that makes nothing valid would test nothing.
      assert.ok(accepted > RUNS / 20, `only ${accepted} of ${RUNS} generated configs validate for ${target}`);
    });
  });
});
