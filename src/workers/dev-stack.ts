// `npm start`: the whole stack on one machine. Temporal dev server (SQLite file, Web UI), the worker,
// the api, and sandbox emulators for every integration without credentials. Ctrl-C stops all of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { cm360Credentials, loadConfig, type Env } from '../config/env';
import { projectRoot, temporalCliPath } from '../dev/temporal-binaries';
import { startCm360Emulator } from '../sandbox/cm360';
import { startGoogleAdsEmulator } from '../sandbox/google-ads';
import { DEMO_PENDO, startHubSpotEmulator } from '../sandbox/hubspot';
import { startPendoEmulator } from '../sandbox/pendo';
import { ensureNamespaceRetention, RELAY_RETENTION_DAYS } from '../temporal/namespace';
import { RELAY_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { startApi, startWorker, type RunningApi, type RunningWorker } from './composition';

/** The api key `npm start` uses when RELAY_API_KEY is unset (and the CLI's default). */
export const DEV_API_KEY = 'relay-dev-key';
const DEV_HUBSPOT_SECRET = 'relay-dev-hubspot-secret';
const UI_PORT_OFFSET = 1000;

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
  const dataDir = join(projectRoot, '.data');
  mkdirSync(dataDir, { recursive: true });
  const overrides: Record<string, string> = { RELAY_SERVE_CODEC: processEnv.RELAY_SERVE_CODEC ?? 'true' };
  if (!processEnv.RELAY_API_KEY) overrides.RELAY_API_KEY = DEV_API_KEY;
  if (!processEnv.RELAY_PAYLOAD_KEY) {
    overrides.RELAY_PAYLOAD_KEY = devSecret(dataDir, 'payload-key', () => randomBytes(32).toString('base64'));
  }
  if (!processEnv.RELAY_CODEC_TOKEN) {
    overrides.RELAY_CODEC_TOKEN = devSecret(dataDir, 'codec-token', () => randomBytes(24).toString('base64url'));
  }
  const initial = loadConfig({ ...processEnv, ...overrides });

  const stops: (() => Promise<void>)[] = [];
  const notes: string[] = [];
  if (!cm360Credentials(initial) && !initial.CM360_API_ROOT) {
    const cm360 = await startCm360Emulator({ port: initial.CM360_SANDBOX_PORT });
    stops.push(() => cm360.close());
    Object.assign(overrides, {
      CM360_API_ROOT: cm360.apiRoot,
      CM360_ACCESS_TOKEN: 'sandbox',
      CM360_PROFILE_ID: initial.CM360_PROFILE_ID ?? 'sandbox',
    });
    notes.push(
      `CM360: no credentials set, sandbox emulator at ${cm360.apiRoot} (profile ${overrides.CM360_PROFILE_ID})`,
    );
  }
  if (!initial.HUBSPOT_ACCESS_TOKEN && !initial.HUBSPOT_API_BASE) {
    const hubspot = await startHubSpotEmulator({ port: initial.HUBSPOT_SANDBOX_PORT, seedDemo: true });
    stops.push(() => hubspot.close());
    Object.assign(overrides, { HUBSPOT_API_BASE: hubspot.basePath, HUBSPOT_ACCESS_TOKEN: 'sandbox' });
    notes.push(`HubSpot: no access token set, sandbox emulator with demo contacts at ${hubspot.basePath}`);
  }
  if (!initial.HUBSPOT_CLIENT_SECRET) {
    overrides.HUBSPOT_CLIENT_SECRET = DEV_HUBSPOT_SECRET;
    notes.push(`HubSpot webhooks: signed with the dev client secret "${DEV_HUBSPOT_SECRET}"`);
  }
  if (!initial.GOOGLE_ADS_DEVELOPER_TOKEN && !initial.GOOGLE_ADS_ENDPOINT) {
    const googleAds = await startGoogleAdsEmulator({ port: initial.GOOGLE_ADS_SANDBOX_PORT });
    stops.push(() => googleAds.close());
    Object.assign(overrides, {
      GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
      GOOGLE_ADS_DEVELOPER_TOKEN: 'sandbox',
      GOOGLE_ADS_CLIENT_ID: 'sandbox',
      GOOGLE_ADS_CLIENT_SECRET: 'sandbox',
      GOOGLE_ADS_REFRESH_TOKEN: 'sandbox',
    });
    notes.push(`Google Ads: no credentials set, gRPC sandbox emulator at ${googleAds.host}:${googleAds.port}`);
  }
  if (!initial.PENDO_INTEGRATION_KEY && !initial.PENDO_API_BASE) {
    const pendo = await startPendoEmulator({ port: initial.PENDO_SANDBOX_PORT, seedDemo: DEMO_PENDO });
    stops.push(() => pendo.close());
    Object.assign(overrides, { PENDO_API_BASE: pendo.baseUrl, PENDO_INTEGRATION_KEY: 'sandbox' });
    notes.push(
      `Pendo: no integration key set, sandbox emulator at ${pendo.baseUrl} (read back: GET /_sandbox/visitor/values/${DEMO_PENDO.visitors[0]})`,
    );
  }
  if (!initial.RELAY_CONFIG) {
    overrides.RELAY_CONFIG = join(projectRoot, 'examples', 'conversion-events.yaml');
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
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    await waitForTemporal(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE, temporal.child);
    worker = await startWorker(env, {
      onSchedule: (outcome, id) => {
        if (outcome !== 'absent') notes.push(`Schedule "${id}" ${outcome}`);
      },
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

  console.log(
    [
      '',
      'martech-relay is running',
      `  Temporal Web UI   ${temporal.uiUrl}  (payloads decrypted through ${api.url}/codec, token in .data/codec-token)`,
      `  Temporal server   ${env.TEMPORAL_ADDRESS}  (history in .data/temporal.db, kept ${RELAY_RETENTION_DAYS} days after a workflow closes; log in .data/temporal.log)`,
      `  HTTP api          ${api.url}  (Authorization: Bearer ${overrides.RELAY_API_KEY ? DEV_API_KEY : '$RELAY_API_KEY'})`,
      `  worker            task queue ${env.RELAY_TASK_QUEUE}  (health ${worker.healthUrl}/readyz)`,
      ...notes.map((n) => `  ${n}`),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}
