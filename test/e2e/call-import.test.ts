// End to end on the Temporal CLI dev server: `relay calls import --wait`, `relay calls report --failed` and
// `relay calls pull --wait` as a user runs them (child processes) against the real api and worker, the real
// google-ads-api library over gRPC against the Google Ads emulator (uploads and the conversion-name lookup),
// and the real HubSpot SDK against the HubSpot emulator. Google's side is checked row by row. Also on the dev
// server: the pull's Schedule, and the namespace's 90-day retention.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CallImportReport } from '../../src/api/calls-routes';
import { loadRelayConfigFile } from '../../src/config/conversion-events';
import { loadConfig } from '../../src/config/env';
import { CALL_COLUMNS, csvLine, parseCallCsv } from '../../src/domain/calls/csv';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../../src/sandbox/google-ads';
import { DEMO_CALL_IDS, startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { applyCallsSchedule, CALLS_SCHEDULE_ID } from '../../src/schedules/calls-hubspot-pull';
import type { callImportWorkflow } from '../../src/workflows/call-import';
import type { callsHubSpotPullWorkflow } from '../../src/workflows/calls-hubspot-pull';
import { ensureNamespaceRetention, namespaceRetentionDays } from '../../src/temporal/namespace';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../../src/workers/composition';
import { callsConfig } from '../helpers/calls';
import { runRelay } from '../helpers/cli';
import { createDevServerEnv, readableHistory, TEST_PAYLOAD_KEY, uniqueId, workflowBundle } from '../helpers/temporal';

const API_KEY = 'e2e-calls-key';
const HUBSPOT_TOKEN = 'e2e-calls-hubspot-token';
const DEVELOPER_TOKEN = 'e2e-calls-developer-token';
const ACTION = (id: string) => `customers/1234567890/conversionActions/${id}`;

// No conversionActions map: every name goes through GoogleAdsService over gRPC to the emulator.
const CONFIG = `
calls:
  customerId: '123-456-7890'
  timeZone: America/New_York
  defaultCurrency: USD
  hubspot:
    every: 1h
    outcomes: { Connected: Sales call, Left voicemail: Qualified lead call }
    value: { type: deal_amount, default: 100 }
`;

let env: TestWorkflowEnvironment;
let googleAds: GoogleAdsEmulator;
let hubspot: HubSpotEmulator;
let worker: RunningWorker;
let api: RunningApi;
let cliEnv: NodeJS.ProcessEnv;
let dir: string;

before(async () => {
  env = await createDevServerEnv();
  googleAds = await startGoogleAdsEmulator({ developerToken: DEVELOPER_TOKEN });
  hubspot = await startHubSpotEmulator({ accessToken: HUBSPOT_TOKEN, seedDemo: true });
  dir = mkdtempSync(join(tmpdir(), 'calls-e2e-'));
  const file = join(dir, 'relay.yaml');
  writeFileSync(file, CONFIG);
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    RELAY_TASK_QUEUE: uniqueId('e2e-calls'),
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    // A new uploader waits two refreshes before its first request (src/temporal/upload-share.ts).
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_API_KEY: API_KEY,
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_CONFIG: file,
    HUBSPOT_API_BASE: hubspot.basePath,
    HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN,
    GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
    GOOGLE_ADS_DEVELOPER_TOKEN: DEVELOPER_TOKEN,
    GOOGLE_ADS_CLIENT_ID: 'e2e',
    GOOGLE_ADS_CLIENT_SECRET: 'e2e',
    GOOGLE_ADS_REFRESH_TOKEN: 'e2e',
    GOOGLE_ADS_BATCH_LINGER: '50ms',
  });
  worker = await startWorker(config, { workflowBundle: await workflowBundle(), warn: () => undefined });
  api = await startApi(config);
  cliEnv = { ...process.env, RELAY_API_URL: api.url, RELAY_API_KEY: API_KEY, NO_COLOR: '1' };
});

after(async () => {
  await api?.stop();
  await worker?.stop();
  await hubspot?.close();
  await googleAds?.close();
  await env?.teardown();
});

const cli = (args: string[]) => runRelay(args, cliEnv);

