// Behind a TLS-terminating proxy: HubSpot signs https://relay.example.com/…, the api receives http with the
// proxy's Host. Without RELAY_TRUST_PROXY the forwarded headers count for nothing (anyone can send them), so the
// signature is checked against the connection's own URL and refused, naming that URL; with the proxy's address
// trusted, the URL HubSpot called is rebuilt from X-Forwarded-Proto and X-Forwarded-Host. inject() connects from
// 127.0.0.1 over plain http with Host localhost:80. Nothing here reaches Temporal: the events are ones the api
// answers without starting a workflow, and the client points at a closed port.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { v3Signature } from '../../src/api/hubspot-signature';
import { buildApi } from '../../src/api/server';
import { loadValidConversionEventsConfig } from '../../src/config/conversion-events';
import { loadConfig } from '../../src/config/env';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import { deadlineBoundRetryInterceptor } from '../../src/temporal/grpc-retry';

const SECRET = 'hubspot-client-secret';
const API_KEY = 'secret-key';
const FIXTURE = join(__dirname, '..', 'fixtures', 'hubspot-google-ads.yaml');
const PUBLIC = 'https://relay.example.com';
const PATH = '/webhooks/hubspot';
const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'relay.example.com' };

const connection = Connection.lazy({
  address: '127.0.0.1:1',
  connectTimeout: 200,
  interceptors: [deadlineBoundRetryInterceptor()],
});
const temporal = new Client({ connection });
const { config: conversionEvents } = loadValidConversionEventsConfig(FIXTURE);

const apps: FastifyInstance[] = [];
/** The api as `relay api` builds it from these variables (RELAY_TRUST_PROXY, RELAY_PUBLIC_URL). */
function api(vars: Record<string, string> = {}): FastifyInstance {
  const env = loadConfig(vars);
  const app = buildApi({
    apiKey: API_KEY,
    maxBodyBytes: 64 * 1024,
    trustProxy: env.RELAY_TRUST_PROXY,
    cm360: { temporal, taskQueue: 'unused', profileId: 'p1', timing: DEFAULT_CM360_TIMING },
    hubspot: {
      temporal,
      taskQueue: 'hubspot-tq',
      clientSecret: SECRET,
      publicUrl: env.RELAY_PUBLIC_URL,
      conversionEvents,
      enhancementSafetyMarginMs: 600_000,
      startTimeoutMs: 300,
    },
  });
  apps.push(app);
  return app;
}

after(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await connection.close();
});

/** A batch the api verifies and then ignores: a contact was created, no lifecycle stage changed. */
const BODY = JSON.stringify([
  {
    eventId: 100,
    subscriptionId: 1234,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1_795_000_000_000,
    subscriptionType: 'contact.creation',
    attemptNumber: 0,
    objectId: 123,
  },
]);

/** Posts BODY signed (v3) for `signedFor`, with the given extra headers, from inject's 127.0.0.1. */
function post(app: FastifyInstance, signedFor: string, headers: Record<string, string> = FORWARDED, path = PATH) {
  const timestamp = String(Date.now());
  return app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': v3Signature(SECRET, 'POST', signedFor, BODY, timestamp),
      'x-hubspot-request-timestamp': timestamp,
      ...headers,
    },
    payload: BODY,
  });
}

type Refusal = { error: string; checked: { method: string; url: string; timestamp?: string }; hint: string };

describe('HubSpot signatures behind a TLS-terminating proxy', () => {
  test('RELAY_TRUST_PROXY unset: the forwarded headers are ignored, and the 401 names the http:// URL it checked', async () => {
    const res = await post(api(), `${PUBLIC}${PATH}`);
    assert.equal(res.statusCode, 401, res.body);
    const body = res.json<Refusal>();
    assert.equal(body.checked.url, `http://localhost:80${PATH}`);
    assert.equal(body.checked.method, 'POST');
    assert.match(
      body.error,
      /v3 signature does not match \(checked POST http:\/\/localhost:80\/webhooks\/hubspot with/,
    );
    assert.match(body.hint, /RELAY_PUBLIC_URL/);
    assert.match(body.hint, /RELAY_TRUST_PROXY/);
    assert.ok(!res.body.includes(SECRET), 'the secret is never in the answer');

    // `false` is the same as unset.
    assert.equal((await post(api({ RELAY_TRUST_PROXY: 'false' }), `${PUBLIC}${PATH}`)).statusCode, 401);
  });

  test("RELAY_TRUST_PROXY set to the proxy's address: the URL HubSpot called is what is checked", async () => {
    const trusted = api({ RELAY_TRUST_PROXY: '127.0.0.1' });
    const res = await post(trusted, `${PUBLIC}${PATH}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json<{ ignored: { reason: string }[] }>().ignored.map((i) => i.reason),
      ['not a contact lifecycle-stage change'],
    );
    // The same holds for a CIDR holding the proxy, for `true`, and for the forms endpoint.
    assert.equal(
      (await post(api({ RELAY_TRUST_PROXY: '10.0.0.0/8,127.0.0.0/8' }), `${PUBLIC}${PATH}`)).statusCode,
      200,
    );
    assert.equal((await post(api({ RELAY_TRUST_PROXY: 'true' }), `${PUBLIC}${PATH}`)).statusCode, 200);
    const form = await post(trusted, `${PUBLIC}${PATH}/forms`, FORWARDED, `${PATH}/forms`);
    // Past the signature: the body (a webhook batch, not a submission) is what the forms endpoint refuses.
    assert.equal(form.statusCode, 400, form.body);

    // Trusted, the forwarded URL is the one checked: a signature for the proxy's own view no longer matches.
    const local = await post(trusted, `http://localhost:80${PATH}`);
    assert.equal(local.statusCode, 401);
    assert.equal(local.json<Refusal>().checked.url, `${PUBLIC}${PATH}`);
    // Without forwarded headers a trusted proxy's request is its own: nothing changes for direct callers.
    assert.equal((await post(trusted, `http://localhost:80${PATH}`, {})).statusCode, 200);
  });

  test('a caller that is not the trusted proxy cannot claim the forwarded URL', async () => {
    const res = await post(api({ RELAY_TRUST_PROXY: '10.0.0.1' }), `${PUBLIC}${PATH}`);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<Refusal>().checked.url, `http://localhost:80${PATH}`);
  });

  test('RELAY_PUBLIC_URL wins over the forwarded headers, trusted or not', async () => {
    const both = api({ RELAY_TRUST_PROXY: 'true', RELAY_PUBLIC_URL: PUBLIC });
    const spoofed = { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' };
    assert.equal((await post(both, `${PUBLIC}${PATH}`, spoofed)).statusCode, 200);
    const forSpoofed = await post(both, `http://evil.example${PATH}`, spoofed);
    assert.equal(forSpoofed.statusCode, 401);
    assert.equal(forSpoofed.json<Refusal>().checked.url, `${PUBLIC}${PATH}`);
  });
});
