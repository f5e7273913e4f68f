// The codec endpoints the Web UI calls from the browser: CORS for the UI's origins, and a real
// encode/decode round trip through HTTP.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config/env';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import { testCodec } from '../helpers/temporal';

const connection = Connection.lazy({ address: '127.0.0.1:1' });
const origins = loadConfig({}).RELAY_CODEC_CORS_ORIGINS;
const app = buildApi({
  apiKey: 'k',
  maxBodyBytes: 1024 * 1024,
  cm360: { temporal: new Client({ connection }), taskQueue: 'x', profileId: 'p', timing: DEFAULT_CM360_TIMING },
  codec: { codec: testCodec(), corsOrigins: origins },
});
after(async () => {
  await app.close();
  await connection.close();
});

const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

describe('codec endpoints', () => {
  test('by default both spellings of the local Web UI origin are allowed', () => {
    assert.deepEqual(origins, ['http://localhost:8233', 'http://127.0.0.1:8233']);
  });

  for (const origin of ['http://localhost:8233', 'http://127.0.0.1:8233']) {
    test(`preflight from ${origin} is allowed`, async () => {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/codec/decode',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.match(String(res.headers['access-control-allow-headers']), /X-Namespace/);
    });
  }

  test('another origin gets no allow-origin header', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('decodes what the relay encrypted, without an API key (the UI sends none)', async () => {
    const original = defaultPayloadConverter.toPayload({ floodlightActivityId: '8888' });
    const [encrypted] = await testCodec().encode([original]);
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: 'http://127.0.0.1:8233', 'x-namespace': 'default' },
      payload: { payloads: [toJson(encrypted!)] },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], 'http://127.0.0.1:8233');
    const [decoded] = res.json<{ payloads: { data: string }[] }>().payloads;
    assert.equal(Buffer.from(decoded!.data, 'base64').toString(), '{"floodlightActivityId":"8888"}');
  });

  test('a malformed body is a 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: 'nope' } });
    assert.equal(res.statusCode, 400);
  });

  test('an empty proto-JSON body (the CLI sends one for a query without arguments) decodes to no payloads', async () => {
    const res = await app.inject({ method: 'POST', url: '/codec/encode', payload: {} });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { payloads: [] });
  });
});
