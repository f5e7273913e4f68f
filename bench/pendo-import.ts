// `npm run bench -- pendo-import`: the nightly HubSpot → Pendo import at scale. A real worker process (the
// production composition root, its real HubSpot and Pendo clients) imports 10,000 and then 1,000,000
// synthetic contacts from the HubSpot emulator into the Pendo emulator through the Temporal dev server.
// Measured: the worker's peak memory at 1,000,000 against 10,000 (same run), and the HubSpot request rate
// the import sustains against the emulated rate ceiling, itself measured in the same run by a bare client.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { RelayFlow, RelayStatus } from '../src/workflows/search-attributes';
import { pendoImportWorkflow, type PendoImportResult } from '../src/workflows/pendo-import';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/workers/relay-worker';
import { payloadCodec, relayDataConverter } from '../src/temporal/data-converter';
import { createDevServerEnv } from '../test/helpers/temporal';
import { formatRate, nowMs, type BenchResult } from './common';

const SIZES = (process.env.BENCH_PENDO_SIZES ?? '10000,1000000').split(',').map(Number);
const KEY = Buffer.alloc(32, 9).toString('base64');
/** Requests per window in ms: 500 per 10 s is twice the highest budget HubSpot sells one app (250 per 10 s). */
const CEILING = process.env.BENCH_HUBSPOT_CEILING ?? '500/10000';
/** Node options of the worker alone: by default the heap limit docker-compose.yml gives the worker. */
const WORKER_NODE_OPTIONS = process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=384';
const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const processes = join(__dirname, 'pendo-processes.ts');

