/*
 * Several guest commands in one process: a build's configure step runs a dozen short commands
 * (groupadd, useradd, ssh-keygen, systemctl enable), and starting each in fresh namespaces from a
 * large node process cost more than most of them took. The script is constant; each command comes
 * as its word count followed by its words, all positional parameters, and runs through
 * `eval '"${1}" "${2}"…'`: the text eval reads holds only those references, never a value, so no
 * value is ever parsed as shell code. The first command that fails stops the batch, and the last
 * line on stderr says which one it was.
 */

export const BATCH_SCRIPT = [
  'i=0',
  'while [ "$#" -gt 0 ]; do',
  '  n=$1',
  '  shift',
  '  i=$((i + 1))',
  '  refs=',
  '  k=1',
  '  while [ "$k" -le "$n" ]; do',
  '    refs="$refs \\"\\${$k}\\""',
  '    k=$((k + 1))',
  '  done',
  '  eval "$refs"',
  '  status=$?',
  '  if [ "$status" -ne 0 ]; then',
  '    printf \'\\nvmgen-batch: command %s failed with status %s\\n\' "$i" "$status" >&2',
  '    exit "$status"',
  '  fi',
  '  shift "$n"',
  'done',
].join('\n');

/** `sh -c BATCH_SCRIPT vmgen N1 ARGV1… N2 ARGV2…`: the commands, in order, in one shell. */
export function batchArgv(argvs: ReadonlyArray<readonly string[]>): [string, ...string[]] {
  const words: string[] = [];
  for (const argv of argvs) {
    if (argv.length === 0) throw new Error('empty command in a batch');
    words.push(String(argv.length), ...argv);
  }
  return ['sh', '-c', BATCH_SCRIPT, 'vmgen', ...words];
}

/** Which command of a batch failed (0-based) and the stderr before the batch's own line. */
export function batchFailure(stderr: string): { index: number; stderr: string } | undefined {
  const m = /\nvmgen-batch: command (\d+) failed with status \d+\n?$/.exec(stderr);
  if (!m) return undefined;
  return { index: Number(m[1]) - 1, stderr: stderr.slice(0, m.index) };
}
