// Real Temporal servers for tests: the Java time-skipping test server and the CLI dev server, both
// installed from PyPI by scripts/install-temporal.mjs and found by path.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, type DataConverter, type Payload, type QueryDefinition } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type NativeConnection,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { temporalCliPath, temporalTestServerPath } from '../../src/dev/temporal-binaries';
import { countBillableActions, type BillableActions } from '../../src/temporal/billable-actions';
import { payloadCodec, relayDataConverter } from '../../src/temporal/data-converter';
import { RelayWorkers, WORKFLOW_BUNDLE_OPTIONS } from '../../src/workers/relay-worker';
import { uploadTaskQueue } from '../../src/domain/task-queues';
import { RELAY_SEARCH_ATTRIBUTES, RelayReason, RelayStatus } from '../../src/workflows/search-attributes';

/** A fixed key, so histories recorded in tests replay in tests. Never used outside tests. */
export const TEST_PAYLOAD_KEY = Buffer.alloc(32, 7).toString('base64');
export const testCodec = () => payloadCodec({ id: 'test-key', key: TEST_PAYLOAD_KEY });
export const testDataConverter = () => relayDataConverter(testCodec());

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
    client: { dataConverter: testDataConverter() },
  });
  // The test server has no --search-attribute flag; its operator service registers them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      RELAY_SEARCH_ATTRIBUTES.map((k) => [
        k.name,
        temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`],
      ]),
    ),
  });
  return env;
}

export async function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: RELAY_SEARCH_ATTRIBUTES,
    },
    client: { dataConverter: testDataConverter() },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Webpack runs once per test file, not once per worker. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
  return bundle;
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID()}`;

export type Outcome<R> = { value: R } | { error: unknown };

/**
 * Runs `worker` until the workflow ends and reports what an operator would see: the result or failure, the
 * `status` query (read while the worker still runs), the RelayStatus/RelayReason search attributes, and the
 * keys of each search-attribute upsert in order (each one is a billed command).
 */
export async function observeRun<R, S>(
  worker: Pick<RelayWorkers, 'runUntil'>,
  handle: Pick<WorkflowHandle, 'query' | 'describe' | 'fetchHistory'> & { result(): Promise<R> },
  statusQuery: QueryDefinition<S>,
): Promise<{
  outcome: Outcome<R>;
  status: S;
  upserts: string[][];
  relayStatus?: string;
  relayReason?: string;
  /** Temporal's billable Actions, counted from the history. */
  actions: BillableActions;
}> {
  const { outcome, status } = await worker.runUntil(async () => {
    const outcome = await handle.result().then(
      (value): Outcome<R> => ({ value }),
      (error: unknown): Outcome<R> => ({ error }),
    );
    return { outcome, status: await handle.query(statusQuery) };
  });
  const { typedSearchAttributes } = await handle.describe();
  const history = await handle.fetchHistory();
  return {
    outcome,
    status,
    upserts: (history.events ?? []).flatMap((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      // patched() writes TemporalChangeVersion on its own, which is not billed.
      const keys = Object.keys(fields ?? {}).filter((k) => k !== 'TemporalChangeVersion');
      return keys.length > 0 ? [keys] : [];
    }),
    relayStatus: typedSearchAttributes.get(RelayStatus),
    relayReason: typedSearchAttributes.get(RelayReason),
    actions: countBillableActions(history.events ?? []),
  };
}

/** The workflow's result, failing the test if it failed instead. */
export function expectCompleted<R>(outcome: Outcome<R>): R {
  if ('error' in outcome) assert.fail(`expected the workflow to complete, it failed: ${String(outcome.error)}`);
  return outcome.value;
}

/** The typed ApplicationFailure the workflow failed with, failing the test if it did anything else. */
export function expectFailure(outcome: Outcome<unknown>): ApplicationFailure {
  assert.ok('error' in outcome, `expected the workflow to fail, it returned ${JSON.stringify(outcome)}`);
  assert.ok(outcome.error instanceof WorkflowFailedError, String(outcome.error));
  assert.ok(outcome.error.cause instanceof ApplicationFailure, String(outcome.error.cause));
  return outcome.error.cause;
}

/**
 * The workers of one relay process on `taskQueue`: the workflows and, on its own queue as in production
 * (src/domain/task-queues.ts), the vendor uploads; both with every activity given.
 */
export async function createRelayTestWorkers(opts: {
  connection: NativeConnection;
  taskQueue: string;
  activities: object;
  dataConverter?: DataConverter;
  workflowBundle?: WorkflowBundleWithSourceMap;
}): Promise<RelayWorkers> {
  const dataConverter = opts.dataConverter ?? testDataConverter();
  const workflows = await Worker.create({
    connection: opts.connection,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    workflowBundle: opts.workflowBundle ?? (await workflowBundle()),
    dataConverter,
  });
  const uploads = await Worker.create({
    connection: opts.connection,
    taskQueue: uploadTaskQueue(opts.taskQueue),
    activities: opts.activities,
    dataConverter,
  });
  return new RelayWorkers({ workflows, uploads });
}

/** A worker for the test environment on a task queue of its own, with the real workflow bundle and codec. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  activities: object,
): Promise<{ worker: RelayWorkers; taskQueue: string }> {
  const taskQueue = uniqueId('tq');
  const worker = await createRelayTestWorkers({ connection: env.nativeConnection, taskQueue, activities });
  return { worker, taskQueue };
}

function collectPayloads(value: unknown, out: Payload[], seen = new Set<object>()): Payload[] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || seen.has(value)) return out;
  seen.add(value);
  const v = value as { data?: unknown; metadata?: unknown };
  if (v.data instanceof Uint8Array && typeof v.metadata === 'object' && v.metadata !== null) out.push(v as Payload);
  for (const child of Object.values(value)) collectPayloads(child, out, seen);
  return out;
}

/**
 * The history as an operator holding the payload key would read it: every text field, plus every payload
 * decrypted. Encrypted bytes are left out: their base64 could contain a short name by chance.
 */
export async function readableHistory(handle: WorkflowHandle): Promise<{ text: string; encryptedPayloads: number }> {
  const history = await handle.fetchHistory();
  const payloads = collectPayloads(history, []);
  const decoded = await testCodec().decode(payloads);
  const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
  const texts = JSON.stringify(history, (_key, value: unknown) =>
    typeof value === 'string' && /^[A-Za-z0-9+/]{16,}={0,2}$/.test(value) ? '' : value,
  );
  const decodedText = decoded
    .map(
      (p) =>
        `${utf8(p.data)} ${Object.values(p.metadata ?? {})
          .map(utf8)
          .join(' ')}`,
    )
    .join('\n');
  // The codec hands back the very object it was given for anything it did not encrypt.
  const encryptedPayloads = payloads.filter((p, i) => p !== decoded[i]).length;
  return { text: `${texts}\n${decodedText}`, encryptedPayloads };
}
