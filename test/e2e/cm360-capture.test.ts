// End to end on the Temporal CLI dev server: the real api (HTTP), the real worker and activities, the
// real CM360 client, and the CM360 emulator over HTTP. Only the indexing delay is shortened.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/env';
import { startCm360Emulator, type Cm360Emulator } from '../../src/sandbox/cm360';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../../src/workers/composition';
import { cm360StatusQuery, type cm360EnhancementWorkflow } from '../../src/workflows/cm360-enhancement';
import { RelayFlow, RelayStatus } from '../../src/workflows/search-attributes';
import { countBillableActions } from '../../src/temporal/billable-actions';
import { createDevServerEnv, TEST_PAYLOAD_KEY, uniqueId } from '../helpers/temporal';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const API_KEY = 'e2e-key';

let env: TestWorkflowEnvironment;
let emulator: Cm360Emulator;
let worker: RunningWorker;
let api: RunningApi;

before(async () => {
  env = await createDevServerEnv();
  emulator = await startCm360Emulator({ indexDelayMs: 0 });
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    RELAY_TASK_QUEUE: uniqueId('e2e'),
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    // A new uploader waits two refreshes before its first request (src/temporal/upload-share.ts).
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_API_KEY: API_KEY,
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_DEFAULT_PHONE_REGION: 'US',
    CM360_PROFILE_ID: '4242',
    CM360_API_ROOT: emulator.apiRoot,
    CM360_ACCESS_TOKEN: 'sandbox-token',
    CM360_ENHANCE_DELAY: '1s',
    CM360_BATCH_LINGER: '50ms',
    CM360_QPS: '20',
  });
  worker = await startWorker(config);
  api = await startApi(config);
});

after(async () => {
  await api?.stop();
  await worker?.stop();
  await emulator?.close();
  await env?.teardown();
});

function capture(ordinal: string, user: Record<string, string>) {
  return {
    matchId: 'my-match-id-846513278',
    ordinal,
    timestampMicros: String(BigInt(Date.now()) * 1000n),
    floodlightConfigurationId: 99999,
    floodlightActivityId: '8888',
    quantity: 1,
    value: 104.23,
    user,
  };
}

