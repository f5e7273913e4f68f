// The api's edge: authentication, validation, body limits. Invalid requests must never reach Temporal,
// so the client here points at a closed port: any start attempt would turn the answer into a 503.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../src/api/server';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';

const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 });
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
    const res = await post([valid(), { ...valid(), ordinal: 'o-2', matchId: '' }]);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json<Issues>().issues.map((i) => i.field),
      ['[1].matchId'],
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

  test('400 for a 64-bit id sent as an unsafe JSON number', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/cm360/conversions',
      headers: { authorization: 'Bearer secret-key', 'content-type': 'application/json' },
      payload: JSON.stringify(valid()).replace(
        '"floodlightConfigurationId":"99999"',
        '"floodlightConfigurationId":9007199254740993',
      ),
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<Issues>().issues[0]?.field, 'floodlightConfigurationId');
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

  test('503 when Temporal cannot be reached, so the sender retries', async () => {
    const res = await post(valid());
    assert.equal(res.statusCode, 503);
  });
});
