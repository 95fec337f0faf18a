import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './cli.js';

/** Whether validate accepted the config, and if so what render said when it failed. */
export async function validateThenRender(target: string, text: string, scratch: string, n: number): Promise<{ accepted: boolean; failure?: string }> {
  const file = join(scratch, `m${n}.conf`);
  writeFileSync(file, text);
  const v = await run('vmgen', ['validate', file, '--target', target]);
  if (v.code !== 0) {
    assert.equal(v.code, 1, `validate exits 0 or 1, not ${v.code}: ${v.stderr}`);
    return { accepted: false };
  }
  const out = join(scratch, `out${n}`);
  const r = await run('vmgen', ['render', file, '-t', target, '-o', out]);
  rmSync(out, { recursive: true, force: true });
  return r.code === 0 ? { accepted: true } : { accepted: true, failure: `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
}

