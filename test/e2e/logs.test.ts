// The logs of a real run: `relay api` and `relay worker` as child processes (as an operator runs them, at debug,
// JSON), on the dev server, with the CM360, HubSpot and Google Ads emulators. One capture, one lifecycle webhook
// and one form submission carry distinctive personal data; afterwards every line of both processes is JSON, the
// requests are logged at debug, and no line holds a plaintext value, a hash of one, or a secret.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { v3Signature } from '../../src/api/hubspot-signature';
import { startCm360Emulator, type Cm360Emulator } from '../../src/sandbox/cm360';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../../src/sandbox/google-ads';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { freePort } from '../chaos/stack';
import { RELAY_BIN } from '../helpers/cli';
import { createDevServerEnv, TEST_PAYLOAD_KEY, uniqueId } from '../helpers/temporal';

const FIXTURE = join(__dirname, '..', 'fixtures', 'hubspot-google-ads.yaml');
const SECRETS = {
  apiKey: 'logs-api-key-7c1f',
  clientSecret: 'logs-hubspot-secret-93ab',
  codecToken: 'logs-codec-token-5d20',
  hubspotToken: 'logs-hubspot-token-e41c',
  developerToken: 'logs-developer-token-0b7d',
  cm360Token: 'logs-cm360-token-a9f3',
  payloadKey: TEST_PAYLOAD_KEY,
};
const PERSON = {
  email: 'Ysolde.Marchetti@Example.org',
  phone: '+1 650-253-0147',
  firstName: 'Ysolde',
  lastName: 'Marchetti',
  street: '77 Quillfeather Lane',
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** Every spelling a value could appear in: as sent, normalized, and hashed. */
const FORBIDDEN = [
  ...Object.values(SECRETS),
  PERSON.email,
  PERSON.email.toLowerCase(),
  sha(PERSON.email.toLowerCase()),
  '650-253-0147',
  '6502530147',
  sha('+16502530147'),
  PERSON.firstName,
  PERSON.lastName,
  PERSON.lastName.toLowerCase(),
  'Quillfeather',
];

class RelayProcess {
  readonly child: ChildProcess;
  output = '';
  constructor(command: 'api' | 'worker', env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [RELAY_BIN, command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
    this.child.stderr?.on('data', (b: Buffer) => (this.output += b.toString('utf8')));
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let env: TestWorkflowEnvironment;
let cm360: Cm360Emulator;
let hubspot: HubSpotEmulator;
let googleAds: GoogleAdsEmulator;
let api: RelayProcess;
let worker: RelayProcess;
let apiUrl: string;
let workerUrl: string;

before(async () => {
  env = await createDevServerEnv();
  cm360 = await startCm360Emulator({ indexDelayMs: 0, accessToken: SECRETS.cm360Token });
  hubspot = await startHubSpotEmulator({ accessToken: SECRETS.hubspotToken });
  googleAds = await startGoogleAdsEmulator({
    developerToken: SECRETS.developerToken,
    conversionActions: ['6512349871', '6512349873', '6512349874', '6512349876'],
  });
  const [httpPort, workerPort, sdkPort] = [await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${httpPort}`;
  workerUrl = `http://127.0.0.1:${workerPort}`;
  const relayEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    RELAY_TASK_QUEUE: uniqueId('logs'),
    RELAY_HTTP_PORT: String(httpPort),
    RELAY_WORKER_HTTP_PORT: String(workerPort),
    RELAY_SDK_METRICS_PORT: String(sdkPort),
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_LOG_LEVEL: 'debug',
    RELAY_LOG_FORMAT: 'json',
    RELAY_API_KEY: SECRETS.apiKey,
    RELAY_PAYLOAD_KEY: SECRETS.payloadKey,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_SERVE_CODEC: 'true',
    RELAY_CODEC_TOKEN: SECRETS.codecToken,
    RELAY_DEFAULT_PHONE_REGION: 'US',
    RELAY_CONFIG: FIXTURE,
    CM360_PROFILE_ID: '4242',
    CM360_API_ROOT: cm360.apiRoot,
    CM360_ACCESS_TOKEN: SECRETS.cm360Token,
    CM360_ENHANCE_DELAY: '1s',
    CM360_BATCH_LINGER: '50ms',
    CM360_QPS: '20',
    HUBSPOT_CLIENT_SECRET: SECRETS.clientSecret,
    HUBSPOT_API_BASE: hubspot.basePath,
    HUBSPOT_ACCESS_TOKEN: SECRETS.hubspotToken,
    GOOGLE_ADS_ENDPOINT: `${googleAds.host}:${googleAds.port}`,
    GOOGLE_ADS_DEVELOPER_TOKEN: SECRETS.developerToken,
    GOOGLE_ADS_CLIENT_ID: 'logs-client-id',
    GOOGLE_ADS_CLIENT_SECRET: 'logs-client-secret',
    GOOGLE_ADS_REFRESH_TOKEN: 'logs-refresh-token',
    GOOGLE_ADS_BATCH_LINGER: '50ms',
  };
  worker = new RelayProcess('worker', relayEnv);
  api = new RelayProcess('api', relayEnv);
  await until('the worker ready', async () =>
    (await fetch(`http://127.0.0.1:${workerPort}/readyz`)).ok ? true : undefined,
  );
  await until('the api ready', async () => ((await fetch(`${apiUrl}/readyz`)).ok ? true : undefined));
});

after(async () => {
  await api?.stop();
  await worker?.stop();
  await googleAds?.close();
  await hubspot?.close();
  await cm360?.close();
  await env?.teardown();
});

describe('logs of a real run', () => {
  test('one format, requests at debug, and no personal data or secret in any line of the api or the worker', async () => {
    // Flow D: a capture with every identifier in plaintext.
    const ordinal = uniqueId('logs');
    const capture = await fetch(`${apiUrl}/v1/cm360/conversions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.apiKey}` },
      body: JSON.stringify({
        matchId: 'logs-match',
        ordinal,
        timestampMicros: String(BigInt(Date.now()) * 1000n),
        floodlightConfigurationId: 99999,
        floodlightActivityId: '8888',
        quantity: 1,
        value: 10,
        user: {
          email: PERSON.email,
          phone: PERSON.phone,
          firstName: PERSON.firstName,
          lastName: PERSON.lastName,
          streetAddress: PERSON.street,
          countryCode: 'US',
        },
      }),
    });
    assert.equal(capture.status, 202, await capture.text());

    // Flow A: a lifecycle change of a contact holding the same person.
    const contactId = '7701';
    hubspot.upsertContact(contactId, {
      email: PERSON.email,
      phone: PERSON.phone,
      firstname: PERSON.firstName,
      lastname: PERSON.lastName,
      address: PERSON.street,
      lifecyclestage: 'lead',
      hs_google_click_id: 'Cj0KCQiA-logs-gclid',
      google_ads_consent: 'granted',
      hs_v2_date_entered_lead: new Date(Date.now() - 3_600_000).toISOString(),
    });
    const events = JSON.stringify([
      {
        eventId: 99001,
        subscriptionId: 1,
        portalId: 62515,
        appId: 1,
        occurredAt: Date.now(),
        subscriptionType: 'contact.propertyChange',
        attemptNumber: 0,
        objectId: Number(contactId),
        propertyName: 'lifecyclestage',
        propertyValue: 'lead',
      },
    ]);
    const url = `${apiUrl}/webhooks/hubspot`;
    const timestamp = String(Date.now());
    const webhook = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': v3Signature(SECRETS.clientSecret, 'POST', url, events, timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
      body: events,
    });
    assert.equal(webhook.status, 200, await webhook.text());
    // A webhook signed with the wrong secret: refused, and its warning names no secret either.
    const refused = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': v3Signature('not-the-secret', 'POST', url, events, timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
      body: events,
    });
    assert.equal(refused.status, 401);

    // Flow B: a form submission with the person's fields.
    const form = await fetch(`${apiUrl}/webhooks/hubspot/forms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.apiKey}` },
      body: JSON.stringify({
        formId: '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57',
        submissionId: uniqueId('ORD-logs'),
        submittedAt: new Date(Date.now() - 60_000).toISOString(),
        fields: { email: PERSON.email, phone: PERSON.phone, firstname: PERSON.firstName, lastname: PERSON.lastName },
      }),
    });
    assert.ok(form.status === 202 || form.status === 200, await form.text());

    // Everything reached its vendor.
    await until('the CM360 enhancement', () =>
      Promise.resolve(cm360.requests.some((r) => JSON.stringify(r.body).includes(ordinal)) ? true : undefined),
    );
    await until('the click and the enhancement', () => {
      const methods = googleAds.requests.map((r) => r.method);
      return Promise.resolve(
        methods.includes('UploadClickConversions') && methods.includes('UploadConversionAdjustments')
          ? true
          : undefined,
      );
    });
    // The Web UI's decoding: a codec call logs nothing at info.
    const decode = await fetch(`${apiUrl}/codec/t/${SECRETS.codecToken}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    });
    assert.equal(decode.status, 200);
    // `relay worker` serves the SDK's own metrics beside the relay's (the dashboard's backlog panels read them).
    const metrics = await (await fetch(`${workerUrl}/metrics`)).text();
    assert.match(metrics, /^relay_rows_total\{vendor="cm360",service="batchupdate",outcome="uploaded",code="OK"\} 1$/m);
    for (const name of [
      'temporal_workflow_task_schedule_to_start_latency_bucket',
      'temporal_activity_schedule_to_start_latency_bucket',
      'temporal_worker_task_slots_available',
    ]) {
      assert.match(metrics, new RegExp(`^${name}\\{`, 'm'), `${name} in the worker's /metrics`);
    }
    await api.stop();
    await worker.stop();

    for (const [name, proc] of [
      ['api', api],
      ['worker', worker],
    ] as const) {
      const lines = proc.output.split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length > 0, `${name} logged nothing`);
      const records = lines.map((line) => {
        try {
          return JSON.parse(line) as { level: number; msg?: string; url?: string };
        } catch {
          assert.fail(`${name}: a line that is not JSON: ${line.slice(0, 200)}`);
        }
      });
      for (const value of FORBIDDEN) {
        const hit = lines.find((l) => l.includes(value));
        assert.equal(hit, undefined, `${name} logged ${value}: ${hit?.slice(0, 300)}`);
      }
      if (name === 'api') {
        const requests = records.filter((r) => r.msg === 'request');
        assert.ok(requests.length >= 5, 'each request is a line');
        assert.ok(
          requests.every((r) => r.level === 20),
          'requests are logged at debug',
        );
        assert.ok(
          records.some((r) => r.url?.includes('/codec/t/***/decode')),
          'the codec path is masked',
        );
        assert.ok(records.some((r) => r.msg === 'HubSpot signature rejected' && r.level === 40));
      } else {
        assert.ok(
          records.some((r) => /worker/i.test(r.msg ?? '')),
          'the SDK logs through the same logger',
        );
      }
    }
  });
});
