/**
 * Diagnostics are the user-facing face of every config problem: parse errors, schema errors,
 * semantic checks. They carry a stable code so tests, the API and the web form can key on them.
 */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. an unreadable file). */
  line: number;
  /** 1-based column. */
  column: number;
  hint?: string;
  /**
   * The key path it is about, which may name a key the file does not have (a missing value): where
   * the web form shows it. Line and column say where the file says the thing, which for a missing
   * value is the nearest key or section that is there.
   */
  path?: string[];
}

export function formatDiagnostic(file: string, d: Diagnostic): string {
  const where = d.line > 0 ? `${file}:${d.line}:${d.column}` : file;
  const hint = d.hint ? `\n  hint: ${d.hint}` : '';
  return `${where}: ${d.severity}: ${d.message}${hint}`;
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** "a, b or c": how messages and hints list names, so lists derived from a table read as typed ones did. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
