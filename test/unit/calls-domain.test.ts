// Flow C's pure rules: Google's call-conversion template as CSV, the times it accepts in the file's or the
// config's zone (both daylight-saving edges), E.164, every reason a row is refused, the `calls:` section, and
// the keyed import id.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConversionEventsConfig } from '../../src/config/conversion-events';
import { parseCallCsv, parseCsvRecords, csvLine, type RawCallRow } from '../../src/domain/calls/csv';
import { callImportId, digestCallRows, splitIntoParts } from '../../src/domain/calls/import-id';
import { validateCallRow, type RowContext } from '../../src/domain/calls/rows';
import { formatGoogleAdsTime, parseCallTime, parseTimeZone, type CallTimeZone } from '../../src/domain/calls/times';

const NY = parseTimeZone('America/New_York') as CallTimeZone;
const read = (text: string, zone: CallTimeZone = NY) => {
  const r = parseCallTime(text, zone);
  return r.ok ? formatGoogleAdsTime(r.ms, r.zone) : `invalid: ${r.reason}`;
};

const TEMPLATE = [
  'Parameters:TimeZone=America/New_York,,,,,',
  "Caller's Phone Number,Call Start Time,Conversion Name,Conversion Time,Conversion Value,Conversion Currency",
  '+12125550142,2026-11-20 14:05:00,Sales call,2026-11-20 14:30:00,120.5,USD',
  '"(212) 555-0199",11/20/2026 2:05:00 PM,"Sales call, upsell",11/20/2026 3:00 PM,,',
].join('\r\n');

describe('the template as CSV', () => {
  test('reads the parameter line, the header and quoted fields with commas, CRLF line ends', () => {
    const f = parseCallCsv(TEMPLATE);
    assert.deepEqual(f.problems, []);
    assert.equal(f.timeZone, 'America/New_York');
    assert.equal(f.rows.length, 2);
    assert.equal(f.rows[0]?.row, 3);
    assert.equal(f.rows[1]?.fields["Caller's Phone Number"], '(212) 555-0199');
    assert.equal(f.rows[1]?.fields['Conversion Name'], 'Sales call, upsell');
    assert.equal(f.rows[1]?.fields['Conversion Value'], '');
  });

  test('without the parameter line, with a byte-order mark and LF line ends', () => {
    const f = parseCallCsv(`\uFEFF${TEMPLATE.split('\r\n').slice(1).join('\n')}\n`);
    assert.deepEqual(f.problems, []);
    assert.equal(f.timeZone, undefined);
    assert.equal(f.rows.length, 2);
    assert.equal(f.rows[0]?.row, 2);
  });

  test('quotes: doubled quotes, a line break inside a field keeps later line numbers right', () => {
    const { records } = parseCsvRecords('a,"say ""hi""",c\n"two\nlines",x\nlast,row\n');
    assert.deepEqual(records[0]?.fields, ['a', 'say "hi"', 'c']);
    assert.deepEqual(records[1], { line: 2, fields: ['two\nlines', 'x'] });
    assert.equal(records[2]?.line, 4);
  });

  test('an unclosed quote, a missing column and a missing header are problems of the file', () => {
    assert.match(parseCsvRecords('a,"open\n').problems[0]?.message ?? '', /never closed/);
    const missing = parseCallCsv("Caller's Phone Number,Call Start Time,Conversion Time\n+1,2,3\n");
    assert.match(missing.problems[0]?.message ?? '', /lacks "Conversion Name"/);
    assert.match(parseCallCsv('').problems[0]?.message ?? '', /no header/);
    assert.match(parseCallCsv('Parameters:TimeZone=\nx').problems[0]?.message ?? '', /names no TimeZone/);
  });

  test('a column named twice is a problem of the file, not a silent choice of one', () => {
    const f = parseCallCsv(
      "Caller's Phone Number,Call Start Time,Conversion Name,Conversion Time,Conversion Value,Conversion Value\n",
    );
    assert.match(f.problems[0]?.message ?? '', /"Conversion Value" more than once/);
  });

  test('header names match loosely (case, curly apostrophe) and unknown columns are ignored', () => {
    const f = parseCallCsv(
      'CALLER’S PHONE NUMBER,call start time,Conversion name,Conversion Time,Reason\n+12125550142,a,b,c,old reason\n',
    );
    assert.deepEqual(f.problems, []);
    assert.deepEqual(f.ignoredColumns, ['Reason']);
    assert.equal(f.rows[0]?.fields['Conversion Name'], 'b');
  });

  test('csvLine quotes what needs quoting, and reads back the same', () => {
    const line = csvLine(['a,b', 'say "x"', ' pad', 'plain']);
    assert.equal(line, '"a,b","say ""x"""," pad",plain\r\n');
    assert.deepEqual(parseCsvRecords(line).records[0]?.fields, ['a,b', 'say "x"', ' pad', 'plain']);
  });
});

