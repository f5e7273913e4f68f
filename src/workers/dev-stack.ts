// `npm start`: the whole stack on one machine. Temporal dev server (SQLite file, Web UI), the worker,
// the api, and sandbox emulators for every integration without credentials. Ctrl-C stops all of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { Connection } from '@temporalio/client';
import { cm360Credentials, loadConfig, type Env } from '../config/env';
import { projectRoot, temporalCliPath } from '../dev/temporal-binaries';
import {
  GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS,
  GOOGLE_ADS_TOO_RECENT_DELAY_MS,
} from '../domain/google-ads/classify';
import { CLICK_WINDOW_MS, ENHANCEMENT_WINDOW_MS } from '../domain/google-ads/rules';
import { GOOGLE_ADS_CONTROL_PORT_OFFSET } from '../sandbox/catalog';
import { loadCm360Emulator, loadGoogleAdsEmulator, loadHubSpotEmulator, loadPendoEmulator } from '../sandbox/lazy';
import {
  processAlive,
  readSandboxStackFile,
  removeSandboxStackFile,
  stackDataDir,
  writeSandboxStackFile,
  type SandboxStackFile,
} from '../sandbox/stack-file';
import { ensureNamespaceRetention, RELAY_RETENTION_DAYS } from '../temporal/namespace';
import { RELAY_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startApi, startWorker, type RunningApi, type RunningWorker } from './composition';
import { WORKFLOW_BUNDLE_OPTIONS } from './relay-worker';

/** The api key `npm start` uses when RELAY_API_KEY is unset (and the CLI's default). */
export const DEV_API_KEY = 'relay-dev-key';
/** The client secret `npm start` signs HubSpot webhooks with when HUBSPOT_CLIENT_SECRET is not set (relay hubspot uses it too). */
export const DEV_HUBSPOT_SECRET = 'relay-dev-hubspot-secret';
const UI_PORT_OFFSET = 1000;
/** The conversion event definitions `npm start` runs with when RELAY_CONFIG is unset (and `relay events`' default). */
export const DEFAULT_RELAY_CONFIG = join(projectRoot, 'examples', 'conversion-events.yaml');

/** A second `npm start` (or anything else) holds a port the stack needs; its message names the ports. */
export class StackAlreadyRunningError extends Error {}

/** Whether something already listens on host:port (tried by listening on it, then letting go). */
function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

async function checkPortsFree(ports: { name: string; host: string; port: number }[], dataDir: string): Promise<void> {
  const wanted = ports.filter((p) => p.port > 0);
  const taken = (
    await Promise.all(wanted.map(async (p) => ((await portTaken(p.host, p.port)) ? p : undefined)))
  ).filter((p) => p !== undefined);
  if (taken.length === 0) return;
  const running = readSandboxStackFile(dataDir);
  const who =
    running && processAlive(running.pid)
      ? `martech-relay is already running (npm start, pid ${running.pid}, since ${running.startedAt})`
      : 'martech-relay cannot start: another process listens where it must';
  throw new StackAlreadyRunningError(
    [
      `${who}:`,
      ...taken.map((p) => `  port ${p.port} (${p.name}) is taken on ${p.host}`),
      'Stop the other stack (Ctrl-C in its terminal), or move this one with TEMPORAL_ADDRESS, RELAY_HTTP_PORT,',
      'RELAY_WORKER_HTTP_PORT and the *_SANDBOX_PORT variables.',
    ].join('\n'),
  );
}

