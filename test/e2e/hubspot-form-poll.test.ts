// Flow B fed by HubSpot itself, end to end: the worker applies one Schedule per polled form definition; each
// triggered run reads the form's new submissions from the HubSpot emulator (HTTP, HubSpot's wire format) and
// starts one form workflow per submission, which enhances the conversion in the Google Ads emulator (gRPC).
// No submission is started twice, none is skipped across pages or runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/env';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../../src/sandbox/google-ads';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { formPollAccount } from '../../src/schedules/hubspot-form-poll';
import { startWorker, type RunningWorker } from '../../src/workers/composition';
import { formWorkflowId } from '../../src/workflows/form-enhancement';
import { FORM_POLL_FLOW, type FormPollResult } from '../../src/workflows/hubspot-form-poll';
import { createDevServerEnv, TEST_PAYLOAD_KEY, uniqueId, workflowBundle } from '../helpers/temporal';

const HUBSPOT_TOKEN = 'e2e-forms-token';
const DEVELOPER_TOKEN = 'e2e-dev-token';
const FORM = '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57';
const UNPOLLED_FORM = '7d2e9c41-1a5b-4f3e-8c6d-0e9f1b2a3c4d';
const DEFINITION = 'demo-request-form';

const CONFIG = `
hubspot: { tier: professional }
definitions:
  - id: ${DEFINITION}
    name: Demo request form
    createdAt: '2026-01-01T00:00:00Z'
    customerId: '123-456-7890'
    trigger: { type: form_submission, formId: ${FORM.toUpperCase()}, conversionAction: '6512349874' }
    value: { type: custom, amount: 25, currency: EUR }
    sharedFields: [email, firstName]
    orderIdField: gtag_transaction_id
    poll: { every: 1m }
  - id: posted-form
    name: Posted by the site
    createdAt: '2026-01-01T00:00:00Z'
    customerId: '123-456-7890'
    trigger: { type: form_submission, formId: ${UNPOLLED_FORM}, conversionAction: '6512349876' }
    value: { type: custom, amount: 1, currency: EUR }
    poll: false
`;

let env: TestWorkflowEnvironment;
let hubspot: HubSpotEmulator;
let googleAds: GoogleAdsEmulator;
let worker: RunningWorker;
const schedules: Record<string, string> = {};
const dir = mkdtempSync(join(tmpdir(), 'relay-form-poll-'));

before(async () => {
  env = await createDevServerEnv();
  hubspot = await startHubSpotEmulator({ accessToken: HUBSPOT_TOKEN });
  hubspot.addForm(FORM);
  googleAds = await startGoogleAdsEmulator({ developerToken: DEVELOPER_TOKEN, conversionActions: ['6512349874'] });
  const configPath = join(dir, 'relay.yaml');
  writeFileSync(configPath, CONFIG);
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.address,
    RELAY_TASK_QUEUE: uniqueId('e2e-forms'),
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    // A new uploader waits two refreshes before its first request (src/temporal/upload-share.ts).
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_CONFIG: configPath,
    HUBSPOT_API_BASE: hubspot.basePath,
    HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN,
    GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
    GOOGLE_ADS_DEVELOPER_TOKEN: DEVELOPER_TOKEN,
    GOOGLE_ADS_CLIENT_ID: 'id',
    GOOGLE_ADS_CLIENT_SECRET: 'secret',
    GOOGLE_ADS_REFRESH_TOKEN: 'rt',
    GOOGLE_ADS_BATCH_LINGER: '50ms',
  });
  worker = await startWorker(config, {
    workflowBundle: await workflowBundle(),
    warn: () => undefined,
    onSchedule: (outcome, id) => {
      schedules[id] = outcome;
    },
  });
});