async function post(body: unknown, key = API_KEY) {
  const res = await fetch(`${api.url}/v1/cm360/conversions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Accepted = { conversions: { workflowId: string; status: string }[] };

const rowsFor = (ordinal: string) =>
  emulator.requests.flatMap((r) =>
    ((r.body as { conversions: { ordinal: string }[] }).conversions ?? []).filter((c) => c.ordinal === ordinal),
  );

describe('CM360 capture → enhance, end to end', () => {
  test('a capture posted over HTTP reaches CM360 correctly hashed, once', async () => {
    const ordinal = uniqueId('ord');
    const sent = capture(ordinal, {
      email: '  Foo@Bar.com ',
      phone: '+1 (000) 000-0001',
      firstName: ' Jane',
      lastName: 'DOE ',
      streetAddress: '1600 Amphitheatre Pkwy',
      city: 'seattle',
      state: 'washington',
      postalCode: '98101',
      countryCode: 'us',
    });
    const { status, body } = await post(sent);
    assert.equal(status, 202, JSON.stringify(body));
    const [started] = (body as Accepted).conversions;
    assert.equal(started?.status, 'started');
    assert.equal(started?.workflowId, `cm360-enhance-99999-8888-${ordinal}`);

    const handle = env.client.workflow.getHandle<typeof cm360EnhancementWorkflow>(started.workflowId);
    const result = await handle.result();
    assert.equal(result.attempts, 1);

    const rows = rowsFor(ordinal);
    assert.equal(rows.length, 1);
    const request = emulator.requests.find((r) => JSON.stringify(r.body).includes(ordinal));
    assert.equal(request?.profileId, '4242');
    assert.deepEqual(rows[0], {
      matchId: 'my-match-id-846513278',
      ordinal,
      timestampMicros: sent.timestampMicros,
      floodlightActivityId: '8888',
      floodlightConfigurationId: '99999',
      quantity: '1',
      value: 104.23,
      kind: 'dfareporting#conversion',
      userIdentifiers: [
        { hashedEmail: '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b' },
        { hashedPhoneNumber: '1fb1f420856780a29719b994c8764b81770d79f97e2e1861ba938a7a5a15dfb9' },
        {
          addressInfo: {
            hashedFirstName: '81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2',
            hashedLastName: '799ef92a11af918e3fb741df42934f3b568ed2d93ac1df74f1b8d41a27932a6f',
            hashedStreetAddress: '22b7e2d69b91e0ef4a88e81a73d897b92fd9c93ccfbe0a860f77db16c26f662e',
            city: 'seattle',
            state: 'washington',
            postalCode: '98101',
            countryCode: 'US',
          },
        },
      ],
    });

    const status2 = await handle.query(cm360StatusQuery);
    assert.equal(status2.state, 'ENHANCED');
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(RelayFlow), 'cm360-enhancement');
    // The plain way writes no search attribute; start, (timer) and one enhancement are all its Actions.
    assert.equal(description.typedSearchAttributes.get(RelayStatus), undefined);
    const actions = countBillableActions((await handle.fetchHistory()).events ?? []);
    assert.ok(actions.total <= 3 && !actions.byKind.upsert, JSON.stringify(actions));
    assert.match((await description.staticSummary()) ?? '', /99999\/8888/);

    // Plaintext never enters history, and the payloads there are encrypted as a whole.
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of ['Foo@Bar.com', 'foo@bar.com', 'Jane', 'Amphitheatre', sha('foo@bar.com'), 'seattle']) {
      assert.ok(!history.includes(secret), `history contains ${secret}`);
    }
  });

  test('a duplicate capture maps to the same workflow and is enhanced once', async () => {
    const ordinal = uniqueId('dup');
    const body = capture(ordinal, { email: 'someone@example.com' });
    const first = await post(body);
    const second = await post(body);
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    const [a] = (first.body as Accepted).conversions;
    const [b] = (second.body as Accepted).conversions;
    assert.equal(a?.workflowId, b?.workflowId);
    assert.equal(b?.status, 'duplicate');
    await env.client.workflow.getHandle(a!.workflowId).result();
    const third = await post(body);
    assert.equal((third.body as Accepted).conversions[0]?.status, 'duplicate');
    assert.equal(rowsFor(ordinal).length, 1);
  });

  test('a bad conversion beside a good one: 207, the bad one named and left without a workflow, the good one started', async () => {
    const good = capture(uniqueId('ok'), { email: 'a@example.com' });
    const bad = { ...capture(uniqueId('bad'), { email: 'b@example.com' }), quantity: 'many' };
    const { status, body } = await post([good, bad]);
    assert.equal(status, 207);
    const answer = body as { issues: { field: string }[]; conversions: { status: string; workflowId?: string }[] };
    assert.deepEqual(
      answer.issues.map((i) => i.field),
      ['[1].quantity'],
    );
    assert.deepEqual(
      answer.conversions.map((c) => c.status),
      ['started', 'invalid'],
    );
    const started = env.client.workflow.getHandle(`cm360-enhance-99999-8888-${good.ordinal}`);
    assert.equal((await started.describe()).status.name, 'RUNNING');
    await assert.rejects(
      env.client.workflow.getHandle(`cm360-enhance-99999-8888-${bad.ordinal}`).describe(),
      WorkflowNotFoundError,
    );
  });

  test('only bad input: 400, and no workflow', async () => {
    const bad = { ...capture(uniqueId('bad'), { email: 'b@example.com' }), quantity: 'many' };
    const { status } = await post([bad]);
    assert.equal(status, 400);
    await assert.rejects(
      env.client.workflow.getHandle(`cm360-enhance-99999-8888-${bad.ordinal}`).describe(),
      WorkflowNotFoundError,
    );
  });

  test('a wrong API key gets a 401 and starts nothing', async () => {
    const c = capture(uniqueId('unauth'), { email: 'a@example.com' });
    const { status } = await post(c, 'wrong');
    assert.equal(status, 401);
    await assert.rejects(
      env.client.workflow.getHandle(`cm360-enhance-99999-8888-${c.ordinal}`).describe(),
      WorkflowNotFoundError,
    );
  });

  test('PERMISSION_DENIED from CM360 fails the workflow at once, visible in the UI', async () => {
    emulator.setFault({ type: 'permission-denied', floodlightConfigurationId: '77777' });
    try {
      const c = { ...capture(uniqueId('denied'), { email: 'x@example.com' }), floodlightConfigurationId: '77777' };
      const { body } = await post(c);
      const handle = env.client.workflow.getHandle((body as Accepted).conversions[0]!.workflowId);
      await assert.rejects(handle.result());
      const status = await handle.query(cm360StatusQuery);
      assert.equal(status.failure, 'Cm360PermissionDenied');
      assert.equal(status.attempts, 1);
    } finally {
      emulator.setFault(undefined);
    }
  });

  test('the api and the worker count it on /metrics: events received and refused, starts by flow, rows and batches', async () => {
    const scrape = async (base: string) => (await fetch(`${base}/metrics`)).text();
    const value = (text: string, series: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${series} `))
          ?.split(' ')[1] ?? 0,
      );
    const series = {
      received: 'relay_events_received_total{source="cm360"}',
      invalid: 'relay_events_rejected_total{source="cm360",reason="invalid"}',
      started: 'relay_workflows_started_total{flow="cm360-enhancement",outcome="started"}',
      duplicate: 'relay_workflows_started_total{flow="cm360-enhancement",outcome="duplicate"}',
    };
    const uploaded = 'relay_rows_total{vendor="cm360",service="batchupdate",outcome="uploaded",code="OK"}';
    const apiBefore = await scrape(api.url);
    const workerBefore = await scrape(worker.healthUrl);

    const good = capture(uniqueId('metrics'), { email: 'metrics@example.com' });
    const bad = { ...capture(uniqueId('metrics-bad'), { email: 'b@example.com' }), quantity: 'many' };
    assert.equal((await post([good, bad])).status, 207);
    assert.equal((await post([good])).status, 202);
    await env.client.workflow.getHandle(`cm360-enhance-99999-8888-${good.ordinal}`).result();

    const apiAfter = await scrape(api.url);
    const delta = (name: keyof typeof series) => value(apiAfter, series[name]) - value(apiBefore, series[name]);
    assert.equal(delta('received'), 3);
    assert.equal(delta('invalid'), 1);
    assert.equal(delta('started'), 1);
    assert.equal(delta('duplicate'), 1);
    const workerAfter = await scrape(worker.healthUrl);
    assert.equal(value(workerAfter, uploaded) - value(workerBefore, uploaded), 1);
    const requests = 'relay_batch_rows_count{vendor="cm360",service="batchupdate"}';
    assert.ok(value(workerAfter, requests) > value(workerBefore, requests));
    assert.match(workerAfter, /^relay_quota_wait_seconds_count\{vendor="cm360",service="batchupdate"\} \d+/m);
    // Nothing personal in either: no address, no hash of one.
    for (const text of [apiAfter, workerAfter]) {
      assert.ok(!text.includes('metrics@example.com') && !text.includes(sha('metrics@example.com')));
    }
  });
});
