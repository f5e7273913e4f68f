// Flow C on the time-skipping test server: the api's own fan-out (prepareCallImport + startCallImport) into an
// import workflow and its parts, the real call activities over a scripted uploader. Partial failures, dedupe,
// the TOO_RECENT_CALL timer, the retry window, parts that never arrive, chunking, and what history holds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { prepareCallImport, startCallImport, type PreparedImport } from '../../src/api/calls-routes';
import { parseCallCsv } from '../../src/domain/calls/csv';
import { GoogleAdsRequestError } from '../../src/clients/google-ads/errors';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import { GOOGLE_ADS_TOO_RECENT_DELAY_MS } from '../../src/domain/google-ads/classify';
import { GoogleAdsFailure } from '../../src/domain/google-ads/failures';
import {
  CALL_IMPORT_FLOW,
  callImportPartId,
  CallImportFailure,
  type CallImportCounts,
} from '../../src/domain/calls/types';
import { callImportStatusQuery, callImportWorkflow, type CallImportPartResult } from '../../src/workflows/call-import';
import { RelayAccount, RelayFlow } from '../../src/workflows/search-attributes';
import {
  createTestWorker,
  createTimeSkippingEnv,
  expectCompleted,
  expectFailure,
  readableHistory,
  TEST_PAYLOAD_KEY,
  uniqueId,
} from '../helpers/temporal';
import {
  callerOf,
  callsConfig,
  CUSTOMER_ID,
  rowError,
  scriptedCallActivities,
  templateCsv,
  type UploadScript,
} from '../helpers/calls';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

const NOW = Date.parse('2026-12-01T12:00:00Z');
/** A key per test: the same rows in two tests must not share an import id on the shared server. */
const uniqueKey = () => Buffer.from(uniqueId('key')).toString('base64');

async function prepare(csv: string, key = TEST_PAYLOAD_KEY): Promise<PreparedImport> {
  const file = parseCallCsv(csv);
  assert.deepEqual(file.problems, []);
  const prepared = await prepareCallImport(file, callsConfig(), key, NOW);
  assert.ok('importId' in prepared, JSON.stringify(prepared));
  return prepared;
}

/** A part's refused rows as the report shows them: row, outcome, code and reason. */
const refusedOf = (p: CallImportPartResult | undefined) =>
  (p?.refused ?? []).map((f) => ({
    row: f.row,
    outcome: f.outcome,
    code: f.code,
    reason: f.reason ?? p?.reasons[f.code],
  }));

async function runImport(csv: string, script?: UploadScript, deps: Parameters<typeof scriptedCallActivities>[1] = {}) {
  const scripted = scriptedCallActivities(script, deps);
  const { worker, taskQueue } = await createTestWorker(env, scripted.activities);
  // A key per test: the same rows in two tests must not share an import id on the shared server.
  const prepared = await prepare(csv, uniqueKey());
  const handle = env.client.workflow.getHandle<typeof callImportWorkflow>(prepared.importId);
  const outcome = await worker.runUntil(async () => {
    const started = await startCallImport({ temporal: env.client, taskQueue }, callsConfig(), prepared, 'file');
    assert.equal(started, 'started');
    const result = await handle.result().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const status = await handle.query(callImportStatusQuery);
    const parts = await Promise.all(
      prepared.parts.map((_, i) => env.client.workflow.getHandle(callImportPartId(prepared.importId, i)).result()),
    );
    return { result, status, parts: parts as CallImportPartResult[] };
  });
  return { ...outcome, prepared, handle, taskQueue, worker, ...scripted };
}

const counts = (c: Partial<CallImportCounts>): CallImportCounts => ({
  rows: 0,
  uploaded: 0,
  validated: 0,
  alreadyRecorded: 0,
  rejected: 0,
  invalid: 0,
  pending: 0,
  ...c,
});

