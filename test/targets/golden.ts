import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Expected generator output lives in test/golden/; UPDATE_GOLDEN=1 rewrites it from the current output. */
const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));

export function assertGolden(relPath: string, actual: string): void {
  const file = join(GOLDEN_DIR, relPath);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `no golden file test/golden/${relPath}: run the test with UPDATE_GOLDEN=1 and review the new file`);
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from test/golden/${relPath} (UPDATE_GOLDEN=1 rewrites it)`);
}