describe('times', () => {
  test('the forms Google accepts, in the given zone', () => {
    assert.equal(read('2026-11-20 14:05:00'), '2026-11-20 14:05:00-05:00');
    assert.equal(read('2026-11-20T14:05'), '2026-11-20 14:05:00-05:00');
    assert.equal(read('11/20/2026 14:05:00'), '2026-11-20 14:05:00-05:00');
    assert.equal(read('11/20/2026 2:05:00 PM'), '2026-11-20 14:05:00-05:00');
    assert.equal(read('11/20/2026 12:05 am'), '2026-11-20 00:05:00-05:00');
    assert.equal(read('7/4/2026 9:00 AM'), '2026-07-04 09:00:00-04:00');
  });

  test("a value's own offset or zone wins over the file's", () => {
    assert.equal(read('2026-11-20 14:05:00+0100'), '2026-11-20 14:05:00+01:00');
    assert.equal(read('2026-11-20 14:05:00-08:00'), '2026-11-20 14:05:00-08:00');
    assert.equal(read('2026-11-20T14:05:00Z'), '2026-11-20 14:05:00+00:00');
    assert.equal(read('2026-11-20T14:05:00.250Z'), '2026-11-20 14:05:00+00:00');
    assert.equal(read('2026-11-20 14:05:00 Europe/Oslo'), '2026-11-20 14:05:00+01:00');
    assert.match(read('2026-11-20 14:05:00 Mars/Olympus'), /unknown time zone/);
  });

  test('spring forward: the skipped hour is refused, the minutes around it get their own offsets', () => {
    assert.equal(read('2026-03-08 01:59:59'), '2026-03-08 01:59:59-05:00');
    assert.match(read('2026-03-08 02:30:00'), /does not exist in America\/New_York/);
    assert.equal(read('2026-03-08 03:00:00'), '2026-03-08 03:00:00-04:00');
  });

  test('fall back: the repeated hour takes the first (summer) offset, an explicit offset picks the second', () => {
    assert.equal(read('2026-11-01 00:59:59'), '2026-11-01 00:59:59-04:00');
    assert.equal(read('2026-11-01 01:30:00'), '2026-11-01 01:30:00-04:00');
    assert.equal(read('2026-11-01 01:30:00-05:00'), '2026-11-01 01:30:00-05:00');
    assert.equal(read('2026-11-01 02:00:00'), '2026-11-01 02:00:00-05:00');
  });

  test('fixed offsets as the file names them, and what is not a time', () => {
    const minus5 = parseTimeZone('-0500') as CallTimeZone;
    assert.equal(read('2026-07-04 09:00:00', minus5), '2026-07-04 09:00:00-05:00');
    assert.equal(parseTimeZone('+05:30')?.kind, 'offset');
    assert.equal(parseTimeZone('+2500'), undefined);
    assert.equal(parseTimeZone('Not/AZone'), undefined);
    assert.match(read('2026-02-30 10:00:00'), /not a calendar date/);
    assert.match(read('2026-02-10 24:00:00'), /not a time of day/);
    assert.match(read('13:00 PM 2026-02-10'), /not a time Google accepts/);
    assert.match(read('11/20/2026 13:05 PM'), /AM\/PM/);
    assert.match(read(''), /is empty/);
  });
});

