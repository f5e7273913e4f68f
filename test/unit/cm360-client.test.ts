// The real Cm360Client against the real emulator over HTTP on a random port.
// describe()/test() return promises that the node:test runner itself awaits.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  buildBatchUpdateRequest,
  classifyCm360Status,
  Cm360Client,
  cm360ErrorFromResponse,
  Cm360HttpError,
  createCm360Auth,
} from '../../src/clients/cm360';
import type { Cm360Conversion } from '../../src/domain/cm360/types';
import { startCm360Emulator, type Cm360Emulator } from '../../src/sandbox/cm360';

const TOKEN = 'test-access-token-123';
const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-10T12:00:00Z');
const HASH = 'a'.repeat(64);

let clock = T0;
let emulator: Cm360Emulator;
let client: Cm360Client;

function conversion(ordinal: string, overrides: Partial<Cm360Conversion> = {}): Cm360Conversion {
  return {
    matchId: `match-${ordinal}`,
    ordinal,
    // Two hours before the emulator's clock: past the one-hour index delay used here.
    timestampMicros: String(BigInt(T0 - 2 * HOUR) * 1000n),
    floodlightActivityId: '8888',
    floodlightConfigurationId: '99999',
    quantity: '1',
    value: 10.5,
    userIdentifiers: [{ hashedEmail: HASH }],
    ...overrides,
  };
}

