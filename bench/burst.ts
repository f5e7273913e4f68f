// Burst benchmarks on a real Temporal CLI dev server (SQLite file, WAL), with the relay as it runs in production:
// the worker as child processes (`relay worker`'s composition root, prebuilt workflow bundle), the api as a child
// process (`relay api`'s), the vendors' emulators in a child process of their own (bench/burst-processes.ts).
//
//   cm360-burst      10,000 CM360 conversions whose first enhancement attempt is due within one minute, two worker
//                    processes at CM360_QPS=1: rows per batchupdate request against the 1,000-row maximum, the
//                    request rate across both processes, due-to-enhanced latency
//   lifecycle-burst  10,000 HubSpot lifecycle-stage changes (signed webhooks) → contact read → Google Ads
//                    UploadClickConversions, two worker processes: rows per request against the 2,000-row maximum;
//                    then a smaller run of form submissions (Flow B) for its Temporal actions
//   api-capture      POST /v1/cm360/conversions (1,000 a body, a few bodies in flight) against a bare loop of
//                    client.workflow.start with the same options and concurrency, in alternating rounds
//
// Every run checks every conversion: the api's answers match the workflows Temporal has, each workflow ran once and
// COMPLETED (with the expected RelayStatus where the workflow still sets one), and the emulator received each row
// exactly once and accepted it. Anything else aborts the run with an error instead of printing a figure. After the
// run, a sample of histories is counted in Temporal billable actions (src/temporal/billable-actions.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { msToNumber, tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { v3Signature } from '../src/api/hubspot-signature';
import { loadConfig } from '../src/config/env';
import {
  BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS,
  BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS,
} from '../src/domain/activity-timing';
import { toCm360UserIdentifiers } from '../src/domain/cm360/identifiers';
import { cm360Schedule } from '../src/domain/cm360/outcomes';
import { CM360_MAX_CONVERSIONS_PER_REQUEST, cm360ConversionKey, type Cm360Conversion } from '../src/domain/cm360/types';
import { googleAdsDateTime, lifecycleOrderId } from '../src/domain/google-ads/rules';
import { GOOGLE_ADS_MAX_ROWS_PER_REQUEST } from '../src/domain/google-ads/types';
import { hashIdentity } from '../src/domain/identifiers/hash';
import { countBillableActions } from '../src/temporal/billable-actions';
import { payloadCodec, relayDataConverter } from '../src/temporal/data-converter';
import { cm360TimingFrom } from '../src/workers/composition';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/workers/relay-worker';
import {
  cm360EnhancementStart,
  cm360EnhancementWorkflow,
  cm360WorkflowId,
  type Cm360EnhancementInput,
} from '../src/workflows/cm360-enhancement';
import { RelayStatus } from '../src/workflows/search-attributes';
import { DevServer, freePort } from '../test/chaos/stack';
import type { Cm360RequestSummary, EmulatorsReady, GoogleAdsRequestSummary } from './burst-processes';
import { formatRate, nowMs, type BenchResult } from './common';

// ---------------------------------------------------------------------------------------------------------------
// Knobs (environment variables)

const int = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
};
const durationMs = (name: string, fallback: string): number =>
  msToNumber((process.env[name] ?? fallback) as Parameters<typeof msToNumber>[0]);

/** Conversions of the cm360-burst and lifecycle-burst runs. */
const BURST_SIZE = () => int('BENCH_BURST_SIZE', 10_000);
/** Worker processes of both bursts (each of the default role). */
const WORKERS = () => int('BENCH_BURST_WORKERS', 2);
/** `shared` (every worker uploads, the quota split between them) or `dedicated` (one more process uploads). */
const LAYOUT = () => process.env.BENCH_LAYOUT ?? 'shared';
/** Histories whose billable actions are counted, per flow. */
const SAMPLE = () => int('BENCH_ACTIONS_SAMPLE', 50);
/**
 * Bodies of 1,000 conversions in flight at once (cm360-burst, api-capture). One by default: on a 2-core dev server
 * two bodies take the api past its 10 s start deadline (503), and what it then answers is not to be trusted (see
 * assertStarted).
 */
const POST_PARALLEL = () => int('BENCH_POST_PARALLEL', 1);
/** After the starts are done, how long every workflow of a burst has to complete. */
const COMPLETION_TIMEOUT_MS = () => durationMs('BENCH_BURST_TIMEOUT', '15m');

const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const processes = join(__dirname, 'burst-processes.ts');
const READY_PREFIX = 'BENCH_READY ';
const PAYLOAD_KEY = Buffer.alloc(32, 11).toString('base64');
const PAYLOAD_KEY_ID = 'bench';
const API_KEY = 'bench-api-key';
const CM360_PROFILE = '4242';
const FLOODLIGHT_CONFIG = '99999';
const FLOODLIGHT_ACTIVITY = '8888';
/** The api's START_CONCURRENCY (src/api/cm360-routes.ts): starts in flight per request. */
const API_START_CONCURRENCY = 64;
/** CM360's published default quota per Cloud project. */
const CM360_DAILY_REQUESTS = 50_000;

const log = (line: string) => process.stderr.write(`  · ${line}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Statistics

function sortedNumbers(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The most times falling into any window [t, t + windowMs). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = sortedNumbers(times);
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    while (j < t.length && (t[j] as number) - (t[i] as number) < windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

function smallestGap(times: readonly number[]): number {
  const t = sortedNumbers(times);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < t.length; i++) gap = Math.min(gap, (t[i] as number) - (t[i - 1] as number));
  return gap;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const latencyLine = (sortedMs: readonly number[]) =>
  `p50 ${seconds(percentile(sortedMs, 50))}, p99 ${seconds(percentile(sortedMs, 99))}, ` +
  `max ${seconds(sortedMs[sortedMs.length - 1] ?? Number.NaN)}`;
const rowsLine = (rows: readonly number[]) =>
  `mean ${mean(rows).toFixed(1)}, min ${Math.min(...rows)}, max ${Math.max(...rows)}`;

// ---------------------------------------------------------------------------------------------------------------
// Processes

interface Child {
  name: string;
  proc: ChildProcess;
  ready: Record<string, unknown>;
  logFile: string;
  /** Set when the process exited on its own. */
  exited?: string;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

/** Starts `tsx bench/burst-processes.ts <role>`; resolves with its BENCH_READY line. Its output goes to a log file. */
function spawnChild(role: string, name: string, dir: string, env: Record<string, string>): Promise<Child> {
  const logFile = join(dir, `${name}.log`);
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const proc = spawn(tsx, [processes, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stderr?.pipe(logStream, { end: false });
  return new Promise((resolve, reject) => {
    let child: Child | undefined;
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (!child && line.startsWith(READY_PREFIX)) {
        child = { name, proc, ready: JSON.parse(line.slice(READY_PREFIX.length)) as Record<string, unknown>, logFile };
        resolve(child);
      } else logStream.write(`${line}\n`);
    });
    proc.once('exit', (code, signal) => {
      const how = `exited with ${code ?? signal}`;
      if (child) child.exited = how;
      else setTimeout(() => reject(new Error(`${name} ${how} before it was ready:\n${tail(logFile)}`)), 100);
    });
  });
}

function stopChild(child: Child): Promise<void> {
  return new Promise((resolve) => {
    const { proc } = child;
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 45_000);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Throws when any of the children exited: a burst never waits out its deadline for a dead worker. */
function assertAlive(children: readonly Child[]): void {
  for (const c of children) {
    if (c.exited) throw new Error(`${c.name} ${c.exited} during the run:\n${tail(c.logFile)}`);
  }
}

/** Polls `check` until it returns a value; fails after `timeoutMs`, or at once when a child died. */
async function until<T>(
  what: string,
  timeoutMs: number,
  children: readonly Child[],
  check: () => Promise<T | undefined>,
  progress?: () => string,
): Promise<T> {
  const start = Date.now();
  let lastLog = start;
  for (;;) {
    assertAlive(children);
    const value = await check();
    if (value !== undefined) return value;
    const now = Date.now();
    if (now - start > timeoutMs) {
      throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}${progress ? `: ${progress()}` : ''}`);
    }
    if (progress && now - lastLog >= 15_000) {
      lastLog = now;
      log(`${progress()} (${seconds(now - start)})`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** CPU seconds (user + system) of a process and all its descendants, from /proc (Linux; 0 elsewhere). */
function treeCpuSeconds(rootPid: number | undefined): number {
  if (rootPid === undefined) return 0;
  const procs = new Map<number, { ppid: number; ticks: number }>();
  let dirs: string[] = [];
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const d of dirs) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after the command name: state ppid … utime (14th field) stime (15th).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    ticks += procs.get(pid)?.ticks ?? 0;
    for (const [child, p] of procs) if (p.ppid === pid) stack.push(child);
  }
  return ticks / 100; // USER_HZ
}

