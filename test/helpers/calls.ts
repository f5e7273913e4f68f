// Shared pieces of the call-import tests: a `calls:` config, template rows, and call activities over a
// scripted Google Ads uploader (the real activity factory, so outcomes are classified as in production).
import { createCallActivities, type CallActivityDeps } from '../../src/activities/calls';
import type { CallsConfig } from '../../src/domain/calls/config';
import { CALL_COLUMNS, csvLine } from '../../src/domain/calls/csv';
import { parseTimeZone, type CallTimeZone } from '../../src/domain/calls/times';
import { TEST_PAYLOAD_KEY } from './temporal';
import type { CallConversionRow, ConversionActionInfo, GoogleAdsRowResult } from '../../src/domain/google-ads/types';

export const CUSTOMER_ID = '1234567890';
export const SALES_CALL = `customers/${CUSTOMER_ID}/conversionActions/6512349874`;

export function callsConfig(overrides: Partial<CallsConfig> = {}): CallsConfig {
  return {
    customerId: CUSTOMER_ID,
    timeZone: 'America/New_York',
    zone: parseTimeZone('America/New_York') as CallTimeZone,
    defaultCurrency: 'USD',
    country: 'US',
    conversionActions: { 'Sales call': SALES_CALL },
    ...overrides,
  };
}

/** A caller number per row index, unique and valid (US, 212 area). */
export const callerOf = (i: number) => `+1212${String(2_000_000 + i).padStart(7, '0')}`;

/** Rows of the template: call `i` starts i minutes after `start` and converts 20 minutes later. */
export function templateCsv(
  count: number,
  opts: { start?: number; name?: (i: number) => string; timeZoneLine?: string; caller?: (i: number) => string } = {},
): string {
  const start = opts.start ?? Date.parse('2026-11-02T15:00:00Z');
  const iso = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d{3}Z$/, 'Z');
  const lines = [opts.timeZoneLine ? csvLine([opts.timeZoneLine]) : '', csvLine([...CALL_COLUMNS])];
  for (let i = 0; i < count; i++) {
    const at = start + i * 60_000;
    lines.push(
      csvLine([
        (opts.caller ?? callerOf)(i),
        iso(at),
        opts.name?.(i) ?? 'Sales call',
        iso(at + 20 * 60_000),
        String(10 + (i % 90)),
        'USD',
      ]),
    );
  }
  return lines.join('');
}

export type UploadScript = (row: CallConversionRow, attempt: number) => GoogleAdsRowResult | Error;

export const rowError = (name: string, category = 'conversion_upload_error'): GoogleAdsRowResult => ({
  ok: false,
  errors: [{ category, name, message: `${name} (scripted)` }],
});

/** Call activities whose uploads answer from `script` (attempt = how often this caller id was sent, 1-based). */
export function scriptedCallActivities(
  script: UploadScript = () => ({ ok: true }),
  deps: Partial<CallActivityDeps> & { actions?: Record<string, ConversionActionInfo[]> } = {},
) {
  const attempts = new Map<string, number>();
  const uploads: CallConversionRow[] = [];
  const lookups: string[][] = [];
  const activities = createCallActivities({
    config: callsConfig(),
    googleAds: {
      uploadCall: (row) => {
        uploads.push(row);
        const attempt = (attempts.get(row.callerId) ?? 0) + 1;
        attempts.set(row.callerId, attempt);
        const answer = script(row, attempt);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
      findConversionActions: (_customer, _login, names) => {
        lookups.push(names);
        return Promise.resolve(new Map(names.map((n) => [n, deps.actions?.[n] ?? []])));
      },
    },
    hubspot: {
      dispositions: () => Promise.reject(new Error('not used')),
      modifiedInboundCalls: () => Promise.reject(new Error('not used')),
      dealAmounts: () => Promise.reject(new Error('not used')),
    },
    lastPull: () => Promise.resolve(undefined),
    closedWorkflows: () => Promise.resolve([]),
    payloadKey: TEST_PAYLOAD_KEY,
    ...deps,
  });
  return { activities, uploads, lookups, attempts };
}
