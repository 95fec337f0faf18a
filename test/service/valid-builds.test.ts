import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BUILDABLE_TARGET_IDS } from '../../src/targets/commanders.js';
import { machineConfig, machineText } from '../helpers/arbitraries.js';
import { validateThenRender } from '../helpers/valid-builds.js';
import { testService, type TestService } from './fakes.js';

/**
 * The API decides up front: a config it takes (202) is one `vmgen validate --target` accepts and
 * `vmgen render` renders; any other is 422 with the diagnostics, never 202 and a failure later.
 * The same generator as test/config/valid-builds.test.ts, fewer runs (each is a request).
 */
const RUNS = Number(process.env.VMGEN_PROPERTY_API_RUNS ?? 60);
const SEED = Number(process.env.VMGEN_PROPERTY_SEED ?? 1313);

let svc: TestService;
let scratch: string;
before(async () => {
  svc = await testService({ limits: { rateLimitPerMinute: 1_000_000, maxQueuedPerUser: 1_000_000 } });
  scratch = mkdtempSync(join(tmpdir(), 'vmgen-api-valid-'));
});
after(async () => {
  await svc.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('POST /api/builds accepts exactly the configs that build for the target', () => {
  BUILDABLE_TARGET_IDS.forEach((target, t) => {
    it(target, async () => {
      let n = 0;
      const seen = { 202: 0, 422: 0 };
      await fc.assert(fc.asyncProperty(machineConfig, async (m) => {
        const text = machineText(m);
        const r = await svc.app.inject({ method: 'POST', url: '/api/builds', headers: svc.auth('alice'), payload: { config: text, target } });
        assert.ok(r.statusCode === 202 || r.statusCode === 422, `202 or 422, not ${r.statusCode}: ${r.body}`);
        seen[r.statusCode as 202 | 422]++;
        const cli = await validateThenRender(target, text, scratch, n++);
        if (r.statusCode === 202) {
          assert.ok(cli.accepted, `the API took a config validate --target ${target} refuses:\n${text}`);
          assert.equal(cli.failure, undefined, `the API took a config that does not render for ${target}:\n${text}`);
        } else {
          assert.equal(cli.accepted, false, `the API refused a config validate --target ${target} accepts: ${r.body}\n${text}`);
          assert.ok(Array.isArray(r.json().diagnostics) && r.json().diagnostics.length > 0, `422 carries the diagnostics: ${r.body}`);
        }
      }), { numRuns: RUNS, seed: SEED + t });
      assert.ok(seen[202] > 0 && seen[422] > 0, `both answers were exercised: ${JSON.stringify(seen)}`);
    });
  });
});
