// The api's edge: authentication, validation, body limits. Invalid requests must never reach Temporal,
// so the client here points at a closed port: any start attempt would turn the answer into a 503.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { buildApi } from '../../src/api/server';
import { deadlineBoundRetryInterceptor } from '../../src/temporal/grpc-retry';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';

// As the api connects: no gRPC retry past a call's deadline.
const connection = Connection.lazy({
  address: '127.0.0.1:1',
  connectTimeout: 200,
  interceptors: [deadlineBoundRetryInterceptor()],
});
const app = buildApi({
  apiKey: 'secret-key',
  maxBodyBytes: 64 * 1024,
  cm360: {
    temporal: new Client({ connection }),
    taskQueue: 'unused',
    profileId: 'p1',
    timing: DEFAULT_CM360_TIMING,
    startTimeoutMs: 500,
  },
});
after(async () => {
  await app.close();
  await connection.close();
});

const nowMicros = () => String(BigInt(Date.now()) * 1000n);
const valid = () => ({
  matchId: 'm-1',
  ordinal: 'o-1',
  timestampMicros: nowMicros(),
  floodlightActivityId: 8888,
  floodlightConfigurationId: '99999',
  quantity: 1,
  value: 104.23,
  user: { email: 'foo@bar.com' },
});

const post = (body: unknown, headers: Record<string, string> = { authorization: 'Bearer secret-key' }) =>
  app.inject({ method: 'POST', url: '/v1/cm360/conversions', payload: body as object, headers });

type Issues = { error: string; issues: { field: string; message: string }[] };

describe('POST /v1/cm360/conversions', () => {
  test('401 without the key, or with a wrong one', async () => {
    assert.equal((await post(valid(), {})).statusCode, 401);
    assert.equal((await post(valid(), { authorization: 'Bearer nope' })).statusCode, 401);
    assert.equal((await post(valid(), { authorization: 'secret-key' })).statusCode, 401);
  });

  test('400 names each bad field', async () => {
    const res = await post({ ...valid(), timestampMicros: 'yesterday', quantity: -1, extra: true });
    assert.equal(res.statusCode, 400);
    const body = res.json<Issues>();
    const fields = body.issues.map((i) => i.field).sort();
    assert.deepEqual(fields, ['(body)', 'quantity', 'timestampMicros'].sort());
    assert.match(JSON.stringify(body), /extra/);
  });

  test('400 names the index of the bad conversion in an array', async () => {
    const res = await post([
      { ...valid(), matchId: ' ' },
      { ...valid(), ordinal: 'o-2', matchId: '' },
    ]);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['[0].matchId', '[1].matchId'],
    );
  });

  test('400 when neither or both of user and userIdentifiers are given', async () => {
    const { user: _user, ...bare } = valid();
    assert.equal((await post(bare)).statusCode, 400);
    const both = { ...valid(), userIdentifiers: [{ hashedEmail: 'a'.repeat(64) }] };
    assert.equal((await post(both)).statusCode, 400);
  });

  test('400 for hashed identifiers that are not SHA-256 hex, a bad country code, or more than five', async () => {
    const bad = (userIdentifiers: unknown) => post({ ...valid(), user: undefined, userIdentifiers });
    const r1 = await bad([{ hashedEmail: 'foo@bar.com' }]);
    assert.equal(r1.statusCode, 400);
    assert.equal(r1.json<Issues>().issues[0]?.field, 'userIdentifiers[0].hashedEmail');
    const r2 = await bad([{ addressInfo: { hashedFirstName: 'a'.repeat(64), countryCode: 'USA' } }]);
    assert.equal(r2.json<Issues>().issues[0]?.field, 'userIdentifiers[0].addressInfo.countryCode');
    const r3 = await bad(Array.from({ length: 6 }, () => ({ hashedEmail: 'a'.repeat(64) })));
    assert.equal(r3.json<Issues>().issues[0]?.field, 'userIdentifiers');
  });

  test('400 when no identifier survives normalization, with the reason and never the value', async () => {
    const res = await post({ ...valid(), user: { phone: 'call me maybe' } });
    assert.equal(res.statusCode, 400);
    const body = res.json<Issues>();
    assert.equal(body.issues[0]?.field, 'user.phone');
    assert.doesNotMatch(JSON.stringify(body), /call me maybe/);
  });

  test('400 for a conversion already past its 24-hour deadline', async () => {
    const old = String(BigInt(Date.now() - 24 * 3_600_000) * 1000n);
    const res = await post({ ...valid(), timestampMicros: old });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<Issues>().issues[0]?.field, 'timestampMicros');
  });

  test('400 for an empty array and for more than 1,000 conversions', async () => {
    assert.equal((await post([])).statusCode, 400);
    const small = { ...valid(), user: undefined, userIdentifiers: [{ hashedEmail: 'a'.repeat(64) }] };
    const big = await buildApi({
      apiKey: 'k',
      maxBodyBytes: 10 * 1024 * 1024,
      cm360: { temporal: new Client({ connection }), taskQueue: 'x', profileId: 'p', timing: DEFAULT_CM360_TIMING },
    }).inject({
      method: 'POST',
      url: '/v1/cm360/conversions',
      headers: { authorization: 'Bearer k' },
      payload: Array.from({ length: 1001 }, () => small),
    });
    assert.equal(big.statusCode, 400);
  });

  test('400 for malformed JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/cm360/conversions',
      headers: { authorization: 'Bearer secret-key', 'content-type': 'application/json' },
      payload: '{"matchId": ',
    });
    assert.equal(res.statusCode, 400);
  });

  test('413 for a body over the limit', async () => {
    const res = await post(Array.from({ length: 400 }, valid));
    assert.equal(res.statusCode, 413);
  });

  test('503 when Temporal cannot be reached, so the sender retries; the answer names each conversion', async () => {
    const res = await post([valid(), { ...valid(), ordinal: 'o-2' }]);
    assert.equal(res.statusCode, 503);
    const body = res.json<Answer>();
    assert.deepEqual(
      body.conversions.map((c) => c.status),
      ['failed', 'failed'],
    );
    assert.match(body.conversions[0]!.reason!, /send it again/);
  });
});