/** A dev server on a free port with its SQLite file, the workflow bundle built once, a client, children. */
class Stack {
  readonly dir = mkdtempSync(join(tmpdir(), 'bench-burst-'));
  readonly children: Child[] = [];
  server!: DevServer;
  connection!: Connection;
  client!: Client;
  bundlePath = '';

  async start(withBundle: boolean): Promise<void> {
    this.server = new DevServer(await freePort(), join(this.dir, 'temporal.db'), join(this.dir, 'temporal.log'));
    await this.server.start();
    this.connection = await Connection.connect({ address: this.server.address });
    this.client = new Client({
      connection: this.connection,
      namespace: 'default',
      dataConverter: relayDataConverter(payloadCodec({ id: PAYLOAD_KEY_ID, key: PAYLOAD_KEY })),
    });
    if (withBundle) {
      const bundle = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
      this.bundlePath = join(this.dir, 'workflow-bundle.js');
      writeFileSync(this.bundlePath, bundle.code);
    }
  }

  async spawn(role: string, name: string, env: Record<string, string>): Promise<Child> {
    const child = await spawnChild(role, name, this.dir, env);
    this.children.push(child);
    return child;
  }

  /** The relay's environment for this run (workers and api alike). */
  relayEnv(taskQueue: string, extra: Record<string, string>): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: this.server.address,
      TEMPORAL_NAMESPACE: 'default',
      RELAY_TASK_QUEUE: taskQueue,
      RELAY_HTTP_PORT: '0',
      RELAY_WORKER_HTTP_PORT: '0',
      RELAY_API_KEY: API_KEY,
      RELAY_PAYLOAD_KEY: PAYLOAD_KEY,
      RELAY_PAYLOAD_KEY_ID: PAYLOAD_KEY_ID,
      RELAY_DEFAULT_PHONE_REGION: 'US',
      ...extra,
    };
  }

  /**
   * BENCH_BURST_WORKERS worker processes. BENCH_LAYOUT=shared (default): every one serves the workflows and the
   * uploads, and the uploaders split each quota. BENCH_LAYOUT=dedicated: they serve the workflows only, and one
   * more process (`uploader`) serves the uploads, with the whole quota.
   */
  async workers(env: Record<string, string>): Promise<Child[]> {
    const count = WORKERS();
    const dedicated = LAYOUT() === 'dedicated';
    const roles: Record<string, string> = dedicated ? { RELAY_WORKER_ROLES: 'workflows' } : {};
    return Promise.all([
      ...Array.from({ length: count }, (_, i) =>
        this.spawn('worker', `worker-${i + 1}`, { ...env, ...roles, BENCH_WORKFLOW_BUNDLE: this.bundlePath }),
      ),
      ...(dedicated
        ? [
            this.spawn('worker', 'uploader', {
              ...env,
              RELAY_WORKER_ROLES: 'uploads',
              BENCH_WORKFLOW_BUNDLE: this.bundlePath,
            }),
          ]
        : []),
    ]);
  }

  /** Where the CPU went since each process started: the dev server, every child, this process. */
  cpuLine(): string {
    const server = (this.server as unknown as { child?: ChildProcess }).child?.pid;
    const parts = [
      `dev server ${treeCpuSeconds(server).toFixed(0)}`,
      ...this.children.map((c) => `${c.name} ${treeCpuSeconds(c.proc.pid).toFixed(0)}`),
      `benchmark ${((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(0)}`,
    ];
    return `CPU seconds used (2 cores): ${parts.join(', ')}`;
  }

  async stop(failed: boolean): Promise<void> {
    await Promise.all(this.children.map(stopChild));
    await this.connection?.close().catch(() => undefined);
    await this.server?.stop();
    if (failed || process.env.BENCH_KEEP)
      process.stderr.write(`  · logs, history and SQLite file kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

async function withStack<T>(withBundle: boolean, run: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = new Stack();
  let failed = true;
  try {
    await stack.start(withBundle);
    const result = await run(stack);
    failed = false;
    return result;
  } finally {
    await stack.stop(failed);
  }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

// ---------------------------------------------------------------------------------------------------------------
// Temporal: completion, verification, billable actions

const closedQuery = (taskQueue: string, workflowType: string) =>
  `TaskQueue = "${taskQueue}" AND WorkflowType = "${workflowType}" AND ExecutionStatus != "Running"`;

async function closedCount(client: Client, taskQueue: string, workflowType: string): Promise<number> {
  return (await client.workflow.count(closedQuery(taskQueue, workflowType))).count;
}

interface Execution {
  status: string;
  relayStatus: string | undefined;
  startMs: number;
  closeMs: number | undefined;
}

/**
 * Every execution of the type on the task queue, checked against the ids the run started: each exactly once,
 * COMPLETED, with the expected RelayStatus. Throws naming what is wrong (lost, extra, duplicated, not completed).
 */
async function verifiedExecutions(
  client: Client,
  taskQueue: string,
  workflowType: string,
  expectedIds: ReadonlySet<string>,
  relayStatus: string,
): Promise<Map<string, Execution>> {
  const found = new Map<string, Execution>();
  const duplicated: string[] = [];
  const extra: string[] = [];
  const wrong: string[] = [];
  const query = `TaskQueue = "${taskQueue}" AND WorkflowType = "${workflowType}"`;
  for await (const wf of client.workflow.list({ query, pageSize: 1000 }) as AsyncIterable<WorkflowExecutionInfo>) {
    if (!expectedIds.has(wf.workflowId)) extra.push(wf.workflowId);
    if (found.has(wf.workflowId)) duplicated.push(wf.workflowId);
    const e: Execution = {
      status: wf.status.name,
      relayStatus: wf.typedSearchAttributes.get(RelayStatus),
      startMs: wf.startTime.getTime(),
      closeMs: wf.closeTime?.getTime(),
    };
    found.set(wf.workflowId, e);
    // RelayStatus is checked where the workflow still sets it; the emulator's exactly-once check covers the rest.
    if (e.status !== 'COMPLETED' || (e.relayStatus !== undefined && e.relayStatus !== relayStatus)) {
      wrong.push(`${wf.workflowId}: ${e.status}/${e.relayStatus}`);
    }
  }
  const lost = [...expectedIds].filter((id) => !found.has(id));
  const problems = [
    lost.length ? `${lost.length} never started or not listed (e.g. ${lost.slice(0, 3).join(', ')})` : '',
    duplicated.length ? `${duplicated.length} ran more than once (e.g. ${duplicated.slice(0, 3).join(', ')})` : '',
    extra.length ? `${extra.length} unexpected (e.g. ${extra.slice(0, 3).join(', ')})` : '',
    wrong.length ? `${wrong.length} not COMPLETED with ${relayStatus} (e.g. ${wrong.slice(0, 3).join('; ')})` : '',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${workflowType}: ${problems.join('; ')}`);
  return found;
}

