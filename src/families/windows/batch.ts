import { VmgenError } from '../../errors.js';

/*
 * cmd.exe quoting. Inside double quotes cmd takes & | < > ^ literally, but it still expands %VAR%
 * in a batch file (so % is doubled) and has no way at all to write a " inside a quoted argument,
 * so values holding one are refused rather than mangled. Delayed expansion (!VAR!) is switched off
 * at the top of every script vmgen writes, so ! needs nothing.
 */

/** Why a value cannot be written into a batch file, or undefined when it can. */
export function batchProblem(value: string): string | undefined {
  if (value.includes('"')) return 'a double quote cannot be written inside a quoted cmd.exe argument';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return 'control characters (line breaks, tabs…) would end or corrupt the batch line';
  }
  // The C runtime's argument parser reads \" as an escaped quote, so a trailing backslash would
  // swallow the closing quote in programs that use it.
  if (value.endsWith('\\')) return 'a trailing backslash would escape the closing quote';
  return undefined;
}

/** `value` as one quoted cmd.exe argument inside a .bat file; throws for what cannot be quoted. */
export function batchQuote(value: string, what: string): string {
  const problem = batchProblem(value);
  if (problem !== undefined) {
    throw new VmgenError('VMG_WINDOWS_SCRIPT', `${what} cannot be written into a Windows batch file: ${problem}`);
  }
  return `"${value.replaceAll('%', '%%')}"`;
}

/** The lines joined as a batch file: CRLF line ends, as cmd.exe and Notepad on XP expect. */
export function batchFile(lines: readonly string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The last line of a self-deleting script: `(goto)` makes cmd leave the batch context first, so it
 * does not try to read the next line of a file that no longer exists.
 */
export const SELF_DELETE = '(goto) 2>nul & del "%~f0"';
