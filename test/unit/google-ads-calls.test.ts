// Call conversions and the conversion action lookup, through the real google-ads-api library over
// real gRPC to the emulator on a plaintext socket, as test/unit/google-ads-client.test.ts does for
// clicks and enhancements.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS,
  gaqlString,
  GoogleAdsConversionClient,
  GoogleAdsRequestError,
  redactGoogleAdsMessage,
  type GoogleAdsConversionClientOptions,
} from '../../src/clients/google-ads';
import { classifyGoogleAdsError } from '../../src/domain/google-ads/classify';
import type { CallConversionRow, GoogleAdsRowResult } from '../../src/domain/google-ads/types';
import {
  DEMO_CALL_CONVERSION_ACTIONS,
  DEMO_REMOVED_CALL_CONVERSION_ACTIONS,
  startGoogleAdsEmulator,
  type DecodedCallConversion,
  type GoogleAdsEmulator,
  type RecordedGoogleAdsRequest,
} from '../../src/sandbox/google-ads/emulator';

const CUSTOMER = '1234567890';
const MANAGER = '9876543210';
const SALES_CALL = DEMO_CALL_CONVERSION_ACTIONS['Sales call'] as string;
const ACTION = `customers/${CUSTOMER}/conversionActions/${SALES_CALL}`;
const DEV_TOKEN = 'relay-test-developer-token';
const secrets = { developerToken: DEV_TOKEN, clientId: 'client-id', clientSecret: 'client-secret', refreshToken: 'rt' };
const SIX_HOURS = 6 * 3_600_000;

let emu: GoogleAdsEmulator;
let client: GoogleAdsConversionClient;
let seen = 0;

function newRequests(): RecordedGoogleAdsRequest[] {
  const fresh = emu.requests.slice(seen);
  seen = emu.requests.length;
  return fresh;
}

function plaintextClient(extra: Partial<GoogleAdsConversionClientOptions> = {}, target = emu) {
  return new GoogleAdsConversionClient({
    ...secrets,
    endpoint: { host: target.host, port: target.port, insecure: true },
    ...extra,
  });
}

