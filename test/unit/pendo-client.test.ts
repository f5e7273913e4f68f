// The Pendo client against the Pendo emulator: the bulk metadata body, every count of the answer, the key,
// 409/429 retried in process (Retry-After honoured), other failures classified, and the schema.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { classifyPendoStatus, PendoClient, PendoHttpError } from '../../src/clients/pendo/client';
import { startPendoEmulator, type PendoEmulator } from '../../src/sandbox/pendo';

const KEY = 'unit-pendo-key';
let pendo: PendoEmulator;
let sleeps: number[];
let client: PendoClient;
const requests: { url: string; init: RequestInit }[] = [];
const bodyOf = (i: number): unknown => JSON.parse(requests[i]?.init.body as string);

before(async () => {
  pendo = await startPendoEmulator({ integrationKey: KEY });
});
after(async () => {
  await pendo?.close();
});
beforeEach(() => {
  pendo.reset();
  sleeps = [];
  requests.length = 0;
  client = new PendoClient({
    baseUrl: `${pendo.baseUrl}/`,
    integrationKey: KEY,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    fetch: (url, init) => {
      requests.push({ url: url instanceof Request ? url.url : url.toString(), init: init ?? {} });
      return fetch(url, init);
    },
  });
});

describe('PendoClient.writeMetadata', () => {
  test('posts the documented array body with the key header, and reads updated and missing', async () => {
    pendo.addIds('visitor', ['v1', 'v2']);
    const res = await client.writeMetadata('visitor', [
      { id: 'v1', values: { plan: 'pro', seats: 12, trial: false } },
      { id: 'v2', values: { plan: 'free' } },
      { id: 'unknown', values: { plan: 'x' } },
    ]);
    assert.deepEqual(res, { total: 3, updated: 2, failed: 0, missing: ['unknown'], errors: 0, errorIds: [] });
    const req = requests[0];
    assert.equal(req?.url, `${pendo.baseUrl}/api/v1/metadata/visitor/custom/value`);
    assert.equal(req?.init.method, 'POST');
    assert.equal((req?.init.headers as Record<string, string>)['x-pendo-integration-key'], KEY);
    assert.deepEqual(bodyOf(0), [
      { visitorId: 'v1', values: { plan: 'pro', seats: 12, trial: false } },
      { visitorId: 'v2', values: { plan: 'free' } },
      { visitorId: 'unknown', values: { plan: 'x' } },
    ]);
    assert.deepEqual(pendo.valuesOf('visitor', 'v1'), { plan: 'pro', seats: 12, trial: false });
    assert.equal(pendo.valuesOf('visitor', 'unknown'), undefined, 'unknown ids are never created');
  });

  test('accounts are keyed by accountId; a value of the wrong type fails its record and names it', async () => {
    pendo.addIds('account', ['a1', 'a2']);
    pendo.defineField('account', 'arr', 'float');
    const res = await client.writeMetadata('account', [
      { id: 'a1', values: { arr: 'lots' } },
      { id: 'a2', values: { arr: 1000 } },
    ]);
    assert.equal(res.updated, 1);
    assert.equal(res.failed, 1);
    assert.equal(res.errors, 1);
    assert.deepEqual(res.errorIds, ['a1']);
    assert.deepEqual((bodyOf(0) as unknown[])[0], { accountId: 'a1', values: { arr: 'lots' } });
  });

  test('409 and 429 are retried with backoff, Retry-After first; then the write goes through', async () => {
    pendo.addIds('visitor', ['v1']);
    pendo.setFault({ type: 'busy', times: 2 });
    assert.equal((await client.writeMetadata('visitor', [{ id: 'v1', values: { a: 'b' } }])).updated, 1);
    assert.deepEqual(sleeps, [1000, 2000]);
    sleeps = [];
    pendo.setFault({ type: 'rate-limit', times: 1, retryAfterSeconds: 7 });
    assert.equal((await client.writeMetadata('visitor', [{ id: 'v1', values: { a: 'c' } }])).updated, 1);
    assert.deepEqual(sleeps, [7000]);
  });

  test('a 409 that outlasts the retries is thrown as busy, for Temporal to retry', async () => {
    pendo.setFault({ type: 'busy' });
    await assert.rejects(
      client.writeMetadata('visitor', [{ id: 'v1', values: { a: 'b' } }]),
      (err: unknown) => err instanceof PendoHttpError && err.kind === 'busy' && err.status === 409,
    );
    assert.equal(requests.length, 6, 'one try and five retries');
  });

  test('a wrong key is auth, a 5xx transient, a refused connection transient; no message quotes a body', async () => {
    const wrong = new PendoClient({ baseUrl: pendo.baseUrl, integrationKey: 'nope' });
    await assert.rejects(
      wrong.writeMetadata('visitor', [{ id: 'secret-id', values: { a: 'secret-value' } }]),
      (err: unknown) => {
        assert.ok(err instanceof PendoHttpError);
        assert.equal(err.kind, 'auth');
        assert.ok(!err.message.includes('secret'));
        return true;
      },
    );
    pendo.setFault({ type: 'server-error', status: 503, times: 1 });
    await assert.rejects(client.writeMetadata('visitor', [{ id: 'v', values: {} }]), (err: unknown) => {
      return err instanceof PendoHttpError && err.kind === 'transient' && err.status === 503;
    });
    const closed = new PendoClient({ baseUrl: 'http://127.0.0.1:1', integrationKey: KEY });
    await assert.rejects(
      closed.customFields('visitor'),
      (err: unknown) => err instanceof PendoHttpError && err.status === 0,
    );
  });

  test('more than 1,000 records is refused before anything is sent; none is a no-op', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: `v${i}`, values: { a: 1 } }));
    await assert.rejects(client.writeMetadata('visitor', many), RangeError);
    assert.deepEqual(await client.writeMetadata('visitor', []), {
      total: 0,
      updated: 0,
      failed: 0,
      missing: [],
      errors: 0,
      errorIds: [],
    });
    assert.equal(requests.length, 0);
  });

  test('status classification', () => {
    assert.equal(classifyPendoStatus(429), 'rate-limit');
    assert.equal(classifyPendoStatus(409), 'busy');
    assert.equal(classifyPendoStatus(403), 'auth');
    assert.equal(classifyPendoStatus(400), 'invalid');
    assert.equal(classifyPendoStatus(502), 'transient');
  });
});