// ------------------------------------------------------------------ per conversion, with a Temporal that answers

interface Answer {
  accepted: number;
  started: number;
  duplicate: number;
  invalid: number;
  failed: number;
  issues?: { field: string; message: string }[];
  conversions: { index: number; status: string; workflowId?: string; reason?: string; issues?: { field: string }[] }[];
}

/** A Temporal client that records starts; `behave` decides each one (default: started). */
function fakeTemporal(behave: (workflowId: string) => Promise<void> = () => Promise.resolve()) {
  const started: string[] = [];
  const client = {
    workflow: {
      start: async (_wf: unknown, o: { workflowId: string }) => {
        await behave(o.workflowId);
        if (started.includes(o.workflowId)) throw new WorkflowExecutionAlreadyStartedError('exists', o.workflowId, 'x');
        started.push(o.workflowId);
        return { workflowId: o.workflowId };
      },
    },
    connection: {
      withDeadline: <R>(_d: number, fn: () => Promise<R>) => fn(),
      withAbortSignal: <R>(_s: AbortSignal, fn: () => Promise<R>) => fn(),
    },
  } as unknown as Client;
  return { client, started };
}

function appWith(temporal: Client, startTimeoutMs?: number) {
  return buildApi({
    apiKey: 'k',
    maxBodyBytes: 4 * 1024 * 1024,
    cm360: { temporal, taskQueue: 'q', profileId: 'p', timing: DEFAULT_CM360_TIMING, startTimeoutMs },
  });
}

const postRaw = (a: ReturnType<typeof appWith>, payload: string | Buffer) =>
  a.inject({
    method: 'POST',
    url: '/v1/cm360/conversions',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    payload,
  });