const NOW = Date.parse('2026-12-01T12:00:00Z');
const ctx: RowContext = { zone: NY, region: 'US', defaultCurrency: 'USD', now: NOW };
const raw = (fields: Partial<RawCallRow['fields']>, row = 5): RawCallRow => ({
  row,
  fields: {
    "Caller's Phone Number": '+1 212-555-0142',
    'Call Start Time': '2026-11-20 14:05:00',
    'Conversion Name': 'Sales call',
    'Conversion Time': '2026-11-20 14:30:00',
    'Conversion Value': '120.50',
    'Conversion Currency': 'usd',
    ...fields,
  },
});
const problemsOf = (fields: Partial<RawCallRow['fields']>, c: RowContext = ctx) => {
  const r = validateCallRow(raw(fields), c);
  return r.ok ? [] : r.invalid.problems.map((p) => `${p.column}: ${p.reason}`);
};

describe('a row', () => {
  test('normalizes to what UploadCallConversions takes', () => {
    const r = validateCallRow(raw({}), ctx);
    assert.ok(r.ok);
    assert.deepEqual(r.row, {
      row: 5,
      callerId: '+12125550142',
      callStartDateTime: '2026-11-20 14:05:00-05:00',
      conversionName: 'Sales call',
      conversionDateTime: '2026-11-20 14:30:00-05:00',
      conversionValue: 120.5,
      currencyCode: 'USD',
    });
  });

  test('E.164: national numbers in the account region, + numbers kept, the default currency fills in', () => {
    const r = validateCallRow(raw({ "Caller's Phone Number": '(212) 555-0199', 'Conversion Currency': '' }), ctx);
    assert.ok(r.ok);
    assert.equal(r.row.callerId, '+12125550199');
    assert.equal(r.row.currencyCode, 'USD');
    const oslo = validateCallRow(raw({ "Caller's Phone Number": '22 33 44 55' }), { ...ctx, region: 'NO' });
    assert.ok(oslo.ok);
    assert.equal(oslo.row.callerId, '+4722334455');
    const intl = validateCallRow(raw({ "Caller's Phone Number": '+44 20 7946 0958' }), ctx);
    assert.ok(intl.ok && intl.row.callerId === '+442079460958');
  });

  test('every reason a row is refused, named by its column', () => {
    assert.deepEqual(problemsOf({ "Caller's Phone Number": '' }), ["Caller's Phone Number: is empty"]);
    assert.match(problemsOf({ "Caller's Phone Number": '555-CALL' })[0] ?? '', /Caller's Phone Number: is not a valid/);
    assert.match(problemsOf({ "Caller's Phone Number": '+1' })[0] ?? '', /E.164/);
    assert.match(problemsOf({ 'Call Start Time': 'yesterday' })[0] ?? '', /^Call Start Time: is not a time/);
    assert.match(problemsOf({ 'Conversion Time': '2026-11-20 14:05:00' })[0] ?? '', /not after the call start/);
    assert.match(problemsOf({ 'Conversion Time': '2026-11-20 13:00:00' })[0] ?? '', /not after the call start/);
    assert.match(
      problemsOf({ 'Conversion Time': '2026-12-24 10:00:00' })[0] ?? '',
      /Conversion Time: is in the future/,
    );
    assert.match(
      problemsOf({ 'Call Start Time': '2026-12-24 10:00:00', 'Conversion Time': 'x' }).join('|'),
      /Call Start Time: is in the future/,
    );
    assert.deepEqual(problemsOf({ 'Conversion Name': ' ' }), ['Conversion Name: is empty']);
    assert.match(problemsOf({ 'Conversion Value': '-5' })[0] ?? '', /must not be negative/);
    assert.match(problemsOf({ 'Conversion Value': '1,234.5' })[0] ?? '', /is not a number/);
    // Number('9' × 400) is Infinity, which JSON would send as no value at all.
    assert.match(problemsOf({ 'Conversion Value': '9'.repeat(400) })[0] ?? '', /is not a number/);
    assert.match(problemsOf({ 'Conversion Name': 'Sales\ncall' })[0] ?? '', /line break or control character/);
    assert.match(problemsOf({ 'Conversion Currency': 'US$' })[0] ?? '', /ISO 4217/);
    assert.match(problemsOf({ 'Conversion Currency': 'XYZ' })[0] ?? '', /ISO 4217/);
    assert.match(problemsOf({ 'Call Start Time': '2026-03-08 02:30:00' })[0] ?? '', /daylight-saving/);
  });

  test('all problems of a row are reported at once, and an old call is not refused for its age', () => {
    assert.equal(
      problemsOf({ "Caller's Phone Number": '', 'Conversion Value': '-1', 'Conversion Currency': 'x' }).length,
      3,
    );
    assert.deepEqual(
      problemsOf({ 'Call Start Time': '2024-01-01 10:00:00', 'Conversion Time': '2024-01-01 11:00:00' }),
      [],
    );
  });

  test('a call across the fall-back change keeps its order with explicit offsets', () => {
    const r = validateCallRow(
      raw({ 'Call Start Time': '2026-11-01 01:50:00-04:00', 'Conversion Time': '2026-11-01 01:10:00-05:00' }),
      ctx,
    );
    assert.ok(r.ok);
    assert.equal(r.row.conversionDateTime, '2026-11-01 01:10:00-05:00');
  });
});

describe('the calls: section', () => {
  const yaml = `
calls:
  customerId: '123-456-7890'
  timeZone: America/New_York
  defaultCurrency: USD
  conversionActions:
    Sales call: '6512349874'
  hubspot:
    every: 1h
    outcomes: { Connected: Sales call }
    value: { type: deal_amount, default: 100 }
`;

  test('the issue example is valid on its own, and ids become resource names', () => {
    const parsed = parseConversionEventsConfig(yaml, 'yaml');
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.config, undefined);
    const c = parsed.calls;
    assert.ok(c);
    assert.equal(c.customerId, '1234567890');
    assert.equal(c.conversionActions['Sales call'], 'customers/1234567890/conversionActions/6512349874');
    assert.equal(c.hubspot?.everyMs, 3_600_000);
    assert.deepEqual(c.hubspot?.value, { type: 'deal_amount', default: 100 });
    assert.equal(c.country, 'US');
  });

  test('problems are named by path and line', () => {
    const bad = parseConversionEventsConfig(
      `calls:\n  customerId: '12'\n  timeZone: '+05:00'\n  defaultCurrency: dollars\n  hubspot:\n    every: 1m\n    outcomes: {}\n`,
      'yaml',
    );
    const paths = bad.problems.map((p) => `${p.path}@${p.line}`);
    assert.deepEqual(paths.sort(), [
      'calls.customerId@2',
      'calls.defaultCurrency@4',
      'calls.hubspot.every@6',
      'calls.hubspot.outcomes@7',
      'calls.timeZone@3',
    ]);
  });
});

