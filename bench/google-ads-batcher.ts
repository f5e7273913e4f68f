// What batching buys end to end for Google Ads: the real GoogleAdsConversionClient (google-ads-api over
// gRPC) + GoogleAdsBatcher against the real gRPC emulator over loopback, against the same client
// sending one click conversion per UploadClickConversions request.
import { GoogleAdsBatcher, GoogleAdsConversionClient } from '../src/clients/google-ads';
import { toGoogleAdsUserIdentifiers } from '../src/domain/google-ads/identifiers';
import { googleAdsDateTime } from '../src/domain/google-ads/rules';
import {
  GOOGLE_ADS_MAX_ROWS_PER_REQUEST,
  type ClickConversionRow,
  type GoogleAdsRowResult,
} from '../src/domain/google-ads/types';
import { hashIdentity, type HashedIdentity } from '../src/domain/identifiers';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../src/sandbox/google-ads';
import { nowMs, type BenchResult } from './common';
import { generateUsers } from './identifiers';

/** A multiple of 2,000, so every batched request leaves full and no linger time is measured. */
const CONVERSIONS = 4_000;
const WARMUP_CONVERSIONS = 500;
const ROUNDS = 5;
// High enough that the limiter never spaces requests out: this measures batching, not the rate limit.
const REQUESTS_PER_SECOND = 1_000;
/** The batcher's default: requests in flight at once. */
const BATCHED_CONCURRENCY = 2;
const LINGER_MS = 20;
const SINGLE_CONCURRENCY = 16;
const CUSTOMER_ID = '1234567890';
const CONVERSION_ACTION = `customers/${CUSTOMER_ID}/conversionActions/555`;
const DEVELOPER_TOKEN = 'bench-developer-token';
/** The relay's default limiter (createGoogleAdsLimiter), for the arithmetic in the notes. */
const DEFAULT_REQUESTS_PER_SECOND = 5;

interface RoundResult {
  rate: number;
  requests: number;
}

/** Real hashed identifiers, hashed once before any timing, so requests are as large as production ones. */
function buildIdentities(count: number): HashedIdentity[] {
  return generateUsers(count, 11).map((user) => hashIdentity(user, { defaultRegion: 'US' }).identity);
}

/**
 * Rows for one round. The emulator remembers every order id it has accepted (as Google does), so
 * the prefix names the process start, the mode and the round: no row is ever ORDER_ID_ALREADY_IN_USE.
 */
function buildRows(identities: readonly HashedIdentity[], count: number, prefix: string): ClickConversionRow[] {
  const conversionDateTime = googleAdsDateTime(Date.now() - 60 * 60 * 1000);
  return identities.slice(0, count).map((identity, i) => ({
    customerId: CUSTOMER_ID,
    conversionAction: CONVERSION_ACTION,
    conversionDateTime,
    conversionValue: 10 + (i % 100),
    currencyCode: 'USD',
    orderId: `${prefix}-${i}`,
    gclid: `bench-gclid-${prefix}-${i}`,
    userIdentifiers: toGoogleAdsUserIdentifiers(identity, { withAddress: false }),
    adUserDataConsent: 'GRANTED',
  }));
}

// A figure from a run where rows failed would measure error handling, not throughput.
function assertAllUploaded(
  mode: string,
  results: readonly (GoogleAdsRowResult | undefined)[],
  emulator: GoogleAdsEmulator,
): void {
  const failed = results.filter((r) => r?.ok !== true).length;
  const badRequests = emulator.requests.filter((r) => r.status !== 0 || r.failedRows.length > 0).length;
  if (failed > 0 || badRequests > 0) {
    throw new Error(`${mode}: ${failed} rows not uploaded, ${badRequests} requests not answered OK for every row`);
  }
}

async function batchedRound(
  client: GoogleAdsConversionClient,
  emulator: GoogleAdsEmulator,
  rows: readonly ClickConversionRow[],
): Promise<RoundResult> {
  const batcher = new GoogleAdsBatcher({
    client,
    service: 'click',
    customerId: CUSTOMER_ID,
    requestsPerSecond: REQUESTS_PER_SECOND,
    maxConcurrentRequests: BATCHED_CONCURRENCY,
    lingerMs: LINGER_MS,
  });
  emulator.requests.length = 0;
  const start = nowMs();
  // Every row is its own caller, as concurrent activities would be.
  const results = await Promise.all(rows.map((row) => batcher.upload(row)));
  const ms = nowMs() - start;
  await batcher.close();
  assertAllUploaded('batched', results, emulator);
  return { rate: rows.length / (ms / 1000), requests: emulator.requests.length };
}

