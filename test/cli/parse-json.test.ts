import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { run } from '../helpers/cli.js';

// Compares, in key order, what `vmgen parse FILE --json` prints with ConfigObj's own dict for the file.
const COMPARE = `
import json, sys
from configobj import ConfigObj
ours = json.loads(sys.stdin.read(), object_pairs_hook=lambda pairs: ('obj', pairs))
def conv(v):
    if isinstance(v, dict):
        return ('obj', [(k, conv(x)) for k, x in v.items()])
    return v
theirs = conv(ConfigObj(sys.argv[1], interpolation=False).dict())
def norm(v):
    if isinstance(v, tuple):
        return ('obj', [(k, norm(x)) for k, x in v[1]])
    return v
sys.exit(0 if norm(ours) == theirs else 1)
`;

const hasConfigObj = spawnSync('/usr/bin/python3', ['-c', 'import configobj'], { stdio: 'ignore' }).status === 0;
const files = [
  ...readdirSync('examples').filter((f) => f.endsWith('.conf')).map((f) => `examples/${f}`),
  ...readdirSync('test/fixtures/seed').map((f) => `test/fixtures/seed/${f}`),
];

for (const file of files) {
  test(`vmgen parse --json ${file} equals ConfigObj`, { skip: !hasConfigObj && !process.env.CI && 'python3-configobj is not installed' }, async () => {
    const r = await run('vmgen', ['parse', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const cmp = spawnSync('/usr/bin/python3', ['-c', COMPARE, file], { input: r.stdout, encoding: 'utf8' });
    assert.equal(cmp.status, 0, `differs from ConfigObj:\n${r.stdout}\n${cmp.stderr}`);
  });
}
