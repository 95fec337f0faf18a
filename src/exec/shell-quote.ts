/**
 * Words for a POSIX shell, for commands vmgen shows a person to type (the run commands of a built
 * archive); vmgen itself never runs a shell (src/exec spawns argument arrays).
 */

// Nothing here is special to sh, bash or zsh anywhere in a word after the first.
const PLAIN = /^[A-Za-z0-9_./:@%+=,-]+$/;

/**
 * One argument as the shell reads it back unchanged: plain words as they are, anything else in
 * single quotes (a quote inside becomes '\''). A leading `~/` stays outside the quotes, so that a
 * place under the home directory is one the shell expands.
 */
export function shellWord(word: string): string {
  if (word.startsWith('~/')) return word.length === 2 ? '~/' : `~/${shellWord(word.slice(2))}`;
  if (PLAIN.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A command line from its words. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}