async function singleRound(
  client: GoogleAdsConversionClient,
  emulator: GoogleAdsEmulator,
  rows: readonly ClickConversionRow[],
): Promise<RoundResult> {
  emulator.requests.length = 0;
  const results = new Array<GoogleAdsRowResult | undefined>(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const i = next++;
      const [result] = await client.uploadClickConversions(CUSTOMER_ID, undefined, [rows[i] as ClickConversionRow]);
      results[i] = result;
    }
  };
  const start = nowMs();
  await Promise.all(Array.from({ length: SINGLE_CONCURRENCY }, worker));
  const ms = nowMs() - start;
  assertAllUploaded('single', results, emulator);
  return { rate: rows.length / (ms / 1000), requests: emulator.requests.length };
}

export async function runGoogleAdsBatcherBench(): Promise<BenchResult> {
  const identities = buildIdentities(CONVERSIONS);
  const run = `bench-${Date.now().toString(36)}`;
  const rows = (mode: string, round: number | string, count = CONVERSIONS) =>
    buildRows(identities, count, `${run}-${mode}-${round}`);
  const emulator = await startGoogleAdsEmulator({
    host: '127.0.0.1',
    port: 0,
    developerToken: DEVELOPER_TOKEN,
    conversionActions: [CONVERSION_ACTION],
  });
  const client = new GoogleAdsConversionClient({
    developerToken: DEVELOPER_TOKEN,
    clientId: 'bench-client-id',
    clientSecret: 'bench-client-secret',
    refreshToken: 'bench-refresh-token',
    endpoint: { host: emulator.host, port: emulator.port, insecure: true },
  });
  const batched: RoundResult[] = [];
  const single: RoundResult[] = [];
  try {
    // The first call opens the gRPC channel and builds the library's service client.
    await batchedRound(client, emulator, rows('batched', 'warmup', WARMUP_CONVERSIONS));
    await singleRound(client, emulator, rows('single', 'warmup', WARMUP_CONVERSIONS));
    // Alternating which mode goes first keeps a slow start (GC, JIT) from landing on one side only.
    for (let r = 0; r < ROUNDS; r++) {
      // Rows are built before the clock starts; only uploading them is timed.
      const batchedRows = rows('batched', r);
      const singleRows = rows('single', r);
      if (r % 2 === 0) {
        batched.push(await batchedRound(client, emulator, batchedRows));
        single.push(await singleRound(client, emulator, singleRows));
      } else {
        single.push(await singleRound(client, emulator, singleRows));
        batched.push(await batchedRound(client, emulator, batchedRows));
      }
    }
  } finally {
    emulator.requests.length = 0;
    await emulator.close();
  }

  const requests = (rounds: RoundResult[]) => [...new Set(rounds.map((r) => r.requests))].join('/');
  const rowsPerSecond = DEFAULT_REQUESTS_PER_SECOND * GOOGLE_ADS_MAX_ROWS_PER_REQUEST;
  return {
    name: 'google-ads-batcher',
    unit: 'conversions/s',
    subject:
      `GoogleAdsBatcher click (${REQUESTS_PER_SECOND} req/s, ${BATCHED_CONCURRENCY} in flight, ` +
      `linger ${LINGER_MS} ms, up to ${GOOGLE_ADS_MAX_ROWS_PER_REQUEST.toLocaleString('en-US')} rows a request)`,
    subjectRates: batched.map((r) => r.rate),
    baseline: `1 conversion per UploadClickConversions, ${SINGLE_CONCURRENCY} in flight`,
    baselineRates: single.map((r) => r.rate),
    reading: (ratio) => `batching delivers ${ratio.toFixed(1)}× the conversions per second`,
    notes: [
      `${CONVERSIONS.toLocaleString('en-US')} click conversions per round, ${ROUNDS} rounds after a ` +
        `${WARMUP_CONVERSIONS}-conversion warm-up; gRPC emulator on ${emulator.host}:${emulator.port} ` +
        `in the same process, real google-ads-api client over plaintext`,
      `gRPC requests per round (emulator.requests.length): batched ${requests(batched)}, ` +
        `one-per-request ${requests(single)}`,
      `relay default ${DEFAULT_REQUESTS_PER_SECOND} req/s (arithmetic, not measured): ` +
        `${DEFAULT_REQUESTS_PER_SECOND} × ${GOOGLE_ADS_MAX_ROWS_PER_REQUEST.toLocaleString('en-US')} rows = ` +
        `${rowsPerSecond.toLocaleString('en-US')} conversions/s at most; one row per request: ` +
        `${DEFAULT_REQUESTS_PER_SECOND}/s`,
    ],
  };
}
