// `npm run bench -- call-import`: a call-conversion file of 100,000 rows through the api, the way production
// imports it. One Temporal CLI dev server; in this process the Google Ads gRPC emulator, and the production
// worker and api (startWorker/startApi from the composition root, over loadConfig). Each round POSTs Google's
// call template as text/csv to /v1/google-ads/calls and waits for the import workflow's result. Measured: rows
// per second from the POST until the import completed, at 100,000 rows against 10,000 rows in the same run
// (interleaved rounds). Every round is checked before a figure is kept: the import's counts, every row at the
// emulator exactly once with its own fields, no UploadCallConversions over 2,000 rows, and every payload of
// the import's and its parts' histories under Temporal's 512 KiB warning size.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../src/config/env';
import type { CallImportAnswer, CallImportReport } from '../src/api/calls-routes';
import { CALL_ROWS_PER_PART, callImportPartId, type CallImportCounts } from '../src/domain/calls/types';
import type { CallImportResult } from '../src/workflows/call-import';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../src/sandbox/google-ads';
import { payloadCodec, relayDataConverter } from '../src/temporal/data-converter';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../src/workers/composition';
import { callerOf, templateCsv } from '../test/helpers/calls';
import { createDevServerEnv, workflowBundle } from '../test/helpers/temporal';
import { formatRate, median, nowMs, type BenchResult } from './common';

const [BASELINE_ROWS, SUBJECT_ROWS] = (process.env.BENCH_CALLS_SIZES ?? '10000,100000').split(',').map(Number) as [
  number,
  number,
];
const ROUNDS = Number(process.env.BENCH_CALLS_ROUNDS ?? 2);
const WARM_UP_ROWS = 2_000;
/** One import that has not completed after this long aborts the run, saying how far it got. */
const IMPORT_DEADLINE_MS = 15 * 60_000;
const PAYLOAD_WARN_BYTES = 512 * 1024;
const MAX_ROWS_PER_REQUEST = 2_000;

const API_KEY = 'bench-calls-key';
const DEVELOPER_TOKEN = 'bench-calls-developer-token';
const KEY_ID = 'bench';
const KEY = Buffer.alloc(32, 11).toString('base64');
const CUSTOMER_ID = '1234567890';
const ACTION = `customers/${CUSTOMER_ID}/conversionActions/6512349874`;
const CONFIG = `
calls:
  customerId: '123-456-7890'
  timeZone: America/New_York
  defaultCurrency: USD
  conversionActions: { 'Sales call': '6512349874' }
`;

type Counts = CallImportCounts;
type PostAnswer = CallImportAnswer;
type ImportReport = CallImportReport;
type ImportResult = CallImportResult;

interface Round {
  rows: number;
  importId: string;
  parts: number;
  /** POST sent → import workflow completed. */
  seconds: number;
  /** POST sent → 202 read: parse, validate, cut into parts and start the import and every part. */
  postMs: number;
  /** Wall-clock ms after the POST was sent, from the histories and the emulator's log. */
  at: { importStarted: number; lastPartStarted: number; firstUpload: number; lastUpload: number };
  /** UploadCallConversions requests the emulator got for this import. */
  uploads: number;
  largestRequestRows: number;
  /** Every other request to Google (conversion-name lookups). */
  otherRequests: number;
  importEvents: number;
  /** The import's events by type, most frequent first. */
  importEventTypes: string;
  /** The largest history of a part, in events. */
  partEvents: number;
  largestPayload: { bytes: number; where: string };
}

/** The instant of Google's `yyyy-mm-dd HH:mm:ss±HH:mm`, read independently of the relay's formatter. */
function googleTimeMs(text: string | undefined): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})([+-]\d{2}:\d{2})$/.exec(text ?? '');
  return m ? Date.parse(`${m[1]}T${m[2]}${m[3]}`) : Number.NaN;
}

/** Row index of a caller number of templateCsv (callerOf(i) = +1212 and 2,000,000 + i). */
function indexOfCaller(callerId: string | undefined): number {
  const m = /^\+1212(\d{7})$/.exec(callerId ?? '');
  return m ? Number(m[1]) - 2_000_000 : -1;
}