/** A distinct call per suffix, so tests never collide in the emulator's de-duplication. */
function callRow(suffix: number, extra: Partial<CallConversionRow> = {}): CallConversionRow {
  return {
    customerId: CUSTOMER,
    conversionAction: ACTION,
    callerId: `+1650253${String(suffix).padStart(4, '0')}`,
    callStartDateTime: '2026-11-24 10:00:00+00:00',
    conversionDateTime: '2026-11-24 10:20:00+00:00',
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<GoogleAdsRequestError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GoogleAdsRequestError, `expected a GoogleAdsRequestError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

const names = (r: GoogleAdsRowResult | undefined) => (r && !r.ok ? r.errors.map((e) => `${e.category}.${e.name}`) : []);
const firstError = (r: GoogleAdsRowResult | undefined) => {
  assert.ok(r && !r.ok && r.errors[0], `expected a failed row, got ${JSON.stringify(r)}`);
  return r.errors[0];
};
const storedCallers = () => emu.uploaded().calls.map((c) => c.conversion.caller_id);

before(async () => {
  emu = await startGoogleAdsEmulator({ developerToken: DEV_TOKEN });
  client = plaintextClient();
});

after(() => emu.close());

beforeEach(() => {
  emu.clearFaults();
  newRequests();
});

describe('GoogleAdsConversionClient.uploadCallConversions', { timeout: 30_000 }, () => {
  test('sends exactly the mapped CallConversion fields, partial_failure and the account metadata', async () => {
    const row = callRow(1, { loginCustomerId: MANAGER, conversionValue: 42.5, currencyCode: 'EUR' });
    // Whatever else the caller's object carries must not reach the wire.
    const polluted = { ...row, orderId: 'leak', gclid: 'leak', consent: { ad_user_data: 'GRANTED' } };
    assert.deepEqual(await client.uploadCallConversions(CUSTOMER, MANAGER, [polluted]), [{ ok: true }]);

    const [req] = newRequests();
    assert.ok(req);
    assert.equal(req.method, 'UploadCallConversions');
    assert.equal(req.status, 0);
    assert.equal(req.metadata['developer-token'], DEV_TOKEN);
    assert.equal(req.metadata['login-customer-id'], MANAGER);
    assert.equal(req.metadata.authorization, undefined, 'plaintext emulator credentials carry no OAuth token');
    assert.equal(req.body.customer_id, CUSTOMER);
    assert.equal(req.body.partial_failure, true);
    assert.notEqual(req.body.validate_only, true);
    const [sent] = req.body.conversions as DecodedCallConversion[];
    assert.deepEqual(sent, {
      caller_id: '+16502530001',
      call_start_date_time: '2026-11-24 10:00:00+00:00',
      conversion_action: ACTION,
      conversion_date_time: '2026-11-24 10:20:00+00:00',
      conversion_value: 42.5,
      currency_code: 'EUR',
    });
    const stored = emu.uploaded().calls.find((c) => c.conversion.caller_id === '+16502530001');
    assert.equal(stored?.customerId, CUSTOMER);
  });

  test('optional value and currency are left unset, not sent as defaults', async () => {
    assert.deepEqual(await client.uploadCallConversions(CUSTOMER, undefined, [callRow(2)]), [{ ok: true }]);
    const [req] = newRequests();
    assert.equal(req?.metadata['login-customer-id'], undefined);
    const [sent] = req?.body.conversions as DecodedCallConversion[];
    assert.equal(sent?.conversion_value, undefined);
    assert.equal(sent?.currency_code, undefined);
  });

  test('a mixed batch: a fault keyed by caller id fails row 1 with TOO_RECENT_CALL, rows 0 and 2 land', async () => {
    const late = callRow(11);
    emu.setFault({
      type: 'row',
      callerId: late.callerId,
      category: 'conversion_upload_error',
      name: 'TOO_RECENT_CALL',
      times: 1,
    });
    const results = await client.uploadCallConversions(CUSTOMER, undefined, [callRow(10), late, callRow(12)]);
    assert.equal(results.length, 3);
    assert.deepEqual(results[0], { ok: true });
    assert.deepEqual(results[2], { ok: true });
    assert.deepEqual(names(results[1]), ['conversion_upload_error.TOO_RECENT_CALL']);
    assert.deepEqual(classifyGoogleAdsError(firstError(results[1])), { action: 'retry-later', delayMs: SIX_HOURS });
    assert.deepEqual(newRequests()[0]?.failedRows, [1]);
    assert.ok(storedCallers().includes(callRow(10).callerId));
    assert.ok(!storedCallers().includes(late.callerId));

    // The same rows again: the stored one is already done, the late one now lands (the fault was for once).
    const again = await client.uploadCallConversions(CUSTOMER, undefined, [callRow(10), late]);
    assert.deepEqual(names(again[0]), ['conversion_upload_error.CALL_CONVERSION_ALREADY_EXISTS']);
    assert.deepEqual(classifyGoogleAdsError(firstError(again[0])), { action: 'already-done' });
    assert.deepEqual(again[1], { ok: true });
  });

  test('the same call and conversion time twice in one request: the first lands, the second is a duplicate', async () => {
    const results = await client.uploadCallConversions(CUSTOMER, undefined, [
      callRow(20),
      callRow(21),
      callRow(20),
      // Same call, another conversion time: a conversion of its own.
      callRow(20, { conversionDateTime: '2026-11-24 10:30:00+00:00' }),
    ]);
    assert.deepEqual(results[0], { ok: true });
    assert.deepEqual(results[1], { ok: true });
    assert.deepEqual(names(results[2]), ['conversion_upload_error.DUPLICATE_CALL_CONVERSION_IN_REQUEST']);
    assert.deepEqual(classifyGoogleAdsError(firstError(results[2])), { action: 'already-done' });
    assert.deepEqual(results[3], { ok: true });
    assert.equal(storedCallers().filter((c) => c === callRow(20).callerId).length, 2);
  });

  test('rows the emulator refuses the way Google does each get their own decoded, permanent error', async () => {
    const results = await client.uploadCallConversions(CUSTOMER, undefined, [
      callRow(30),
      callRow(31, { conversionDateTime: '2026-11-24 09:59:59+00:00' }),
      callRow(32, { callStartDateTime: '2026-11-24 10:00:00' }),
      callRow(33, { conversionDateTime: '2026-02-30 10:20:00+00:00' }),
      callRow(34, { conversionValue: -1, currencyCode: 'USD' }),
      callRow(35, { conversionValue: 5, currencyCode: 'usd' }),
      callRow(36, { conversionAction: 'conversionActions/6512349874' }),
      callRow(37, {
        conversionAction: `customers/${CUSTOMER}/conversionActions/${DEMO_REMOVED_CALL_CONVERSION_ACTIONS['Old sales call']}`,
      }),
      // The call started at 10:00 UTC, the conversion at 10:20 UTC written in another offset.
      callRow(38, { conversionDateTime: '2026-11-24 02:20:00-08:00' }),
    ]);
    assert.deepEqual(results[0], { ok: true });
    assert.deepEqual(names(results[1]), ['conversion_upload_error.CONVERSION_PRECEDES_CALL']);
    assert.deepEqual(names(results[2]), ['date_error.INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET']);
    assert.deepEqual(names(results[3]), ['date_error.INVALID_FIELD_VALUES_IN_DATE_TIME']);
    assert.deepEqual(names(results[4]), ['range_error.TOO_LOW']);
    assert.deepEqual(names(results[5]), ['currency_code_error.UNSUPPORTED']);
    assert.deepEqual(names(results[6]), ['request_error.RESOURCE_NAME_MALFORMED']);
    assert.deepEqual(names(results[7]), ['conversion_upload_error.NO_CONVERSION_ACTION_FOUND']);
    assert.deepEqual(results[8], { ok: true });
    for (const r of results.slice(1, 8))
      assert.deepEqual(classifyGoogleAdsError(firstError(r)), { action: 'permanent' });
  });

  test('a caller id that is not E.164 is refused before anything is sent, without quoting it', async () => {
    for (const callerId of ['6502531234', '+1 650-253-1234', '+0650253123', '+123456', '']) {
      const err = await rejection(
        client.uploadCallConversions(CUSTOMER, undefined, [callRow(40), callRow(41, { callerId })]),
      );
      assert.equal(err.kind, 'invalid');
      assert.match(err.message, /^row 1: callerId must be an E\.164 number/);
      if (callerId) assert.ok(!err.message.includes(callerId), err.message);
    }
    assert.equal(newRequests().length, 0);
  });

  test('Google messages quoting the caller id lose it, with or without the +', async () => {
    const row = callRow(50);
    const digits = row.callerId.slice(1);
    emu.setFault({
      type: 'row',
      callerId: row.callerId,
      category: 'conversion_upload_error',
      name: 'CALL_NOT_FOUND',
      message: `no call from ${row.callerId} (${digits}) to action ${SALES_CALL}`,
    });
    const [r] = await client.uploadCallConversions(CUSTOMER, undefined, [row]);
    const message = firstError(r).message;
    assert.equal(message, `no call from [redacted-phone] ([redacted-phone]) to action ${SALES_CALL}`);
  });

  test('a whole-request UNAVAILABLE is transient and not retried by the library', async () => {
    emu.setFault({ type: 'unavailable', times: 5, method: 'UploadCallConversions' });
    const started = Date.now();
    const err = await rejection(client.uploadCallConversions(CUSTOMER, undefined, [callRow(60)]));
    assert.equal(err.kind, 'transient');
    assert.equal(err.grpcCode, 14);
    assert.equal(newRequests().length, 1);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  test('validate_only: rows are checked, answered as dry-run successes, and nothing is stored', async () => {
    const dry = plaintextClient({ validateOnly: true });
    const results = await dry.uploadCallConversions(CUSTOMER, undefined, [
      callRow(70),
      callRow(71, { currencyCode: 'dollars' }),
    ]);
    assert.deepEqual(results[0], { ok: true, validateOnly: true });
    assert.deepEqual(names(results[1]), ['currency_code_error.UNSUPPORTED']);
    const [req] = newRequests();
    assert.equal(req?.body.validate_only, true);
    assert.equal(req?.body.partial_failure, true);
    assert.ok(!storedCallers().includes(callRow(70).callerId));
    // The dry run left no trace, so the real upload is not a duplicate.
    assert.deepEqual(await client.uploadCallConversions(CUSTOMER, undefined, [callRow(70)]), [{ ok: true }]);
  });
});

// A retry by the library would show up as a hang, not a failure, without the timeout.
describe(
  'GoogleAdsConversionClient.findConversionActions (GoogleAdsService.Search over gRPC)',
  { timeout: 30_000 },
  () => {
    const salesCall = {
      resourceName: ACTION,
      id: SALES_CALL,
      name: 'Sales call',
      type: 'UPLOAD_CALLS',
      status: 'ENABLED',
    };

    test('finds an action by exact name, one Search request per name, through the gRPC endpoint', async () => {
      const lookup = plaintextClient();
      const found = await lookup.findConversionActions(CUSTOMER, MANAGER, ['Sales call', 'No such action']);
      assert.deepEqual(
        [...found.entries()],
        [
          ['Sales call', [salesCall]],
          ['No such action', []],
        ],
      );
      // The emulator answered, so the request went to the configured endpoint over gRPC, not over
      // REST to googleads.googleapis.com.
      const reqs = newRequests();
      assert.deepEqual(
        reqs.map((r) => [r.method, r.status, r.body.customer_id, r.metadata['login-customer-id']]),
        [
          ['Search', 0, CUSTOMER, MANAGER],
          ['Search', 0, CUSTOMER, MANAGER],
        ],
      );
      assert.equal(reqs[0]?.metadata['developer-token'], DEV_TOKEN);
      assert.equal(reqs[0]?.metadata.authorization, undefined, 'the plaintext credentials apply to GoogleAdsService');
      assert.equal(
        reqs[0]?.body.query,
        'SELECT conversion_action.resource_name, conversion_action.id, conversion_action.name, ' +
          'conversion_action.type, conversion_action.status FROM conversion_action ' +
          "WHERE conversion_action.name = 'Sales call'",
      );
    });

    test('a removed action is returned with its status; the caller decides', async () => {
      const found = await plaintextClient().findConversionActions(CUSTOMER, undefined, ['Old sales call']);
      assert.deepEqual(found.get('Old sales call'), [
        {
          resourceName: `customers/${CUSTOMER}/conversionActions/${DEMO_REMOVED_CALL_CONVERSION_ACTIONS['Old sales call']}`,
          id: DEMO_REMOVED_CALL_CONVERSION_ACTIONS['Old sales call'],
          name: 'Old sales call',
          type: 'UPLOAD_CALLS',
          status: 'REMOVED',
        },
      ]);
    });

    test('names with quotes and backslashes are escaped for GAQL and still match exactly', async () => {
      const tricky = 'Joe\'s \\ "priority" line';
      const other = await startGoogleAdsEmulator({
        conversionActionNames: { [tricky]: '777', "Joe's": '778', 'Sales call': SALES_CALL },
      });
      try {
        const found = await plaintextClient({}, other).findConversionActions(CUSTOMER, undefined, [tricky, "Joe'"]);
        assert.deepEqual(found.get(tricky), [
          {
            resourceName: `customers/${CUSTOMER}/conversionActions/777`,
            id: '777',
            name: tricky,
            type: 'UPLOAD_CALLS',
            status: 'ENABLED',
          },
        ]);
        assert.deepEqual(found.get("Joe'"), []);
        assert.match(String(other.requests[0]?.body.query), /name = 'Joe\\'s \\\\ "priority" line'$/);
      } finally {
        await other.close();
      }
      assert.equal(gaqlString("a'b\\c"), "'a\\'b\\\\c'");
      assert.throws(() => gaqlString('two\nlines'), RangeError);
    });

    test('the cache: a second lookup sends nothing, another account or an expired entry asks again', async () => {
      let now = 1_000_000;
      const lookup = plaintextClient({ now: () => now });
      const first = await lookup.findConversionActions(CUSTOMER, undefined, ['Sales call', 'Missing']);
      assert.equal(newRequests().length, 2);

      const second = await lookup.findConversionActions(CUSTOMER, undefined, ['Missing', 'Sales call', 'Sales call']);
      assert.equal(newRequests().length, 0, 'found and not-found names are both remembered');
      assert.deepEqual(second.get('Sales call'), first.get('Sales call'));
      assert.deepEqual(second.get('Missing'), []);

      // What a caller does with its answer does not reach the cache.
      second.get('Sales call')?.splice(0);
      assert.deepEqual((await lookup.findConversionActions(CUSTOMER, undefined, ['Sales call'])).get('Sales call'), [
        salesCall,
      ]);

      await lookup.findConversionActions(CUSTOMER, MANAGER, ['Sales call']);
      await lookup.findConversionActions('1111111111', undefined, ['Sales call']);
      assert.deepEqual(
        newRequests().map((r) => `${String(r.body.customer_id)}/${r.metadata['login-customer-id'] ?? '-'}`),
        [`${CUSTOMER}/${MANAGER}`, '1111111111/-'],
      );

      now += GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS - 1;
      await lookup.findConversionActions(CUSTOMER, undefined, ['Sales call']);
      assert.equal(newRequests().length, 0, 'still fresh just before the TTL');
      now += 1;
      await lookup.findConversionActions(CUSTOMER, undefined, ['Sales call']);
      assert.equal(newRequests().length, 1, 'asked again once the TTL has passed');
      assert.equal(GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS, 10 * 60_000);
    });

    test('concurrent lookups of one name share one request; a failed lookup is not remembered', async () => {
      const lookup = plaintextClient();
      const [a, b] = await Promise.all([
        lookup.findConversionActions(CUSTOMER, undefined, ['Qualified lead call']),
        lookup.findConversionActions(CUSTOMER, undefined, ['Qualified lead call']),
      ]);
      assert.equal(newRequests().length, 1);
      assert.deepEqual(a, b);

      emu.setFault({ type: 'unavailable', times: 5, method: 'Search' });
      const started = Date.now();
      const err = await rejection(lookup.findConversionActions(CUSTOMER, undefined, ['Sales call']));
      assert.equal(err.kind, 'transient');
      assert.equal(err.grpcCode, 14);
      // gax's own config for Search would retry UNAVAILABLE for up to 10 minutes.
      assert.equal(newRequests().length, 1);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
      emu.clearFaults();
      assert.equal(
        (await lookup.findConversionActions(CUSTOMER, undefined, ['Sales call'])).get('Sales call')?.length,
        1,
      );
      assert.equal(newRequests().length, 1, 'the failed name was asked again');
    });

    test('errors map to GoogleAdsRequestError kinds, with the gRPC code and the decoded Google Ads errors', async () => {
      emu.setFault({
        type: 'request',
        code: 3,
        method: 'Search',
        times: 1,
        error: { category: 'query_error', name: 'UNRECOGNIZED_FIELD', message: 'Unrecognized field +16502531234' },
      });
      const invalid = await rejection(plaintextClient().findConversionActions(CUSTOMER, undefined, ['Sales call']));
      assert.equal(invalid.kind, 'invalid');
      assert.equal(invalid.grpcCode, 3);
      assert.deepEqual(
        invalid.errors.map((e) => `${e.category}.${e.name}`),
        ['query_error.UNRECOGNIZED_FIELD'],
      );
      assert.ok(!invalid.message.includes('+16502531234'), invalid.message);

      const wrongToken = plaintextClient({ developerToken: 'not-the-token' });
      const auth = await rejection(wrongToken.findConversionActions(CUSTOMER, undefined, ['Sales call']));
      assert.equal(auth.kind, 'auth');
      assert.deepEqual(
        auth.errors.map((e) => `${e.category}.${e.name}`),
        ['authentication_error.DEVELOPER_TOKEN_INVALID'],
      );

      emu.setFault({ type: 'quota', retryDelayMs: 12_000, times: 1, method: 'Search' });
      const quota = await rejection(plaintextClient().findConversionActions(CUSTOMER, undefined, ['Sales call']));
      assert.equal(quota.kind, 'quota');
      assert.equal(quota.retryDelayMs, 12_000);
    });

    test('arguments that cannot make a query are refused before anything is sent', async () => {
      await assert.rejects(client.findConversionActions('123-456', undefined, ['Sales call']), RangeError);
      await assert.rejects(client.findConversionActions(CUSTOMER, undefined, ['']), RangeError);
      await assert.rejects(client.findConversionActions(CUSTOMER, undefined, ['Sales\ncall']), RangeError);
      assert.equal(newRequests().length, 0);
    });

    test('plaintext is per client: a lookup without endpoint.insecure still insists on TLS', async () => {
      const tls = new GoogleAdsConversionClient({
        ...secrets,
        requestTimeoutMs: 5000,
        endpoint: { host: emu.host, port: emu.port },
      });
      const err = await rejection(tls.findConversionActions(CUSTOMER, undefined, ['Sales call']));
      assert.equal(err.kind, 'transient');
      assert.equal(newRequests().length, 0, 'a TLS handshake against the plaintext emulator never becomes a request');
    });
  },
);

describe('redactGoogleAdsMessage: phone numbers', () => {
  test('E.164-looking numbers are blanked; short numbers, ids and base64 digests are left to their own rules', () => {
    assert.equal(
      redactGoogleAdsMessage('caller +16502531234 and +441134960987, action 6512349874, code +12'),
      'caller [redacted-phone] and [redacted-phone], action 6512349874, code +12',
    );
    const digest = Buffer.from('a'.repeat(64), 'hex').toString('base64');
    assert.equal(redactGoogleAdsMessage(`digest ${digest}`), 'digest [redacted-hash]');
  });
});
