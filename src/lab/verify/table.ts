import type { LabCheckResult } from './run.js';

/** Counts of a verify run; skipped checks are neither passed nor failed. */
export function summarize(results: readonly LabCheckResult[]): { total: number; failed: number; skipped: number } {
  const run = results.filter((r) => r.status !== 'skip');
  return { total: run.length, failed: run.filter((r) => r.status === 'FAIL').length, skipped: results.length - run.length };
}

export function summaryLine(results: readonly LabCheckResult[]): string {
  const { total, failed, skipped } = summarize(results);
  const checks = `${total} check${total === 1 ? '' : 's'}`;
  const skip = skipped === 0 ? '' : ` (${skipped} skipped)`;
  return failed === 0 ? `all ${checks} passed${skip}` : `${failed} of ${checks} failed${skip}`;
}

/** The results as aligned columns (machine, peer, check, result, detail), then the summary line. */
export function formatLabTable(results: readonly LabCheckResult[]): string {
  const rows = [['MACHINE', 'PEER', 'CHECK', 'RESULT', 'DETAIL'], ...results.map((r) => [r.machine, r.peer, r.check, r.status, r.detail])];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  return `${[...lines, summaryLine(results)].join('\n')}\n`;
}