/** Every payload in a history (inputs, results, signals, memo, headers), with its encoded size. */
function payloadSizes(
  history: temporal.api.history.v1.IHistory,
  workflowId: string,
): { bytes: number; where: string }[] {
  const out: { bytes: number; where: string }[] = [];
  const walk = (value: unknown, where: string, seen: Set<object>) => {
    if (typeof value !== 'object' || value === null || value instanceof Uint8Array || seen.has(value)) return;
    seen.add(value);
    const v = value as { data?: unknown; metadata?: unknown };
    if (v.data instanceof Uint8Array && typeof v.metadata === 'object' && v.metadata !== null) {
      const bytes = temporal.api.common.v1.Payload.encode(v as temporal.api.common.v1.IPayload).finish().length;
      out.push({ bytes, where });
      return;
    }
    for (const child of Object.values(value)) walk(child, where, seen);
  };
  for (const event of history.events ?? []) {
    const type = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
    walk(event, `${workflowId} ${type.replace(/^EVENT_TYPE_/, '')}`, new Set());
  }
  return out;
}

async function waitForResult(client: Client, importId: string): Promise<ImportResult> {
  const handle = client.workflow.getHandle(importId);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), IMPORT_DEADLINE_MS)));
  try {
    const outcome = await Promise.race([handle.result() as Promise<ImportResult>, deadline]);
    if (outcome !== 'late') return outcome;
    const s = await handle
      .query<{ state: string; counts: Counts; parts: Record<string, unknown> }>('status')
      .catch(() => undefined);
    throw new Error(
      `import ${importId} had not completed after ${IMPORT_DEADLINE_MS / 60_000} min: ` +
        (s ? `${s.state}, ${JSON.stringify(s.counts)}, parts ${JSON.stringify({ ...s.parts, list: undefined })}` : '?'),
    );
  } finally {
    clearTimeout(timer);
  }
}