describe('POST /v1/cm360/conversions: each conversion answered on its own', () => {
  test('a bad conversion is `invalid` with its fields, the good ones are started: 207', async () => {
    const { client, started } = fakeTemporal();
    const res = await postRaw(appWith(client), JSON.stringify([valid(), { ...valid(), ordinal: 'o-2', matchId: '' }]));
    assert.equal(res.statusCode, 207);
    const body = res.json<Answer>();
    assert.deepEqual(
      body.conversions.map((c) => [c.index, c.status]),
      [
        [0, 'started'],
        [1, 'invalid'],
      ],
    );
    assert.deepEqual(
      body.conversions[1]!.issues?.map((i) => i.field),
      ['[1].matchId'],
    );
    assert.deepEqual(started, ['cm360-enhance-99999-8888-o-1']);
  });

  test('ordinals beyond 2^53 sent as JSON numbers are read exactly: two conversions, two workflows', async () => {
    const { client, started } = fakeTemporal();
    const two = [12345678901234567890n, 12345678901234567891n].map((o) =>
      JSON.stringify({ ...valid(), ordinal: 'ORD' }).replace('"ORD"', o.toString()),
    );
    const res = await postRaw(appWith(client), `[${two.join(',')}]`);
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(started, [
      'cm360-enhance-99999-8888-12345678901234567890',
      'cm360-enhance-99999-8888-12345678901234567891',
    ]);
  });

  test('a Floodlight id beyond 2^53 as a JSON number is read exactly', async () => {
    const { client, started } = fakeTemporal();
    const body = JSON.stringify(valid()).replace(
      '"floodlightConfigurationId":"99999"',
      '"floodlightConfigurationId":9007199254740993',
    );
    assert.equal((await postRaw(appWith(client), body)).statusCode, 202);
    assert.deepEqual(started, ['cm360-enhance-9007199254740993-8888-o-1']);
  });

  test('one conversion spelled two ways ("099999" and 99999, a leading-zero ordinal) is one workflow', async () => {
    const { client, started } = fakeTemporal();
    const res = await postRaw(
      appWith(client),
      JSON.stringify([
        { ...valid(), floodlightConfigurationId: '099999', ordinal: '0042' },
        { ...valid(), floodlightConfigurationId: 99999, ordinal: 42 },
      ]),
    );
    assert.equal(res.statusCode, 202);
    assert.deepEqual(
      res.json<Answer>().conversions.map((c) => c.status),
      ['started', 'duplicate'],
    );
    assert.deepEqual(started, ['cm360-enhance-99999-8888-42']);
  });

  for (const [what, ordinal, message] of [
    ['a decimal', '1.5', /ordinal must be an integer or a string: a decimal is not an id/],
    ['a negative number', '-3', /ordinal must not be negative/],
    ['half a surrogate pair', '"o-\\ud800"', /ordinal holds half of a surrogate pair/],
    ['a NUL', '"o-\\u0000"', /ordinal holds control or invisible characters/],
    [
      'more than 200 bytes',
      JSON.stringify('é'.repeat(101)),
      /ordinal is 202 bytes in UTF-8; an id part may have at most 200/,
    ],
  ] as const) {
    test(`an ordinal that is ${what} is a 400 naming it, never a 503`, async () => {
      const { client, started } = fakeTemporal();
      const res = await postRaw(appWith(client), JSON.stringify(valid()).replace('"o-1"', ordinal));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<Answer>().issues?.[0]?.field, 'ordinal');
      assert.match(res.body, message);
      assert.deepEqual(started, []);
    });
  }

  test('bytes that are not UTF-8 are a 400 for the body, not a replacement character in an id', async () => {
    const { client, started } = fakeTemporal();
    const text = JSON.stringify(valid());
    const at = Buffer.byteLength(text.slice(0, text.indexOf('o-1') + 2));
    const bytes = Buffer.from(text);
    bytes[at] = 0xff;
    const res = await postRaw(appWith(client), bytes);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /not valid UTF-8/);
    assert.deepEqual(started, []);
  });

  test('a repeated key is a 400, not the last value silently winning', async () => {
    const { client } = fakeTemporal();
    const res = await postRaw(appWith(client), JSON.stringify(valid()).replace('{', '{"ordinal":"o-0",'));
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Duplicate key 'ordinal'/);
  });

  test('starts still pending at the deadline are answered `failed` at the deadline; the others stand', async () => {
    const { client, started } = fakeTemporal((id) =>
      id.endsWith('-hang') ? new Promise<void>(() => undefined) : Promise.resolve(),
    );
    const res = await postRaw(appWith(client, 300), JSON.stringify([valid(), { ...valid(), ordinal: 'o-hang' }]));
    assert.equal(res.statusCode, 503);
    const body = res.json<Answer>();
    assert.deepEqual(
      body.conversions.map((c) => c.status),
      ['started', 'failed'],
    );
    assert.match(body.conversions[1]!.reason!, /did not start it within 300 ms/);
    assert.deepEqual(started, ['cm360-enhance-99999-8888-o-1']);
  });

  test('re-sending the whole body after a partial failure starts only what had failed', async () => {
    let down = true;
    const { client, started } = fakeTemporal((id) =>
      down && id.endsWith('-2') ? Promise.reject(new Error('unavailable')) : Promise.resolve(),
    );
    const a = appWith(client);
    const body = JSON.stringify([valid(), { ...valid(), ordinal: 'o-2' }]);
    const first = await postRaw(a, body);
    assert.equal(first.statusCode, 503);
    assert.deepEqual(
      first.json<Answer>().conversions.map((c) => c.status),
      ['started', 'failed'],
    );
    down = false;
    const again = await postRaw(a, body);
    assert.equal(again.statusCode, 202);
    assert.deepEqual(
      again.json<Answer>().conversions.map((c) => c.status),
      ['duplicate', 'started'],
    );
    assert.deepEqual(started, ['cm360-enhance-99999-8888-o-1', 'cm360-enhance-99999-8888-o-2']);
  });
});