async function getReport(id: string): Promise<CallImportReport> {
  const res = await fetch(`${api.url}/v1/google-ads/calls/imports/${id}?failed=true`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as CallImportReport;
}

const row = (...fields: string[]) => csvLine(fields);

describe('a call-conversion file through the CLI and the api', () => {
  test('imports, reports every row, writes the failed rows back out, and imports the same file once', async () => {
    const file = join(dir, 'calls.csv');
    writeFileSync(
      file,
      '\uFEFF' +
        row('Parameters:TimeZone=America/Chicago') +
        row(...CALL_COLUMNS) +
        row('+1 212-555-0101', '11/20/2026 9:05:00 AM', 'Sales call', '11/20/2026 9:40:00 AM', '250', 'usd') +
        row('(212) 555-0102', '2026-11-21 10:00:00', 'Qualified lead call', '2026-11-21 10:30:00', '', '') +
        row('+12125550103', '2026-11-22 11:00:00-05:00', 'Sales call', '2026-11-22 12:00:00-05:00', '80', 'EUR') +
        row('+12125550104', '2026-11-23 08:00:00', 'Nobody knows this', '2026-11-23 09:00:00', '1', 'USD') +
        row('not a number', '2026-11-23 08:00:00', 'Sales call', '2026-11-23 07:00:00', '-3', 'USD') +
        row('+12125550106', '2026-11-24 08:00:00', 'Old sales call', '2026-11-24 09:00:00', '5', 'USD'),
    );
    googleAds.setFault({
      type: 'row',
      callerId: '+12125550103',
      category: 'conversion_upload_error',
      name: 'EXPIRED_CALL',
    });
    const run = await cli(['calls', 'import', file, '--wait']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const importId = /import (calls-import-[0-9a-f]{24}) started/.exec(run.stdout)?.[1];
    assert.ok(importId, run.stdout);
    assert.match(run.stdout, /6 rows, 5 valid, 1 invalid \(never sent\)/);
    assert.match(run.stdout, /row 7: Caller's Phone Number is not a valid phone number of region US/);
    assert.match(run.stdout, /row 7: Conversion Time is not after the call start/);
    assert.match(run.stdout, /row 7: Conversion Value must not be negative/);
    assert.match(run.stdout, /COMPLETED_WITH_FAILURES/);
    assert.match(run.stdout, /rows 6: uploaded 2, already recorded 0, rejected 1, invalid 3/);
    assert.match(run.stdout, /row 5: conversion_upload_error\.EXPIRED_CALL/);
    assert.match(
      run.stdout,
      /row 6: UNKNOWN_CONVERSION_NAME: account 1234567890 has no conversion action named "Nobody knows this"/,
    );
    assert.match(
      run.stdout,
      /row 8: UNKNOWN_CONVERSION_NAME: the conversion action "Old sales call" of account 1234567890 is removed/,
    );

    // Google got exactly the two good rows, field by field, in the file's zone with the right offsets.
    const calls = googleAds.uploaded().calls.map((c) => ({ customerId: c.customerId, ...c.conversion }));
    assert.deepEqual(
      calls.map((c) => [
        c.customerId,
        c.caller_id,
        c.call_start_date_time,
        c.conversion_action,
        c.conversion_date_time,
        c.conversion_value,
        c.currency_code,
      ]),
      [
        [
          '1234567890',
          '+12125550101',
          '2026-11-20 09:05:00-06:00',
          ACTION('6512349874'),
          '2026-11-20 09:40:00-06:00',
          250,
          'USD',
        ],
        [
          '1234567890',
          '+12125550102',
          '2026-11-21 10:00:00-06:00',
          ACTION('6512349875'),
          '2026-11-21 10:30:00-06:00',
          undefined,
          'USD',
        ],
      ],
    );
    const searches = googleAds.requests.filter((r) => r.method === 'Search' || r.method === 'SearchStream');
    assert.ok(searches.length >= 3, `the names were looked up over gRPC (${searches.length} lookups)`);

    const report = await getReport(importId);
    assert.deepEqual(
      report.failed.map((f) => [f.row, f.outcome, f.code]),
      [
        [5, 'REJECTED', 'conversion_upload_error.EXPIRED_CALL'],
        [6, 'INVALID', 'UNKNOWN_CONVERSION_NAME'],
        [7, 'INVALID', 'INVALID_ROW'],
        [8, 'INVALID', 'UNKNOWN_CONVERSION_NAME'],
      ],
    );

    // The failed rows come back as the template, ready to fix and post again.
    const failed = await cli(['calls', 'report', importId, '--failed']);
    assert.equal(failed.code, 0, failed.stderr);
    const back = parseCallCsv(failed.stdout);
    assert.deepEqual(back.problems, []);
    assert.equal(back.timeZone, 'America/Chicago');
    assert.deepEqual(back.ignoredColumns, ['Reason']);
    assert.deepEqual(
      back.rows.map((r) => r.fields["Caller's Phone Number"]),
      ['+12125550103', '+12125550104', 'not a number', '+12125550106'],
    );
    assert.equal(back.rows[2]?.fields['Conversion Value'], '-3');
    assert.match(failed.stdout, /EXPIRED_CALL/);

    // The same file again: the same import, nothing sent twice.
    const again = await cli(['calls', 'import', file]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`import ${importId} was imported before`));
    assert.equal(googleAds.uploaded().calls.length, 2);

    // Only the key holder reads the numbers: history is ciphertext without the key.
    const handle = env.client.workflow.getHandle(`${importId}-part-0001`);
    const raw = JSON.stringify(await handle.fetchHistory());
    assert.ok(!raw.includes('2125550101'));
    assert.ok((await readableHistory(handle)).text.includes('+12125550101'));
  });

  test('a file with nothing usable is a 400 naming every row and column; other bodies are refused clearly', async () => {
    const post = (body: string, type: string, key = API_KEY) =>
      fetch(`${api.url}/v1/google-ads/calls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': type },
        body,
      });
    const bad = await post(
      row(...CALL_COLUMNS) + row('', '2026-11-20 10:00:00', 'Sales call', 'later', '1', 'USD'),
      'text/csv',
    );
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { issues: { row: number; field: string; message: string }[] };
    assert.deepEqual(
      body.issues.map((i) => [i.row, i.field]),
      [
        [2, "Caller's Phone Number"],
        [2, 'Conversion Time'],
      ],
    );
    const noHeader = await post('just,some,text\n', 'text/csv');
    assert.equal(noHeader.status, 400);
    assert.match(JSON.stringify(await noHeader.json()), /the header lacks/);
    const zone = await post(row('Parameters:TimeZone=Mars/Base') + row(...CALL_COLUMNS), 'text/csv');
    assert.equal(zone.status, 400);
    assert.match(JSON.stringify(await zone.json()), /Parameters:TimeZone/);
    assert.equal((await post('{}', 'text/plain')).status, 415);
    assert.equal((await post('x', 'text/csv', 'wrong-key')).status, 401);
    const json = await post(JSON.stringify([{ callerId: '+12125550199', nonsense: 1 }]), 'application/json');
    assert.equal(json.status, 400);
    assert.match(JSON.stringify(await json.json()), /unknown field \\"nonsense\\"/);
    const report = await fetch(`${api.url}/v1/google-ads/calls/imports/not-an-id`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    assert.equal(report.status, 400);
  });

  test('JSON rows with the same fields import the same way', async () => {
    const res = await fetch(`${api.url}/v1/google-ads/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        timeZone: '-0500',
        rows: [
          {
            callerPhoneNumber: '+12125550111',
            callStartTime: '2026-11-25 10:00:00',
            conversionName: 'Sales call',
            conversionTime: '2026-11-25 10:45:00',
            conversionValue: 42.5,
            conversionCurrency: 'USD',
          },
        ],
      }),
    });
    assert.equal(res.status, 202);
    const answer = (await res.json()) as { importId: string };
    const done = await env.client.workflow.getHandle<typeof callImportWorkflow>(answer.importId).result();
    assert.equal(done.counts.uploaded, 1);
    const sent = googleAds.uploaded().calls.find((c) => c.conversion.caller_id === '+12125550111');
    assert.equal(sent?.conversion.call_start_date_time, '2026-11-25 10:00:00-05:00');
    assert.equal(sent?.conversion.conversion_value, 42.5);
  });
});

