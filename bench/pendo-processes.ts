// Child processes of the Pendo import benchmark, so the worker's memory is measured alone:
//   tsx bench/pendo-processes.ts emulators   the HubSpot and Pendo emulators (synthetic records, the budget)
//   tsx bench/pendo-processes.ts worker      the relay worker as `relay worker` runs it, from the environment
// Each prints one JSON line when it is ready and runs until SIGTERM.
import { loadConfig } from '../src/config/env';
import { startHubSpotEmulator } from '../src/sandbox/hubspot';
import { startPendoEmulator } from '../src/sandbox/pendo';
import { startWorker } from '../src/workers/composition';

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role === 'emulators') {
    const [max, intervalMs] = (process.env.BENCH_HUBSPOT_CEILING ?? '500/10000').split('/').map(Number);
    const hubspot = await startHubSpotEmulator({
      accessToken: 'bench',
      rateLimit: { max: max ?? 1000, intervalMs: intervalMs ?? 10_000 },
      recordRequests: false,
    });
    const pendo = await startPendoEmulator({ integrationKey: 'bench' });
    console.log(JSON.stringify({ hubspot: hubspot.basePath, pendo: pendo.baseUrl }));
    process.once('SIGTERM', () => void Promise.all([hubspot.close(), pendo.close()]).then(() => process.exit(0)));
    return;
  }
  if (role === 'worker') {
    const code = process.env.BENCH_WORKFLOW_BUNDLE ?? '';
    const running = await startWorker(loadConfig(process.env), { workflowBundle: { codePath: code } });
    console.log(JSON.stringify({ ready: true, pid: process.pid }));
    process.once('SIGTERM', () => void running.stop().then(() => process.exit(0)));
    await running.done;
    return;
  }
  throw new Error(`unknown role ${role}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
