// The codec endpoints the Web UI calls from the browser: CORS for the UI's origins, authorization (the codec
// token in a header or the path, or the api key), 4xx for what cannot be decoded, and a real encode/decode
// round trip through HTTP.
import { createLogger } from '../../src/logging/logger';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildApi } from '../../src/api/server';
import { loadConfig } from '../../src/config/env';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import { testCodec } from '../helpers/temporal';

const logLines: string[] = [];
const connection = Connection.lazy({ address: '127.0.0.1:1' });
const origins = loadConfig({}).RELAY_CODEC_CORS_ORIGINS;
const app = buildApi({
  apiKey: 'k',
  maxBodyBytes: 1024 * 1024,
  cm360: { temporal: new Client({ connection }), taskQueue: 'x', profileId: 'p', timing: DEFAULT_CM360_TIMING },
  codec: { codec: testCodec(), corsOrigins: origins, token: 'codec-token-0123456789' },
  log: createLogger({
    level: 'debug',
    format: 'json',
    destination: { write: (line: string) => void logLines.push(line) },
  }),
});
const TOKEN = { authorization: 'Bearer codec-token-0123456789' };
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

  const encrypted = async () => {
    const original = defaultPayloadConverter.toPayload({ floodlightActivityId: '8888' });
    const [payload] = await testCodec().encode([original]);
    return toJson(payload!);
  };
  const decodedText = (res: { json<T>(): T }) =>
    Buffer.from(res.json<{ payloads: { data: string }[] }>().payloads[0]!.data, 'base64').toString();

  test('decodes what the relay encrypted for a caller with the codec token in the path (the Web UI)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/codec/t/codec-token-0123456789/decode',
      headers: { origin: 'http://127.0.0.1:8233', 'x-namespace': 'default' },
      payload: { payloads: [await encrypted()] },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], 'http://127.0.0.1:8233');
    assert.equal(decodedText(res), '{"floodlightActivityId":"8888"}');
  });

  for (const [who, authorization] of [
    ['the codec token', 'Bearer codec-token-0123456789'],
    ['the api key', 'Bearer k'],
  ] as const) {
    test(`decodes for a caller sending ${who} as a bearer header (the CLI's --codec-auth)`, async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/codec/decode',
        headers: { authorization },
        payload: { payloads: [await encrypted()] },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(decodedText(res), '{"floodlightActivityId":"8888"}');
    });
  }

  for (const [what, url, headers] of [
    ['no authorization', '/codec/decode', {}],
    ['a wrong bearer token', '/codec/decode', { authorization: 'Bearer nope' }],
    ['a wrong path token', '/codec/t/nope/decode', {}],
    ['the api key in the path (only the codec token may travel in a URL)', '/codec/t/k/decode', {}],
  ] as const) {
    test(`refuses ${what} with 401, encode and decode alike`, async () => {
      for (const op of ['decode', 'encode']) {
        const res = await app.inject({
          method: 'POST',
          url: url.replace('decode', op),
          headers: { ...headers, origin: 'http://127.0.0.1:8233' },
          payload: { payloads: [await encrypted()] },
        });
        assert.equal(res.statusCode, 401, `${op}: ${res.body}`);
        assert.doesNotMatch(res.body, /8888/);
        // The browser must be able to read the refusal.
        assert.equal(res.headers['access-control-allow-origin'], 'http://127.0.0.1:8233');
      }
    });
  }

  test('the request log masks the codec token of the path', async () => {
    await app.inject({ method: 'POST', url: '/codec/t/codec-token-0123456789/decode', payload: {} });
    assert.ok(logLines.some((l) => l.includes('/codec/t/***/decode')));
    assert.ok(!logLines.some((l) => l.includes('codec-token-0123456789')));
  });

  test('a malformed body is a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: TOKEN,
      payload: { payloads: 'nope' },
    });
    assert.equal(res.statusCode, 400);
  });

  test('data that is not base64 is a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: TOKEN,
      payload: { payloads: [{ metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' }, data: '%%% not base64 %%%' }] },
    });
    assert.equal(res.statusCode, 400);
  });

  for (const [what, change, message] of [
    [
      'an unknown key id',
      (p: ReturnType<typeof toJson>) => ({
        ...p,
        metadata: { ...p.metadata, 'encryption-key-id': Buffer.from('other').toString('base64') },
      }),
      /no payload key with id "other"/,
    ],
    ['empty data', (p: ReturnType<typeof toJson>) => ({ ...p, data: '' }), /too short/],
    [
      'altered data',
      (p: ReturnType<typeof toJson>) => ({
        ...p,
        data: Buffer.from(Buffer.from(p.data, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString('base64'),
      }),
      /does not decrypt/,
    ],
  ] as const) {
    test(`${what} is a 422 saying so, not a 500`, async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/codec/decode',
        headers: TOKEN,
        payload: { payloads: [change(await encrypted())] },
      });
      assert.equal(res.statusCode, 422, res.body);
      assert.match(res.json<{ error: string }>().error, message);
    });
  }

  test('an empty proto-JSON body (the CLI sends one for a query without arguments) decodes to no payloads', async () => {
    const res = await app.inject({ method: 'POST', url: '/codec/encode', headers: TOKEN, payload: {} });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { payloads: [] });
  });
});
