// Google's call-conversion import template as CSV: an optional `Parameters:TimeZone=…` line, a header row, then
// one call per row. RFC 4180 quoting (commas, quotes and line breaks inside quotes), a byte-order mark and
// CRLF line ends are all what spreadsheets write. Pure: text in, rows out, every problem with its line.

export const CALL_COLUMNS = [
  "Caller's Phone Number",
  'Call Start Time',
  'Conversion Name',
  'Conversion Time',
  'Conversion Value',
  'Conversion Currency',
] as const;
export type CallColumn = (typeof CALL_COLUMNS)[number];
const REQUIRED_COLUMNS: readonly CallColumn[] = CALL_COLUMNS.slice(0, 4);

/** One call as the file (or the api's JSON) spells it: text per column, before any validation. */
export interface RawCallRow {
  /** Line of the file where the row starts (1-based); for JSON, the position in the list (1-based). */
  row: number;
  fields: Record<CallColumn, string>;
}

export interface CsvProblem {
  line: number;
  column?: CallColumn | '(file)';
  message: string;
}

export interface ParsedCallFile {
  /** `Parameters:TimeZone=` of the file, as written. */
  timeZone?: string;
  rows: RawCallRow[];
  /** Problems of the file as a whole (no header, missing columns): nothing is usable then. */
  problems: CsvProblem[];
  /** Columns the template does not have; ignored. */
  ignoredColumns: string[];
}

interface Record_ {
  line: number;
  fields: string[];
}

/** RFC 4180 records with the line each starts on. An unterminated quote is a problem of its record. */
export function parseCsvRecords(text: string): { records: Record_[]; problems: CsvProblem[] } {
  const records: Record_[] = [];
  const problems: CsvProblem[] = [];
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let i = 0;
  let line = 1;
  while (i < s.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let endOfRecord = false;
    while (i < s.length && !endOfRecord) {
      const c = s[i] as string;
      if (quoted) {
        if (c === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i += 1;
          }
        } else {
          if (c === '\n') line += 1;
          field += c;
          i += 1;
        }
        continue;
      }
      if (c === '"' && field.trim() === '') {
        quoted = true;
        field = '';
        i += 1;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        i += 1;
      } else if (c === '\r' || c === '\n') {
        i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
        line += 1;
        endOfRecord = true;
      } else {
        field += c;
        i += 1;
      }
    }
    if (quoted) problems.push({ line: start, message: 'a quoted field is never closed' });
    fields.push(field);
    // Blank lines (and lines of empty cells, as spreadsheets pad them) carry no call.
    if (fields.some((f) => f.trim() !== '')) records.push({ line: start, fields });
  }
  return { records, problems };
}

const canonical = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\u2018\u2019`']/g, '')
    .replace(/\s+/g, ' ');
const COLUMN_BY_NAME = new Map<string, CallColumn>(CALL_COLUMNS.map((c) => [canonical(c), c]));

export function columnOf(name: string): CallColumn | undefined {
  return COLUMN_BY_NAME.get(canonical(name));
}

const emptyFields = (): Record<CallColumn, string> =>
  Object.fromEntries(CALL_COLUMNS.map((c) => [c, ''])) as Record<CallColumn, string>;

export function parseCallCsv(text: string): ParsedCallFile {
  const { records, problems } = parseCsvRecords(text);
  let rest = records;
  let timeZone: string | undefined;
  const first = rest[0];
  if (first && /^\s*parameters\s*:/i.test(first.fields[0] ?? '')) {
    // Spreadsheets pad the line with empty cells; `Parameters:TimeZone=X;Other=Y` is the template's form.
    const params = first.fields.filter((f) => f.trim() !== '').join(';');
    for (const pair of params.replace(/^\s*parameters\s*:/i, '').split(/[;,]/)) {
      const [key, ...value] = pair.split('=');
      if (key?.trim().toLowerCase() === 'timezone') timeZone = value.join('=').trim();
    }
    if (timeZone === undefined || timeZone === '') {
      problems.push({ line: first.line, column: '(file)', message: 'the Parameters line names no TimeZone' });
    }
    rest = rest.slice(1);
  }
  const header = rest[0];
  if (!header) {
    return {
      ...(timeZone ? { timeZone } : {}),
      rows: [],
      problems: [...problems, { line: 1, column: '(file)', message: 'no header row' }],
      ignoredColumns: [],
    };
  }
  const positions = header.fields.map((name) => columnOf(name));
  const twice = CALL_COLUMNS.filter((c) => positions.filter((p) => p === c).length > 1);
  if (twice.length > 0) {
    problems.push({
      line: header.line,
      column: '(file)',
      message: `the header has ${twice.map((c) => `"${c}"`).join(', ')} more than once`,
    });
    return { ...(timeZone ? { timeZone } : {}), rows: [], problems, ignoredColumns: [] };
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !positions.includes(c));
  const ignoredColumns = header.fields.filter((name, i) => positions[i] === undefined && name.trim() !== '');
  if (missing.length > 0) {
    problems.push({
      line: header.line,
      column: '(file)',
      message: `the header lacks ${missing.map((c) => `"${c}"`).join(', ')} (columns: ${CALL_COLUMNS.join(', ')})`,
    });
    return { ...(timeZone ? { timeZone } : {}), rows: [], problems, ignoredColumns };
  }
  const rows = rest.slice(1).map((r): RawCallRow => {
    const fields = emptyFields();
    positions.forEach((column, i) => {
      if (column) fields[column] = r.fields[i] ?? '';
    });
    return { row: r.line, fields };
  });
  return { ...(timeZone ? { timeZone } : {}), rows, problems, ignoredColumns };
}

/** One field of the template's CSV, quoted when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(values: readonly string[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
