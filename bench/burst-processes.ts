// Child processes of the burst benchmarks (bench/burst.ts), so the relay runs as it does in production:
//   tsx bench/burst-processes.ts emulators   CM360 (HTTP), Google Ads (gRPC) and HubSpot (HTTP) emulators, and a
//                                            small control endpoint that says what they received
//   tsx bench/burst-processes.ts worker      the relay worker as `relay worker` runs it, from the environment, with
//                                            the prebuilt workflow bundle BENCH_WORKFLOW_BUNDLE
//   tsx bench/burst-processes.ts api         the relay api as `relay api` runs it, from the environment
// Each prints one line `BENCH_READY <json>` when it is ready (anything else it prints is its log) and runs until
// SIGTERM.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loadConfig } from '../src/config/env';
import { cm360ConversionKey } from '../src/domain/cm360/types';
import { startCm360Emulator } from '../src/sandbox/cm360';
import { startGoogleAdsEmulator } from '../src/sandbox/google-ads';
import { startHubSpotEmulator } from '../src/sandbox/hubspot';
import { startApi, startWorker } from '../src/workers/composition';

/** bench/burst.ts reads this prefix (it imports only types from here: importing this file would run it). */
const READY_PREFIX = 'BENCH_READY ';

/** What the control endpoint says of one CM360 request: when it arrived, its answer and the keys of its rows. */
export interface Cm360RequestSummary {
  at: number;
  status: number;
  keys: string[];
}

/** One Google Ads request: method, when it arrived, its gRPC status (0 = OK) and the order ids of its rows. */
export interface GoogleAdsRequestSummary {
  method: string;
  at: number;
  status: number;
  /** Indexes of the rows refused in partial_failure_error. */
  failedRows: number[];
  orderIds: string[];
}

export interface EmulatorsReady {
  control: string;
  cm360ApiRoot: string;
  hubspotBase: string;
  googleAdsEndpoint: string;
}

const ready = (value: unknown) => console.log(`${READY_PREFIX}${JSON.stringify(value)}`);

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function emulators(): Promise<void> {
  const cm360 = await startCm360Emulator({ accessToken: process.env.BENCH_CM360_TOKEN ?? 'bench', indexDelayMs: 0 });
  const googleAds = await startGoogleAdsEmulator({
    developerToken: process.env.BENCH_GOOGLE_ADS_DEVELOPER_TOKEN ?? 'bench-developer-token',
    ...(process.env.BENCH_GOOGLE_ADS_ACTIONS
      ? { conversionActions: process.env.BENCH_GOOGLE_ADS_ACTIONS.split(',') }
      : {}),
  });
  // `max/intervalMs`, or `off`: the budget the HubSpot emulator enforces across every client.
  const limit = process.env.BENCH_HUBSPOT_EMULATOR_LIMIT ?? 'off';
  const [max, intervalMs] = limit.split('/').map(Number);
  const hubspot = await startHubSpotEmulator({
    accessToken: process.env.BENCH_HUBSPOT_TOKEN ?? 'bench',
    rateLimit: limit === 'off' ? false : { max: max ?? 1000, intervalMs: intervalMs ?? 10_000 },
    recordRequests: false,
  });

  const routes: Record<string, (req: IncomingMessage) => unknown> = {
    'GET /cm360': () => ({
      requests: cm360.requests.map((r): Cm360RequestSummary => {
        const conversions = (r.body as { conversions?: Record<string, unknown>[] } | undefined)?.conversions ?? [];
        return {
          at: r.at,
          status: r.status,
          keys: conversions.map((c) =>
            cm360ConversionKey({
              floodlightConfigurationId: String(c.floodlightConfigurationId),
              floodlightActivityId: String(c.floodlightActivityId),
              ordinal: String(c.ordinal),
            }),
          ),
        };
      }),
      enhancementCounts: Object.fromEntries(cm360.enhancementCounts()),
    }),
    'GET /google-ads': () => ({
      requests: googleAds.requests.map((r): GoogleAdsRequestSummary => {
        const rows = (r.body.conversions ?? r.body.conversion_adjustments ?? []) as { order_id?: string }[];
        return {
          method: r.method,
          at: r.at,
          status: r.status,
          failedRows: [...r.failedRows],
          orderIds: rows.map((row) => row.order_id ?? ''),
        };
      }),
      uploaded: (() => {
        const { clicks, enhancements } = googleAds.uploaded();
        return {
          clicks: clicks.map((c) => c.conversion.order_id ?? ''),
          enhancements: enhancements.map((e) => e.conversion.order_id ?? ''),
        };
      })(),
    }),
  };
  const control = createServer((req, res) => {
    const route = routes[`${req.method} ${(req.url ?? '').split('?')[0]}`];
    if (!route) return reply(res, 404, { error: `no route ${req.method} ${req.url}` });
    try {
      reply(res, 200, route(req));
    } catch (err) {
      reply(res, 500, { error: String(err) });
    }
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const address = control.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const answer: EmulatorsReady = {
    control: `http://127.0.0.1:${port}`,
    cm360ApiRoot: cm360.apiRoot,
    hubspotBase: hubspot.basePath,
    googleAdsEndpoint: `${googleAds.host}:${googleAds.port}`,
  };
  ready(answer);
  process.once('SIGTERM', () => {
    control.close();
    void Promise.all([cm360.close(), googleAds.close(), hubspot.close()]).then(() => process.exit(0));
  });
}

async function worker(): Promise<void> {
  const codePath = process.env.BENCH_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('BENCH_WORKFLOW_BUNDLE is not set');
  const running = await startWorker(loadConfig(process.env), { workflowBundle: { codePath } });
  ready({ pid: process.pid, health: running.healthUrl });
  process.once('SIGTERM', () => void running.stop().then(() => process.exit(0)));
  await running.done;
}

async function api(): Promise<void> {
  const running = await startApi(loadConfig(process.env));
  ready({ pid: process.pid, url: running.url });
  process.once('SIGTERM', () => void running.stop().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role === 'emulators') return emulators();
  if (role === 'worker') return worker();
  if (role === 'api') return api();
  throw new Error(`unknown role ${role}: emulators, worker or api`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