describe('one import', () => {
  test('every row gets its own outcome: uploaded, already recorded (both duplicate codes), rejected, unknown name', async () => {
    const script: UploadScript = (row) => {
      if (row.callerId === callerOf(1)) return rowError('EXPIRED_CALL');
      if (row.callerId === callerOf(2)) return rowError('CALL_CONVERSION_ALREADY_EXISTS');
      if (row.callerId === callerOf(3)) return rowError('DUPLICATE_CALL_CONVERSION_IN_REQUEST');
      return { ok: true };
    };
    const csv = templateCsv(6, { name: (i) => (i === 4 ? 'Nobody knows this' : 'Sales call') });
    const run = await runImport(csv, script);
    // Refused rows are an answer, not a failed workflow: the import completes, saying so.
    const result = expectCompleted(run.result);
    assert.equal(result.outcome, 'COMPLETED_WITH_FAILURES');
    assert.deepEqual(result.counts, counts({ rows: 6, uploaded: 2, alreadyRecorded: 2, rejected: 1, invalid: 1 }));
    assert.equal(run.status.state, 'COMPLETED_WITH_FAILURES');
    const failed = refusedOf(run.parts[0]);
    assert.deepEqual(
      failed.map((f) => [f.row, f.outcome, f.code]),
      [
        [3, 'REJECTED', 'conversion_upload_error.EXPIRED_CALL'],
        [6, 'INVALID', CallImportFailure.UnknownConversionName],
      ],
    );
    assert.match(failed[1]?.reason ?? '', /no conversion action named "Nobody knows this"/);
    assert.equal(failed[0]?.reason, 'EXPIRED_CALL (scripted)');
    // The configured name needed no lookup; the unknown one was looked up once.
    assert.deepEqual(run.lookups, [['Nobody knows this']]);
    assert.deepEqual(
      run.uploads.map((u) => u.conversionAction),
      Array(5).fill(`customers/${CUSTOMER_ID}/conversionActions/6512349874`),
    );
    assert.equal(run.uploads[0]?.callStartDateTime, '2026-11-02 15:00:00+00:00');
  });

  test('TOO_RECENT_CALL waits Google’s six hours on a timer and retries only that row', async () => {
    const script: UploadScript = (row, attempt) =>
      row.callerId === callerOf(0) && attempt === 1 ? rowError('TOO_RECENT_CALL') : { ok: true };
    const before = await env.currentTimeMs();
    const run = await runImport(templateCsv(3), script);
    const result = expectCompleted(run.result);
    assert.deepEqual(result.counts, counts({ rows: 3, uploaded: 3 }));
    assert.deepEqual(
      run.uploads.map((u) => u.callerId),
      [callerOf(0), callerOf(1), callerOf(2), callerOf(0)],
    );
    assert.ok((await env.currentTimeMs()) - before >= GOOGLE_ADS_TOO_RECENT_DELAY_MS);
    // The import heard from its part across six hours of hourly checks, and cancelled no timer: the time-skipping
    // server refuses a task that cancels a timer fired meanwhile, and the import hung there (UNCANCELLED_IMPORT_TIMERS).
    const events = (await run.handle.fetchHistory()).events ?? [];
    assert.equal(events.filter((e) => e.timerCanceledEventAttributes).length, 0);
    assert.ok(events.filter((e) => e.timerFiredEventAttributes).length >= 6);
  });

  test('a row still too recent after the retry window is rejected with its code', async () => {
    const run = await runImport(templateCsv(1), () => rowError('TOO_RECENT_CALL'));
    const result = expectCompleted(run.result);
    assert.deepEqual(result.counts, counts({ rows: 1, rejected: 1 }));
    const failed = refusedOf(run.parts[0])[0];
    assert.equal(failed?.code, 'conversion_upload_error.TOO_RECENT_CALL');
    assert.match(failed?.reason ?? '', /still conversion_upload_error.TOO_RECENT_CALL after retrying for 72 h/);
    // The first try, then a retry every 6 hours while the next one still starts inside the 72 hours.
    assert.equal(run.uploads.length, 12);
  });

  test('a credentials outage parks the part (WAITING_FOR_CREDENTIALS, 5 then 10 minutes), then its rows upload', async () => {
    // The process's circuits, shared with the clicks and enhancements of the account (createCallActivities).
    const circuits = new OutageCircuits();
    const revoked = new GoogleAdsRequestError({ kind: 'auth', message: 'UNAUTHENTICATED: token revoked' });
    const requestsAt: number[] = [];
    const script: UploadScript = (row) => {
      if (row.callerId === callerOf(0)) requestsAt.push(Date.now());
      return requestsAt.length <= 2 ? revoked : { ok: true };
    };
    const before = await env.currentTimeMs();
    const run = await runImport(templateCsv(3), script, { circuits });
    const result = expectCompleted(run.result);
    assert.deepEqual(result.counts, counts({ rows: 3, uploaded: 3 }));
    // One request per attempt (3 rows each), parked between them on timers instead of 15-minute activity retries.
    assert.equal(run.uploads.length, 9);
    assert.ok((await env.currentTimeMs()) - before >= 15 * 60_000);
    const part = env.client.workflow.getHandle(callImportPartId(run.prepared.importId, 0));
    const events = (await part.fetchHistory()).events ?? [];
    const timers = events.flatMap((e) => {
      const t = e.timerStartedEventAttributes?.startToFireTimeout;
      return t ? [Math.round(Number(t.seconds ?? 0) / 60)] : [];
    });
    assert.deepEqual(timers, [5, 10]);
    const upserts = JSON.stringify(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes));
    assert.ok(upserts.includes(Buffer.from('"WAITING_FOR_CREDENTIALS"').toString('base64')), 'parked, searchable');
    const d = await part.describe();
    assert.equal(d.searchAttributes.RelayReason?.[0], GoogleAdsFailure.Auth);
  });

  test('the same file posted twice imports once', async () => {
    const scripted = scriptedCallActivities();
    const { worker, taskQueue } = await createTestWorker(env, scripted.activities);
    const csv = templateCsv(4, { start: Date.parse('2026-11-05T15:00:00Z') });
    const key = Buffer.from(uniqueId('key')).toString('base64');
    const prepared = await prepare(csv, key);
    await worker.runUntil(async () => {
      const opts = { temporal: env.client, taskQueue };
      assert.equal(await startCallImport(opts, callsConfig(), prepared, 'file'), 'started');
      await env.client.workflow.getHandle(prepared.importId).result();
      // CRLF instead of LF and a byte-order mark: the same rows, the same import.
      const again = await prepare(`\uFEFF${csv.replace(/\r\n/g, '\n')}`, key);
      assert.equal(again.importId, prepared.importId);
      assert.equal(await startCallImport(opts, callsConfig(), again, 'file'), 'already-imported');
    });
    assert.equal(scripted.uploads.length, 4);
  });

  test('a part whose upload gives up refuses its unsent rows with the failure type; the import does not go green', async () => {
    const invalid = new GoogleAdsRequestError({ kind: 'invalid', message: 'request_error.INVALID_CUSTOMER_ID' });
    const run = await runImport(templateCsv(3, { start: Date.parse('2026-11-07T15:00:00Z') }), () => invalid);
    const result = expectCompleted(run.result);
    assert.equal(result.outcome, 'COMPLETED_WITH_FAILURES');
    assert.deepEqual(result.counts, counts({ rows: 3, rejected: 3 }));
    assert.deepEqual(
      refusedOf(run.parts[0]).map((f) => [f.row, f.code]),
      [
        [2, GoogleAdsFailure.InvalidRequest],
        [3, GoogleAdsFailure.InvalidRequest],
        [4, GoogleAdsFailure.InvalidRequest],
      ],
    );
  });

  test('a part terminated mid-way is noticed within the hour: its unsettled rows count as rejected', async () => {
    const scripted = scriptedCallActivities(() => rowError('TOO_RECENT_CALL'), {
      closedWorkflows: async (ids) => {
        const closed: string[] = [];
        for (const id of ids) {
          const d = await env.client.workflow.getHandle(id).describe();
          if (d.status.name !== 'RUNNING') closed.push(id);
        }
        return closed;
      },
    });
    const { worker, taskQueue } = await createTestWorker(env, scripted.activities);
    const prepared = await prepare(templateCsv(2, { start: Date.parse('2026-11-08T15:00:00Z') }), uniqueKey());
    const outcome = await worker.runUntil(async () => {
      await startCallImport({ temporal: env.client, taskQueue }, callsConfig(), prepared, 'file');
      const part = env.client.workflow.getHandle(callImportPartId(prepared.importId, 0));
      // Wait until the part has parked its rows on the six-hour timer (its upload activity done: the test
      // server would never skip time past an activity whose workflow was terminated under it), then stop it.
      const importHandle = env.client.workflow.getHandle(prepared.importId);
      for (let i = 0; i < 400; i++) {
        const state = await importHandle.query(callImportStatusQuery).then((q) => q.state);
        if (state === 'WAITING_TO_RETRY') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await part.terminate('an operator stopped it');
      return env.client.workflow.getHandle<typeof callImportWorkflow>(prepared.importId).result();
    });
    assert.equal(outcome.outcome, 'COMPLETED_WITH_FAILURES');
    assert.deepEqual(outcome.counts, counts({ rows: 2, rejected: 2 }));
    assert.equal(outcome.parts[0]?.lost, true);
  });

  test('parts that never arrive fail the import, naming them', async () => {
    const scripted = scriptedCallActivities();
    const { worker, taskQueue } = await createTestWorker(env, scripted.activities);
    const importId = `calls-import-${Date.now().toString(16).padStart(24, '0')}`;
    const handle = await env.client.workflow.start(callImportWorkflow, {
      taskQueue,
      workflowId: importId,
      args: [
        {
          importId,
          source: 'file',
          customerId: CUSTOMER_ID,
          rows: 4000,
          parts: 2,
          createdAt: new Date().toISOString(),
          timeZone: 'America/New_York',
          partsArrivalTimeoutMs: 3_600_000,
        },
      ],
    });
    const outcome = await worker.runUntil(
      handle.result().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    );
    const failure = expectFailure(outcome);
    assert.equal(failure.type, CallImportFailure.PartsMissing);
    assert.match(failure.message, /parts 1, 2 never arrived/);
  });
});