/**
 * Right after the starts: every conversion the api answered `started` or `duplicate` has a workflow. Waits for the
 * visibility store to count them all (60 s at most); otherwise names the ones Temporal never started.
 */
async function assertStarted(
  stack: Stack,
  taskQueue: string,
  workflowType: string,
  expectedIds: ReadonlySet<string>,
): Promise<void> {
  let counted = 0;
  const query = `TaskQueue = "${taskQueue}" AND WorkflowType = "${workflowType}"`;
  const complete = await until(
    `the ${formatRate(expectedIds.size)} started ${workflowType} executions to be listed`,
    60_000,
    stack.children,
    async () => {
      counted = (await stack.client.workflow.count(query)).count;
      return counted >= expectedIds.size ? true : undefined;
    },
    () => `${formatRate(counted)} of ${formatRate(expectedIds.size)} listed`,
  ).catch(() => false);
  if (complete) return;
  const listed = new Set<string>();
  for await (const wf of stack.client.workflow.list({
    query,
    pageSize: 1000,
  }) as AsyncIterable<WorkflowExecutionInfo>) {
    listed.add(wf.workflowId);
  }
  const lost: string[] = [];
  for (const id of expectedIds) {
    if (listed.has(id)) continue;
    // The visibility store may lag; the execution itself is the proof.
    const exists = await stack.client.workflow
      .getHandle(id)
      .describe()
      .then(
        () => true,
        () => false,
      );
    if (!exists) lost.push(id);
  }
  if (lost.length > 0) {
    throw new Error(
      `${formatRate(lost.length)} of ${formatRate(expectedIds.size)} conversions were answered started (or duplicate) ` +
        `but Temporal has no workflow for them, e.g. ${lost.slice(0, 3).join(', ')}`,
    );
  }
}

/** How the executions' RelayStatus search attribute reads at close, e.g. "ENHANCED × 10,000". */
function relayStatusLine(executions: ReadonlyMap<string, Execution>): string {
  const counts = new Map<string, number>();
  for (const e of executions.values())
    counts.set(e.relayStatus ?? '(unset)', (counts.get(e.relayStatus ?? '(unset)') ?? 0) + 1);
  return [...counts].map(([status, n]) => `${status} × ${formatRate(n)}`).join(', ');
}

const EventType = temporal.api.enums.v1.EventType;
/** Activities that heartbeat while their row waits in a shared batcher (src/activities/batched.ts). */
const BATCHED_ACTIVITIES = new Set(['enhanceCm360Conversion', 'uploadClickConversion', 'uploadEnhancement']);

/**
 * Billable actions of a sample of the workflows (evenly spread over the ids in order), from their full histories.
 * Heartbeats that reach the server are billed too but leave no event: they are estimated from how long each
 * batched activity attempt ran (heartbeatsSent).
 */
/**
 * What the uploads worker sends of an attempt's heartbeats: the activity beats every
 * BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS, the SDK sends the first at once and then at most one per 80 % of the
 * heartbeat timeout (its throttle; the uploads worker keeps the default ceiling of 60 s).
 */
const HEARTBEAT_SEND_INTERVAL_MS = Math.min(60_000, 0.8 * BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS);
function heartbeatsSent(durationMs: number): number {
  if (durationMs < BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS) return 0;
  return 1 + Math.floor((durationMs - BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS) / HEARTBEAT_SEND_INTERVAL_MS);
}

async function billableNotes(
  client: Client,
  flow: string,
  ids: readonly string[],
  conversionsPerWorkflow = 1,
): Promise<{ notes: string[]; meanByKind: Record<string, number> }> {
  const sorted = [...ids].sort();
  const n = Math.min(SAMPLE(), sorted.length);
  const sample = Array.from({ length: n }, (_, i) => sorted[Math.floor((i * sorted.length) / n)] as string);
  const totals: number[] = [];
  const kinds: Record<string, number> = {};
  const heartbeats: number[] = [];
  const events: number[] = [];
  /** From the workflow's start to its first workflow task: how far behind the workers were. */
  const firstTaskLag: number[] = [];
  for (const id of sample) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const list = history.events ?? [];
    events.push(list.length);
    const { total, byKind } = countBillableActions(list);
    const at = (e: (typeof list)[number] | undefined) => (e?.eventTime ? tsToMs(e.eventTime) : Number.NaN);
    firstTaskLag.push(at(list.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)) - at(list[0]));
    totals.push(total / conversionsPerWorkflow);
    for (const [kind, count] of Object.entries(byKind)) kinds[kind] = (kinds[kind] ?? 0) + count;
    const scheduled = new Map<string, string>();
    const started = new Map<string, { type: string; at: number }>();
    let beats = 0;
    for (const e of list) {
      const id = String(e.eventId ?? '');
      const at = e.eventTime ? tsToMs(e.eventTime) : 0;
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        scheduled.set(id, e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
      } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const type = scheduled.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')) ?? '';
        started.set(id, { type, at });
      } else {
        const startedId =
          e.activityTaskCompletedEventAttributes?.startedEventId ??
          e.activityTaskFailedEventAttributes?.startedEventId ??
          e.activityTaskTimedOutEventAttributes?.startedEventId ??
          e.activityTaskCanceledEventAttributes?.startedEventId;
        const s = startedId === undefined || startedId === null ? undefined : started.get(String(startedId));
        if (s && BATCHED_ACTIVITIES.has(s.type)) {
          beats += heartbeatsSent(at - s.at);
        }
      }
    }
    heartbeats.push(beats);
  }
  const perKind = Object.entries(kinds)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, count]) => `${kind} ${(count / n / conversionsPerWorkflow).toFixed(2)}`)
    .join(', ');
  const meanByKind = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, v / n / conversionsPerWorkflow]));
  const notes = [
    `${flow} billable actions per conversion (histories of ${n} completed workflows): mean ${mean(totals).toFixed(2)}, ` +
      `max ${Math.max(...totals).toFixed(2)}; by kind (mean): ${perKind}`,
    `${flow} heartbeats (billed, not in history; estimated: the first after ${BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS / 1000} s, ` +
      `then one per ${HEARTBEAT_SEND_INTERVAL_MS / 1000} s a batched activity ran): mean ${mean(heartbeats).toFixed(2)}, max ${Math.max(...heartbeats)}; ` +
      `history events mean ${mean(events).toFixed(1)}; start to first workflow task ` +
      `${latencyLine(sortedNumbers(firstTaskLag))}`,
  ];
  return { notes, meanByKind };
}

// ---------------------------------------------------------------------------------------------------------------
// CM360 conversions and the api

interface Capture {
  matchId: string;
  ordinal: string;
  timestampMicros: string;
  floodlightConfigurationId: string;
  floodlightActivityId: string;
  quantity: number;
  value: number;
  user: Record<string, string>;
}

