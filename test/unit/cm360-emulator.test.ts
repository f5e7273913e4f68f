// The emulator over raw HTTP, so these tests pin the wire format independently of Cm360Client.
// describe()/test() return promises that the node:test runner itself awaits.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startCm360Emulator, type Cm360Emulator } from '../../src/sandbox/cm360';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-10T12:00:00Z');
const HASH = 'b'.repeat(64);
const BATCHUPDATE = '/dfareporting/v5/userprofiles/4242/conversions/batchupdate';
const BATCHINSERT = '/dfareporting/v5/userprofiles/4242/conversions/batchinsert';

type Json = Record<string, unknown>;
interface Row {
  conversion: Json;
  errors?: { code: string; message: string; kind: string }[];
  kind: string;
}
interface BatchResponse {
  hasFailures: boolean;
  kind: string;
  status: Row[];
}

function conversion(ordinal: string, overrides: Json = {}): Json {
  return {
    matchId: `match-${ordinal}`,
    ordinal,
    timestampMicros: String(BigInt(T0) * 1000n),
    floodlightActivityId: '8888',
    floodlightConfigurationId: '99999',
    quantity: '1',
    value: 10,
    userIdentifiers: [{ hashedEmail: HASH }],
    ...overrides,
  };
}

const batch = (conversions: unknown[], kind = 'dfareporting#conversionsBatchUpdateRequest') => ({ kind, conversions });

