// How a row reads back in the report: pure, so workflows (which keep the refused rows) can import it.
import type { CallColumn } from './csv';
import type { CallImportRow, InvalidCallRow } from './types';

/** The template's six fields of a normalized row, as the failed-rows CSV writes them back. */
export function fieldsOf(row: CallImportRow): Record<CallColumn, string> {
  return {
    "Caller's Phone Number": row.callerId,
    'Call Start Time': row.callStartDateTime,
    'Conversion Name': row.conversionName,
    'Conversion Time': row.conversionDateTime,
    'Conversion Value': row.conversionValue === undefined ? '' : String(row.conversionValue),
    'Conversion Currency': row.currencyCode,
  };
}

/** One line per problem, for the api's 400 and the CLI. */
export function describeProblems(invalid: InvalidCallRow): string {
  return invalid.problems.map((p) => `${p.column} ${p.reason}`).join('; ');
}