async function importOnce(
  api: RunningApi,
  client: Client,
  googleAds: GoogleAdsEmulator,
  rows: number,
  start: number,
): Promise<Round> {
  const csv = templateCsv(rows, { start });
  const callsBefore = googleAds.uploaded().calls.length;
  const requestsBefore = googleAds.requests.length;

  const t = nowMs();
  const sentAt = Date.now();
  const res = await fetch(`${api.url}/v1/google-ads/calls`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/csv' },
    body: csv,
  });
  const answer = (await res.json()) as PostAnswer;
  const postMs = nowMs() - t;
  const parts = Math.ceil(rows / CALL_ROWS_PER_PART);
  if (res.status !== 202 || answer.status !== 'started') {
    throw new Error(`POST of ${rows} rows answered ${res.status}: ${JSON.stringify(answer).slice(0, 500)}`);
  }
  if (answer.rows !== rows || answer.valid !== rows || answer.invalid !== 0 || answer.parts !== parts) {
    throw new Error(`POST of ${rows} rows: ${JSON.stringify({ ...answer, issues: answer.issues.slice(0, 5) })}`);
  }
  const result = await waitForResult(client, answer.importId);
  const seconds = (nowMs() - t) / 1000;

  // The import as the api reports it.
  const reportRes = await fetch(`${api.url}${answer.report}?failed=true`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  const report = (await reportRes.json()) as ImportReport;
  const c = report.counts;
  if (
    reportRes.status !== 200 ||
    report.state !== 'COMPLETED' ||
    result.outcome !== 'COMPLETED' ||
    c?.rows !== rows ||
    c.uploaded !== rows ||
    result.counts.uploaded !== rows ||
    c.pending + c.rejected + c.invalid + c.alreadyRecorded + c.validated !== 0 ||
    report.failedTotal !== 0 ||
    report.parts?.done !== parts
  ) {
    throw new Error(
      `import of ${rows} rows: ${result.outcome} ${JSON.stringify(result.counts)}; report ${reportRes.status} ` +
        JSON.stringify({ ...report, failed: report.failed?.slice(0, 5) }).slice(0, 1000),
    );
  }

  // Google's side: exactly the file's rows, each once, each with its own fields.
  const all = googleAds.uploaded().calls;
  if (all.length - callsBefore !== rows) {
    throw new Error(`the emulator stored ${all.length - callsBefore} calls for an import of ${rows} rows`);
  }
  const seen = new Set<number>();
  for (const [k, call] of all.entries()) {
    const conv = call.conversion;
    const i = indexOfCaller(conv.caller_id);
    const at = start + i * 60_000;
    const mine = i >= 0 && i < rows && googleTimeMs(conv.call_start_date_time) === at;
    if (k < callsBefore) {
      if (mine) throw new Error(`a row of this import (${conv.caller_id}) was stored before it was posted`);
      continue;
    }
    if (!mine) {
      throw new Error(`an unexpected call was stored: ${conv.caller_id} at ${conv.call_start_date_time}`);
    }
    if (seen.has(i)) throw new Error(`row ${i} (${conv.caller_id}) was stored twice`);
    seen.add(i);
    if (
      conv.caller_id !== callerOf(i) ||
      call.customerId !== CUSTOMER_ID ||
      conv.conversion_action !== ACTION ||
      googleTimeMs(conv.conversion_date_time) !== at + 20 * 60_000 ||
      conv.conversion_value !== 10 + (i % 90) ||
      conv.currency_code !== 'USD'
    ) {
      throw new Error(`row ${i} arrived with other fields: ${JSON.stringify(call)}`);
    }
  }
  if (seen.size !== rows) throw new Error(`${seen.size} distinct rows of ${rows} reached the emulator`);

  const requests = googleAds.requests.slice(requestsBefore);
  const uploads = requests.filter((r) => r.method === 'UploadCallConversions');
  const sizes = uploads.map((r) => (Array.isArray(r.body.conversions) ? r.body.conversions.length : 0));
  const largestRequestRows = Math.max(0, ...sizes);
  if (largestRequestRows > MAX_ROWS_PER_REQUEST) {
    throw new Error(`an UploadCallConversions request carried ${largestRequestRows} rows`);
  }
  const refused = requests.filter((r) => r.status !== 0 || r.failedRows.length > 0);
  if (refused.length > 0) {
    throw new Error(
      `${refused.length} request(s) to Google were refused in part or whole (first: ${refused[0]?.method})`,
    );
  }
  if (sizes.reduce((a, b) => a + b, 0) !== rows) {
    throw new Error(`the UploadCallConversions requests carried ${sizes.reduce((a, b) => a + b, 0)} rows, not ${rows}`);
  }

  // Histories: the import's stays small, and no payload of it or its parts nears Temporal's warning size.
  const importHistory = await client.workflow.getHandle(answer.importId).fetchHistory();
  const importEvents = importHistory.events?.length ?? 0;
  const byType = new Map<string, number>();
  for (const e of importHistory.events ?? []) {
    const type = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '?').replace(/^EVENT_TYPE_/, '');
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }
  const importEventTypes = [...byType]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([type, count]) => `${count} ${type}`)
    .join(', ');
  const payloads = payloadSizes(importHistory, 'import');
  const startedAt = (h: temporal.api.history.v1.IHistory) => (optionalTsToMs(h.events?.[0]?.eventTime) ?? NaN) - sentAt;
  let partEvents = 0;
  let lastPartStarted = 0;
  for (let index = 0; index < parts; index++) {
    const id = callImportPartId(answer.importId, index);
    const history = await client.workflow.getHandle(id).fetchHistory();
    partEvents = Math.max(partEvents, history.events?.length ?? 0);
    lastPartStarted = Math.max(lastPartStarted, startedAt(history));
    payloads.push(...payloadSizes(history, `part-${String(index + 1).padStart(4, '0')}`));
  }
  const largestPayload = payloads.reduce((a, b) => (b.bytes > a.bytes ? b : a), { bytes: 0, where: 'none' });
  if (largestPayload.bytes >= PAYLOAD_WARN_BYTES) {
    throw new Error(`a payload of ${largestPayload.bytes} bytes (≥ 512 KiB) in ${largestPayload.where}`);
  }
  // Linear in the parts (each reports at its start and its end), never in the rows.
  const importEventBound = 50 + 10 * parts;
  if (importEvents > importEventBound) {
    throw new Error(`the import's history has ${importEvents} events for ${parts} parts (bound ${importEventBound})`);
  }
  return {
    rows,
    importId: answer.importId,
    parts,
    seconds,
    postMs,
    at: {
      importStarted: startedAt(importHistory),
      lastPartStarted,
      firstUpload: (uploads[0]?.at ?? NaN) - sentAt,
      lastUpload: (uploads.at(-1)?.at ?? NaN) - sentAt,
    },
    uploads: uploads.length,
    largestRequestRows,
    otherRequests: requests.length - uploads.length,
    importEvents,
    importEventTypes,
    partEvents,
    largestPayload,
  };
}