describe('PendoClient.customFields and the emulator', () => {
  test("the schema's custom group: declared fields and fields created by a first write, with their types", async () => {
    pendo.defineField('visitor', 'renewal', 'time');
    pendo.addIds('visitor', ['v1']);
    await client.writeMetadata('visitor', [{ id: 'v1', values: { plan: 'pro', active: true } }]);
    assert.deepEqual(await client.customFields('visitor'), { renewal: 'time', plan: 'string', active: 'boolean' });
    assert.deepEqual(await client.customFields('account'), {});
  });

  test('synthetic ids exist without being stored; writes to them are counted', async () => {
    pendo.setSynthetic('visitor', { prefix: 'visitor-', count: 1000 });
    const res = await client.writeMetadata('visitor', [
      { id: 'visitor-0', values: { a: 1 } },
      { id: 'visitor-999', values: { a: 1 } },
      { id: 'visitor-1000', values: { a: 1 } },
      { id: 'visitor-01', values: { a: 1 } },
    ]);
    assert.equal(res.updated, 2);
    assert.deepEqual(res.missing, ['visitor-1000', 'visitor-01']);
    assert.equal(pendo.updated.visitor, 2);
  });

  test('control routes: seed ids over HTTP and read values back', async () => {
    const seed = await fetch(`${pendo.baseUrl}/_sandbox/visitor/ids`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(['http-seeded']),
    });
    assert.equal(seed.status, 204);
    await client.writeMetadata('visitor', [{ id: 'http-seeded', values: { plan: 'pro' } }]);
    const back = await fetch(`${pendo.baseUrl}/_sandbox/visitor/values/http-seeded`);
    assert.deepEqual(await back.json(), { plan: 'pro' });
    assert.equal((await fetch(`${pendo.baseUrl}/_sandbox/visitor/values/nobody`)).status, 404);
  });
});