function capture(run: string, i: number, captureMs: number): Capture {
  return {
    matchId: `match-${run}-${i}`,
    ordinal: `${run}-${i}`,
    timestampMicros: String(BigInt(captureMs) * 1000n),
    floodlightConfigurationId: FLOODLIGHT_CONFIG,
    floodlightActivityId: FLOODLIGHT_ACTIVITY,
    quantity: 1,
    value: 10 + (i % 90),
    user: {
      email: `Burst.User${i}@Example.com`,
      phone: `+1 650-253-${String(i % 10_000).padStart(4, '0')}`,
      firstName: 'Burst',
      lastName: `User ${i}`,
      streetAddress: `${1 + (i % 9000)} Amphitheatre Pkwy`,
      city: 'Mountain View',
      state: 'CA',
      postalCode: '94043',
      countryCode: 'US',
    },
  };
}

const keyOfCapture = (c: Capture) =>
  cm360ConversionKey({
    floodlightConfigurationId: c.floodlightConfigurationId,
    floodlightActivityId: c.floodlightActivityId,
    ordinal: c.ordinal,
  });

interface PostStats {
  requests: number;
  /** Answers 503 (some conversions not started within the api's deadline) and what was sent again after them. */
  answers503: number;
  resent: number;
  /** Conversions answered `started`, and `duplicate` (a resend of one that had started after all). */
  started: number;
  duplicate: number;
}

/**
 * Posts every capture to POST /v1/cm360/conversions in bodies of `perBody`, `parallel` bodies in flight, and,
 * as a client should, sends again what the api answered `failed`. Anything `invalid` aborts the run.
 */