export async function runCallImportBench(): Promise<BenchResult> {
  let env: TestWorkflowEnvironment | undefined;
  let googleAds: GoogleAdsEmulator | undefined;
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  try {
    env = await createDevServerEnv();
    googleAds = await startGoogleAdsEmulator({ developerToken: DEVELOPER_TOKEN });
    const dir = mkdtempSync(join(tmpdir(), 'bench-calls-'));
    const file = join(dir, 'relay.yaml');
    writeFileSync(file, CONFIG);
    const namespace = env.namespace ?? 'default';
    const config = loadConfig({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: namespace,
      RELAY_TASK_QUEUE: `bench-calls-${Date.now()}`,
      RELAY_HTTP_PORT: '0',
      RELAY_WORKER_HTTP_PORT: '0',
      RELAY_API_KEY: API_KEY,
      RELAY_PAYLOAD_KEY: KEY,
      RELAY_PAYLOAD_KEY_ID: KEY_ID,
      RELAY_CONFIG: file,
      RELAY_MAX_CALLS_FILE_BYTES: String(64 * 1024 * 1024),
      GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
      GOOGLE_ADS_DEVELOPER_TOKEN: DEVELOPER_TOKEN,
      GOOGLE_ADS_CLIENT_ID: 'bench',
      GOOGLE_ADS_CLIENT_SECRET: 'bench',
      GOOGLE_ADS_REFRESH_TOKEN: 'bench',
    });
    worker = await startWorker(config, { workflowBundle: await workflowBundle(), warn: () => undefined });
    api = await startApi(config);
    // Production logs every request at info; a handful of lines per import, left out of the printed table.
    api.app.log.level = 'warn';
    const client = new Client({
      connection: env.connection,
      namespace,
      dataConverter: relayDataConverter(payloadCodec({ id: KEY_ID, key: KEY })),
    });

    // Call times: every conversion before now, and each import's calls at its own second, so no two imports
    // share an id or a row (the caller numbers repeat from one import to the next; their times never do).
    const base = Math.floor(Date.now() / 60_000) * 60_000 - 75 * 24 * 3_600_000;
    let sequence = 0;
    const run = (rows: number) =>
      importOnce(api as RunningApi, client, googleAds as GoogleAdsEmulator, rows, base + sequence++ * 1000);
    const lastConversion = base + (ROUNDS * 2 + 1) * 1000 + (Math.max(BASELINE_ROWS, SUBJECT_ROWS) - 1 + 20) * 60_000;
    if (lastConversion >= Date.now()) throw new Error('the call times would reach into the future');

    const warmUp = await run(WARM_UP_ROWS);
    const baseline: Round[] = [];
    const subject: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      baseline.push(await run(BASELINE_ROWS));
      subject.push(await run(SUBJECT_ROWS));
    }

    const n = formatRate;
    const per100k = (x: Round) => ((x.uploads * 100_000) / x.rows).toFixed(1);
    const describe = (x: Round) =>
      [
        `${n(x.rows)} rows (${x.parts} parts): ${x.seconds.toFixed(1)} s, ${n(x.rows / x.seconds)} rows/s`,
        `POST answered after ${n(x.postMs)} ms (import workflow started at ${n(x.at.importStarted)} ms, ` +
          `last part at ${n(x.at.lastPartStarted)} ms; uploads sent from ${n(x.at.firstUpload)} to ${n(x.at.lastUpload)} ms)`,
        `${x.uploads} UploadCallConversions (largest ${n(x.largestRequestRows)} rows, ${per100k(x)} per 100k rows), ` +
          `${x.otherRequests} other requests to Google`,
        `import history ${x.importEvents} events (${x.importEventTypes}, ...), largest part history ${x.partEvents}`,
        `largest payload ${n(x.largestPayload.bytes)} B (${x.largestPayload.where})`,
      ].join('; ');
    const all = [...baseline, ...subject];
    const largest = all.reduce((a, b) => (b.largestPayload.bytes > a.largestPayload.bytes ? b : a));
    const medianOf = (xs: Round[], f: (x: Round) => number) => n(median(xs.map(f)));
    const both = (f: (x: Round) => number) =>
      `${medianOf(subject, f)} ms at ${n(SUBJECT_ROWS)} rows, ${medianOf(baseline, f)} ms at ${n(BASELINE_ROWS)}`;
    return {
      name: 'call-import',
      unit: 'rows/s',
      subject: `a ${n(SUBJECT_ROWS)}-row call template (text/csv) POSTed to the api until its import workflow completed`,
      subjectRates: subject.map((x) => x.rows / x.seconds),
      baseline: `the same with ${n(BASELINE_ROWS)} rows, the round before`,
      baselineRates: baseline.map((x) => x.rows / x.seconds),
      reading: (ratio) =>
        `at ${n(SUBJECT_ROWS / BASELINE_ROWS)}× the rows the import runs at ${(ratio * 100).toFixed(0)} % of the ` +
        `baseline's rows/s (1 = throughput holds with size)`,
      notes: [
        `production composition in one process (startWorker + startApi over loadConfig), Temporal CLI dev server, ` +
          `Google Ads gRPC emulator; GOOGLE_ADS_BATCH_LINGER default (${config.GOOGLE_ADS_BATCH_LINGER} ms); ` +
          `${ROUNDS} interleaved rounds after a ${n(warmUp.rows)}-row warm-up (${warmUp.seconds.toFixed(1)} s)`,
        ...all.map((x, i) => `${i < ROUNDS ? 'baseline' : 'subject '} round ${(i % ROUNDS) + 1}: ${describe(x)}`),
        `POST answered (read, parse, validate, start the import and every part; median): ${both((x) => x.postMs)}; ` +
          `of it, until the import workflow started (parse + validate + split + id): ${both((x) => x.at.importStarted)}`,
        `requests to Google per 100k rows: ${subject.map(per100k).join(', ')} at ${n(SUBJECT_ROWS)} rows, ` +
          `${baseline.map(per100k).join(', ')} at ${n(BASELINE_ROWS)} (${n(100_000 / MAX_ROWS_PER_REQUEST)} at 2,000 a request)`,
        `checked every round: rows = uploaded = N and no other count, all N rows at the emulator once each with ` +
          `their fields, every UploadCallConversions ≤ 2,000 rows and answered OK without row errors, every payload of ` +
          `the import's and the parts' histories < 512 KiB (largest ${n(largest.largestPayload.bytes)} B, ` +
          `${largest.largestPayload.where} of a ${n(largest.rows)}-row import), import history ≤ 50 + 10 events per part ` +
          `(${subject.map((x) => x.importEvents).join(', ')} events at ${n(SUBJECT_ROWS)} rows, ` +
          `${baseline.map((x) => x.importEvents).join(', ')} at ${n(BASELINE_ROWS)})`,
      ],
    };
  } finally {
    await api?.stop();
    await worker?.stop();
    await googleAds?.close();
    await env?.teardown();
  }
}
