// Chaos: a burst of 1,000 CM360 conversions survives a worker killed with SIGKILL and a Temporal server
// restart. The Temporal CLI dev server (SQLite file, restartable), the CM360 emulator and the api run here; the
// worker is `bin/relay.js worker`, a child process killed and started again. Every wait is on a condition.
//
// What may be sent twice: a row whose request had reached CM360 when its worker died (or whose answer could not
// be reported while the server was down). Temporal retries that attempt and the conversion is enhanced again.
// That is harmless: batchupdate sets the conversion's user identifiers (and the quantity and value, which are the
// original ones), so a second enhancement with the same identifiers changes nothing. What must never happen is
// a conversion lost, or a row of a dead attempt sent later beside its retry (the batcher withdraws those).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { loadConfig } from '../../src/config/env';
import { cm360ConversionKey } from '../../src/domain/cm360/types';
import { startCm360Emulator, type Cm360Emulator, type RecordedRequest } from '../../src/sandbox/cm360';
import { startApi, type RunningApi } from '../../src/workers/composition';
import { TEST_PAYLOAD_KEY, uniqueId } from '../helpers/temporal';
import { DevServer, freePort, waitFor, WorkerProcess } from './stack';

const BURST = 1000;
const API_KEY = 'chaos-key';
const CONFIG_ID = '99999';
const ACTIVITY_ID = '8888';
/** Enhanced before the fault is injected: some of the burst, far from all of it. */
const FAULT_AFTER = 150;
const WORKER_SETTINGS = {
  CM360_ENHANCE_DELAY: '1s',
  CM360_BATCH_LINGER: '200ms',
  // A few requests a second: the burst takes a while, so a fault lands in the middle of it.
  CM360_QPS: '2',
};

let tmp: string;
let server: DevServer;
let emulator: Cm360Emulator;
let connection: Connection;
let client: Client;
const apis: RunningApi[] = [];
const workers: WorkerProcess[] = [];

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'relay-chaos-'));
  server = new DevServer(await freePort(), join(tmp, 'temporal.db'), join(tmp, 'temporal.log'));
  await server.start();
  emulator = await startCm360Emulator({ indexDelayMs: 0 });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: 'default' });
});

after(async () => {
  for (const w of workers) await w.stop('SIGKILL').catch(() => undefined);
  for (const api of apis) await api.stop().catch(() => undefined);
  await connection?.close().catch(() => undefined);
  await emulator?.close();
  await server?.stop();
  // CHAOS_KEEP_FILES=1 keeps the server's and the workers' logs for a look after a failure.
  if (tmp && !process.env.CHAOS_KEEP_FILES) rmSync(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`logs kept in ${tmp}`);
});

/** The environment of `relay worker` (and of the api, in this process) for one scenario's task queue. */
function relayEnv(taskQueue: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    RELAY_TASK_QUEUE: taskQueue,
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    RELAY_API_KEY: API_KEY,
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_DEFAULT_PHONE_REGION: 'US',
    CM360_PROFILE_ID: '4242',
    CM360_API_ROOT: emulator.apiRoot,
    CM360_ACCESS_TOKEN: 'sandbox-token',
    ...WORKER_SETTINGS,
  };
}

function startWorkerProcess(taskQueue: string): WorkerProcess {
  // Only what the worker needs: no TEMPORAL_* or temporal.toml of the machine running the tests (HOME is tmp).
  const env = { PATH: process.env.PATH ?? '', HOME: tmp, ...relayEnv(taskQueue) };
  const worker = new WorkerProcess(env, join(tmp, `worker-${taskQueue}.log`));
  workers.push(worker);
  return worker;
}

interface Burst {
  taskQueue: string;
  ordinals: string[];
  keys: Set<string>;
  postedAt: number;
  /** When the last of them had started. */
  startedAt: number;
  /** How many times the body was posted until every conversion had started (1: the first answer started all). */
  rounds: number;
}

/** Conversions per request: the whole burst in one request, answered within the api's 10 s start deadline. */
const POST_CHUNK = 1000;

/**
 * Posts BURST conversions through the api in a few requests and, as a client should, sends again those
 * Temporal did not start in time (`failed`): a resend answers `duplicate` for what had started.
 */