after(async () => {
  await worker?.stop();
  await googleAds?.close();
  await hubspot?.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Triggers the schedule now and returns the result of the run it started. */
async function pollNow(): Promise<FormPollResult> {
  const handle = env.client.schedule.getHandle(`hubspot-form-poll-${DEFINITION}`);
  const before = (await handle.describe()).info.recentActions.length;
  await handle.trigger();
  const action = await until('the triggered run', async () => {
    const actions = (await handle.describe()).info.recentActions;
    return actions.length > before ? actions.at(-1) : undefined;
  });
  const run = env.client.workflow.getHandle(
    action.action.workflow.workflowId,
    action.action.workflow.firstExecutionRunId,
  );
  const result = (await run.result()) as FormPollResult;
  // The next poll starts from this one's watermark: wait until visibility lists it as completed.
  const query = `RelayFlow = "${FORM_POLL_FLOW}" AND RelayAccount = "${formPollAccount(DEFINITION)}" AND ExecutionStatus = "Completed" AND WorkflowId = "${action.action.workflow.workflowId}"`;
  await until('visibility of the finished poll', async () =>
    (await env.client.workflow.count(query)).count > 0 ? true : undefined,
  );
  return result;
}

const minutesAgo = (m: number) => Date.now() - m * 60_000;

describe('HubSpot form poll → form workflows → Google Ads enhancements', () => {
  test('the worker applies one schedule per polled form (not for poll: false)', () => {
    assert.equal(schedules[`hubspot-form-poll-${DEFINITION}`], 'created');
    assert.equal(schedules['hubspot-form-poll-posted-form'], undefined);
  });

  test('a poll starts one workflow per new submission, keyed on the Google tag transaction id', async () => {
    hubspot.addFormSubmission(FORM, {
      submittedAt: minutesAgo(30),
      values: { email: 'Jane.Doe@Example.com', firstname: 'Jane', gtag_transaction_id: 'T-1001' },
    });
    const noOrderId = hubspot.addFormSubmission(FORM, {
      submittedAt: minutesAgo(20),
      values: { email: 'alex@example.com' },
    });
    hubspot.addFormSubmission(FORM, {
      submittedAt: Date.now() - 30 * 3_600_000,
      values: { email: 'late@example.com', gtag_transaction_id: 'T-OLD' },
    });
    const result = await pollNow();
    assert.equal(result.started, 2, JSON.stringify(result));
    assert.equal(result.alreadyStarted, 0);
    assert.equal(result.orderIdFromConversionId, 1);
    // The first poll starts at the edge of the enhancement window: the 30-hour-old one is not even read.
    assert.equal(result.skipped, 0);

    for (const orderId of ['T-1001', noOrderId.conversionId]) {
      const handle = env.client.workflow.getHandle(formWorkflowId(FORM, orderId));
      assert.deepEqual(await handle.result(), { outcome: 'ENHANCED', attempts: 1 });
    }
    const sent = googleAds.uploaded().enhancements.map((e) => e.conversion.order_id);
    assert.deepEqual(sent.sort(), ['T-1001', noOrderId.conversionId].sort());
    assert.ok(!sent.includes('T-OLD'));
  });

  test('the next polls start only what is new, across pages, and a poll with nothing new starts nothing', async () => {
    const base = minutesAgo(10);
    for (let i = 0; i < 120; i++) {
      hubspot.addFormSubmission(FORM, {
        submittedAt: base + i * 1000,
        values: { email: `buyer${i}@example.com`, gtag_transaction_id: `T-2${String(i).padStart(3, '0')}` },
      });
    }
    const second = await pollNow();
    assert.equal(second.started, 120, JSON.stringify(second));
    assert.equal(second.alreadyStarted, 0);

    const third = await pollNow();
    assert.equal(third.read, 0, JSON.stringify(third));
    assert.equal(third.started, 0);

    const list = await env.client.workflow.count(`RelayFlow = "hubspot-form-enhancement"`);
    assert.equal(list.count, 122);
    await until('all enhancements uploaded', () =>
      Promise.resolve(googleAds.uploaded().enhancements.length >= 122 ? true : undefined),
    );
    const orderIds = googleAds.uploaded().enhancements.map((e) => e.conversion.order_id);
    assert.equal(new Set(orderIds).size, orderIds.length, 'no submission enhanced twice');
  });
});
