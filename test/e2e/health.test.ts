// Liveness and readiness of the api and the worker, as an orchestrator probes them: /healthz says the process
// answers, /readyz says it can work now — Temporal reachable, the config file loadable.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/env';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../../src/workers/composition';
import { createDevServerEnv, TEST_PAYLOAD_KEY, uniqueId, workflowBundle } from '../helpers/temporal';

let env: TestWorkflowEnvironment | undefined;
let api: RunningApi | undefined;
let worker: RunningWorker | undefined;
const dir = mkdtempSync(join(tmpdir(), 'relay-health-'));
const configPath = join(dir, 'relay.yaml');
const FIXTURE = join(__dirname, '..', 'fixtures', 'hubspot-google-ads.yaml');

before(async () => {
  env = await createDevServerEnv();
  copyFileSync(FIXTURE, configPath);
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.address,
    RELAY_TASK_QUEUE: uniqueId('health'),
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    // A new uploader waits two refreshes before its first request (src/temporal/upload-share.ts).
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_API_KEY: 'health-key',
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_CONFIG: configPath,
  });
  worker = await startWorker(config, { workflowBundle: await workflowBundle(), warn: () => undefined });
  api = await startApi(config);
});

after(async () => {
  await worker?.stop();
  await api?.stop();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

async function probe(base: string, path: string) {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as { ready?: boolean; checks?: Record<string, string> } };
}

describe('health endpoints', () => {
  test('api and worker are live and ready, without the api key', async () => {
    for (const base of [api!.url, worker!.healthUrl]) {
      assert.deepEqual(await probe(base, '/healthz'), { status: 200, body: { ok: true } });
      const ready = await probe(base, '/readyz');
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      assert.equal(ready.body.checks?.temporal, 'ok');
      assert.equal(ready.body.checks?.config, 'ok');
    }
    assert.equal((await probe(worker!.healthUrl, '/readyz')).body.checks?.worker, 'ok');
  });

  test('the worker serves its metrics in Prometheus text: the credential circuits and the process', async () => {
    const res = await fetch(`${worker!.healthUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^# TYPE relay_circuit_open gauge$/m);
    assert.match(text, /^# TYPE relay_circuit_opened_total counter$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  test('a config file that no longer loads makes both unready (a restart would fail), and says why', async () => {
    writeFileSync(configPath, 'conversionEvents: [ { id: broken');
    try {
      for (const base of [api!.url, worker!.healthUrl]) {
        const ready = await probe(base, '/readyz');
        assert.equal(ready.status, 503);
        assert.match(ready.body.checks?.config ?? '', /RELAY_CONFIG no longer loads/);
        assert.equal(ready.body.checks?.temporal, 'ok');
        assert.equal((await probe(base, '/healthz')).status, 200, 'still live');
      }
    } finally {
      copyFileSync(FIXTURE, configPath);
    }
    assert.equal((await probe(api!.url, '/readyz')).status, 200);
  });

  test('with Temporal gone the api is live but unready within the probe timeout', async () => {
    await worker!.stop();
    worker = undefined;
    await env!.teardown();
    env = undefined;
    const ready = await probe(api!.url, '/readyz');
    assert.equal(ready.status, 503);
    assert.notEqual(ready.body.checks?.temporal, 'ok');
    assert.equal(ready.body.checks?.config, 'ok');
    assert.equal((await probe(api!.url, '/healthz')).status, 200);
  });
});