function child(role: string, env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; ready: Record<string, unknown> }> {
  const proc = spawn(tsx, [processes, role], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.once('line', (line) => resolve({ proc, ready: JSON.parse(line) as Record<string, unknown> }));
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.removeAllListeners('exit');
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

/** Resident memory of a process in MB: now (VmRSS) and its lifetime peak (VmHWM). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function http(method: string, url: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res.status === 204 ? undefined : res.json();
}

interface Round {
  records: number;
  seconds: number;
  /** Peak resident memory of the worker while it imported, MB (sampled every 250 ms). */
  peakRss: number;
  /** Its lifetime high-water mark (VmHWM), start-up included. */
  hwm: number;
  requests: number;
  throttled: number;
  requestRate: number;
  updated: number;
  runs: number;
}

/**
 * The ceiling as the emulator delivers it: a bare client asking as fast as it can. The first window is left
 * out (a rolling budget lets a fresh client burst a whole window's worth), so this is the steady rate.
 */
async function measureCeiling(hubspot: string, intervalMs: number): Promise<number> {
  await http('PUT', `${hubspot}/_sandbox/synthetic/contacts`, { count: 100 });
  const start = nowMs();
  const from = start + intervalMs;
  const until = from + Math.max(intervalMs, 10_000);
  const accepted: number[] = [];
  const loop = async () => {
    while (nowMs() < until) {
      const res = await fetch(`${hubspot}/crm/v3/objects/contacts?limit=100`, {
        headers: { authorization: 'Bearer bench' },
      });
      await res.arrayBuffer();
      if (res.status === 200 && nowMs() >= from) accepted.push(nowMs());
      if (res.status === 429) await new Promise((r) => setTimeout(r, 5));
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
  return (accepted.length * 1000) / (until - from);
}

export async function runPendoImportBench(): Promise<BenchResult> {
  const env = await createDevServerEnv();
  const dir = mkdtempSync(join(tmpdir(), 'bench-pendo-'));
  const bundle = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
  const codePath = join(dir, 'workflow-bundle.js');
  writeFileSync(codePath, bundle.code);
  const config = join(dir, 'relay.yaml');
  writeFileSync(
    config,
    'pendo:\n  timeZone: Asia/Tokyo\n  visitor:\n    idProperty: pendo_visitor_id\n    properties: [lifecyclestage, hs_lead_status, num_employees]\n',
  );
  const emulators = await child('emulators', { BENCH_HUBSPOT_CEILING: CEILING });
  const hubspot = String(emulators.ready.hubspot);
  const pendo = String(emulators.ready.pendo);
  const client = new Client({
    connection: env.connection,
    dataConverter: relayDataConverter(payloadCodec({ id: 'bench', key: KEY })),
  });
  const [max, intervalMs] = CEILING.split('/').map(Number);
  const configuredRate = ((max ?? 0) * 1000) / (intervalMs ?? 1);
  const rounds: Round[] = [];
  try {
    for (const records of SIZES) {
      await http('PUT', `${hubspot}/_sandbox/synthetic/contacts`, { count: records });
      await http('PUT', `${pendo}/_sandbox/visitor/synthetic`, { prefix: 'visitor-', count: records });
      const taskQueue = `bench-pendo-${records}`;
      const worker = await child('worker', {
        TEMPORAL_ADDRESS: env.address,
        RELAY_TASK_QUEUE: taskQueue,
        RELAY_PAYLOAD_KEY: KEY,
        RELAY_WORKER_HTTP_PORT: '0',
        RELAY_PAYLOAD_KEY_ID: 'bench',
        RELAY_CONFIG: config,
        HUBSPOT_API_BASE: hubspot,
        HUBSPOT_ACCESS_TOKEN: 'bench',
        HUBSPOT_RATE_LIMIT: `${max}/${intervalMs}ms`,
        PENDO_API_BASE: pendo,
        PENDO_INTEGRATION_KEY: 'bench',
        BENCH_WORKFLOW_BUNDLE: codePath,
        NODE_OPTIONS: WORKER_NODE_OPTIONS,
      });
      const pid = Number(worker.ready.pid);
      await http('DELETE', `${hubspot}/_sandbox/stats`);
      const updatedBefore = ((await http('GET', `${pendo}/_sandbox/stats`)) as { updated: { visitor: number } }).updated
        .visitor;
      let peakRss = 0;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, memoryOf(pid).rss)), 250);
      const t = nowMs();
      const handle = await client.workflow.start(pendoImportWorkflow, {
        taskQueue,
        workflowId: `pendo-import-manual-bench-${records}-${Date.now()}`,
        args: [{ trigger: 'manual' }],
        typedSearchAttributes: [
          { key: RelayFlow, value: 'pendo-import' },
          { key: RelayStatus, value: 'STARTING' },
        ],
      });
      const result: PendoImportResult = await handle.result();
      const seconds = (nowMs() - t) / 1000;
      clearInterval(sampler);
      const { hwm } = memoryOf(pid);
      const stats = (await http('GET', `${hubspot}/_sandbox/stats`)) as {
        requests: number;
        throttled: number;
        firstAt: number;
        lastAt: number;
      };
      const updated =
        ((await http('GET', `${pendo}/_sandbox/stats`)) as { updated: { visitor: number } }).updated.visitor -
        updatedBefore;
      const status = await handle.query<{ runs: number }>('status');
      await stop(worker.proc);
      const level = result.levels[0];
      if (level?.counts.updated !== records || updated !== records) {
        throw new Error(`imported ${level?.counts.updated} (Pendo counted ${updated}) of ${records}`);
      }
      rounds.push({
        records,
        seconds,
        peakRss,
        hwm,
        requests: stats.requests,
        throttled: stats.throttled,
        requestRate: ((stats.requests - 1) * 1000) / (stats.lastAt - stats.firstAt),
        updated,
        runs: status.runs,
      });
    }
    const ceiling = await measureCeiling(hubspot, intervalMs ?? 10_000);
    const [small, large] = rounds;
    if (!small || !large) throw new Error('missing rounds');
    return {
      name: 'pendo-import',
      unit: 'HubSpot requests/s',
      subject: `the nightly import of ${formatRate(large.records)} contacts (id scan + import), HubSpot request rate`,
      subjectRates: [large.requestRate],
      baseline: `the emulated ceiling (${CEILING.replace('/', ' per ')} ms) as a bare 8-way client gets it`,
      baselineRates: [ceiling],
      reading: (ratio) => `the import sustains ${(ratio * 100).toFixed(1)} % of the HubSpot rate ceiling`,
      notes: [
        `configured ceiling ${configuredRate.toFixed(1)} requests/s; the worker's budget (HUBSPOT_RATE_LIMIT) is set to the same`,
        `worker NODE_OPTIONS: ${WORKER_NODE_OPTIONS || '(none)'}`,
        ...rounds.map(
          (r) =>
            `${formatRate(r.records)} contacts: ${r.seconds.toFixed(1)} s, ${formatRate(r.records / r.seconds)} contacts/s, ` +
            `${formatRate(r.requests)} HubSpot requests (${r.throttled} answered 429) at ${r.requestRate.toFixed(1)}/s, ` +
            `${formatRate(r.updated)} Pendo updates, ${r.runs} workflow run(s), worker peak RSS ${r.peakRss.toFixed(0)} MB ` +
            `while importing (VmHWM ${r.hwm.toFixed(0)} MB)`,
        ),
        `memory: peak RSS at ${formatRate(large.records)} ÷ at ${formatRate(small.records)} = ${(large.peakRss / small.peakRss).toFixed(3)} ` +
          `(VmHWM ${(large.hwm / small.hwm).toFixed(3)}); the requirement is ≤ 1.5`,
      ],
    };
  } finally {
    await stop(emulators.proc);
    await env.teardown();
  }
}