async function rejection(p: Promise<unknown>): Promise<Cm360HttpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Cm360HttpError, `expected Cm360HttpError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

/** A fetch that answers every request with one canned response. */
function cannedFetch(status: number, body: unknown): typeof fetch {
  return () =>
    Promise.resolve(
      new Response(typeof body === 'string' ? body : JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      }),
    );
}

const staticAuth = createCm360Auth({ type: 'access-token', accessToken: TOKEN });

before(async () => {
  emulator = await startCm360Emulator({ indexDelayMs: HOUR, accessToken: TOKEN, now: () => clock });
  client = new Cm360Client({ apiRoot: emulator.apiRoot, auth: staticAuth });
});

after(async () => {
  await emulator.close();
});

beforeEach(() => {
  clock = T0;
  emulator.setFault(undefined);
  emulator.requests.length = 0;
});

describe('Cm360Client.batchUpdate against the emulator', () => {
  test('a valid, indexed conversion comes back ok and is recorded as enhanced', async () => {
    const c = conversion('ok-1');
    assert.deepEqual(await client.batchUpdate('4242', [c]), [{ ok: true }]);
    assert.ok(emulator.enhanced().has('99999-8888-ok-1'));
  });

  test('sends exactly the built body to the v5 path of the profile, with the bearer token', async () => {
    const c = conversion('body-1');
    await client.batchUpdate('42/42', [c]);
    assert.equal(emulator.requests.length, 1);
    const [req] = emulator.requests;
    assert.equal(req?.profileId, '42/42');
    assert.equal(req?.path, '/dfareporting/v5/userprofiles/42%2F42/conversions/batchupdate');
    assert.equal(req?.method, 'batchupdate');
    assert.deepEqual(req?.body, JSON.parse(JSON.stringify(buildBatchUpdateRequest([c]))));
    assert.equal(req?.headers['content-type'], 'application/json');
    // The emulator drops the header from its records but only accepts this exact token.
    assert.equal(req?.headers.authorization, undefined);
    assert.equal(req?.status, 200);
  });

  test('the bearer header carries the token: any other token is refused as auth', async () => {
    const wrong = new Cm360Client({
      apiRoot: emulator.apiRoot,
      auth: createCm360Auth({ type: 'access-token', accessToken: 'some-other-token' }),
    });
    const err = await rejection(wrong.batchUpdate('4242', [conversion('auth-1')]));
    assert.equal(err.status, 401);
    assert.equal(err.kind, 'auth');
    assert.equal(err.retryable, false);
    assert.ok(!err.message.includes('some-other-token'));
  });

  test('a missing Authorization header is a 401 auth error', async () => {
    const bare = new Cm360Client({
      apiRoot: emulator.apiRoot,
      auth: staticAuth,
      fetch: (url, init) => {
        const headers = new Headers(init?.headers);
        headers.delete('authorization');
        return fetch(url, { ...init, headers });
      },
    });
    const err = await rejection(bare.batchUpdate('4242', [conversion('auth-2')]));
    assert.equal(err.status, 401);
    assert.equal(err.kind, 'auth');
  });

  test('a mixed batch gives each row its own result, in request order', async () => {
    const results = await client.batchUpdate('4242', [
      conversion('mixed-recent', { timestampMicros: String(BigInt(T0 - 5 * 60_000) * 1000n) }),
      conversion('mixed-bad', { userIdentifiers: [{ hashedEmail: 'not-a-hash' }] }),
      conversion('mixed-ok'),
    ]);
    assert.equal(results.length, 3);
    assert.equal(results[0]?.ok, false);
    assert.deepEqual(results[0]?.ok === false && results[0].errors.map((e) => e.code), ['NOT_FOUND']);
    assert.deepEqual(results[1], {
      ok: false,
      errors: [{ code: 'INVALID_ARGUMENT', message: "The field 'hashed_email' is not a valid SHA-256 hash value." }],
    });
    assert.deepEqual(results[2], { ok: true });
  });

  test('a 2xx response whose rows all fail is a list of failures, not an exception', async () => {
    emulator.setFault({ type: 'permission-denied' });
    const results = await client.batchUpdate('4242', [conversion('denied-1'), conversion('denied-2')]);
    assert.equal(emulator.requests[0]?.status, 200);
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.equal(r.ok === false && r.errors[0]?.code, 'PERMISSION_DENIED');
    }
  });

  test('row errors win over hasFailures: false', async () => {
    const lying = new Cm360Client({
      auth: staticAuth,
      fetch: cannedFetch(200, {
        hasFailures: false,
        kind: 'dfareporting#conversionsBatchUpdateResponse',
        status: [{ kind: 'dfareporting#conversionStatus' }, { errors: [{ code: 'INTERNAL', message: 'boom' }] }],
      }),
    });
    const results = await lying.batchUpdate('4242', [conversion('l-1'), conversion('l-2')]);
    assert.deepEqual(results, [{ ok: true }, { ok: false, errors: [{ code: 'INTERNAL', message: 'boom' }] }]);
  });

  test('a status array of the wrong length is rejected', async () => {
    const short = new Cm360Client({
      auth: staticAuth,
      fetch: cannedFetch(200, { hasFailures: false, status: [{}] }),
    });
    const err = await rejection(short.batchUpdate('4242', [conversion('s-1'), conversion('s-2')]));
    assert.equal(err.reason, 'malformedResponse');
    assert.equal(err.retryable, true);
  });

  test('hasFailures: true without any failed row is rejected rather than read as success', async () => {
    const odd = new Cm360Client({ auth: staticAuth, fetch: cannedFetch(200, { hasFailures: true, status: [{}] }) });
    const err = await rejection(odd.batchUpdate('4242', [conversion('h-1')]));
    assert.equal(err.reason, 'malformedResponse');
  });

  test('a 2xx body that is not the expected JSON is rejected', async () => {
    for (const body of ['<html>ok</html>', { status: 'fine' }]) {
      const broken = new Cm360Client({ auth: staticAuth, fetch: cannedFetch(200, body) });
      const err = await rejection(broken.batchUpdate('4242', [conversion('b-1')]));
      assert.equal(err.reason, 'malformedResponse');
    }
  });

  for (const status of [500, 503] as const) {
    test(`HTTP ${status} is a retryable server error`, async () => {
      emulator.setFault({ type: 'server-error', status, times: 1 });
      const err = await rejection(client.batchUpdate('4242', [conversion(`5xx-${status}`)]));
      assert.equal(err.status, status);
      assert.equal(err.kind, 'server');
      assert.equal(err.retryable, true);
      assert.equal(err.reason, 'backendError');
      assert.deepEqual(await client.batchUpdate('4242', [conversion(`5xx-${status}`)]), [{ ok: true }]);
    });
  }

  test('403 userRateLimitExceeded is a retryable rate-quota error', async () => {
    emulator.setFault({ type: 'quota', reason: 'userRateLimitExceeded' });
    const err = await rejection(client.batchUpdate('4242', [conversion('q-1')]));
    assert.equal(err.status, 403);
    assert.equal(err.reason, 'userRateLimitExceeded');
    assert.equal(err.kind, 'quota-rate');
    assert.equal(err.retryable, true);
  });

  test('403 dailyLimitExceeded is a daily-quota error', async () => {
    emulator.setFault({ type: 'quota', reason: 'dailyLimitExceeded' });
    const err = await rejection(client.batchUpdate('4242', [conversion('q-2')]));
    assert.equal(err.status, 403);
    assert.equal(err.reason, 'dailyLimitExceeded');
    assert.equal(err.kind, 'quota-daily');
    assert.equal(err.retryable, true);
  });

  test('errors never carry the token or the request body', async () => {
    emulator.setFault({ type: 'server-error' });
    const err = await rejection(client.batchUpdate('4242', [conversion('secret-ordinal')]));
    const text = `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)}`;
    for (const secret of [TOKEN, HASH, 'secret-ordinal', 'match-secret-ordinal']) {
      assert.ok(!text.includes(secret), `error mentions ${secret}`);
    }
  });

  test('an unreachable host is a retryable network error', async () => {
    const closed = await startCm360Emulator();
    const apiRoot = closed.apiRoot;
    await closed.close();
    const offline = new Cm360Client({ apiRoot, auth: staticAuth });
    const err = await rejection(offline.batchUpdate('4242', [conversion('n-1')]));
    assert.equal(err.kind, 'network');
    assert.equal(err.status, 0);
    assert.equal(err.retryable, true);
  });

  test('a request that outlives timeoutMs is a retryable network error', async () => {
    const hanging: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
      });
    const slow = new Cm360Client({ auth: staticAuth, timeoutMs: 20, fetch: hanging });
    const err = await rejection(slow.batchUpdate('4242', [conversion('t-1')]));
    assert.equal(err.kind, 'network');
    assert.equal(err.reason, 'timeout');
    assert.equal(err.retryable, true);
  });

  test('a failing token provider becomes an auth error without its details', async () => {
    const failing = new Cm360Client({
      auth: {
        authorizationHeader: () =>
          Promise.reject(Object.assign(new Error('invalid_grant'), { config: { body: 'refresh_token=1//secret' } })),
      },
      fetch: () => assert.fail('no request without a token'),
    });
    const err = await rejection(failing.batchUpdate('4242', [conversion('tok-1')]));
    assert.equal(err.kind, 'auth');
    assert.equal(err.retryable, false);
    assert.match(err.message, /invalid_grant/);
    assert.ok(!JSON.stringify({ ...err, m: err.message }).includes('1//secret'));
  });
});

describe('HTTP error classification', () => {
  const google = (status: number, reason?: string) =>
    JSON.stringify({
      error: { code: status, message: `m ${status}`, errors: reason ? [{ domain: 'd', reason, message: 'x' }] : [] },
    });

  const cases: [number, string | undefined, string, boolean][] = [
    [403, 'userRateLimitExceeded', 'quota-rate', true],
    [403, 'rateLimitExceeded', 'quota-rate', true],
    [403, 'quotaExceeded', 'quota-rate', true],
    [403, 'dailyLimitExceeded', 'quota-daily', true],
    [429, undefined, 'quota-rate', true],
    [500, undefined, 'server', true],
    [502, undefined, 'server', true],
    [401, 'authError', 'auth', false],
    [403, 'insufficientPermissions', 'auth', false],
    [403, undefined, 'auth', false],
    [400, 'invalid', 'bad-request', false],
    [404, 'notFound', 'bad-request', false],
  ];
  for (const [status, reason, kind, retryable] of cases) {
    test(`${status} ${reason ?? '(no reason)'} → ${kind}`, () => {
      const err = cm360ErrorFromResponse(status, google(status, reason));
      assert.equal(err.kind, kind);
      assert.equal(err.retryable, retryable);
      assert.equal(err.reason, reason);
      assert.equal(err.message, `m ${status}`);
    });
  }

  test('a non-JSON error body is classified by status alone', () => {
    const err = cm360ErrorFromResponse(502, '<html>Bad Gateway</html>');
    assert.equal(err.kind, 'server');
    assert.equal(err.message, 'HTTP 502');
  });

  test('the ErrorInfo reason of newer error bodies is understood', () => {
    const body = JSON.stringify({
      error: {
        code: 403,
        message: 'slow down',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED' }],
      },
    });
    assert.equal(cm360ErrorFromResponse(403, body).kind, 'quota-rate');
  });

  test('classifyCm360Status works from status and reasons', () => {
    assert.deepEqual(classifyCm360Status(429, ['dailyLimitExceeded']), { kind: 'quota-daily', retryable: true });
    assert.deepEqual(classifyCm360Status(408, []), { kind: 'network', retryable: true });
  });
});

describe('createCm360Auth', () => {
  test('a static access token becomes a bearer header as-is', async () => {
    assert.equal(await staticAuth.authorizationHeader(), `Bearer ${TOKEN}`);
  });

  test('an empty static token is refused at construction', () => {
    assert.throws(() => createCm360Auth({ type: 'access-token', accessToken: '' }));
  });

  test('a service account needs a key, and unparsable key JSON is reported without its content', () => {
    assert.throws(() => createCm360Auth({ type: 'service-account' }), /keyFile or keyJson/);
    assert.throws(
      () => createCm360Auth({ type: 'service-account', keyJson: '{"private_key": "-----BEGIN' }),
      (err: Error) => /not valid JSON/.test(err.message) && !err.message.includes('BEGIN'),
    );
  });

  test('a refresh-token provider is created without contacting Google', () => {
    const auth = createCm360Auth({ type: 'oauth-refresh-token', clientId: 'id', clientSecret: 's', refreshToken: 'r' });
    assert.equal(typeof auth.authorizationHeader, 'function');
  });
});