describe('a large import', () => {
  test('4,500 rows travel in three parts, each input well under 512 KiB, the import’s history stays short', async () => {
    const run = await runImport(templateCsv(4500));
    const result = expectCompleted(run.result);
    assert.deepEqual(result.counts, counts({ rows: 4500, uploaded: 4500 }));
    assert.equal(run.prepared.parts.length, 3);
    assert.deepEqual(
      result.parts.map((p) => p.counts.rows),
      [2000, 2000, 500],
    );
    for (let i = 0; i < 3; i++) {
      const history = await env.client.workflow.getHandle(callImportPartId(run.prepared.importId, i)).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      const bytes = started.reduce((n, p) => n + (p.data?.length ?? 0), 0);
      assert.ok(bytes > 0 && bytes < 512 * 1024, `part ${i + 1} input is ${bytes} bytes`);
    }
    const parent = await run.handle.fetchHistory();
    assert.ok((parent.events?.length ?? 0) < 60, `the import's history has ${parent.events?.length} events`);
    // Upload rows are packed by the batcher downstream; the activity sees its part's rows in one call.
    assert.equal(run.uploads.length, 4500);
  });

  test('caller numbers are only inside encrypted payloads: not in ids, attributes, summaries or failures', async () => {
    const run = await runImport(templateCsv(3), (row) =>
      row.callerId === callerOf(1) ? rowError('CALL_NOT_FOUND') : { ok: true },
    );
    assert.equal(expectCompleted(run.result).outcome, 'COMPLETED_WITH_FAILURES');
    for (const id of [run.prepared.importId, callImportPartId(run.prepared.importId, 0)]) {
      const handle = env.client.workflow.getHandle(id);
      const raw = JSON.stringify(await handle.fetchHistory());
      const d = await handle.describe();
      for (let i = 0; i < 3; i++) {
        const digits = callerOf(i).slice(1);
        assert.ok(!raw.includes(digits), `${id}: the raw history shows caller ${i}`);
        assert.ok(!id.includes(digits));
        assert.ok(!JSON.stringify(d.raw).includes(digits), `${id}: describe shows caller ${i}`);
      }
      assert.equal(
        d.typedSearchAttributes.get(RelayFlow),
        id === run.prepared.importId ? CALL_IMPORT_FLOW : 'call-import-part',
      );
      assert.equal(d.typedSearchAttributes.get(RelayAccount), CUSTOMER_ID);
    }
    // With the key, the part's history does hold them (the report needs them back).
    const readable = await readableHistory(env.client.workflow.getHandle(callImportPartId(run.prepared.importId, 0)));
    assert.ok(readable.text.includes(callerOf(1)));
    assert.ok(readable.encryptedPayloads > 0);
  });
});