describe('the HubSpot pull', () => {
  test('imports the inbound calls whose outcome maps to a conversion, once', async () => {
    const first = await cli(['calls', 'pull', '--wait', '--json']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const result = JSON.parse(first.stdout.slice(first.stdout.indexOf('{'))) as {
      importId: string;
      read: number;
      rows: number;
      skipped: number;
    };
    // Jane's and Ravi's Connected calls and the voicemail are imported; No answer maps to nothing; the
    // outbound call is not read at all.
    assert.equal(result.rows, 3);
    assert.equal(result.skipped, 1);
    await env.client.workflow
      .getHandle(result.importId)
      .result()
      .catch(() => undefined);
    const report = await getReport(result.importId);
    assert.equal(report.counts?.uploaded, 3, JSON.stringify(report));
    const byCaller = new Map(googleAds.uploaded().calls.map((c) => [c.conversion.caller_id, c.conversion]));
    assert.equal(byCaller.get('+12125550142')?.conversion_value, 24000);
    assert.equal(byCaller.get('+12125550142')?.conversion_action, ACTION('6512349874'));
    assert.equal(byCaller.get('+12125550199')?.conversion_value, 8000);
    assert.equal(byCaller.get('+12125550177')?.conversion_value, 100);
    assert.equal(byCaller.get('+12125550177')?.conversion_action, ACTION('6512349875'));
    const before = googleAds.uploaded().calls.length;

    // Nothing changed: the next run reads nothing new.
    const second = await cli(['calls', 'pull', '--wait', '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /"rows": 0/);

    // A call edited in HubSpot comes back, and Google keeps the first upload.
    hubspot.updateCall(DEMO_CALL_IDS.janeConnected, { hs_call_title: 'Follow-up notes' });
    const third = await cli(['calls', 'pull', '--wait', '--json']);
    const again = JSON.parse(third.stdout.slice(third.stdout.indexOf('{'))) as { importId: string; rows: number };
    assert.equal(again.rows, 1);
    await env.client.workflow
      .getHandle(again.importId)
      .result()
      .catch(() => undefined);
    assert.equal((await getReport(again.importId)).counts?.alreadyRecorded, 1);
    assert.equal(googleAds.uploaded().calls.length, before);

    // As a person reads it.
    const human = await cli(['calls', 'pull', '--wait']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /COMPLETED: HubSpot calls modified .* → /);
    assert.match(human.stdout, /read \d+: 0 to import \(0 invalid\)/);
  });
});

describe('on the dev server', () => {
  test('the pull schedule: every calls.hubspot.every, SKIP, one interval of catch-up; apply is idempotent', async () => {
    const taskQueue = uniqueId('calls-schedule');
    const hubspotConfig = {
      everyMs: 3_600_000,
      every: '1h',
      outcomes: { Connected: 'Sales call' },
      value: { type: 'deal_amount' as const, default: 0 },
    };
    const config = callsConfig({ hubspot: hubspotConfig });
    // The worker of this file applied it for its own queue at start; this queue is another spec.
    assert.equal(await applyCallsSchedule(env.client, { taskQueue, config }), 'updated');
    assert.equal(await applyCallsSchedule(env.client, { taskQueue, config }), 'unchanged');
    const d = await env.client.schedule.getHandle(CALLS_SCHEDULE_ID).describe();
    assert.deepEqual(
      d.spec.intervals?.map((i) => i.every),
      [3_600_000],
    );
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(d.policies.catchupWindow, 3_600_000);
    const next = d.info.nextActionTimes.map((t) => t.getTime());
    assert.ok(next.length >= 2 && (next[1] ?? 0) - (next[0] ?? 0) === 3_600_000);
    const thirty = callsConfig({ hubspot: { ...hubspotConfig, everyMs: 1_800_000, every: '30m' } });
    assert.equal(await applyCallsSchedule(env.client, { taskQueue, config: thirty }), 'updated');
    assert.deepEqual(
      (await env.client.schedule.getHandle(CALLS_SCHEDULE_ID).describe()).spec.intervals?.map((i) => i.every),
      [1_800_000],
    );
    assert.equal(await applyCallsSchedule(env.client, { taskQueue, config: callsConfig() }), 'paused');
    assert.equal((await env.client.schedule.getHandle(CALLS_SCHEDULE_ID).describe()).state.paused, true);
    assert.equal(await applyCallsSchedule(env.client, { taskQueue, config: thirty }), 'updated');
    assert.equal((await env.client.schedule.getHandle(CALLS_SCHEDULE_ID).describe()).state.paused, false);
  });

  test('a scheduled run is a pull workflow started by the server', async () => {
    // Applied again for this file's worker and its config (the test above moved it), then started now.
    const file = loadRelayConfigFile(join(dir, 'relay.yaml')).calls;
    const taskQueue = worker.worker.workers.workflows?.options.taskQueue ?? assert.fail('no workflow worker');
    assert.equal(await applyCallsSchedule(env.client, { taskQueue, config: file }), 'updated');
    const handle = env.client.schedule.getHandle(CALLS_SCHEDULE_ID);
    await handle.trigger();
    let run: { workflowId: string } | undefined;
    for (let i = 0; i < 200 && !run; i++) {
      for await (const w of env.client.workflow.list({ query: `WorkflowType = "callsHubSpotPullWorkflow"` })) {
        if (w.workflowId.startsWith('calls-hubspot-pull-') && !w.workflowId.includes('manual')) run = w;
      }
      if (!run) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(run, 'the schedule started a pull');
    const result = await env.client.workflow.getHandle<typeof callsHubSpotPullWorkflow>(run.workflowId).result();
    assert.equal(typeof result.until, 'number');
    assert.equal((await handle.describe()).info.recentActions.length > 0, true);
  });

  test('the namespace keeps closed workflows 90 days', async () => {
    const connection = env.connection;
    const namespace = env.namespace ?? 'default';
    await ensureNamespaceRetention(connection, namespace);
    assert.equal(await namespaceRetentionDays(connection, namespace), 90);
    assert.equal(await ensureNamespaceRetention(connection, namespace), 'unchanged');
  });
});