/** A secret generated once into .data/ (mode 0600) and kept across restarts. */
function devSecret(dataDir: string, name: string, make: () => string): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function startTemporal(env: Env, dataDir: string): { child: ChildProcess; uiUrl: string } {
  const [host, portText] = env.TEMPORAL_ADDRESS.split(':');
  const port = Number(portText ?? 7233);
  const uiPort = port + UI_PORT_OFFSET;
  const args = [
    'server',
    'start-dev',
    '--ip',
    host ?? '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    join(dataDir, 'temporal.db'),
    // WAL and normal sync: a few hundred writes a second instead of ~7 (every commit an fsync otherwise); the
    // file stays consistent, and a power cut loses at most the last transactions.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--namespace',
    env.TEMPORAL_NAMESPACE,
    // The UI can be given only a URL: the codec token rides in its path (masked in the api's request log).
    '--ui-codec-endpoint',
    `http://${env.RELAY_HTTP_HOST}:${env.RELAY_HTTP_PORT}/codec${env.RELAY_CODEC_TOKEN ? `/t/${env.RELAY_CODEC_TOKEN}` : ''}`,
    '--log-level',
    'warn',
    ...RELAY_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${searchAttributeTypeName(k.type)}`]),
  ];
  // The server's own log goes to a file: the terminal stays readable, the file is there when needed.
  const log = openSync(join(dataDir, 'temporal.log'), 'a');
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', log, log] });
  closeSync(log);
  return { child, uiUrl: `http://${host ?? '127.0.0.1'}:${uiPort}` };
}

function searchAttributeTypeName(type: string): string {
  return (
    (
      { KEYWORD: 'Keyword', DATETIME: 'Datetime', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool' } as Record<
        string,
        string
      >
    )[type] ?? 'Keyword'
  );
}

/** Waits for the dev server, then gives the namespace the relay's retention (90 days; the dev server's is 1). */
async function waitForTemporal(
  address: string,
  namespace: string,
  child: ChildProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.healthService.check({});
      await ensureNamespaceRetention(connection, namespace);
      await connection.close();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address}: ${String(lastError)}`);
}

export async function runDevStack(processEnv: NodeJS.ProcessEnv): Promise<void> {
  const dataDir = stackDataDir(processEnv, projectRoot);
  mkdirSync(dataDir, { recursive: true });
  const overrides: Record<string, string> = { RELAY_SERVE_CODEC: processEnv.RELAY_SERVE_CODEC ?? 'true' };
  if (!processEnv.RELAY_API_KEY) overrides.RELAY_API_KEY = DEV_API_KEY;
  if (!processEnv.RELAY_PAYLOAD_KEY) {
    overrides.RELAY_PAYLOAD_KEY = devSecret(dataDir, 'payload-key', () => randomBytes(32).toString('base64'));
  }
  if (!processEnv.RELAY_CODEC_TOKEN) {
    overrides.RELAY_CODEC_TOKEN = devSecret(dataDir, 'codec-token', () => randomBytes(24).toString('base64url'));
  }
  const [temporalHost, temporalPort] = (processEnv.TEMPORAL_ADDRESS ?? '127.0.0.1:7233').split(':');
  if (!processEnv.RELAY_CODEC_CORS_ORIGINS) {
    // The Web UI this stack starts calls the codec from its own origin, wherever TEMPORAL_ADDRESS moved it.
    const uiPort = Number(temporalPort ?? 7233) + UI_PORT_OFFSET;
    overrides.RELAY_CODEC_CORS_ORIGINS = [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`].join(',');
  }
  const initial = loadConfig({ ...processEnv, ...overrides });

  const wantCm360 = !cm360Credentials(initial) && !initial.CM360_API_ROOT;
  const wantHubSpot = !initial.HUBSPOT_ACCESS_TOKEN && !initial.HUBSPOT_API_BASE;
  const wantGoogleAds = !initial.GOOGLE_ADS_DEVELOPER_TOKEN && !initial.GOOGLE_ADS_ENDPOINT;
  const wantPendo = !initial.PENDO_INTEGRATION_KEY && !initial.PENDO_API_BASE;
  const googleAdsControlPort =
    initial.GOOGLE_ADS_SANDBOX_PORT === 0 ? 0 : initial.GOOGLE_ADS_SANDBOX_PORT + GOOGLE_ADS_CONTROL_PORT_OFFSET;
  const localhost = '127.0.0.1';
  await checkPortsFree(
    [
      { name: 'Temporal server', host: temporalHost ?? localhost, port: Number(temporalPort ?? 7233) },
      { name: 'Temporal Web UI', host: temporalHost ?? localhost, port: Number(temporalPort ?? 7233) + UI_PORT_OFFSET },
      { name: 'HTTP api', host: initial.RELAY_HTTP_HOST, port: initial.RELAY_HTTP_PORT },
      { name: 'worker health', host: initial.RELAY_HTTP_HOST, port: initial.RELAY_WORKER_HTTP_PORT },
      ...(wantCm360 ? [{ name: 'CM360 emulator', host: localhost, port: initial.CM360_SANDBOX_PORT }] : []),
      ...(wantHubSpot ? [{ name: 'HubSpot emulator', host: localhost, port: initial.HUBSPOT_SANDBOX_PORT }] : []),
      ...(wantGoogleAds
        ? [
            { name: 'Google Ads emulator (gRPC)', host: localhost, port: initial.GOOGLE_ADS_SANDBOX_PORT },
            { name: 'Google Ads emulator control', host: localhost, port: googleAdsControlPort },
          ]
        : []),
      ...(wantPendo ? [{ name: 'Pendo emulator', host: localhost, port: initial.PENDO_SANDBOX_PORT }] : []),
    ],
    dataDir,
  );

  const stops: (() => Promise<void>)[] = [];
  const notes: string[] = [];
  const emulators: SandboxStackFile['emulators'] = {};
  if (wantCm360) {
    const { startCm360Emulator } = loadCm360Emulator();
    const cm360 = await startCm360Emulator({ port: initial.CM360_SANDBOX_PORT });
    stops.push(() => cm360.close());
    emulators.cm360 = { controlUrl: cm360.apiRoot, endpoint: cm360.apiRoot };
    Object.assign(overrides, {
      CM360_API_ROOT: cm360.apiRoot,
      CM360_ACCESS_TOKEN: 'sandbox',
      CM360_PROFILE_ID: initial.CM360_PROFILE_ID ?? 'sandbox',
    });
    notes.push(
      `CM360: no credentials set, sandbox emulator at ${cm360.apiRoot} (profile ${overrides.CM360_PROFILE_ID})`,
    );
  }
  if (wantHubSpot) {
    const { startHubSpotEmulator } = loadHubSpotEmulator();
    const hubspot = await startHubSpotEmulator({ port: initial.HUBSPOT_SANDBOX_PORT, seedDemo: true });
    stops.push(() => hubspot.close());
    emulators.hubspot = { controlUrl: hubspot.basePath, endpoint: hubspot.basePath };
    Object.assign(overrides, { HUBSPOT_API_BASE: hubspot.basePath, HUBSPOT_ACCESS_TOKEN: 'sandbox' });
    notes.push(`HubSpot: no access token set, sandbox emulator with demo contacts at ${hubspot.basePath}`);
  }
  if (!initial.HUBSPOT_CLIENT_SECRET) {
    overrides.HUBSPOT_CLIENT_SECRET = DEV_HUBSPOT_SECRET;
    notes.push(`HubSpot webhooks: signed with the dev client secret "${DEV_HUBSPOT_SECRET}"`);
  }
  if (wantGoogleAds) {
    const { startGoogleAdsEmulator } = loadGoogleAdsEmulator();
    const googleAds = await startGoogleAdsEmulator({
      port: initial.GOOGLE_ADS_SANDBOX_PORT,
      controlPort: googleAdsControlPort,
    });
    stops.push(() => googleAds.close());
    emulators['google-ads'] = {
      controlUrl: googleAds.controlUrl ?? '',
      endpoint: `${googleAds.host}:${googleAds.port}`,
    };
    Object.assign(overrides, {
      GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
      GOOGLE_ADS_DEVELOPER_TOKEN: 'sandbox',
      GOOGLE_ADS_CLIENT_ID: 'sandbox',
      GOOGLE_ADS_CLIENT_SECRET: 'sandbox',
      GOOGLE_ADS_REFRESH_TOKEN: 'sandbox',
    });
    notes.push(
      `Google Ads: no credentials set, gRPC sandbox emulator at ${googleAds.host}:${googleAds.port} (faults: ${googleAds.controlUrl}/_sandbox/fault)`,
    );
  }
  const { DEMO_PENDO } = loadHubSpotEmulator();
  if (wantPendo) {
    const { startPendoEmulator } = loadPendoEmulator();
    const pendo = await startPendoEmulator({ port: initial.PENDO_SANDBOX_PORT, seedDemo: DEMO_PENDO });
    stops.push(() => pendo.close());
    emulators.pendo = { controlUrl: pendo.baseUrl, endpoint: pendo.baseUrl };
    Object.assign(overrides, { PENDO_API_BASE: pendo.baseUrl, PENDO_INTEGRATION_KEY: 'sandbox' });
    notes.push(
      `Pendo: no integration key set, sandbox emulator at ${pendo.baseUrl} (read back: GET /_sandbox/visitor/values/${DEMO_PENDO.visitors[0]})`,
    );
  }
  if (!initial.RELAY_CONFIG) {
    overrides.RELAY_CONFIG = DEFAULT_RELAY_CONFIG;
    notes.push('Conversion events: RELAY_CONFIG not set, using examples/conversion-events.yaml');
  }
  const env = loadConfig({ ...processEnv, ...overrides });

  const temporal = startTemporal(env, dataDir);
  const temporalExited = new Promise<void>((resolve) => temporal.child.once('exit', () => resolve()));
  stops.push(async () => {
    if (temporal.child.exitCode === null) temporal.child.kill('SIGTERM');
    await temporalExited;
  });

  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping martech-relay ...');
    await api?.stop().catch((e: unknown) => console.error('api:', e));
    await worker?.stop().catch((e: unknown) => console.error('worker:', e));
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(e));
    removeSandboxStackFile(dataDir);
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    // The workflows are bundled here, quietly (webpack's report is a screenful), while the server starts.
    const bundle = bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
    await waitForTemporal(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE, temporal.child);
    worker = await startWorker(env, {
      onSchedule: (outcome, id) => {
        if (outcome !== 'absent') notes.push(`Schedule "${id}" ${outcome}`);
      },
      workflowBundle: await bundle,
      // The SDK's lines in the relay's log format, and its metrics on the worker's /metrics.
      installRuntime: true,
    });
    api = await startApi(env);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await stopAll(1);
    return;
  }
  void worker.done.catch((err: unknown) => {
    console.error('worker stopped:', err);
    void stopAll(1);
  });
  writeSandboxStackFile(dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    emulators,
    ports: [
      { name: 'Temporal server', port: Number(temporalPort ?? 7233) },
      { name: 'HTTP api', port: env.RELAY_HTTP_PORT },
      { name: 'worker health', port: env.RELAY_WORKER_HTTP_PORT },
    ],
    temporal: { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, uiUrl: temporal.uiUrl },
    apiUrl: api.url,
  });

  // A path inside the working directory as the user would type it, anything else in full.
  const shown = (name: string) => {
    const rel = relative(process.cwd(), join(dataDir, name));
    return rel && !rel.startsWith('..') ? rel : join(dataDir, name);
  };
  if (processEnv.RELAY_DATA_DIR) {
    notes.push(`Data in ${dataDir} (RELAY_DATA_DIR): give relay demo and relay sandbox the same RELAY_DATA_DIR`);
  }
  console.log(
    [
      '',
      'martech-relay is running',
      `  Temporal Web UI   ${temporal.uiUrl}  (payloads decrypted through ${api.url}/codec, token in ${shown('codec-token')})`,
      `  Temporal server   ${env.TEMPORAL_ADDRESS}  (history in ${shown('temporal.db')}, kept ${RELAY_RETENTION_DAYS} days after a workflow closes; log in ${shown('temporal.log')})`,
      `  HTTP api          ${api.url}  (Authorization: Bearer ${overrides.RELAY_API_KEY ? DEV_API_KEY : '$RELAY_API_KEY'})`,
      `  worker            task queue ${env.RELAY_TASK_QUEUE}  (health ${worker.healthUrl}/readyz)`,
      ...notes.map((n) => `  ${n}`),
      '',
      ...bannerDetails(env, Object.keys(emulators).length > 0, wantHubSpot),
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

/** 5400000 → 90m, 86400000 → 24h, 7776000000 → 90d: the way the variables are written. */
function d(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) {
    if (ms > 0 && ms % size === 0 && (unit !== 'd' || ms >= 2 * size)) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The delays and windows in effect, the demo records, and what to try next: the banner's second half. */
function bannerDetails(env: Env, anyEmulator: boolean, hubspotDemo: boolean): string[] {
  const lines = [
    'Delays and windows in effect (set in the environment or .env)',
    `  CM360        enhance CM360_ENHANCE_DELAY=${d(env.CM360_ENHANCE_DELAY)} after capture; NOT_FOUND retried for CM360_NOT_FOUND_WINDOW=${d(env.CM360_NOT_FOUND_WINDOW)};`,
    `               deadline CM360_DEADLINE=${d(env.CM360_DEADLINE)} minus CM360_DEADLINE_SAFETY_MARGIN=${d(env.CM360_DEADLINE_SAFETY_MARGIN)};`,
    `               batches CM360_BATCH_LINGER=${d(env.CM360_BATCH_LINGER)}, CM360_BATCH_MAX_WAIT=${d(env.CM360_BATCH_MAX_WAIT)}, CM360_QPS=${env.CM360_QPS}`,
    `  Google Ads   batches GOOGLE_ADS_BATCH_LINGER=${d(env.GOOGLE_ADS_BATCH_LINGER)}, GOOGLE_ADS_BATCH_MAX_WAIT=${d(env.GOOGLE_ADS_BATCH_MAX_WAIT)}, GOOGLE_ADS_REQUESTS_PER_SECOND=${env.GOOGLE_ADS_REQUESTS_PER_SECOND};`,
    `               enhancements within ${d(ENHANCEMENT_WINDOW_MS)} of the conversion minus GOOGLE_ADS_ENHANCEMENT_SAFETY_MARGIN=${d(env.GOOGLE_ADS_ENHANCEMENT_SAFETY_MARGIN)};`,
    `               clicks within ${d(CLICK_WINDOW_MS)}; TOO_RECENT waits ${d(GOOGLE_ADS_TOO_RECENT_DELAY_MS)} (event, call, action), ${d(GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS)} (adjustment)`,
  ];
  if (hubspotDemo) {
    const { DEMO_CONTACT_IDS, DEMO_FORM_GUIDS, DEMO_PENDO } = loadHubSpotEmulator();
    lines.push(
      '',
      'Demo records (HubSpot emulator; fictional people)',
      `  contact ${DEMO_CONTACT_IDS.jane}  Jane Doe, jane.doe@example.com: gclid, Google Ads consent granted, sales-qualified lead, deals 3001 and 3002, Pendo ${DEMO_PENDO.visitors[0]}`,
      `  contact ${DEMO_CONTACT_IDS.ravi}  Ravi Kumar, ravi.kumar@example.de: consent denied (never uploaded), customer, closed-lost deal 3003, Pendo ${DEMO_PENDO.visitors[1]}`,
      `  contact ${DEMO_CONTACT_IDS.noDeals}  no.deals@example.com: marketing-qualified lead, no deals, no click id`,
      `  form ${DEMO_FORM_GUIDS.demoRequest}  demo-request-form: Jane, Alex (not in the CRM), Noa`,
      `  form ${DEMO_FORM_GUIDS.newsletter}  newsletter-form-mcc: Ravi, Taro (not in the CRM)`,
      `  Pendo visitors ${DEMO_PENDO.visitors.join(', ')}; accounts ${DEMO_PENDO.accounts.join(', ')}`,
    );
  }
  lines.push(
    '',
    'Next, in another terminal',
    ...(anyEmulator
      ? [
          '  npx relay demo                        every flow with the demo records, a success and a failure each, and where to look',
        ]
      : []),
    `  npx relay hubspot send lifecycle --contact ${hubspotDemo ? '1001' : 'ID'} --stage customer`,
    '  npx relay events list                 what each conversion event definition does',
  );
  if (anyEmulator) {
    lines.push(
      "  npx relay sandbox faults              the emulators' failure switches, e.g. relay sandbox fault cm360 quota --count 2",
      '  npx relay sandbox cm360 conversions   what the CM360 emulator received, per conversion',
    );
  }
  return lines;
}
