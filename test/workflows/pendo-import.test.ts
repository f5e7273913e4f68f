// The nightly Pendo import on the time-skipping test server: real workflow code and the real activities over
// the real HubSpot SDK and Pendo client, against the HubSpot and Pendo emulators. Continue-as-new, a worker
// killed mid-run, Pendo's 409/429, conflicts and every outcome count.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { HubSpotRecordPage } from '../../src/clients/hubspot/records';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import { PendoFailure } from '../../src/domain/pendo/types';
import {
  pendoImportStatusQuery,
  pendoImportWorkflow,
  type PendoImportInput,
  type PendoImportResult,
} from '../../src/workflows/pendo-import';
import { RelayFlow, RelayStatus } from '../../src/workflows/search-attributes';
import { pendoActivities, pendoConfig, startPendoParts, type PendoParts } from '../helpers/pendo';
import {
  createTestWorker,
  createTimeSkippingEnv,
  expectCompleted,
  expectFailure,
  observeRun,
  readableHistory,
  testDataConverter,
  uniqueId,
  workflowBundle,
} from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let parts: PendoParts;
before(async () => {
  env = await createTimeSkippingEnv();
  parts = await startPendoParts();
});
after(async () => {
  await parts?.close();
  await env?.teardown();
});
beforeEach(() => {
  parts.pendo.reset();
  parts.hubspot.setFault(undefined);
});

function start(
  taskQueue: string,
  input: Partial<PendoImportInput> = {},
): Promise<WorkflowHandle<typeof pendoImportWorkflow>> {
  return env.client.workflow.start(pendoImportWorkflow, {
    taskQueue,
    workflowId: uniqueId('pendo-import-test'),
    args: [{ trigger: 'manual', ...input }],
    typedSearchAttributes: [
      { key: RelayFlow, value: 'pendo-import' },
      { key: RelayStatus, value: 'STARTING' },
    ],
  });
}

async function runImport(activities: object, input: Partial<PendoImportInput> = {}) {
  const { worker, taskQueue } = await createTestWorker(env, activities);
  const handle = await start(taskQueue, input);
  const observed = await observeRun(worker, handle, pendoImportStatusQuery);
  return { ...observed, handle };
}

/** Separate id ranges per test: the emulator keeps its HubSpot records for the whole file. */
let nextFirstId = 10_000;

/** Only the contacts of one test: the others' records stay in the emulator, so each test uses its own id property. */
function configFor(idProperty: string, properties = ['lifecyclestage', 'num_employees']) {
  return pendoConfig(`
pendo:
  timeZone: Asia/Tokyo
  visitor:
    idProperty: ${idProperty}
    properties: [${properties.join(', ')}]
`);
}

