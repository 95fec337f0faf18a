import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/exec/run.js';
import { shellLine, shellWord } from '../../src/exec/shell-quote.js';

/** What bash makes of a line: each word it passes to printf, NUL-terminated. */
async function wordsBashReads(line: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const r = await run(['bash', '--noprofile', '--norc', '-c', `printf '%s\\0' ${line}`], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellWord: words shown for a POSIX shell', () => {
  it('leaves plain words as they are', () => {
    for (const w of ['web1-lxc.tar.zst', '/var/lib/lxc/web1', '--name=web1', 'vi://root@ESXI-HOST/', 'net.ipv4.ip_forward=1', '192.168.1.0/24']) {
      assert.equal(shellWord(w), w);
    }
  });

  it('quotes what a shell would read otherwise', () => {
    assert.equal(shellWord(''), "''");
    assert.equal(shellWord('*.tar.gz'), "'*.tar.gz'");
    assert.equal(shellWord('a b'), "'a b'");
    assert.equal(shellWord("it's"), "'it'\\''s'");
    assert.equal(shellWord('$(reboot)'), "'$(reboot)'");
  });

  it('keeps a leading ~/ outside the quotes, so the shell expands it', () => {
    assert.equal(shellWord('~/web1'), '~/web1');
    assert.equal(shellWord('~/my vms'), "~/'my vms'");
    assert.equal(shellWord('a~/b'), "'a~/b'");
  });

  const hostile = ['plain', '', ' ', 'a b', "it's", '"double"', '$HOME', '$(touch /tmp/vmgen-pwned)', '`id`', 'a;b', 'a|b', 'a&b', '*', '?', '[a]',
    '{a,b}', '!x', '#not-a-comment', 'tab\there', 'new\nline', '\\', "'", "''", 'ü ß', '-n', '~user', '=x', 'a=b'];

  it('bash reads every word back unchanged, whatever it holds', async () => {
    assert.deepEqual(await wordsBashReads(shellLine(hostile)), hostile);
  });

  describe('~/ expands to the home directory in bash', () => {
    const home = mkdtempSync(join(tmpdir(), 'vmgen-home '));
    after(() => rmSync(home, { recursive: true, force: true }));
    it('with plain and quoted rests', async () => {
      assert.deepEqual(await wordsBashReads(shellLine(['~/web1', "~/it's here"]), { HOME: home }), [`${home}/web1`, `${home}/it's here`]);
    });
  });
});
