// What batching buys end to end: the real Cm360Client + Cm360Batcher against the real emulator over
// loopback HTTP, against the same client sending one conversion per batchupdate.
import { Cm360Batcher, Cm360Client, createCm360Auth } from '../src/clients/cm360';
import { toCm360UserIdentifiers } from '../src/domain/cm360/identifiers';
import {
  CM360_MAX_CONVERSIONS_PER_REQUEST,
  type Cm360Conversion,
  type Cm360RowResult,
} from '../src/domain/cm360/types';
import { hashIdentity } from '../src/domain/identifiers';
import { startCm360Emulator, type Cm360Emulator } from '../src/sandbox/cm360';
import { nowMs, type BenchResult } from './common';
import { generateUsers } from './identifiers';

const CONVERSIONS = 5_000;
const WARMUP_CONVERSIONS = 500;
const ROUNDS = 5;
// High enough that the limiter never holds a request back: this measures batching, not the quota.
const QUERIES_PER_SECOND = 1_000;
const LINGER_MS = 20;
const SINGLE_CONCURRENCY = 16;
const PROFILE_ID = 'bench';
const TOKEN = 'bench';
/** CM360's default project quota, the batcher's default. */
const DEFAULT_QPS = 1;

interface RoundResult {
  rate: number;
  requests: number;
}

function buildConversions(count: number): Cm360Conversion[] {
  const timestampMicros = `${Date.now()}000`;
  // Real hashed identifiers, so request bodies are as large as production ones.
  return generateUsers(count, 7).map((user, i) => ({
    matchId: `bench-match-${i}`,
    ordinal: `bench-${i}`,
    timestampMicros,
    floodlightActivityId: '8888',
    floodlightConfigurationId: '99999',
    quantity: '1',
    value: 10 + (i % 100),
    userIdentifiers: toCm360UserIdentifiers(hashIdentity(user, { defaultRegion: 'US' }).identity),
  }));
}

// A figure from a run where rows failed would measure error handling, not throughput.
function assertAllEnhanced(mode: string, results: readonly (Cm360RowResult | undefined)[], emulator: Cm360Emulator) {
  const failed = results.filter((r) => r?.ok !== true).length;
  const badRequests = emulator.requests.filter((r) => r.status !== 200).length;
  if (failed > 0 || badRequests > 0) {
    throw new Error(`${mode}: ${failed} rows not enhanced, ${badRequests} requests not answered 200`);
  }
}

async function batchedRound(
  client: Cm360Client,
  emulator: Cm360Emulator,
  conversions: readonly Cm360Conversion[],
): Promise<RoundResult> {
  const batcher = new Cm360Batcher({
    client,
    profileId: PROFILE_ID,
    queriesPerSecond: QUERIES_PER_SECOND,
    lingerMs: LINGER_MS,
  });
  emulator.requests.length = 0;
  const start = nowMs();
  const results = await Promise.all(conversions.map((c) => batcher.enhance(c)));
  const ms = nowMs() - start;
  await batcher.close();
  assertAllEnhanced('batched', results, emulator);
  return { rate: conversions.length / (ms / 1000), requests: emulator.requests.length };
}

async function singleRound(
  client: Cm360Client,
  emulator: Cm360Emulator,
  conversions: readonly Cm360Conversion[],
): Promise<RoundResult> {
  emulator.requests.length = 0;
  const results: (Cm360RowResult | undefined)[] = new Array<Cm360RowResult | undefined>(conversions.length);
  let next = 0;
  const worker = async () => {
    while (next < conversions.length) {
      const i = next++;
      const [row] = await client.batchUpdate(PROFILE_ID, [conversions[i] as Cm360Conversion]);
      results[i] = row;
    }
  };
  const start = nowMs();
  await Promise.all(Array.from({ length: SINGLE_CONCURRENCY }, worker));
  const ms = nowMs() - start;
  assertAllEnhanced('single', results, emulator);
  return { rate: conversions.length / (ms / 1000), requests: emulator.requests.length };
}

export async function runCm360BatcherBench(): Promise<BenchResult> {
  const conversions = buildConversions(CONVERSIONS);
  const emulator = await startCm360Emulator({ host: '127.0.0.1', port: 0, accessToken: TOKEN });
  const client = new Cm360Client({
    apiRoot: emulator.apiRoot,
    auth: createCm360Auth({ type: 'access-token', accessToken: TOKEN }),
  });
  const batched: RoundResult[] = [];
  const single: RoundResult[] = [];
  try {
    const warmup = conversions.slice(0, WARMUP_CONVERSIONS);
    await batchedRound(client, emulator, warmup);
    await singleRound(client, emulator, warmup);
    // Alternating which mode goes first keeps a slow start (GC, sockets) from landing on one side only.
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        batched.push(await batchedRound(client, emulator, conversions));
        single.push(await singleRound(client, emulator, conversions));
      } else {
        single.push(await singleRound(client, emulator, conversions));
        batched.push(await batchedRound(client, emulator, conversions));
      }
    }
  } finally {
    emulator.requests.length = 0;
    await emulator.close();
  }

  const requests = (rounds: RoundResult[]) => [...new Set(rounds.map((r) => r.requests))].join('/');
  const rowsPerHour = DEFAULT_QPS * CM360_MAX_CONVERSIONS_PER_REQUEST * 3600;
  return {
    name: 'cm360-batcher',
    unit: 'conversions/s',
    subject: `Cm360Batcher (${QUERIES_PER_SECOND} QPS, linger ${LINGER_MS} ms)`,
    subjectRates: batched.map((r) => r.rate),
    baseline: `1 conversion per batchupdate, ${SINGLE_CONCURRENCY} in flight`,
    baselineRates: single.map((r) => r.rate),
    reading: (ratio) => `batching delivers ${ratio.toFixed(1)}× the conversions per second`,
    notes: [
      `${CONVERSIONS.toLocaleString('en-US')} conversions per round, ${ROUNDS} rounds after a ` +
        `${WARMUP_CONVERSIONS}-conversion warm-up; emulator on ${emulator.apiRoot} in the same process`,
      `HTTP requests per round (emulator.requests.length): batched ${requests(batched)}, ` +
        `one-per-request ${requests(single)}`,
      `default ${DEFAULT_QPS} QPS (arithmetic, not measured): ${DEFAULT_QPS} request/s × ` +
        `${CM360_MAX_CONVERSIONS_PER_REQUEST.toLocaleString('en-US')} rows × 3,600 s = ` +
        `${rowsPerHour.toLocaleString('en-US')} conversions/hour; one row per request: ` +
        `${(DEFAULT_QPS * 3600).toLocaleString('en-US')}/hour`,
    ],
  };
}