/** Seeds contacts whose Pendo id lives in a property of the test's own, so earlier tests' contacts have none. */
function seedOwn(idProperty: string, n: number, values: (i: number) => Record<string, string> = () => ({})) {
  const firstId = nextFirstId;
  nextFirstId += 10_000;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${idProperty}-${i}`;
    parts.hubspot.upsertContact(String(firstId + i), {
      [idProperty]: id,
      lifecyclestage: 'lead',
      num_employees: String(i),
      ...values(i),
    });
    ids.push(id);
  }
  parts.pendo.addIds('visitor', ids);
  return { firstId, ids };
}

describe('Pendo import workflow', () => {
  test('imports every visitor and account, values typed, and ends COMPLETED with the counts', async () => {
    parts.hubspot.upsertContact('901', {
      pendo_visitor_id: 'V-901',
      lifecyclestage: 'customer',
      num_employees: '42',
      newsletter_opt_in: 'true',
      renewal_date: '2027-03-01',
      last_login_at: '2026-11-30T08:15:00.000Z',
      interests: 'analytics;guides',
      contract_pdf: 'https://files.example/contract.pdf',
    });
    parts.hubspot.upsertCompany('902', {
      pendo_account_id: 'A-902',
      name: 'Example KK',
      annualrevenue: '1200000.5',
      is_public: 'false',
    });
    parts.pendo.addIds('visitor', ['V-901']);
    parts.pendo.addIds('account', ['A-902']);
    // BOTH_LEVELS imports each of these properties.
    const { outcome, status, relayStatus, handle } = await runImport(pendoActivities(parts));
    const result = expectCompleted(outcome);
    // Values and Pendo ids went HubSpot → activity → Pendo: the history (decrypted) holds names and counts only.
    const { text, encryptedPayloads } = await readableHistory(handle);
    assert.ok(encryptedPayloads > 0 && text.includes('newsletter_opt_in') && text.includes('"updated":1'));
    for (const plain of ['V-901', 'A-902', 'Example KK', 'analytics;guides', '1200000.5', 'contract.pdf']) {
      assert.ok(!text.includes(plain), `history holds ${plain}`);
    }
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(relayStatus, 'COMPLETED');
    assert.deepEqual(parts.pendo.valuesOf('visitor', 'V-901'), {
      lifecyclestage: 'customer',
      num_employees: 42,
      newsletter_opt_in: true,
      renewal_date: Date.UTC(2027, 2, 1),
      last_login_at: Date.UTC(2026, 10, 30, 8, 15),
      interests: 'analytics;guides',
    });
    assert.deepEqual(parts.pendo.valuesOf('account', 'A-902'), {
      name: 'Example KK',
      annualrevenue: 1200000.5,
      is_public: false,
    });
    const visitor = status.levels.find((l) => l.level === 'visitor');
    assert.deepEqual(
      visitor?.skipped.map((s) => [s.name, s.reason]),
      [['contract_pdf', 'NOT_SUPPORTED']],
    );
    // Every contact the emulator holds was read; the one with an id in Pendo was updated.
    assert.equal(visitor?.counts.updated, 1);
    assert.equal(visitor?.counts.read, (visitor?.counts.emptyId ?? 0) + 1);
    assert.equal(status.state, 'COMPLETED');
    assert.ok(status.finishedAt);
  });

  test('continues as new every few chunks and keeps every count and the cursor across runs', async () => {
    const { ids } = seedOwn('can_id', 250);
    const { outcome, status, handle } = await runImport(pendoActivities(parts, { config: configFor('can_id') }), {
      pagesPerChunk: 1,
      chunksPerRun: 2,
    });
    const result = expectCompleted(outcome);
    const level = result.levels[0];
    assert.equal(level?.counts.updated, 250);
    assert.equal(parts.pendo.updated.visitor, 250);
    for (const id of ids) assert.equal(parts.pendo.valuesOf('visitor', id)?.lifecyclestage, 'lead', id);
    // The contacts of earlier tests have no can_id: read, counted, never sent.
    assert.equal(level?.counts.read, 250 + (level?.counts.emptyId ?? 0));
    const pages = Math.ceil((level?.counts.read ?? 0) / 100);
    assert.ok(status.runs >= Math.ceil(pages / 2), `runs ${status.runs} for ${pages} pages`);
    const history = await handle.fetchHistory();
    assert.ok((history.events?.length ?? 0) < 60, `the last run's history is short: ${history.events?.length}`);
  });

  test('conflicts, empty ids, unknown Pendo ids and unparsable values are counted; the run fails visibly', async () => {
    const firstId = nextFirstId;
    nextFirstId += 10_000;
    const c = (n: number) => String(firstId + n);
    parts.hubspot.upsertContact(c(0), { conflict_id: 'same', lifecyclestage: 'lead', num_employees: '1' });
    parts.hubspot.upsertContact(c(1), { conflict_id: 'same', lifecyclestage: 'customer', num_employees: '2' });
    parts.hubspot.upsertContact(c(2), { conflict_id: 'Same', lifecyclestage: 'lead', num_employees: 'abc' });
    parts.hubspot.upsertContact(c(3), { conflict_id: ' padded', lifecyclestage: 'lead', num_employees: '4' });
    parts.hubspot.upsertContact(c(4), { conflict_id: 'not-in-pendo', lifecyclestage: 'lead' });
    parts.hubspot.upsertContact(c(5), { lifecyclestage: 'lead' });
    parts.pendo.addIds('visitor', ['same', 'Same', ' padded', 'padded']);
    const { outcome, status, relayStatus, relayReason } = await runImport(
      pendoActivities(parts, { config: configFor('conflict_id') }),
    );
    const failure = expectFailure(outcome);
    assert.equal(failure.type, PendoFailure.CompletedWithFailures);
    assert.equal(relayStatus, 'COMPLETED_WITH_FAILURES');
    assert.match(relayReason ?? '', /CONFLICTING_IDS/);
    assert.match(relayReason ?? '', /INVALID_VALUES/);
    const result = failure.details?.[0] as PendoImportResult;
    const level = result.levels[0];
    assert.ok(level);
    assert.equal(level.counts.conflicts, 2);
    assert.deepEqual([...level.samples.conflicts.ids].sort(), [c(0), c(1)].sort());
    assert.equal(level.conflictingIds, 1);
    assert.equal(level.counts.missing, 1);
    assert.deepEqual(level.samples.missing.ids, [c(4)]);
    assert.deepEqual(level.counts.invalidValues, { num_employees: 1 });
    assert.deepEqual(level.samples.invalid.ids, [c(2)]);
    assert.equal(level.counts.emptyId, level.counts.read - 5, 'every contact without conflict_id, c(5) among them');
    // Neither conflicting record was written; ids map exactly (case and spaces kept, no trimming).
    assert.deepEqual(parts.pendo.valuesOf('visitor', 'same'), {});
    assert.deepEqual(parts.pendo.valuesOf('visitor', 'Same'), { lifecyclestage: 'lead' });
    assert.deepEqual(parts.pendo.valuesOf('visitor', ' padded'), { lifecyclestage: 'lead', num_employees: 4 });
    assert.deepEqual(parts.pendo.valuesOf('visitor', 'padded'), {});
    assert.equal(status.state, 'COMPLETED_WITH_FAILURES');
  });

  test("Pendo's 409 (another write running) and 429 are retried with backoff until the write goes through", async () => {
    const { ids } = seedOwn('busy_id', 30);
    // Seven 409s outlast the client's own five retries: the activity fails once and Temporal retries it.
    parts.pendo.setFault({ type: 'busy', times: 7 });
    const { outcome, handle } = await runImport(pendoActivities(parts, { config: configFor('busy_id') }));
    const result = expectCompleted(outcome);
    assert.equal(result.levels[0]?.counts.updated, 30);
    for (const id of ids) assert.ok(parts.pendo.valuesOf('visitor', id)?.lifecyclestage);
    const history = await handle.fetchHistory();
    const failed = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes?.attempt === 2);
    assert.equal(failed.length, 1, 'the chunk ran a second attempt');

    seedOwn('rate_id', 10);
    parts.pendo.setFault({ type: 'rate-limit', times: 3, retryAfterSeconds: 1 });
    const second = await runImport(pendoActivities(parts, { config: configFor('rate_id') }));
    assert.equal(expectCompleted(second.outcome).levels[0]?.counts.updated, 10);
  });

  test('a refused Pendo key parks the import (WAITING_FOR_CREDENTIALS, 5 then 10 minutes), then it imports', async () => {
    const { ids } = seedOwn('key_id', 12);
    // Three refusals: the first write opens the circuit; the attempts after 5 and 10 minutes are refused too,
    // until the third park (20 minutes) ends with the key working again.
    parts.pendo.setFault({ type: 'auth', times: 3 });
    const circuits = new OutageCircuits();
    const { outcome, handle, upserts } = await runImport(
      pendoActivities(parts, { config: configFor('key_id'), circuits }),
    );
    const result = expectCompleted(outcome);
    assert.equal(result.levels[0]?.counts.updated, 12);
    for (const id of ids) assert.ok(parts.pendo.valuesOf('visitor', id)?.lifecyclestage);
    const events = (await handle.fetchHistory()).events ?? [];
    const timers = events.flatMap((e) => {
      const t = e.timerStartedEventAttributes?.startToFireTimeout;
      return t ? [Math.round(Number(t.seconds ?? 0) / 60)] : [];
    });
    assert.deepEqual(timers, [5, 10, 20]);
    // No activity retries: each refusal came back at once as an outage.
    assert.equal(events.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1).length, 0);
    assert.ok(
      upserts.some((keys) => keys.includes('RelayReason') && keys.includes('RelayStatus')),
      'parked, searchable',
    );
    const d = await handle.describe();
    assert.equal(d.searchAttributes.RelayStatus?.[0], 'COMPLETED');
  });

  test('a worker killed mid-run resumes at its checkpoint without rereading pages already written', async () => {
    const { firstId, ids } = seedOwn('crash_id', 2500);
    const config = configFor('crash_id');
    // Pages the import (not the id scan) read in each attempt, by the id of their first record.
    const reads: { attempt: number; first: string }[] = [];
    let release: (() => void) | undefined;
    const blocker = {
      ...parts.reader,
      page: async (
        object: 'contacts' | 'companies',
        properties: readonly string[],
        after?: string,
      ): Promise<HubSpotRecordPage> => {
        const ctx = Context.current();
        const page = await parts.reader.page(object, properties, after);
        if (ctx.info.activityType !== 'importPendoPages') return page;
        const first = page.records[0]?.id ?? 'end';
        reads.push({ attempt: ctx.info.attempt, first });
        // The first attempt stops dead on the 15th page of this test's contacts (the worker "dies" there).
        if (ctx.info.attempt === 1 && !release && Number(first) >= firstId + 1400) {
          await new Promise<void>((resolve, reject) => {
            release = resolve;
            ctx.cancelled.catch(reject);
          });
        }
        return page;
      },
      propertyDefinitions: parts.reader.propertyDefinitions.bind(parts.reader),
      count: parts.reader.count.bind(parts.reader),
    };
    const activities = pendoActivities(parts, { config, hubspot: blocker });
    const bundle = await workflowBundle();
    const taskQueue = uniqueId('tq-crash');
    const create = (cache = true) =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        activities,
        workflowBundle: bundle,
        dataConverter: testDataConverter(),
        maxHeartbeatThrottleInterval: '1s',
        // Without a cache the dying worker has no sticky queue that the next workflow task would wait out.
        ...(cache ? {} : { maxCachedWorkflows: 0 }),
      });
    const first = await create(false);
    const firstRun = first.run();
    // A killed worker reports nothing more: the server hands the chunk to another worker once its heartbeat
    // is overdue. The test server cannot skip time while an activity counts as running, so 3 s, not 2 min.
    const handle = await start(taskQueue, { chunkHeartbeatTimeoutMs: 3000 });
    // Wait until the server holds a checkpoint after the first write of this test's contacts (about 900).
    const converter = loadDataConverter(testDataConverter());
    let checkpoint: { after?: string; pages: number } | undefined;
    for (let i = 0; i < 600 && !checkpoint?.after; i++) {
      const d = await handle.describe();
      const payloads = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads ?? [];
      if (payloads.length > 0) {
        const cp = await decodeFromPayloadsAtIndex<{ after?: string; pages: number }>(converter, 0, payloads);
        if (cp?.after && Number(cp.after) > firstId + 500) checkpoint = cp;
      }
      if (!checkpoint) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      checkpoint?.after,
      `a checkpoint reached the server (written ${parts.pendo.updated.visitor}, reads ${JSON.stringify(reads.slice(-3))}, ${JSON.stringify((await handle.describe()).raw.pendingActivities)})`,
    );
    first.shutdown();
    await firstRun;
    release?.();
    const written = parts.pendo.updated.visitor;
    assert.ok(written >= 900 && written < 2500, `written before the kill: ${written}`);

    const second = await create();
    const result = await second.runUntil(handle.result());
    const level = result.levels[0];
    assert.equal(level?.counts.updated, 2500);
    // Each visitor was written exactly once in total: nothing before the checkpoint was sent again.
    assert.equal(parts.pendo.updated.visitor, 2500);
    for (const id of [ids[0], ids[999], ids[1500], ids[2499]])
      assert.ok(parts.pendo.valuesOf('visitor', id ?? '')?.lifecyclestage);
    const retried = reads.filter((r) => r.attempt > 1).map((r) => r.first);
    assert.ok(retried.length > 0, 'the chunk was retried');
    const cursor = checkpoint.after;
    assert.ok(
      retried.every((f) => f === 'end' || Number(f) >= Number(cursor)),
      `the retry reread pages before the checkpoint ${cursor}: ${retried.slice(0, 5).join(', ')}`,
    );
  });

  test('a property removed from the list is no longer imported; what Pendo has of it stays', async () => {
    const { firstId, ids } = seedOwn('removal_id', 3);
    const first = await runImport(pendoActivities(parts, { config: configFor('removal_id') }));
    expectCompleted(first.outcome);
    assert.deepEqual(parts.pendo.valuesOf('visitor', ids[1] ?? ''), { lifecyclestage: 'lead', num_employees: 1 });
    parts.hubspot.upsertContact(String(firstId + 1), { lifecyclestage: 'customer', num_employees: '99' });
    const second = await runImport(pendoActivities(parts, { config: configFor('removal_id', ['lifecyclestage']) }));
    expectCompleted(second.outcome);
    assert.deepEqual(parts.pendo.valuesOf('visitor', ids[1] ?? ''), { lifecyclestage: 'customer', num_employees: 1 });
  });

  test('an id property HubSpot keeps unique needs no id scan', async () => {
    seedOwn('unique_scan_id', 5);
    const activities = pendoActivities(parts, { config: configFor('hs_object_id', ['lifecyclestage']) });
    const calls: string[] = [];
    const { outcome } = await runImport({
      ...activities,
      scanPendoIds: (req: Parameters<typeof activities.scanPendoIds>[0]) => {
        calls.push('scan');
        return activities.scanPendoIds(req);
      },
    });
    const result = expectCompleted(outcome);
    assert.deepEqual(calls, []);
    assert.equal(result.levels[0]?.estimate, result.levels[0]?.counts.read, 'the estimate comes from the count');
  });

  test('a second import while one is running ends SKIPPED, naming the running one', async () => {
    const running = [{ workflowId: 'pendo-import-2026-12-01T15:00:00Z', startTime: new Date(0) }];
    const { outcome, relayStatus, relayReason, status } = await runImport(pendoActivities(parts, { running }));
    const result = expectCompleted(outcome);
    assert.equal(result.outcome, 'SKIPPED');
    assert.equal(result.runningImport, running[0]?.workflowId);
    assert.equal(relayStatus, 'SKIPPED');
    assert.equal(relayReason, 'ALREADY_RUNNING');
    assert.equal(status.levels.length, 0);
    assert.equal(parts.pendo.writes.length, 0);
  });

  test('an id property HubSpot does not have fails its level; the other level still imports', async () => {
    parts.hubspot.upsertCompany('7001', { pendo_account_id: 'A-7001', name: 'Only Co' });
    parts.pendo.addIds('account', ['A-7001']);
    const config = pendoConfig(`
pendo:
  timeZone: Asia/Tokyo
  visitor: { idProperty: no_such_id, properties: [lifecyclestage] }
  account: { idProperty: pendo_account_id, properties: [name] }
`);
    const { outcome, relayReason } = await runImport(pendoActivities(parts, { config }));
    const failure = expectFailure(outcome);
    const result = failure.details?.[0] as PendoImportResult;
    assert.equal(result.levels.find((l) => l.level === 'visitor')?.error?.reason, 'UNKNOWN_ID_PROPERTY');
    assert.equal(parts.pendo.valuesOf('account', 'A-7001')?.name, 'Only Co');
    assert.match(relayReason ?? '', /UNKNOWN_ID_PROPERTY/);
  });

  test('without a pendo section the run fails at once with a typed, non-retryable failure', async () => {
    const { outcome, relayStatus } = await runImport({
      ...pendoActivities(parts),
      planPendoImport: () =>
        Promise.reject(
          ApplicationFailure.create({
            type: PendoFailure.NotConfigured,
            message: 'no pendo section',
            nonRetryable: true,
          }),
        ),
    });
    assert.equal(expectFailure(outcome).type, PendoFailure.NotConfigured);
    assert.equal(relayStatus, 'FAILED');
  });

  test('a status query shows the phase and progress while it runs', async () => {
    seedOwn('progress_id', 120);
    let seen: string[] = [];
    const activities = pendoActivities(parts, { config: configFor('progress_id') });
    const { worker, taskQueue } = await createTestWorker(env, {
      ...activities,
      importPendoPages: async (req: Parameters<typeof activities.importPendoPages>[0]) => {
        seen = [...seen, 'chunk'];
        return activities.importPendoPages(req);
      },
    });
    const handle = await start(taskQueue, { pagesPerChunk: 1 });
    await worker.runUntil(async () => {
      await handle.result();
      const status = await handle.query(pendoImportStatusQuery);
      assert.equal(status.levels[0]?.phase, 'DONE');
      assert.ok((status.levels[0]?.estimate ?? 0) >= 120);
    });
    assert.ok(seen.length >= 2);
    const metadata = await handle.describe();
    assert.equal(metadata.typedSearchAttributes.get(RelayStatus), 'COMPLETED');
  });
});
