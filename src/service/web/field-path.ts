import type { PlaceIndex } from '../../config/normalize.js';

/**
 * The key path a diagnostic is about, read back from its line and column through the places
 * normalize recorded, so the page can show the CLI's message beside the field it concerns.
 * Diagnostics are placed with src/config/diagnose.ts placeOf: at a value, its key, one list item,
 * or (for something missing) the nearest section; this is the inverse of that.
 */
export function fieldPath(places: PlaceIndex, line: number, column: number): string[] | undefined {
  if (line <= 0) return undefined;
  let best: { path: string[]; score: number } | undefined;
  const consider = (path: string[], score: number): void => {
    // Two places can share a position: a container the file never opened stands where its first
    // item is. The longer path is the one the message is about.
    if (!best || score > best.score || (score === best.score && path.length > best.path.length)) best = { path, score };
  };
  for (const [key, place] of places) {
    if (place.line !== line) continue;
    const path = key === '' ? [] : key.split('\u0000');
    const columns = [place.column, place.keyColumn, ...(place.itemColumns ?? [])].filter((c): c is number => c !== undefined);
    if (columns.includes(column)) consider(path, 2);
    // A message placed elsewhere on the line (a parser's own column) is still about this entry.
    else consider(path, 1);
  }
  if (best) return best.path;
  return enclosingSection(places, line);
}

/** The innermost section whose header is at or above `line`: where a line with no entry belongs. */
function enclosingSection(places: PlaceIndex, line: number): string[] | undefined {
  let found: { line: number; path: string[] } | undefined;
  for (const [key, place] of places) {
    if (!place.section || place.line > line) continue;
    const path = key === '' ? [] : key.split('\u0000');
    if (!found || place.line > found.line || (place.line === found.line && path.length > found.path.length)) found = { line: place.line, path };
  }
  return found?.path;
}
