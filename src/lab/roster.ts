import type { Diagnostic } from '../diagnostics.js';

/*
 * A roster: a CSV file (RFC 4180: a header row, fields separated by commas, a field with a comma,
 * a quote or a line break between double quotes, "" for a quote inside) with one row per copy of
 * a [machines] entry. A hand parser because the format is this small and no dependency of
 * vmgen's reads it; problems are diagnostics at their line and column in the CSV file.
 */

export interface Roster {
  columns: string[];
  /** One map per data row, column name → field. */
  rows: Array<ReadonlyMap<string, string>>;
  /** 1-based file line of each data row, for messages. */
  rowLines: number[];
}

export type RosterResult = { roster: Roster; diagnostics: Diagnostic[] } | { roster?: undefined; diagnostics: Diagnostic[] };

/** Rows of a CSV file: more than any class needs, few enough that a wrong file fails fast. */
export const MAX_ROSTER_ROWS = 10_000;

const COLUMN = /^[A-Za-z0-9_-]+$/;

interface Record_ {
  fields: string[];
  line: number;
  /** 1-based column where each field starts. */
  columns: number[];
}

function error(line: number, column: number, code: string, message: string, hint: string): Diagnostic {
  return { code, severity: 'error', line, column, message, hint };
}

/** The records of a CSV text, or the first syntax error. */
function records(text: string): { records: Record_[] } | { error: Diagnostic } {
  const out: Record_[] = [];
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < body.length) {
    const rec: Record_ = { fields: [], line, columns: [] };
    for (;;) {
      rec.columns.push(i - lineStart + 1);
      let field = '';
      if (body[i] === '"') {
        const openLine = line;
        const openColumn = i - lineStart + 1;
        i++;
        for (;;) {
          if (i >= body.length) return { error: error(openLine, openColumn, 'LAB_ROSTER_SYNTAX', 'a quoted field is never closed', 'close the field with "; write "" for a quote inside it') };
          const ch = body[i]!;
          if (ch === '"' && body[i + 1] === '"') {
            field += '"';
            i += 2;
          } else if (ch === '"') {
            i++;
            break;
          } else {
            if (ch === '\n') {
              line++;
              lineStart = i + 1;
            }
            field += ch;
            i++;
          }
        }
        if (i < body.length && body[i] !== ',' && body[i] !== '\n' && body[i] !== '\r') {
          return { error: error(line, i - lineStart + 1, 'LAB_ROSTER_SYNTAX', 'text after a quoted field', 'a quoted field ends at a comma or the end of the line; write "" for a quote inside it') };
        }
      } else {
        while (i < body.length && body[i] !== ',' && body[i] !== '\n' && body[i] !== '\r') {
          if (body[i] === '"') return { error: error(line, i - lineStart + 1, 'LAB_ROSTER_SYNTAX', 'a quote inside an unquoted field', 'quote the whole field: "a ""b"" c"') };
          field += body[i];
          i++;
        }
      }
      rec.fields.push(field);
      if (body[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (body[i] === '\r') i++;
    if (body[i] === '\n') i++;
    line++;
    lineStart = i;
    // A blank line is no record (a trailing newline, or a blank line between rows).
    if (!(rec.fields.length === 1 && rec.fields[0] === '')) out.push(rec);
    if (out.length > MAX_ROSTER_ROWS + 1) {
      return { error: error(rec.line, 1, 'LAB_ROSTER_SIZE', `more than ${MAX_ROSTER_ROWS} rows`, 'a roster has one row per machine of the lab') };
    }
  }
  return { records: out };
}

export function parseRoster(text: string): RosterResult {
  const parsed = records(text);
  if ('error' in parsed) return { diagnostics: [parsed.error] };
  const [header, ...data] = parsed.records;
  if (!header) return { diagnostics: [error(1, 1, 'LAB_ROSTER_EMPTY', 'the roster is empty', 'the first row names the columns: user,password')] };
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  header.fields.forEach((name, k) => {
    const column = header.columns[k]!;
    if (!COLUMN.test(name)) diagnostics.push(error(header.line, column, 'LAB_ROSTER_COLUMN', `column name '${name}' is not a name`, 'the header row names each column with letters, digits, _ and -'));
    else if (seen.has(name)) diagnostics.push(error(header.line, column, 'LAB_ROSTER_COLUMN', `column '${name}' is named twice`, 'give every column its own name'));
    seen.add(name);
  });
  for (const rec of data) {
    if (rec.fields.length !== header.fields.length) {
      diagnostics.push(error(rec.line, 1, 'LAB_ROSTER_ROW', `this row has ${rec.fields.length} field${rec.fields.length === 1 ? '' : 's'}, the header ${header.fields.length}`,
        'every row has one field per column; quote a field holding a comma'));
    }
  }
  if (diagnostics.length > 0) return { diagnostics };
  return {
    roster: {
      columns: header.fields,
      rows: data.map((rec) => new Map(header.fields.map((name, k) => [name, rec.fields[k]!]))),
      rowLines: data.map((rec) => rec.line),
    },
    diagnostics,
  };
}
