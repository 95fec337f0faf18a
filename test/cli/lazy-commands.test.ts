import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { buildProgram, commandOf } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/io.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const silentIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: ROOT };

describe('commands load only when run', () => {
  it('each entry of the table registers exactly the command its name says', async () => {
    for (const entry of COMMANDS) {
      const program = new Command('probe');
      (await entry.load())(program, silentIo, () => {});
      assert.deepEqual(program.commands.map((c) => c.name()), [entry.name], `the entry named ${entry.name}`);
    }
  });

  it('a run names its command: that one alone is registered; help, completion and unknown words get every command', async () => {
    assert.equal(commandOf(['validate', 'x.conf']), 'validate');
    assert.equal(commandOf(['lab', 'up', 'x.conf']), 'lab');
    for (const argv of [[], ['--help'], ['help', 'build'], ['completion', 'bash'], ['biuld']]) assert.equal(commandOf(argv), undefined, argv.join(' '));
    const one = await buildProgram('vmgen', silentIo, () => {}, 'validate');
    assert.deepEqual(one.commands.map((c) => c.name()), ['validate']);
    const all = await buildProgram('vmgen', silentIo);
    assert.deepEqual(all.commands.map((c) => c.name()), [...COMMANDS.map((c) => c.name), 'completion']);
  });

  it('vmgen validate loads neither the service, the queue, the S3 client nor the builders', () => {
    // The modules a process has loaded, as node's own loader resolves them.
    const probe = [
      "import { register } from 'node:module';",
      "register('data:text/javascript,' + encodeURIComponent(\"export async function resolve(s, c, n) { const r = await n(s, c); process.stderr.write('LOADED ' + r.url + '\\\\n'); return r; }\"));",
      `const { main } = await import(${JSON.stringify(`${ROOT}src/cli/main.ts`)});`,
      `process.exitCode = await main('vmgen', ['validate', ${JSON.stringify(`${ROOT}examples/debian-web.conf`)}]);`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length));
    assert.ok(loaded.some((u) => u.includes('/src/validate/')), `the validator was loaded (${loaded.length} modules seen)`);
    const unwanted = loaded.filter((u) => /\/src\/(service|orchestrator|lab\/run)\/|node_modules\/(bullmq|ioredis|fastify|@aws-sdk|better-sqlite3|pino)\//.test(u));
    assert.deepEqual([...new Set(unwanted)], []);
  });
});