async function postCaptures(
  apiUrl: string,
  bodies: readonly string[][],
  parallel: number,
  stats: PostStats = { requests: 0, answers503: 0, resent: 0, started: 0, duplicate: 0 },
): Promise<PostStats> {
  // Each body is a list of the captures' JSON texts; a resend sends the failed ones again as a new body.
  const queue = bodies.map((b) => b);
  const lane = async () => {
    for (let body = queue.shift(); body; body = queue.shift()) {
      const res = await fetch(`${apiUrl}/v1/cm360/conversions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: `[${body.join(',')}]`,
      });
      stats.requests += 1;
      const answer = (await res.json()) as { conversions?: { index: number; status: string; reason?: string }[] };
      if (res.status !== 202 && res.status !== 503) {
        throw new Error(`POST /v1/cm360/conversions answered ${res.status}: ${JSON.stringify(answer).slice(0, 500)}`);
      }
      const failed: string[] = [];
      for (const c of answer.conversions ?? []) {
        if (c.status === 'failed') failed.push(body[c.index] as string);
        else if (c.status === 'started') stats.started += 1;
        else if (c.status === 'duplicate') stats.duplicate += 1;
        else throw new Error(`conversion ${c.index} answered ${c.status}: ${JSON.stringify(c).slice(0, 300)}`);
      }
      if (process.env.BENCH_DEBUG) {
        const counts: Record<string, number> = {};
        for (const c of answer.conversions ?? []) counts[c.status] = (counts[c.status] ?? 0) + 1;
        log(`POST of ${body.length}: ${res.status} ${JSON.stringify(counts)}`);
      }
      if (res.status === 503) stats.answers503 += 1;
      if (failed.length > 0) {
        stats.resent += failed.length;
        if (stats.resent > 20 * bodies.length * CM360_MAX_CONVERSIONS_PER_REQUEST) {
          throw new Error('the api kept answering failed: gave up resending');
        }
        queue.push(failed);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return stats;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. cm360-burst

export async function runCm360BurstBench(): Promise<BenchResult> {
  const size = BURST_SIZE();
  const delay = process.env.BENCH_CM360_ENHANCE_DELAY ?? '5m';
  const delayMs = durationMs('BENCH_CM360_ENHANCE_DELAY', '5m');
  /** From the first POST to the start of the minute the burst is due in: the starts must be done by then. */
  const leadMs = durationMs('BENCH_BURST_LEAD', '4m');
  const qps = process.env.BENCH_CM360_QPS ?? '1';
  /**
   * `client` (default): the bench starts the workflows with the api's own start options (src/api/cm360-routes.ts),
   * 1,000 a batch, 64 at a time; `api`: it posts them to POST /v1/cm360/conversions, 1,000 a body.
   */
  const viaApi = (process.env.BENCH_CM360_START ?? 'client') === 'api';
  return withStack(true, async (stack) => {
    const emulators = (await stack.spawn('emulators', 'emulators', {})).ready as unknown as EmulatorsReady;
    const taskQueue = `bench-cm360-burst-${Date.now()}`;
    const env = stack.relayEnv(taskQueue, {
      CM360_PROFILE_ID: CM360_PROFILE,
      CM360_API_ROOT: emulators.cm360ApiRoot,
      CM360_ACCESS_TOKEN: 'bench',
      CM360_QPS: qps,
      CM360_ENHANCE_DELAY: delay,
    });
    const workers = await stack.workers(env);
    const apiUrl = viaApi ? String((await stack.spawn('api', 'api', env)).ready.url) : '';

    const run = `b${Date.now().toString(36)}`;
    const postedAt = Date.now();
    const dueStart = postedAt + leadMs;
    const captures = Array.from({ length: size }, (_, i) =>
      capture(run, i, dueStart - delayMs + Math.floor((i * 60_000) / size)),
    );
    const dueOf = new Map(captures.map((c) => [keyOfCapture(c), Number(BigInt(c.timestampMicros) / 1000n) + delayMs]));
    const ids = new Set(
      captures.map((c) =>
        cm360WorkflowId({
          floodlightConfigurationId: c.floodlightConfigurationId,
          floodlightActivityId: c.floodlightActivityId,
          ordinal: c.ordinal,
        }),
      ),
    );
    const posting: PostStats = { requests: 0, answers503: 0, resent: 0, started: 0, duplicate: 0 };
    if (viaApi) {
      const bodies = chunk(
        captures.map((c) => JSON.stringify(c)),
        CM360_MAX_CONVERSIONS_PER_REQUEST,
      );
      await postCaptures(apiUrl, bodies, POST_PARALLEL(), posting);
    } else {
      const timing = cm360TimingFrom(loadConfig(env));
      const bodies = chunk(
        captures.map((c) => prepared(c, timing)),
        CM360_MAX_CONVERSIONS_PER_REQUEST,
      );
      await startBare(stack.client, taskQueue, bodies, POST_PARALLEL());
    }
    const startsDone = Date.now();
    log(
      `${formatRate(size)} started in ${seconds(startsDone - postedAt)}; due from ${new Date(dueStart).toISOString()}`,
    );
    if (startsDone >= dueStart) {
      throw new Error(
        `starting took ${seconds(startsDone - postedAt)}, past the lead of ${seconds(leadMs)}: the burst would not ` +
          `be due within one minute after the starts; raise BENCH_BURST_LEAD`,
      );
    }

    const type = 'cm360EnhancementWorkflow';
    await assertStarted(stack, taskQueue, type, ids);
    let closed = 0;
    await until(
      `all ${size} CM360 workflows to close`,
      dueStart + 60_000 + COMPLETION_TIMEOUT_MS() - Date.now(),
      stack.children,
      async () => ((closed = await closedCount(stack.client, taskQueue, type)) >= size ? true : undefined),
      () => `${formatRate(closed)} of ${formatRate(size)} closed, ${seconds(Date.now() - dueStart)} after due start`,
    );
    const executions = await verifiedExecutions(stack.client, taskQueue, type, ids, 'ENHANCED');

    const received = await getJson<{ requests: Cm360RequestSummary[]; enhancementCounts: Record<string, number> }>(
      `${emulators.control}/cm360`,
    );
    const enhancedAt = new Map<string, number>();
    const twice: string[] = [];
    const extra: string[] = [];
    for (const r of received.requests) {
      if (r.status !== 200) continue;
      for (const key of r.keys) {
        if (!dueOf.has(key)) extra.push(key);
        else if (enhancedAt.has(key)) twice.push(key);
        else enhancedAt.set(key, r.at);
      }
    }
    for (const [key, count] of Object.entries(received.enhancementCounts)) {
      if (count !== 1 && !twice.includes(key)) twice.push(key);
    }
    const missing = [...dueOf.keys()].filter((k) => !enhancedAt.has(k) || received.enhancementCounts[k] !== 1);
    if (missing.length || twice.length || extra.length) {
      throw new Error(
        `CM360 emulator: ${missing.length} conversions not enhanced, ${twice.length} sent more than once, ` +
          `${extra.length} unknown rows (e.g. ${[...missing, ...twice, ...extra].slice(0, 3).join(', ')})`,
      );
    }

    const ok = received.requests.filter((r) => r.status === 200);
    const notOk = received.requests.length - ok.length;
    const rows = ok.map((r) => r.keys.length);
    const times = ok.map((r) => r.at);
    const window = maxInWindow(times, 1000);
    const gap = smallestGap(times);
    const latency = sortedNumbers([...enhancedAt].map(([key, at]) => at - (dueOf.get(key) as number)));
    const firstAt = Math.min(...times);
    const lastAt = Math.max(...times);
    const meanRows = mean(rows);
    const lastClose = Math.max(...[...executions.values()].map((e) => e.closeMs ?? 0));
    const actions = await billableNotes(stack.client, 'cm360', [...ids]);
    const timers = actions.meanByKind.timer ?? 0;
    assertAlive(workers);
    const limit = Number(qps);
    return {
      name: 'cm360-burst',
      unit: 'rows/request',
      subject: `mean rows per batchupdate, ${formatRate(size)} conversions due within one minute, ${workers.length} worker processes at CM360_QPS=${qps}`,
      subjectRates: [meanRows],
      baseline: `CM360's maximum of ${formatRate(CM360_MAX_CONVERSIONS_PER_REQUEST)} rows per request`,
      baselineRates: [CM360_MAX_CONVERSIONS_PER_REQUEST],
      reading: (ratio) =>
        `requests carry ${(ratio * 100).toFixed(1)} % of the 1,000-row maximum on average (target ≥ 90 %)`,
      notes: [
        `setup: CM360_ENHANCE_DELAY=${delay}, capture times spread over 60 s so every first attempt is due in ` +
          `[${new Date(dueStart).toISOString()}, +60 s); ${formatRate(size)} started in ${seconds(startsDone - postedAt)} ` +
          (viaApi
            ? `through the api (${posting.requests} POSTs of ≤ 1,000, ${POST_PARALLEL()} in flight, ` +
              `${posting.answers503} answered 503, ${posting.resent} resent; answered ${posting.started} started, ` +
              `${posting.duplicate} duplicate)`
            : `with the api's start options (BENCH_CM360_START=client: batches of 1,000, ${POST_PARALLEL()} × ` +
              `${API_START_CONCURRENCY} in flight)`) +
          `, ${seconds(dueStart - startsDone)} before the due minute`,
        `batchupdate requests: ${ok.length} answered 200${notOk ? `, ${notOk} answered otherwise` : ''}; rows per request ${rowsLine(rows)}`,
        `request rate across both processes: at most ${window} started in any 1,000 ms window, smallest gap ` +
          `${gap.toFixed(0)} ms between consecutive requests (by arrival at the emulator); CM360_QPS=${qps} across the processes ` +
          `${window <= limit && gap >= 1000 / limit ? 'holds' : 'is EXCEEDED'}`,
        `first request ${seconds(firstAt - dueStart)} after the due minute began, last ${seconds(lastAt - dueStart)} ` +
          `after; last workflow closed ${seconds(lastClose - dueStart)} after`,
        `due-to-enhanced latency (due = capture + delay, enhanced = the emulator received the row): ${latencyLine(latency)}`,
        `daily quota: this burst spent ${formatRate(received.requests.length)} requests, ` +
          `${((received.requests.length / CM360_DAILY_REQUESTS) * 100).toFixed(2)} % of CM360's ` +
          `${formatRate(CM360_DAILY_REQUESTS)} a day per project; at ${meanRows.toFixed(1)} rows a request a day's ` +
          `quota carries ${formatRate(CM360_DAILY_REQUESTS * meanRows)} conversions ` +
          `(at 1,000 rows: ${formatRate(CM360_DAILY_REQUESTS * 1000)})`,
        `every conversion checked: ${formatRate(size)} workflows COMPLETED once each (RelayStatus ` +
          `${relayStatusLine(executions)}), ${formatRate(size)} rows received exactly once`,
        `${(timers * 100).toFixed(0)} % of the sampled workflows slept on their timer until due; the others ran ` +
          'their first workflow task only after they were due (the workers were behind the starts: raise BENCH_BURST_LEAD)',
        ...actions.notes,
        stack.cpuLine(),
      ],
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// 2. lifecycle-burst (and the form flow's actions)

const PORTAL = 62515;
const STAGE = 'salesqualifiedlead';
const LIFECYCLE_DEFINITION = 'bench-sql';
const FORM_ID = '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57';
const CUSTOMER = '1234567890';
const CLICK_ACTION = '6512349871';
const FORM_ACTION = '6512349874';
const HUBSPOT_SECRET = 'bench-hubspot-client-secret';
const DEVELOPER_TOKEN = 'bench-developer-token';
const FIRST_CONTACT = 5_000_000;

function relayConfigYaml(createdAt: string): string {
  return [
    'hubspot:',
    '  tier: enterprise',
    'googleAds:',
    `  accounts: [{ customerId: '${CUSTOMER}' }]`,
    'definitions:',
    `  - id: ${LIFECYCLE_DEFINITION}`,
    '    name: Bench sales-qualified lead',
    `    createdAt: '${createdAt}'`,
    `    customerId: '${CUSTOMER}'`,
    `    trigger: { type: lifecycle_stage, stage: ${STAGE}, conversionAction: '${CLICK_ACTION}' }`,
    '    value: { type: custom, amount: 50, currency: EUR }',
    '    consent: { property: google_ads_consent, value: granted }',
    '    sharedFields: [email, phone]',
    '  - id: bench-form',
    '    name: Bench demo request form',
    `    createdAt: '${createdAt}'`,
    `    customerId: '${CUSTOMER}'`,
    `    trigger: { type: form_submission, formId: ${FORM_ID}, conversionAction: '${FORM_ACTION}' }`,
    '    value: { type: custom, amount: 25, currency: EUR }',
    '    sharedFields: [email, phone, firstName, lastName]',
    '    poll: false',
    '',
  ].join('\n');
}

interface WebhookStats {
  requests: number;
  answers503: number;
}

/**
 * Posts signed batches as HubSpot does (v3 over the exact bytes), `parallel` in flight, and redelivers a batch
 * answered 503 after a back-off (1 s doubling to 16 s; HubSpot's own retries are further apart).
 */
async function postWebhooks(apiUrl: string, batches: readonly unknown[][], parallel: number): Promise<WebhookStats> {
  const stats: WebhookStats = { requests: 0, answers503: 0 };
  const url = `${apiUrl}/webhooks/hubspot`;
  const queue = batches.map((events) => ({ events, attempt: 0 }));
  let waiting = 0;
  const lane = async () => {
    for (;;) {
      const item = queue.shift();
      if (!item) {
        if (waiting === 0) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const body = JSON.stringify(item.events);
      const timestamp = String(Date.now());
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hubspot-signature-v3': v3Signature(HUBSPOT_SECRET, 'POST', url, body, timestamp),
          'x-hubspot-request-timestamp': timestamp,
        },
        body,
      });
      stats.requests += 1;
      const answer = (await res.json()) as {
        started?: { status?: string }[];
        rejected?: unknown[];
        ignored?: unknown[];
      };
      if (res.status === 503) {
        stats.answers503 += 1;
        if (item.attempt >= 10) throw new Error('the webhook kept answering 503: gave up redelivering');
        waiting += 1;
        setTimeout(
          () => {
            queue.push({ events: item.events, attempt: item.attempt + 1 });
            waiting -= 1;
          },
          Math.min(16_000, 1000 * 2 ** item.attempt),
        );
        continue;
      }
      if (res.status !== 200 || answer.rejected?.length || answer.ignored?.length) {
        throw new Error(`the webhook answered ${res.status}: ${JSON.stringify(answer).slice(0, 500)}`);
      }
      // A 200 must account for every event: started, or a duplicate of one that was started.
      const bad = (answer.started ?? []).filter((s) => s.status !== 'started' && s.status !== 'duplicate');
      if (bad.length > 0 || (answer.started ?? []).length !== item.events.length) {
        throw new Error(
          `the webhook answered 200 with ${bad.length} of ${item.events.length} events neither started nor ` +
            `duplicate (e.g. ${JSON.stringify(bad.slice(0, 2))}): HubSpot would not redeliver them`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return stats;
}

interface GoogleAdsReceived {
  requests: GoogleAdsRequestSummary[];
  uploaded: { clicks: string[]; enhancements: string[] };
}

/**
 * Checks that each expected order id reached the emulator in exactly one OK request, not refused, and was stored
 * once; returns when each arrived, and the OK requests of the method.
 */
function verifiedUploads(
  received: GoogleAdsReceived,
  method: string,
  stored: readonly string[],
  expected: ReadonlySet<string>,
): { arrivedAt: Map<string, number>; requests: GoogleAdsRequestSummary[]; notOk: number } {
  const requests = received.requests.filter((r) => r.method === method && r.status === 0);
  const notOk = received.requests.filter((r) => r.method === method && r.status !== 0).length;
  const arrivedAt = new Map<string, number>();
  const twice = new Set<string>();
  const refused: string[] = [];
  const extra: string[] = [];
  for (const r of requests) {
    const failed = new Set(r.failedRows);
    r.orderIds.forEach((orderId, i) => {
      if (!expected.has(orderId)) extra.push(orderId);
      else if (failed.has(i)) refused.push(orderId);
      else if (arrivedAt.has(orderId)) twice.add(orderId);
      else arrivedAt.set(orderId, r.at);
    });
  }
  const storedCount = new Map<string, number>();
  for (const id of stored) storedCount.set(id, (storedCount.get(id) ?? 0) + 1);
  for (const [id, count] of storedCount) if (count > 1) twice.add(id);
  const missing = [...expected].filter((id) => !arrivedAt.has(id) || storedCount.get(id) !== 1);
  if (missing.length || twice.size || refused.length || extra.length) {
    throw new Error(
      `Google Ads emulator (${method}): ${missing.length} not uploaded, ${twice.size} sent more than once, ` +
        `${refused.length} rows refused, ${extra.length} unknown (e.g. ${[...missing, ...twice, ...refused, ...extra].slice(0, 3).join(', ')})`,
    );
  }
  return { arrivedAt, requests, notOk };
}

/** Form submissions through POST /webhooks/hubspot/forms; returns the notes of the form flow. */
async function runForms(
  stack: Stack,
  apiUrl: string,
  control: string,
  taskQueue: string,
  run: string,
): Promise<string[]> {
  const count = int('BENCH_FORM_SIZE', 500);
  const parallel = int('BENCH_FORM_PARALLEL', 8);
  const submittedAt = googleAdsDateTime(Date.now() - 60_000);
  const submissions = Array.from({ length: count }, (_, i) => ({
    formId: FORM_ID,
    submissionId: `${run}-form-${i}`,
    submittedAt,
    userAgent: 'Mozilla/5.0 (bench)',
    fields: {
      email: `form.user${i}@example.com`,
      phone: `+1 650-253-${String(i % 10_000).padStart(4, '0')}`,
      firstname: 'Form',
      lastname: `User ${i}`,
      country: 'US',
    },
  }));
  const ids = new Set<string>();
  const queue = [...submissions];
  let answers503 = 0;
  const posted = Date.now();
  const lane = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      const res = await fetch(`${apiUrl}/webhooks/hubspot/forms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify(s),
      });
      const answer = (await res.json()) as { workflowId?: string; status?: string };
      if (res.status === 503) {
        answers503 += 1;
        queue.push(s);
        continue;
      }
      if (res.status !== 202 || !answer.workflowId || answer.status !== 'started') {
        throw new Error(`the forms endpoint answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
      }
      ids.add(answer.workflowId);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  const startsDone = Date.now();
  if (ids.size !== count) throw new Error(`forms: ${ids.size} workflow ids for ${count} submissions`);
  const type = 'formEnhancementWorkflow';
  await assertStarted(stack, taskQueue, type, ids);
  let closed = 0;
  await until(
    `all ${count} form workflows to close`,
    COMPLETION_TIMEOUT_MS(),
    stack.children,
    async () => ((closed = await closedCount(stack.client, taskQueue, type)) >= count ? true : undefined),
    () => `forms: ${closed} of ${count} closed`,
  );
  const executions = await verifiedExecutions(stack.client, taskQueue, type, ids, 'ENHANCED');
  const received = await getJson<GoogleAdsReceived>(`${control}/google-ads`);
  const { arrivedAt, requests, notOk } = verifiedUploads(
    received,
    'UploadConversionAdjustments',
    received.uploaded.enhancements,
    new Set(submissions.map((s) => s.submissionId)),
  );
  // The workflow id ends with the submission id (formWorkflowId), which is the order id of the enhancement.
  const startOf = new Map([...executions].map(([id, e]) => [id.slice(id.lastIndexOf(`${run}-form-`)), e.startMs]));
  const latency = sortedNumbers([...arrivedAt].map(([orderId, at]) => at - (startOf.get(orderId) ?? Number.NaN)));
  const rows = requests.map((r) => r.orderIds.length);
  return [
    `forms (Flow B): ${count} submissions posted one per request (${parallel} in flight, ${answers503} answered 503) ` +
      `in ${seconds(startsDone - posted)}; UploadConversionAdjustments: ${requests.length} requests` +
      `${notOk ? ` (+${notOk} not OK)` : ''}, rows per request ${rowsLine(rows)}; start-to-uploaded ${latencyLine(latency)}; ` +
      `every submission checked: COMPLETED once (RelayStatus ${relayStatusLine(executions)}), uploaded once`,
    ...(await billableNotes(stack.client, 'forms', [...ids])).notes,
  ];
}

export async function runLifecycleBurstBench(): Promise<BenchResult> {
  const size = BURST_SIZE();
  const budget = int('BENCH_HUBSPOT_BUDGET', 20_000);
  const parallel = int('BENCH_WEBHOOK_PARALLEL', 2);
  const perBatch = int('BENCH_WEBHOOK_BATCH', 100);
  return withStack(true, async (stack) => {
    const workerCount = WORKERS();
    const emulators = (
      await stack.spawn('emulators', 'emulators', {
        BENCH_HUBSPOT_EMULATOR_LIMIT: `${budget * workerCount}/10000`,
        BENCH_GOOGLE_ADS_DEVELOPER_TOKEN: DEVELOPER_TOKEN,
        BENCH_GOOGLE_ADS_ACTIONS: [CLICK_ACTION, FORM_ACTION].join(','),
      })
    ).ready as unknown as EmulatorsReady;
    const configFile = join(stack.dir, 'relay.yaml');
    writeFileSync(configFile, relayConfigYaml(new Date(Date.now() - 30 * 86_400_000).toISOString()));
    const taskQueue = `bench-lifecycle-burst-${Date.now()}`;
    const env = stack.relayEnv(taskQueue, {
      RELAY_CONFIG: configFile,
      HUBSPOT_CLIENT_SECRET: HUBSPOT_SECRET,
      HUBSPOT_ACCESS_TOKEN: 'bench',
      HUBSPOT_API_BASE: emulators.hubspotBase,
      HUBSPOT_RATE_LIMIT: `${budget}/10s`,
      GOOGLE_ADS_ENDPOINT: emulators.googleAdsEndpoint,
      GOOGLE_ADS_DEVELOPER_TOKEN: DEVELOPER_TOKEN,
      GOOGLE_ADS_CLIENT_ID: 'bench-client-id',
      GOOGLE_ADS_CLIENT_SECRET: 'bench-client-secret',
      GOOGLE_ADS_REFRESH_TOKEN: 'bench-refresh-token',
    });

    // One contact per conversion: a gclid HubSpot recorded a week ago, a consent answer, email and phone.
    const run = `l${Date.now().toString(36)}`;
    const now = Date.now();
    const occurredAt = (i: number) => now - 120_000 + i;
    const contactId = (i: number) => String(FIRST_CONTACT + i);
    const seeded = Array.from({ length: size }, (_, i) => ({
      id: contactId(i),
      at: now - 7 * 86_400_000,
      properties: {
        email: `lifecycle.user${i}@example.com`,
        phone: `+1 650-253-${String(i % 10_000).padStart(4, '0')}`,
        firstname: 'Lifecycle',
        lastname: `User ${i}`,
        country: 'United States',
        hs_google_click_id: `Cj0KCQ-bench-${run}-${i}`,
        google_ads_consent: 'granted',
        lifecyclestage: STAGE,
        [`hs_v2_date_entered_${STAGE}`]: new Date(occurredAt(i)).toISOString(),
      },
    }));
    for (const part of chunk(seeded, 1000)) {
      const res = await fetch(`${emulators.hubspotBase}/_sandbox/contacts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(part),
      });
      if (!res.ok) throw new Error(`seeding HubSpot contacts: ${res.status} ${await res.text()}`);
    }

    const workers = await stack.workers(env);
    const api = await stack.spawn('api', 'api', env);
    const apiUrl = String(api.ready.url);

    const events = Array.from({ length: size }, (_, i) => ({
      eventId: 900_000_000 + i,
      subscriptionId: 1234,
      portalId: PORTAL,
      appId: 54321,
      occurredAt: occurredAt(i),
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: Number(contactId(i)),
      changeSource: 'CRM',
      propertyName: 'lifecyclestage',
      propertyValue: STAGE,
    }));
    const idOf = (i: number) =>
      `hubspot-lifecycle-${PORTAL}-${contactId(i)}-${STAGE}-${occurredAt(i)}-${LIFECYCLE_DEFINITION}`;
    const ids = new Set(events.map((_, i) => idOf(i)));
    const orderOf = new Map(
      events.map((_, i) => [lifecycleOrderId(LIFECYCLE_DEFINITION, contactId(i), occurredAt(i)), idOf(i)]),
    );

    const posted = Date.now();
    const webhook = await postWebhooks(apiUrl, chunk(events, perBatch), parallel);
    const startsDone = Date.now();
    log(
      `${formatRate(size)} lifecycle events started in ${seconds(startsDone - posted)} (${webhook.answers503} × 503)`,
    );

    const type = 'lifecycleConversionWorkflow';
    await assertStarted(stack, taskQueue, type, ids);
    let closed = 0;
    await until(
      `all ${size} lifecycle workflows to close`,
      COMPLETION_TIMEOUT_MS(),
      stack.children,
      async () => ((closed = await closedCount(stack.client, taskQueue, type)) >= size ? true : undefined),
      () => `${formatRate(closed)} of ${formatRate(size)} closed`,
    );
    const executions = await verifiedExecutions(stack.client, taskQueue, type, ids, 'UPLOADED');
    const received = await getJson<GoogleAdsReceived>(`${emulators.control}/google-ads`);
    const { arrivedAt, requests, notOk } = verifiedUploads(
      received,
      'UploadClickConversions',
      received.uploaded.clicks,
      new Set(orderOf.keys()),
    );
    const hubspot = await getJson<{ requests: number; throttled: number; firstAt: number; lastAt: number }>(
      `${emulators.hubspotBase}/_sandbox/stats`,
    );

    const rows = requests.map((r) => r.orderIds.length);
    const times = requests.map((r) => r.at);
    const latency = sortedNumbers(
      [...arrivedAt].map(([orderId, at]) => at - (executions.get(orderOf.get(orderId) ?? '')?.startMs ?? Number.NaN)),
    );
    const lastClose = Math.max(...[...executions.values()].map((e) => e.closeMs ?? 0));
    const meanRows = mean(rows);
    const actions = await billableNotes(stack.client, 'lifecycle', [...ids]);
    const forms = await runForms(stack, apiUrl, emulators.control, taskQueue, run);
    assertAlive(workers);
    return {
      name: 'lifecycle-burst',
      unit: 'rows/request',
      subject: `mean rows per UploadClickConversions, ${formatRate(size)} lifecycle-stage webhooks, ${workers.length} worker processes`,
      subjectRates: [meanRows],
      baseline: `Google Ads' maximum of ${formatRate(GOOGLE_ADS_MAX_ROWS_PER_REQUEST)} rows per request`,
      baselineRates: [GOOGLE_ADS_MAX_ROWS_PER_REQUEST],
      reading: (ratio) =>
        `requests carry ${(ratio * 100).toFixed(1)} % of the 2,000-row maximum on average (target ≥ 90 %)`,
      notes: [
        `setup: ${formatRate(size)} contacts seeded (gclid, consent, email, phone), HUBSPOT_RATE_LIMIT=${budget}/10s per ` +
          `process (the emulator's budget ${budget * workerCount}/10s), value custom (no deal read)`,
        `webhooks: ${webhook.requests} signed POSTs of ≤ ${perBatch} events, ${parallel} in flight, ` +
          `${webhook.answers503} answered 503 (redelivered after a back-off); all started in ${seconds(startsDone - posted)} ` +
          `(${formatRate((size * 1000) / (startsDone - posted))} events/s)`,
        `HubSpot: ${formatRate(hubspot.requests)} requests, ${hubspot.throttled} answered 429, over ` +
          `${seconds(hubspot.lastAt - hubspot.firstAt)}`,
        `UploadClickConversions: ${requests.length} requests answered OK${notOk ? `, ${notOk} not OK` : ''}; ` +
          `rows per request ${rowsLine(rows)}; at most ${maxInWindow(times, 1000)} requests started in any 1,000 ms window`,
        `start-to-uploaded latency (start = Temporal's start time, uploaded = the emulator received the row): ` +
          `${latencyLine(latency)}; last workflow closed ${seconds(lastClose - posted)} after the first POST`,
        `every conversion checked: ${formatRate(size)} workflows COMPLETED once each (RelayStatus ` +
          `${relayStatusLine(executions)}), ${formatRate(size)} order ids uploaded exactly once`,
        ...actions.notes,
        ...forms,
        stack.cpuLine(),
      ],
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// 3. api-capture

interface Prepared {
  workflowId: string;
  input: Cm360EnhancementInput;
  deadlineMs: number;
}

/** What the api's route does before it starts a workflow, done here ahead of the clock for the baseline. */
function prepared(c: Capture, timing: ReturnType<typeof cm360TimingFrom>): Prepared {
  const hashed = hashIdentity(c.user, { defaultRegion: 'US' });
  const conversion: Cm360Conversion = {
    matchId: c.matchId,
    ordinal: c.ordinal,
    timestampMicros: c.timestampMicros,
    floodlightActivityId: c.floodlightActivityId,
    floodlightConfigurationId: c.floodlightConfigurationId,
    quantity: String(c.quantity),
    value: c.value,
    userIdentifiers: toCm360UserIdentifiers(hashed.identity),
  };
  return {
    workflowId: cm360WorkflowId(conversion),
    input: { profileId: CM360_PROFILE, conversion, dropped: hashed.dropped, timing },
    deadlineMs: cm360Schedule(c.timestampMicros, timing).deadlineMs,
  };
}

/** The api's start: the same options, from the same builder. */
function startLikeTheApi(client: Client, taskQueue: string, p: Prepared) {
  return client.workflow.start(cm360EnhancementWorkflow, cm360EnhancementStart(p.input, p.deadlineMs, taskQueue));
}

/** `parallel` bodies of ≤ 1,000 in flight, each started API_START_CONCURRENCY at a time, as the api does. */
async function startBare(client: Client, taskQueue: string, bodies: readonly Prepared[][], parallel: number) {
  const queue = [...bodies];
  const body = async (items: readonly Prepared[]) => {
    let next = 0;
    const lane = async () => {
      while (next < items.length) await startLikeTheApi(client, taskQueue, items[next++] as Prepared);
    };
    await Promise.all(Array.from({ length: Math.min(API_START_CONCURRENCY, items.length) }, lane));
  };
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let b = queue.shift(); b; b = queue.shift()) await body(b);
    }),
  );
}

export async function runApiCaptureBench(): Promise<BenchResult> {
  const perRound = int('BENCH_CAPTURE_SIZE', 8_000);
  const rounds = int('BENCH_CAPTURE_ROUNDS', 3);
  const parallel = POST_PARALLEL();
  return withStack(false, async (stack) => {
    const taskQueue = `bench-api-capture-${Date.now()}`;
    // No worker polls this queue: the workflows are only started.
    const env = stack.relayEnv(taskQueue, { CM360_PROFILE_ID: CM360_PROFILE, CM360_ENHANCE_DELAY: '90m' });
    const timing = cm360TimingFrom(loadConfig(env));
    const api = await stack.spawn('api', 'api', env);
    const apiUrl = String(api.ready.url);
    const run = `c${Date.now().toString(36)}`;
    const captureMs = Date.now();
    const makeCaptures = (label: string, count: number) =>
      Array.from({ length: count }, (_, i) => capture(`${run}-${label}`, i, captureMs));

    let expected = 0;
    const allIds = new Set<string>();
    const idsOf = (captures: readonly Capture[]) =>
      captures.map((c) => {
        const id = cm360WorkflowId(c);
        allIds.add(id);
        return id;
      });
    const subjectRates: number[] = [];
    const baselineRates: number[] = [];
    const postTotals: PostStats = { requests: 0, answers503: 0, resent: 0, started: 0, duplicate: 0 };
    // Each side's conversions are checked after its clock stops: a rate is printed only for conversions that started.
    const subject = async (label: string, count: number) => {
      const captures = makeCaptures(label, count);
      const ids = new Set(idsOf(captures));
      const bodies = chunk(
        captures.map((c) => JSON.stringify(c)),
        CM360_MAX_CONVERSIONS_PER_REQUEST,
      );
      const t = nowMs();
      await postCaptures(apiUrl, bodies, parallel, postTotals);
      const rate = (count * 1000) / (nowMs() - t);
      expected += count;
      await assertStarted(stack, taskQueue, 'cm360EnhancementWorkflow', allIds);
      if (ids.size !== count) throw new Error('api-capture: conversions share a workflow id');
      return rate;
    };
    const baseline = async (label: string, count: number) => {
      const captures = makeCaptures(label, count);
      idsOf(captures);
      const bodies = chunk(
        captures.map((c) => prepared(c, timing)),
        CM360_MAX_CONVERSIONS_PER_REQUEST,
      );
      const t = nowMs();
      await startBare(stack.client, taskQueue, bodies, parallel);
      const rate = (count * 1000) / (nowMs() - t);
      expected += count;
      await assertStarted(stack, taskQueue, 'cm360EnhancementWorkflow', allIds);
      return rate;
    };

    // Warm-up: connections, JIT, the api's first requests.
    await subject('warm-s', 1000);
    await baseline('warm-b', 1000);
    for (let round = 0; round < rounds; round++) {
      const subjectFirst = round % 2 === 0;
      if (subjectFirst) {
        subjectRates.push(await subject(`s${round}`, perRound));
        baselineRates.push(await baseline(`b${round}`, perRound));
      } else {
        baselineRates.push(await baseline(`b${round}`, perRound));
        subjectRates.push(await subject(`s${round}`, perRound));
      }
      log(
        `round ${round + 1}: api ${formatRate(subjectRates[round] ?? 0)}/s, bare ${formatRate(baselineRates[round] ?? 0)}/s`,
      );
    }
    // Nothing lost, nothing started twice: one execution per conversion sent.
    let counted = 0;
    const started = await until(
      'the visibility store to count every start',
      60_000,
      stack.children,
      async () => {
        counted = (await stack.client.workflow.count(`TaskQueue = "${taskQueue}"`)).count;
        return counted >= expected ? counted : undefined;
      },
      () => `${formatRate(counted)} of ${formatRate(expected)} counted`,
    );
    if (started !== expected) throw new Error(`api-capture: ${started} executions for ${expected} conversions`);
    assertAlive(stack.children);
    return {
      name: 'api-capture',
      unit: 'starts/s',
      subject: `POST /v1/cm360/conversions, bodies of 1,000 (validated, hashed at the edge), ${parallel} in flight`,
      subjectRates,
      baseline: `bare client.workflow.start(cm360EnhancementWorkflow) with the api's options, ${parallel} × ${API_START_CONCURRENCY} in flight`,
      baselineRates,
      reading: (ratio) => `the api captures at ${(ratio * 100).toFixed(1)} % of the bare start rate (target ≥ 80 %)`,
      notes: [
        `${rounds} rounds of ${formatRate(perRound)} conversions a side, alternating which side goes first, after a ` +
          `warm-up of 1,000 a side; the api in its own process, the bare loop in the benchmark's`,
        `api answers: ${postTotals.requests} POSTs, ${postTotals.answers503} answered 503 (some conversions not ` +
          `started within its 10 s deadline), ${postTotals.resent} conversions sent again; answered ` +
          `${postTotals.started} started, ${postTotals.duplicate} duplicate`,
        `checked: ${formatRate(started)} executions for ${formatRate(expected)} conversions sent (no worker runs them)`,
        stack.cpuLine(),
      ],
    };
  });
}