async function call(
  emu: Cm360Emulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: 'Bearer t' },
) {
  const res = await fetch(`${emu.apiRoot}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as unknown };
}

async function update(emu: Cm360Emulator, conversions: unknown[]): Promise<BatchResponse> {
  const res = await call(emu, 'POST', BATCHUPDATE, batch(conversions));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as BatchResponse;
}

const codes = (row: Row | undefined) => (row?.errors ?? []).map((e) => e.code);
const messages = (row: Row | undefined) => (row?.errors ?? []).map((e) => e.message);

describe('indexing and NOT_FOUND', () => {
  let clock = T0;
  let emu: Cm360Emulator;
  before(async () => {
    emu = await startCm360Emulator({ indexDelayMs: 90 * MINUTE, now: () => clock });
  });
  after(() => emu.close());
  beforeEach(() => {
    clock = T0;
  });

  test('an auto-captured conversion is NOT_FOUND until its timestamp plus the index delay', async () => {
    const c = conversion('idx-1');
    let res = await update(emu, [c]);
    assert.equal(res.hasFailures, true);
    assert.deepEqual(codes(res.status[0]), ['NOT_FOUND']);
    assert.equal(res.status[0]?.errors?.[0]?.kind, 'dfareporting#conversionError');

    clock = T0 + 90 * MINUTE - 1;
    assert.deepEqual(codes((await update(emu, [c])).status[0]), ['NOT_FOUND']);
    assert.equal(emu.enhanced().size, 0);

    clock = T0 + 90 * MINUTE;
    res = await update(emu, [c]);
    assert.equal(res.hasFailures, false);
    assert.equal(res.kind, 'dfareporting#conversionsBatchUpdateResponse');
    assert.deepEqual(res.status[0], {
      conversion: { ...c, kind: 'dfareporting#conversion' },
      kind: 'dfareporting#conversionStatus',
    });
    assert.deepEqual(emu.enhanced().get('99999-8888-idx-1'), c);
  });

  test('an explicit capture time overrides the conversion timestamp', async () => {
    emu.capture(
      { floodlightConfigurationId: '99999', floodlightActivityId: '8888', ordinal: 'idx-2' },
      T0 + 60 * MINUTE,
    );
    clock = T0 + 149 * MINUTE;
    assert.deepEqual(codes((await update(emu, [conversion('idx-2')])).status[0]), ['NOT_FOUND']);
    clock = T0 + 150 * MINUTE;
    assert.deepEqual(codes((await update(emu, [conversion('idx-2')])).status[0]), []);
  });
});

describe('without autoCapture', () => {
  let clock = T0;
  let emu: Cm360Emulator;
  before(async () => {
    emu = await startCm360Emulator({ autoCapture: false, indexDelayMs: 10 * MINUTE, now: () => clock });
  });
  after(() => emu.close());

  test('an uncaptured conversion stays NOT_FOUND however late', async () => {
    clock = T0 + 365 * 24 * 60 * MINUTE;
    assert.deepEqual(codes((await update(emu, [conversion('never')])).status[0]), ['NOT_FOUND']);
  });

  test('capture() registers it at now() by default', async () => {
    clock = T0;
    emu.capture({ floodlightConfigurationId: 99999, floodlightActivityId: 8888, ordinal: 'cap-1' });
    assert.deepEqual(codes((await update(emu, [conversion('cap-1')])).status[0]), ['NOT_FOUND']);
    clock = T0 + 10 * MINUTE;
    assert.deepEqual(codes((await update(emu, [conversion('cap-1')])).status[0]), []);
  });

  test('batchinsert captures the conversions it inserts', async () => {
    clock = T0 + 5 * MINUTE;
    const res = await call(
      emu,
      'POST',
      BATCHINSERT,
      batch([conversion('ins-1')], 'dfareporting#conversionsBatchInsertRequest'),
    );
    assert.equal(res.status, 200);
    assert.equal((res.body as BatchResponse).kind, 'dfareporting#conversionsBatchInsertResponse');
    // Captured at its own timestamp (T0), so indexed from T0 + 10 min.
    clock = T0 + 10 * MINUTE;
    assert.deepEqual(codes((await update(emu, [conversion('ins-1')])).status[0]), []);
  });

  test('POST /_sandbox/capture registers one over HTTP', async () => {
    clock = T0;
    const res = await call(emu, 'POST', '/_sandbox/capture', {
      floodlightConfigurationId: '99999',
      floodlightActivityId: '8888',
      ordinal: 'http-cap',
      atMs: T0 - 10 * MINUTE,
    });
    assert.equal(res.status, 204);
    assert.deepEqual(codes((await update(emu, [conversion('http-cap')])).status[0]), []);
    assert.equal((await call(emu, 'POST', '/_sandbox/capture', { ordinal: 'x' })).status, 400);
  });
});

describe('validation', () => {
  let emu: Cm360Emulator;
  before(async () => {
    emu = await startCm360Emulator();
  });
  after(() => emu.close());

  const required = [
    ['floodlightActivityId', 'floodlight_activity_id'],
    ['floodlightConfigurationId', 'floodlight_configuration_id'],
    ['ordinal', 'ordinal'],
    ['timestampMicros', 'timestamp_micros'],
    ['quantity', 'quantity'],
    ['value', 'value'],
  ];
  for (const [field, name] of required) {
    test(`a missing ${field} is INVALID_ARGUMENT`, async () => {
      const c = conversion(`missing-${field}`);
      delete c[field as string];
      const res = await update(emu, [c]);
      assert.equal(res.hasFailures, true);
      assert.deepEqual(res.status[0]?.errors, [
        { code: 'INVALID_ARGUMENT', message: `The field '${name}' is required.`, kind: 'dfareporting#conversionError' },
      ]);
    });
  }

  const bad: [string, Json, string][] = [
    [
      'more than five userIdentifiers',
      { userIdentifiers: Array.from({ length: 6 }, () => ({ hashedEmail: HASH })) },
      'More than five user_identifiers specified.',
    ],
    [
      'a hashedEmail that is not SHA-256 hex',
      { userIdentifiers: [{ hashedEmail: 'x@y.z' }] },
      "The field 'hashed_email' is not a valid SHA-256 hash value.",
    ],
    [
      'a hashedPhoneNumber one character short',
      { userIdentifiers: [{ hashedPhoneNumber: HASH.slice(1) }] },
      "The field 'hashed_phone_number' is not a valid SHA-256 hash value.",
    ],
    [
      'a hashed address field that is not hex',
      { userIdentifiers: [{ addressInfo: { hashedFirstName: 'g'.repeat(64), countryCode: 'US' } }] },
      "The field 'hashed_first_name' is not a valid SHA-256 hash value.",
    ],
    [
      'a three-letter countryCode',
      { userIdentifiers: [{ addressInfo: { hashedLastName: HASH, countryCode: 'USA' } }] },
      "The field 'country_code' has the wrong length.",
    ],
    [
      'a countryCode that is not letters',
      { userIdentifiers: [{ addressInfo: { hashedLastName: HASH, countryCode: '1A' } }] },
      "The field 'country_code' must be exactly two letters.",
    ],
    [
      'a user identifier with two fields set',
      { userIdentifiers: [{ hashedEmail: HASH, hashedPhoneNumber: HASH }] },
      'A user identifier sets exactly one of hashed_email, hashed_phone_number, address_info.',
    ],
    ['a non-integer quantity', { quantity: 'many' }, "The field 'quantity' is not a valid int64."],
  ];
  for (const [what, overrides, message] of bad) {
    test(`${what} is INVALID_ARGUMENT`, async () => {
      const res = await update(emu, [conversion('v', overrides)]);
      assert.deepEqual(codes(res.status[0]), ['INVALID_ARGUMENT']);
      assert.deepEqual(messages(res.status[0]), [message]);
    });
  }

  test('a conversion without matchId or any other identifier is INVALID_ARGUMENT', async () => {
    const c = conversion('no-id');
    delete c.matchId;
    assert.deepEqual(codes((await update(emu, [c])).status[0]), ['INVALID_ARGUMENT']);
  });

  test('uppercase hex, numeric int64s and five identifiers are accepted', async () => {
    const res = await update(emu, [
      conversion('ok-1', {
        quantity: 1,
        floodlightActivityId: 8888,
        timestampMicros: 1656950400000000,
        userIdentifiers: [
          { hashedEmail: HASH.toUpperCase() },
          { hashedEmail: HASH },
          { hashedPhoneNumber: HASH },
          { addressInfo: { hashedFirstName: HASH, countryCode: 'us' } },
          { addressInfo: { hashedLastName: HASH } },
        ],
      }),
    ]);
    assert.equal(res.hasFailures, false);
    assert.equal(res.status[0]?.errors, undefined);
  });

  test('rows are judged one by one and answered in request order', async () => {
    const res = await update(emu, [
      conversion('r-0'),
      conversion('r-1', { userIdentifiers: [{ hashedEmail: 'nope' }] }),
      conversion('r-2'),
    ]);
    assert.deepEqual(
      res.status.map((s) => [s.conversion.ordinal, codes(s)]),
      [
        ['r-0', []],
        ['r-1', ['INVALID_ARGUMENT']],
        ['r-2', []],
      ],
    );
  });

  test('a wrong kind, no conversions, too many conversions and bad JSON are HTTP 400 in Google error form', async () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => conversion(`many-${i}`));
    for (const body of [
      { conversions: [conversion('k')] },
      batch([conversion('k')], 'dfareporting#conversionsBatchInsertRequest'),
      batch([]),
      batch(tooMany),
      '{"kind": ',
    ]) {
      const res = await call(emu, 'POST', BATCHUPDATE, body);
      assert.equal(res.status, 400);
      const err = (res.body as { error: { code: number; message: string; errors: unknown[] } }).error;
      assert.equal(err.code, 400);
      assert.ok(err.message.length > 0);
      assert.equal(err.errors.length, 1);
    }
  });

  test('accepts a full batch of 1000 conversions', async () => {
    const res = await update(
      emu,
      Array.from({ length: 1000 }, (_, i) => conversion(`full-${i}`)),
    );
    assert.equal(res.status.length, 1000);
    assert.equal(res.hasFailures, false);
  });

  test('a missing, empty or non-bearer Authorization is 401', async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: 'Bearer ' },
      { authorization: 'Basic dXNlcjpwYXNz' },
    ];
    for (const headers of variants) {
      const res = await call(emu, 'POST', BATCHUPDATE, batch([conversion('a')]), headers);
      assert.equal(res.status, 401);
      const err = (res.body as { error: { code: number; status: string } }).error;
      assert.equal(err.code, 401);
      assert.equal(err.status, 'UNAUTHENTICATED');
    }
  });

  test('with accessToken set, only that token is accepted', async () => {
    const strict = await startCm360Emulator({ accessToken: 'right' });
    try {
      const path = BATCHUPDATE;
      assert.equal(
        (await call(strict, 'POST', path, batch([conversion('s')]), { authorization: 'Bearer wrong' })).status,
        401,
      );
      assert.equal(
        (await call(strict, 'POST', path, batch([conversion('s')]), { authorization: 'Bearer right' })).status,
        200,
      );
    } finally {
      await strict.close();
    }
  });
});

describe('faults', () => {
  let emu: Cm360Emulator;
  before(async () => {
    emu = await startCm360Emulator();
  });
  after(() => emu.close());
  beforeEach(() => emu.setFault(undefined));

  const post = () => call(emu, 'POST', BATCHUPDATE, batch([conversion('f')]));
  const googleErr = (body: unknown) =>
    (body as { error: { code: number; status: string; errors: { domain: string; reason: string }[] } }).error;

  test('server-error answers 500 for `times` requests, then clears itself', async () => {
    emu.setFault({ type: 'server-error', times: 2 });
    const first = await post();
    assert.equal(first.status, 500);
    assert.equal(googleErr(first.body).status, 'INTERNAL');
    assert.equal((await post()).status, 500);
    assert.equal((await post()).status, 200);
  });

  test('server-error 503 without `times` lasts until cleared', async () => {
    emu.setFault({ type: 'server-error', status: 503 });
    for (let i = 0; i < 3; i++) {
      const res = await post();
      assert.equal(res.status, 503);
      assert.equal(googleErr(res.body).status, 'UNAVAILABLE');
    }
    emu.setFault(undefined);
    assert.equal((await post()).status, 200);
  });

  for (const reason of ['userRateLimitExceeded', 'dailyLimitExceeded'] as const) {
    test(`quota ${reason} is HTTP 403 with a usageLimits reason, for \`times\` requests`, async () => {
      emu.setFault({ type: 'quota', reason, times: 1 });
      const res = await post();
      assert.equal(res.status, 403);
      assert.deepEqual(
        googleErr(res.body).errors.map((e) => [e.domain, e.reason]),
        [['usageLimits', reason]],
      );
      assert.equal((await post()).status, 200);
    });
  }

  test('permission-denied fails the rows of its Floodlight configuration only, with HTTP 200', async () => {
    emu.setFault({ type: 'permission-denied', floodlightConfigurationId: '77777' });
    const res = await update(emu, [conversion('pd-1', { floodlightConfigurationId: '77777' }), conversion('pd-2')]);
    assert.deepEqual(codes(res.status[0]), ['PERMISSION_DENIED']);
    assert.match(messages(res.status[0])[0] ?? '', /terms for enhanced conversions/);
    assert.deepEqual(codes(res.status[1]), []);
    assert.equal(res.hasFailures, true);
  });

  test('permission-denied without a configuration fails every row until cleared', async () => {
    emu.setFault({ type: 'permission-denied' });
    for (let i = 0; i < 2; i++) {
      const res = await update(emu, [conversion('pd-3'), conversion('pd-4', { floodlightConfigurationId: '1' })]);
      assert.deepEqual(res.status.map(codes), [['PERMISSION_DENIED'], ['PERMISSION_DENIED']]);
    }
  });

  test('internal fails `times` rows, counted across the batch', async () => {
    emu.setFault({ type: 'internal', times: 2 });
    const res = await update(emu, [conversion('in-1'), conversion('in-2'), conversion('in-3')]);
    assert.deepEqual(res.status.map(codes), [['INTERNAL'], ['INTERNAL'], []]);
    assert.deepEqual((await update(emu, [conversion('in-4')])).status.map(codes), [[]]);
  });

  test('row faults do not hide validation errors', async () => {
    emu.setFault({ type: 'internal' });
    const res = await update(emu, [conversion('in-5', { userIdentifiers: [{ hashedEmail: 'x' }] })]);
    assert.deepEqual(res.status.map(codes), [['INVALID_ARGUMENT']]);
  });

  test("setFault does not mutate the caller's object", async () => {
    const fault = { type: 'server-error', times: 1 } as const;
    emu.setFault(fault);
    await post();
    assert.equal(fault.times, 1);
  });
});