describe('the import id and parts', () => {
  const rows = [
    {
      valid: {
        row: 2,
        callerId: '+12125550142',
        callStartDateTime: 'a',
        conversionName: 'n',
        conversionDateTime: 'b',
        currencyCode: 'USD',
      },
    },
  ];

  test('the same rows give the same id; another key, account or row gives another', () => {
    const d = digestCallRows(rows);
    const key = Buffer.alloc(32, 1).toString('base64');
    const id = callImportId([d], '1234567890', key);
    assert.match(id, /^calls-import-[0-9a-f]{24}$/);
    assert.equal(callImportId([digestCallRows(structuredClone(rows))], '1234567890', key), id);
    // The row number is where a row sits, not what it is.
    assert.equal(callImportId([digestCallRows([{ valid: { ...rows[0]!.valid, row: 9 } }])], '1234567890', key), id);
    assert.notEqual(callImportId([d], '1234567890', Buffer.alloc(32, 2).toString('base64')), id);
    assert.notEqual(callImportId([d], '1234567891', key), id);
    assert.notEqual(
      callImportId([digestCallRows([{ valid: { ...rows[0]!.valid, callerId: '+12125550143' } }])], '1234567890', key),
      id,
    );
  });

  test('parts hold at most the row count and about the byte budget', () => {
    const items = Array.from({ length: 4500 }, (_, i) => ({ n: i, pad: 'x'.repeat(100) }));
    const byRows = splitIntoParts(items, 2000, 10_000_000);
    assert.deepEqual(
      byRows.map((p) => p.length),
      [2000, 2000, 500],
    );
    const byBytes = splitIntoParts(items, 2000, 64 * 1024);
    assert.ok(byBytes.every((p) => Buffer.byteLength(JSON.stringify(p)) <= 64 * 1024 + 200));
    assert.equal(byBytes.flat().length, 4500);
    assert.deepEqual(byBytes.flat(), items);
  });
});