async function postBurst(api: RunningApi, taskQueue: string, name: string): Promise<Burst> {
  const run = uniqueId(name);
  const ordinals = Array.from({ length: BURST }, (_, i) => `${run}-${i}`);
  const timestampMicros = String(BigInt(Date.now()) * 1000n);
  const conversion = (i: number) => ({
    matchId: `match-${i}`,
    ordinal: ordinals[i],
    timestampMicros,
    floodlightConfigurationId: CONFIG_ID,
    floodlightActivityId: ACTIVITY_ID,
    quantity: 1,
    value: 10,
    user: { email: `chaos-${i}@example.com` },
  });
  const postedAt = Date.now();
  let pending = ordinals.map((_, i) => i);
  let rounds = 0;
  for (let round = 1; pending.length > 0; round++) {
    rounds = round;
    assert.ok(round <= 20, `${pending.length} conversions still not started after 20 rounds`);
    const failed: number[] = [];
    for (let i = 0; i < pending.length; i += POST_CHUNK) {
      const chunk = pending.slice(i, i + POST_CHUNK);
      const res = await fetch(`${api.url}/v1/cm360/conversions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify(chunk.map(conversion)),
      });
      const answer = (await res.json()) as { conversions?: { index: number; status: string }[] };
      assert.ok(res.status === 202 || res.status === 503, `${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
      for (const c of answer.conversions ?? []) {
        assert.ok(['started', 'duplicate', 'failed'].includes(c.status), c.status);
        if (c.status === 'failed') failed.push(chunk[c.index] as number);
      }
    }
    pending = failed;
  }
  const keys = new Set(
    ordinals.map((ordinal) =>
      cm360ConversionKey({ floodlightConfigurationId: CONFIG_ID, floodlightActivityId: ACTIVITY_ID, ordinal }),
    ),
  );
  return { taskQueue, ordinals, keys, postedAt, startedAt: Date.now(), rounds };
}

/** How often each conversion of the burst was enhanced at the emulator. */
function counts(burst: Burst): Map<string, number> {
  const all = emulator.enhancementCounts();
  return new Map([...burst.keys].map((k) => [k, all.get(k) ?? 0]));
}

const enhancedOf = (burst: Burst) => [...counts(burst).values()].filter((n) => n > 0).length;

/** The burst's rows in a recorded request. */
function rowsOf(r: RecordedRequest, burst: Burst): string[] {
  const conversions = (r.body as { conversions?: Record<string, unknown>[] }).conversions ?? [];
  return conversions
    .map((c) =>
      cm360ConversionKey({
        floodlightConfigurationId: String(c.floodlightConfigurationId),
        floodlightActivityId: String(c.floodlightActivityId),
        ordinal: String(c.ordinal),
      }),
    )
    .filter((k) => burst.keys.has(k));
}

/** Requests of the burst that CM360 answered (with no fault set and no index delay, every row of them enhanced). */
const requestsOf = (burst: Burst) => emulator.requests.filter((r) => r.status === 200 && rowsOf(r, burst).length > 0);

async function countWorkflows(query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}

/** Waits until every workflow of the burst has closed; then each must be COMPLETED. */
async function waitForAllCompleted(burst: Burst): Promise<number> {
  const q = `TaskQueue = "${burst.taskQueue}"`;
  await waitFor(
    `${BURST} completed workflows on ${burst.taskQueue}`,
    async () => (await countWorkflows(`${q} AND ExecutionStatus = "Completed"`)) === BURST,
    { timeoutMs: 240_000, everyMs: 500 },
  );
  const completedAt = Date.now();
  assert.equal(await countWorkflows(q), BURST, 'one workflow per conversion');
  assert.equal(await countWorkflows(`${q} AND ExecutionStatus != "Completed"`), 0, 'none failed or still running');
  return completedAt;
}

/** The enhancement activity's attempts after the first: how many, and when the last of them started. */
async function retriedAttempts(burst: Burst): Promise<{ retried: number; lastRetryStartedAt: number | undefined }> {
  let retried = 0;
  let lastRetryStartedAt: number | undefined;
  const ids = burst.ordinals.map((o) => `cm360-enhance-${CONFIG_ID}-${ACTIVITY_ID}-${o}`);
  for (let i = 0; i < ids.length; i += 25) {
    const histories = await Promise.all(ids.slice(i, i + 25).map((id) => client.workflow.getHandle(id).fetchHistory()));
    for (const h of histories) {
      for (const e of h.events ?? []) {
        const started = e.activityTaskStartedEventAttributes;
        if (!started || (started.attempt ?? 1) <= 1) continue;
        retried += 1;
        const at = tsToMs(e.eventTime);
        lastRetryStartedAt = Math.max(lastRetryStartedAt ?? 0, at);
      }
    }
  }
  return { retried, lastRetryStartedAt };
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** SIGTERM, as an orchestrator stops the worker: with nothing running it exits without waiting out its grace. */
async function stopTimed(worker: WorkerProcess): Promise<number> {
  const from = Date.now();
  await worker.stop('SIGTERM');
  assert.equal(worker.child.exitCode, 0, worker.tail());
  return Date.now() - from;
}

describe('chaos: 1,000 CM360 conversions through faults', () => {
  test(
    'the worker killed with SIGKILL mid-burst: a new worker resumes in under 60 s, nothing lost',
    { timeout: 300_000 },
    async () => {
      const taskQueue = uniqueId('chaos-kill');
      const api = await startApi(loadConfig(relayEnv(taskQueue)));
      apis.push(api);
      // The burst is captured first and waits in Temporal; the worker then works through it as fast as CM360's
      // rate allows, so the kill lands in the middle of a backlog of 1,000.
      const burst = await postBurst(api, taskQueue, 'kill');
      const first = startWorkerProcess(taskQueue);
      await first.ready;

      const atKill = await waitFor('part of the burst enhanced', () => {
        const n = enhancedOf(burst);
        return n >= FAULT_AFTER && n;
      });
      const killAt = Date.now();
      await first.stop('SIGKILL');
      assert.ok(atKill < BURST, `the whole burst was enhanced before the kill (${atKill}): slow it down (CM360_QPS)`);
      const sentBeforeKill = requestsOf(burst).filter((r) => r.at <= killAt);

      const second = startWorkerProcess(taskQueue);
      const readyAt = await second.ready;
      const completedAt = await waitForAllCompleted(burst);

      const enhanced = counts(burst);
      const lost = [...enhanced.values()].filter((n) => n === 0).length;
      const duplicates = [...enhanced].filter(([, n]) => n > 1).map(([k]) => k);
      const firstByNewWorker = requestsOf(burst).find((r) => r.at >= second.spawnedAt);
      assert.ok(firstByNewWorker, 'the new worker enhanced something');
      const resumeMs = firstByNewWorker.at - killAt;
      const { retried, lastRetryStartedAt } = await retriedAttempts(burst);
      const lastRequest = sentBeforeKill.at(-1);
      console.log(
        [
          `worker SIGKILL: ${atKill}/${BURST} enhanced at the kill`,
          `enhanced ${BURST - lost}/${BURST}, lost ${lost}, duplicates ${duplicates.length}`,
          `(the last request before the kill held ${lastRequest ? rowsOf(lastRequest, burst).length : 0} rows)`,
          `new worker ready after ${seconds(readyAt - killAt)} s, first enhancement by it ${seconds(resumeMs)} s after the kill`,
          `${retried} attempts retried, the last started ${lastRetryStartedAt ? seconds(lastRetryStartedAt - killAt) : '-'} s after the kill`,
          `all completed ${seconds(completedAt - killAt)} s after the kill, ${seconds(completedAt - burst.postedAt)} s after the post (started in ${seconds(burst.startedAt - burst.postedAt)} s, ${burst.rounds} post(s) of ${POST_CHUNK})`,
        ].join('; '),
      );

      assert.equal(lost, 0, 'every conversion enhanced');
      assert.equal(enhanced.size, BURST);
      // Only a row whose request had reached CM360 before the kill can be enhanced twice: its answer died with
      // the worker. That is the request in flight at the kill, or the one before it whose answers were still
      // being reported (one request at a time leaves a process).
      const lastTwo = new Set(sentBeforeKill.slice(-2).flatMap((r) => rowsOf(r, burst)));
      for (const k of duplicates)
        assert.ok(lastTwo.has(k), `${k} was enhanced twice but not in the last two requests before the kill`);
      assert.ok(resumeMs < 60_000, `resumed ${seconds(resumeMs)} s after the kill`);
      console.log(`idle worker stopped by SIGTERM in ${seconds(await stopTimed(second))} s`);
    },
  );

  test(
    'the Temporal server stopped mid-burst and started again on its database: nothing lost',
    { timeout: 300_000 },
    async () => {
      const taskQueue = uniqueId('chaos-server');
      const api = await startApi(loadConfig(relayEnv(taskQueue)));
      apis.push(api);
      const burst = await postBurst(api, taskQueue, 'server');
      const worker = startWorkerProcess(taskQueue);
      await worker.ready;

      const atStop = await waitFor('part of the burst enhanced', () => {
        const n = enhancedOf(burst);
        return n >= FAULT_AFTER && n;
      });
      const stopAt = Date.now();
      await server.stop();
      const downAt = Date.now();
      assert.ok(atStop < BURST, `the whole burst was enhanced before the stop (${atStop}): slow it down (CM360_QPS)`);
      await server.start();
      const upAt = Date.now();
      const completedAt = await waitForAllCompleted(burst);

      const enhanced = counts(burst);
      const lost = [...enhanced.values()].filter((n) => n === 0).length;
      const duplicates = [...enhanced.values()].filter((n) => n > 1).length;
      console.log(
        [
          `server restart: ${atStop}/${BURST} enhanced at the stop`,
          `enhanced ${BURST - lost}/${BURST}, lost ${lost}, duplicates ${duplicates}`,
          `stopping took ${seconds(downAt - stopAt)} s, down ${seconds(upAt - stopAt)} s in all`,
          `all completed ${seconds(completedAt - upAt)} s after the restart, ${seconds(completedAt - burst.postedAt)} s after the post (started in ${seconds(burst.startedAt - burst.postedAt)} s, ${burst.rounds} post(s) of ${POST_CHUNK})`,
        ].join('; '),
      );
      assert.ok(worker.alive, `the worker survived the restart: ${worker.tail()}`);
      assert.equal(lost, 0, 'every conversion enhanced');
      assert.equal(enhanced.size, BURST);
      console.log(`idle worker stopped by SIGTERM in ${seconds(await stopTimed(worker))} s`);
    },
  );
});
