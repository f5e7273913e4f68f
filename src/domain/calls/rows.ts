// Validation of one call row: caller number to E.164, both times in the file's (or the config's) zone, the
// conversion after the call and not in the future, value and currency. Rows are never refused for their age:
// the conversion action's own window decides, and Google's EXPIRED_CALL is what the report then shows. Pure.
import { normalizePhone } from '../identifiers/normalize';
import { CALL_COLUMNS, type CallColumn, type RawCallRow } from './csv';
import { formatGoogleAdsTime, parseCallTime, type CallTimeZone } from './times';
import type { CallImportRow, InvalidCallRow, RowProblem } from './types';

export interface RowContext {
  /** For times written without an offset: the file's TimeZone, else the config's. */
  zone: CallTimeZone;
  /** Region for numbers written without +country (the account's country). */
  region: string;
  defaultCurrency: string;
  now: number;
}

const currencies = new Set(Intl.supportedValuesOf('currency'));
const MAX_FIELD_CHARS = 200;
const MAX_NAME_CHARS = 100;

export type RowResult = { ok: true; row: CallImportRow } | { ok: false; invalid: InvalidCallRow };

const clip = (fields: Record<CallColumn, string>): Record<CallColumn, string> =>
  Object.fromEntries(CALL_COLUMNS.map((c) => [c, fields[c].slice(0, MAX_FIELD_CHARS)])) as Record<CallColumn, string>;

// Fixed sentences for the number: the report carries the row, but reasons also reach logs and the api's answer.
function callerId(raw: string, region: string, problems: RowProblem[]): string | undefined {
  const t = raw.trim();
  const column: CallColumn = "Caller's Phone Number";
  if (t === '') {
    problems.push({ column, reason: 'is empty' });
    return undefined;
  }
  const result = normalizePhone(t, { region });
  if (!result.ok || !/^\+[1-9]\d{6,14}$/.test(result.value)) {
    problems.push({
      column,
      reason: t.startsWith('+')
        ? 'is not a phone number in E.164 form (+ country code and number)'
        : `is not a valid phone number of region ${region}; write it with + and the country code`,
    });
    return undefined;
  }
  return result.value;
}

function money(raw: string, problems: RowProblem[]): number | undefined {
  const t = raw.trim();
  if (t === '') return undefined;
  if (!/^\d{1,15}(\.\d{1,6})?$/.test(t)) {
    problems.push({
      column: 'Conversion Value',
      reason: /^-/.test(t)
        ? 'must not be negative'
        : 'is not a number (up to 15 digits with an optional decimal point, no thousands separators or symbols)',
    });
    return undefined;
  }
  return Number(t);
}

export function validateCallRow(raw: RawCallRow, ctx: RowContext): RowResult {
  const f = raw.fields;
  const problems: RowProblem[] = [];
  const caller = callerId(f["Caller's Phone Number"], ctx.region, problems);
  const start = parseCallTime(f['Call Start Time'], ctx.zone);
  if (!start.ok) problems.push({ column: 'Call Start Time', reason: start.reason });
  const conversion = parseCallTime(f['Conversion Time'], ctx.zone);
  if (!conversion.ok) problems.push({ column: 'Conversion Time', reason: conversion.reason });
  if (start.ok && conversion.ok) {
    if (conversion.ms <= start.ms) problems.push({ column: 'Conversion Time', reason: 'is not after the call start' });
    else if (conversion.ms > ctx.now) problems.push({ column: 'Conversion Time', reason: 'is in the future' });
  } else if (start.ok && start.ms > ctx.now) {
    problems.push({ column: 'Call Start Time', reason: 'is in the future' });
  }
  const name = f['Conversion Name'].trim();
  if (name === '') problems.push({ column: 'Conversion Name', reason: 'is empty' });
  else if (name.length > MAX_NAME_CHARS) problems.push({ column: 'Conversion Name', reason: 'is too long' });
  // A name is looked up in GAQL, where a line break or other control character cannot be written.
  else if (/\p{Cc}/u.test(name))
    problems.push({ column: 'Conversion Name', reason: 'contains a line break or control character' });
  const value = money(f['Conversion Value'], problems);
  const currencyText = f['Conversion Currency'].trim().toUpperCase();
  const currency = currencyText === '' ? ctx.defaultCurrency : currencyText;
  if (!/^[A-Z]{3}$/.test(currency) || (currencies.size > 0 && !currencies.has(currency))) {
    problems.push({ column: 'Conversion Currency', reason: 'is not an ISO 4217 currency code such as USD or EUR' });
  }
  if (problems.length > 0 || !caller || !start.ok || !conversion.ok) {
    return { ok: false, invalid: { row: raw.row, fields: clip(f), problems } };
  }
  return {
    ok: true,
    row: {
      row: raw.row,
      callerId: caller,
      // Each time keeps the zone it was read in: Google compares instants, the offset says which one.
      callStartDateTime: formatGoogleAdsTime(start.ms, start.zone),
      conversionName: name,
      conversionDateTime: formatGoogleAdsTime(conversion.ms, conversion.zone),
      ...(value !== undefined ? { conversionValue: value } : {}),
      currencyCode: currency,
    },
  };
}