describe('recording and the control API', () => {
  let emu: Cm360Emulator;
  before(async () => {
    emu = await startCm360Emulator({ now: () => T0 });
  });
  after(() => emu.close());

  test('records each request with parsed body and headers minus authorization', async () => {
    const body = batch([conversion('rec-1')]);
    await call(emu, 'POST', BATCHUPDATE, body, { authorization: 'Bearer secret-token', 'x-trace': 'abc' });
    const last = emu.requests.at(-1);
    assert.equal(last?.profileId, '4242');
    assert.equal(last?.path, BATCHUPDATE);
    assert.deepEqual(last?.body, body);
    assert.equal(last?.at, T0);
    assert.equal(last?.status, 200);
    assert.equal(last?.headers['x-trace'], 'abc');
    assert.ok(!JSON.stringify(last).includes('secret-token'));
  });

  test('GET and DELETE /_sandbox/requests', async () => {
    await update(emu, [conversion('rec-2')]);
    const listed = await call(emu, 'GET', '/_sandbox/requests');
    assert.equal(listed.status, 200);
    assert.equal((listed.body as unknown[]).length, emu.requests.length);
    assert.ok(emu.requests.length > 0);
    assert.equal((await call(emu, 'DELETE', '/_sandbox/requests')).status, 204);
    assert.equal(emu.requests.length, 0);
    assert.deepEqual((await call(emu, 'GET', '/_sandbox/requests')).body, []);
  });

  test('PUT /_sandbox/fault sets, validates and clears the fault', async () => {
    assert.equal(
      (await call(emu, 'PUT', '/_sandbox/fault', { type: 'server-error', status: 503, times: 1 })).status,
      204,
    );
    assert.equal((await call(emu, 'POST', BATCHUPDATE, batch([conversion('c')]))).status, 503);
    assert.equal((await call(emu, 'POST', BATCHUPDATE, batch([conversion('c')]))).status, 200);

    assert.equal(
      (await call(emu, 'PUT', '/_sandbox/fault', { type: 'quota', reason: 'userRateLimitExceeded' })).status,
      204,
    );
    assert.equal((await call(emu, 'POST', BATCHUPDATE, batch([conversion('c')]))).status, 403);
    assert.equal((await call(emu, 'PUT', '/_sandbox/fault', 'null')).status, 204);
    assert.equal((await call(emu, 'POST', BATCHUPDATE, batch([conversion('c')]))).status, 200);

    assert.equal((await call(emu, 'PUT', '/_sandbox/fault', { type: 'meteor' })).status, 400);
    assert.equal((await call(emu, 'PUT', '/_sandbox/fault', { type: 'server-error', status: 502 })).status, 400);
  });

  test('GET /_sandbox/enhanced lists enhanced conversions by key', async () => {
    const c = conversion('enh-1', { value: 99 });
    await update(emu, [c]);
    const res = await call(emu, 'GET', '/_sandbox/enhanced');
    assert.deepEqual((res.body as Json)['99999-8888-enh-1'], c);
  });

  test('unknown paths answer 404 in Google error form', async () => {
    const res = await call(emu, 'POST', '/dfareporting/v4/userprofiles/1/conversions/batchupdate', batch([]));
    assert.equal(res.status, 404);
    assert.equal((res.body as { error: { code: number } }).error.code, 404);
  });
});
