// The real google-ads-api library (gRPC through google-gax) against the real emulator over a
// plaintext socket: this is also the proof that the library works on the Node version the relay
// supports, whatever its `engines` field says.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  GoogleAdsConversionClient,
  GoogleAdsRequestError,
  kindForGoogleAdsErrors,
  kindForGrpcStatus,
  redactGoogleAdsMessage,
} from '../../src/clients/google-ads';
import { classifyGoogleAdsError } from '../../src/domain/google-ads/classify';
import type {
  ClickConversionRow,
  EnhancementAdjustmentRow,
  GoogleAdsRowError,
  GoogleAdsRowResult,
} from '../../src/domain/google-ads/types';
import {
  startGoogleAdsEmulator,
  type DecodedClickConversion,
  type DecodedConversionAdjustment,
  type GoogleAdsEmulator,
  type RecordedGoogleAdsRequest,
} from '../../src/sandbox/google-ads/emulator';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const EMAIL = sha('jane.doe@gmail.com');
const PHONE = sha('+16502530000');
const CUSTOMER = '1234567890';
const MANAGER = '9876543210';
const ACTION = `customers/${CUSTOMER}/conversionActions/555`;
const DEV_TOKEN = 'relay-test-developer-token';
const secrets = { developerToken: DEV_TOKEN, clientId: 'client-id', clientSecret: 'client-secret', refreshToken: 'rt' };

let emu: GoogleAdsEmulator;
let client: GoogleAdsConversionClient;
let seen = 0;

/** Requests the emulator received since the previous call. */
function newRequests(): RecordedGoogleAdsRequest[] {
  const fresh = emu.requests.slice(seen);
  seen = emu.requests.length;
  return fresh;
}

function click(orderId: string, extra: Partial<ClickConversionRow> = {}): ClickConversionRow {
  return {
    customerId: CUSTOMER,
    conversionAction: ACTION,
    conversionDateTime: '2026-11-24 10:15:00+00:00',
    orderId,
    gclid: `gclid-${orderId}`,
    userIdentifiers: [{ hashed_email: EMAIL }],
    ...extra,
  };
}

function enhancement(orderId: string, extra: Partial<EnhancementAdjustmentRow> = {}): EnhancementAdjustmentRow {
  return {
    customerId: CUSTOMER,
    conversionAction: ACTION,
    orderId,
    userIdentifiers: [{ hashed_email: EMAIL }],
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
  assert.fail('expected the upload to be rejected');
}

function firstError(r: GoogleAdsRowResult | undefined): GoogleAdsRowError {
  assert.ok(r && !r.ok && r.errors[0], `expected a failed row, got ${JSON.stringify(r)}`);
  return r.errors[0];
}

const names = (r: GoogleAdsRowResult | undefined) => (r && !r.ok ? r.errors.map((e) => `${e.category}.${e.name}`) : []);

before(async () => {
  emu = await startGoogleAdsEmulator({ developerToken: DEV_TOKEN });
  client = new GoogleAdsConversionClient({ ...secrets, endpoint: { host: emu.host, port: emu.port, insecure: true } });
});

after(() => emu.close());

beforeEach(() => {
  emu.clearFaults();
  newRequests();
});

describe('GoogleAdsConversionClient.uploadClickConversions (google-ads-api over gRPC to the emulator)', () => {
  test('sends exactly the mapped ClickConversion fields, partial_failure and the account metadata', async () => {
    const row = click('c-fields', {
      loginCustomerId: MANAGER,
      conversionValue: 125.5,
      currencyCode: 'EUR',
      userIdentifiers: [{ hashed_email: EMAIL }, { hashed_phone_number: PHONE }],
      adUserDataConsent: 'GRANTED',
    });
    const results = await client.uploadClickConversions(CUSTOMER, MANAGER, [row]);
    assert.deepEqual(results, [{ ok: true }]);

    const [req] = newRequests();
    assert.ok(req);
    assert.equal(req.method, 'UploadClickConversions');
    assert.equal(req.status, 0);
    assert.equal(req.metadata['developer-token'], DEV_TOKEN);
    assert.equal(req.metadata['login-customer-id'], MANAGER);
    assert.equal(req.metadata.authorization, undefined, 'plaintext emulator credentials carry no OAuth token');
    assert.equal(req.body.customer_id, CUSTOMER);
    assert.equal(req.body.partial_failure, true);
    assert.notEqual(req.body.validate_only, true);
    const [sent] = req.body.conversions as DecodedClickConversion[];
    assert.ok(sent);
    assert.equal(sent.conversion_action, ACTION);
    assert.equal(sent.conversion_date_time, '2026-11-24 10:15:00+00:00');
    assert.equal(sent.conversion_value, 125.5);
    assert.equal(sent.currency_code, 'EUR');
    assert.equal(sent.order_id, 'c-fields');
    assert.equal(sent.gclid, 'gclid-c-fields');
    // The library's serializer writes proto3 defaults explicitly; Google reads "" as unset.
    assert.ok(!sent.gbraid && !sent.wbraid);
    assert.deepEqual(
      sent.user_identifiers?.map((u) => ({ hashed_email: u.hashed_email, hashed_phone_number: u.hashed_phone_number })),
      [
        { hashed_email: EMAIL, hashed_phone_number: undefined },
        { hashed_email: undefined, hashed_phone_number: PHONE },
      ],
    );
    assert.equal(sent.consent?.ad_user_data, 'GRANTED');
    assert.ok(!sent.consent?.ad_personalization || sent.consent.ad_personalization === 'UNSPECIFIED');
    assert.equal(emu.uploaded().clicks.find((c) => c.conversion.order_id === 'c-fields')?.customerId, CUSTOMER);
  });

  test('gbraid or wbraid alone is sent as the only click id, and no login-customer-id without a manager', async () => {
    const rows = [
      click('c-gbraid', { gclid: undefined, gbraid: 'gb-1' }),
      click('c-wbraid', { gclid: undefined, wbraid: 'wb-1', adUserDataConsent: 'DENIED' }),
    ];
    assert.deepEqual(await client.uploadClickConversions(CUSTOMER, undefined, rows), [{ ok: true }, { ok: true }]);
    const [req] = newRequests();
    assert.ok(req);
    assert.equal(req.metadata['login-customer-id'], undefined);
    const [a, b] = req.body.conversions as DecodedClickConversion[];
    assert.deepEqual([a?.gclid, a?.gbraid, a?.wbraid || undefined], [undefined, 'gb-1', undefined]);
    assert.deepEqual([b?.gclid, b?.gbraid || undefined, b?.wbraid], [undefined, undefined, 'wb-1']);
    assert.equal(b?.consent?.ad_user_data, 'DENIED');
  });

  test('a mixed batch: row 1 fails with TOO_RECENT_EVENT, rows 0 and 2 succeed, each row with its own result', async () => {
    emu.setFault({
      type: 'row',
      orderId: 'mix-1',
      category: 'conversion_upload_error',
      name: 'TOO_RECENT_EVENT',
      times: 1,
    });
    const results = await client.uploadClickConversions(CUSTOMER, undefined, [
      click('mix-0'),
      click('mix-1'),
      click('mix-2'),
    ]);
    assert.equal(results.length, 3);
    assert.deepEqual(results[0], { ok: true });
    assert.deepEqual(results[2], { ok: true });
    const failed = results[1];
    assert.ok(failed && !failed.ok);
    assert.equal(failed.errors.length, 1);
    assert.equal(failed.errors[0]?.category, 'conversion_upload_error');
    assert.equal(failed.errors[0]?.name, 'TOO_RECENT_EVENT');
    assert.deepEqual(classifyGoogleAdsError(firstError(failed)), { action: 'retry-later', delayMs: 6 * 3_600_000 });

    const [req] = newRequests();
    assert.deepEqual(req?.failedRows, [1]);
    const stored = emu
      .uploaded()
      .clicks.map((c) => c.conversion.order_id)
      .filter((o) => o?.startsWith('mix-'));
    assert.deepEqual(stored, ['mix-0', 'mix-2']);

    // Sending the same conversions again: the stored ones are already done, the late one now lands.
    const again = await client.uploadClickConversions(CUSTOMER, undefined, [click('mix-0'), click('mix-1')]);
    assert.deepEqual(names(again[0]), ['conversion_upload_error.ORDER_ID_ALREADY_IN_USE']);
    assert.deepEqual(classifyGoogleAdsError(firstError(again[0])), { action: 'already-done' });
    assert.deepEqual(again[1], { ok: true });
  });

  test('rows the emulator refuses the way Google does each get their own decoded error', async () => {
    const results = await client.uploadClickConversions(CUSTOMER, undefined, [
      click('v-ok'),
      click('v-hash', { userIdentifiers: [{ hashed_email: 'Jane.Doe@gmail.com' }] }),
      click('v-address', {
        userIdentifiers: [{ address_info: { hashed_first_name: sha('jane'), country_code: 'US' } }],
      }),
      click('v-six', { userIdentifiers: Array.from({ length: 6 }, (_, i) => ({ hashed_email: sha(`${i}@x.com`) })) }),
      click('v-date', { conversionDateTime: '2026-11-24 10:15:00' }),
      click('v-action', { conversionAction: 'conversionActions/555' }),
      click('v-ok'),
    ]);
    assert.deepEqual(results[0], { ok: true });
    assert.deepEqual(names(results[1]), ['conversion_upload_error.INVALID_USER_IDENTIFIER']);
    assert.deepEqual(names(results[2]), ['conversion_upload_error.UNSUPPORTED_USER_IDENTIFIER']);
    assert.deepEqual(names(results[3]), ['collection_size_error.TOO_MANY']);
    assert.deepEqual(names(results[4]), ['date_error.INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET']);
    assert.deepEqual(names(results[5]), ['request_error.RESOURCE_NAME_MALFORMED']);
    assert.deepEqual(names(results[6]), ['conversion_upload_error.DUPLICATE_ORDER_ID']);
    for (const r of results.slice(1, 6)) {
      assert.deepEqual(classifyGoogleAdsError(firstError(r)), { action: 'permanent' });
    }
    // A repeat within the request is no verdict on the row: sent again alone (the batcher never repeats one).
    assert.deepEqual(classifyGoogleAdsError(firstError(results[6])), { action: 'transient' });
  });

  test('more than one click id is refused before anything is sent', async () => {
    const err = await rejection(
      client.uploadClickConversions(CUSTOMER, undefined, [click('two-ids-ok'), click('two-ids', { gbraid: 'gb' })]),
    );
    assert.equal(err.kind, 'invalid');
    assert.match(err.message, /row 1: more than one click id/);
    assert.equal(newRequests().length, 0);
  });

  test('row error messages are redacted: no hashes, no credentials', async () => {
    emu.setFault({
      type: 'row',
      orderId: 'redact',
      category: 'conversion_upload_error',
      name: 'INVALID_USER_IDENTIFIER',
      message: `identifier ${EMAIL} rejected for token ${DEV_TOKEN}`,
    });
    const [r] = await client.uploadClickConversions(CUSTOMER, undefined, [click('redact')]);
    assert.ok(r && !r.ok);
    const message = r.errors[0]?.message ?? '';
    assert.ok(!message.includes(EMAIL) && !message.includes(DEV_TOKEN), message);
    assert.match(message, /\[redacted-hash\].*\[redacted\]/);
  });
});

describe('GoogleAdsConversionClient.uploadEnhancements', () => {
  test('sends ENHANCEMENT adjustments with order id, date/gclid pair, user agent, restatement and address_info', async () => {
    const address = {
      hashed_first_name: sha('jane'),
      hashed_last_name: sha('doe'),
      hashed_street_address: sha('1600 amphitheatre pkwy'),
      city: 'Mountain View',
      state: 'CA',
      postal_code: '94043',
      country_code: 'US',
    };
    const row = enhancement('e-full', {
      loginCustomerId: MANAGER,
      conversionDateTime: '2026-11-24 09:00:00-08:00',
      gclid: 'gclid-e',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
      restatement: { adjustedValue: 80, currencyCode: 'USD' },
      userIdentifiers: [{ hashed_email: EMAIL }, { hashed_phone_number: PHONE }, { address_info: address }],
    });
    assert.deepEqual(await client.uploadEnhancements(CUSTOMER, MANAGER, [row]), [{ ok: true }]);
    const [req] = newRequests();
    assert.ok(req);
    assert.equal(req.method, 'UploadConversionAdjustments');
    assert.equal(req.metadata['developer-token'], DEV_TOKEN);
    assert.equal(req.metadata['login-customer-id'], MANAGER);
    assert.equal(req.body.partial_failure, true);
    const [sent] = req.body.conversion_adjustments as DecodedConversionAdjustment[];
    assert.ok(sent);
    assert.equal(sent.adjustment_type, 'ENHANCEMENT');
    assert.equal(sent.conversion_action, ACTION);
    assert.equal(sent.order_id, 'e-full');
    assert.deepEqual(sent.gclid_date_time_pair, {
      gclid: 'gclid-e',
      conversion_date_time: '2026-11-24 09:00:00-08:00',
    });
    assert.equal(sent.user_agent, 'Mozilla/5.0 (X11; Linux x86_64)');
    assert.deepEqual(sent.restatement_value, { adjusted_value: 80, currency_code: 'USD' });
    assert.equal(sent.user_identifiers?.length, 3);
    assert.equal(sent.user_identifiers?.[0]?.hashed_email, EMAIL);
    assert.equal(sent.user_identifiers?.[1]?.hashed_phone_number, PHONE);
    assert.deepEqual(sent.user_identifiers?.[2]?.address_info, address);
  });

  test('a minimal enhancement sends no date/gclid pair and no restatement', async () => {
    assert.deepEqual(await client.uploadEnhancements(CUSTOMER, undefined, [enhancement('e-min')]), [{ ok: true }]);
    const [sent] = newRequests()[0]?.body.conversion_adjustments as DecodedConversionAdjustment[];
    assert.equal(sent?.gclid_date_time_pair, undefined);
    assert.equal(sent?.restatement_value, undefined);
    assert.equal(sent?.user_agent, undefined);
  });

  test('per-row errors: missing order id, already enhanced, bad date, injected TOO_RECENT_CONVERSION_ACTION', async () => {
    await client.uploadEnhancements(CUSTOMER, undefined, [enhancement('e-dup')]);
    emu.setFault({
      type: 'row',
      orderId: 'e-late',
      category: 'conversion_adjustment_upload_error',
      name: 'TOO_RECENT_CONVERSION_ACTION',
      times: 1,
    });
    const results = await client.uploadEnhancements(CUSTOMER, undefined, [
      enhancement(''),
      enhancement('e-dup'),
      enhancement('e-date', { conversionDateTime: '2026-11-24T09:00:00Z' }),
      enhancement('e-late'),
      enhancement('e-fine'),
    ]);
    assert.deepEqual(names(results[0]), ['conversion_adjustment_upload_error.MISSING_ORDER_ID_FOR_WEBPAGE']);
    assert.deepEqual(names(results[1]), ['conversion_adjustment_upload_error.CONVERSION_ALREADY_ENHANCED']);
    assert.deepEqual(names(results[2]), ['date_error.INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET']);
    assert.deepEqual(names(results[3]), ['conversion_adjustment_upload_error.TOO_RECENT_CONVERSION_ACTION']);
    assert.deepEqual(results[4], { ok: true });
    assert.deepEqual(classifyGoogleAdsError(firstError(results[1])), { action: 'already-done' });
    // The injected fault was for one attempt only.
    assert.deepEqual(await client.uploadEnhancements(CUSTOMER, undefined, [enhancement('e-late')]), [{ ok: true }]);
  });

  test('an enhancement without user identifiers is refused before anything is sent', async () => {
    const err = await rejection(
      client.uploadEnhancements(CUSTOMER, undefined, [enhancement('e-none', { userIdentifiers: [] })]),
    );
    assert.equal(err.kind, 'invalid');
    assert.equal(newRequests().length, 0);
  });
});

describe('GoogleAdsConversionClient: whole-request failures become GoogleAdsRequestError', () => {
  test('UNAVAILABLE is transient, carries the gRPC code, and is not retried by the library', async () => {
    emu.setFault({ type: 'unavailable', times: 5 });
    const started = Date.now();
    const err = await rejection(client.uploadClickConversions(CUSTOMER, undefined, [click('r-unavailable')]));
    assert.equal(err.kind, 'transient');
    assert.equal(err.grpcCode, 14);
    assert.ok(err.retryable);
    assert.match(err.message, /UNAVAILABLE/);
    // gax's own config would retry for up to 10 minutes, 5 s apart.
    assert.equal(newRequests().length, 1);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  test('INTERNAL with internal_error in the trailer is transient', async () => {
    emu.setFault({ type: 'internal', times: 1 });
    const err = await rejection(client.uploadEnhancements(CUSTOMER, undefined, [enhancement('r-internal')]));
    assert.equal(err.kind, 'transient');
    assert.deepEqual(
      err.errors.map((e) => `${e.category}.${e.name}`),
      ['internal_error.INTERNAL_ERROR'],
    );
    assert.equal(newRequests().length, 1);
  });

  test('RESOURCE_EXHAUSTED with a quota_error trailer is quota, with Google’s retry delay', async () => {
    emu.setFault({ type: 'quota', retryDelayMs: 30_500, times: 1 });
    const err = await rejection(client.uploadClickConversions(CUSTOMER, undefined, [click('r-quota')]));
    assert.equal(err.kind, 'quota');
    assert.equal(err.retryDelayMs, 30_500);
    assert.equal(err.errors[0]?.category, 'quota_error');
    assert.equal(err.errors[0]?.name, 'RESOURCE_EXHAUSTED');
    assert.equal(err.errors[0]?.retryDelayMs, 30_500);
    // The fault was for one request: the next one goes through.
    assert.deepEqual(await client.uploadClickConversions(CUSTOMER, undefined, [click('r-quota')]), [{ ok: true }]);
  });

  test('a refused developer token is auth', async () => {
    const wrong = new GoogleAdsConversionClient({
      ...secrets,
      developerToken: 'not-the-token',
      endpoint: { host: emu.host, port: emu.port, insecure: true },
    });
    const err = await rejection(wrong.uploadClickConversions(CUSTOMER, undefined, [click('r-auth')]));
    assert.equal(err.kind, 'auth');
    assert.deepEqual(
      err.errors.map((e) => `${e.category}.${e.name}`),
      ['authentication_error.DEVELOPER_TOKEN_INVALID'],
    );
    assert.ok(!err.message.includes('not-the-token'));
  });

  test('a bare INVALID_ARGUMENT is invalid and not retryable; a bare PERMISSION_DENIED is auth', async () => {
    emu.setFault({ type: 'request', code: 3, times: 1 });
    const invalid = await rejection(client.uploadClickConversions(CUSTOMER, undefined, [click('r-invalid')]));
    assert.equal(invalid.kind, 'invalid');
    assert.equal(invalid.grpcCode, 3);
    assert.equal(invalid.retryable, false);
    emu.setFault({ type: 'request', code: 7, times: 1 });
    const denied = await rejection(client.uploadClickConversions(CUSTOMER, undefined, [click('r-denied')]));
    assert.equal(denied.kind, 'auth');
  });

  test('plaintext is per client: one without endpoint.insecure still insists on TLS', async () => {
    const tls = new GoogleAdsConversionClient({
      ...secrets,
      requestTimeoutMs: 5000,
      endpoint: { host: emu.host, port: emu.port },
    });
    const err = await rejection(tls.uploadClickConversions(CUSTOMER, undefined, [click('r-tls')]));
    assert.equal(err.kind, 'transient');
    assert.equal(newRequests().length, 0, 'a TLS handshake against the plaintext emulator never becomes a request');
    // ...while the plaintext client in the same process is unaffected.
    assert.deepEqual(await client.uploadClickConversions(CUSTOMER, undefined, [click('r-tls')]), [{ ok: true }]);
  });

  test('nothing listening is a transient UNAVAILABLE, quickly', async () => {
    const closed = await startGoogleAdsEmulator();
    const port = closed.port;
    await closed.close();
    const nowhere = new GoogleAdsConversionClient({
      ...secrets,
      endpoint: { host: '127.0.0.1', port, insecure: true },
    });
    const started = Date.now();
    const err = await rejection(nowhere.uploadClickConversions(CUSTOMER, undefined, [click('r-nowhere')]));
    assert.equal(err.kind, 'transient');
    assert.equal(err.grpcCode, 14);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });
});

describe('GoogleAdsConversionClient with validateOnly (dry run)', () => {
  test('sets validate_only on every request, reports row errors, and stores nothing', async () => {
    const dry = new GoogleAdsConversionClient({
      ...secrets,
      validateOnly: true,
      endpoint: { host: emu.host, port: emu.port, insecure: true },
    });
    const clicks = await dry.uploadClickConversions(CUSTOMER, undefined, [
      click('dry-0'),
      click('dry-1', { conversionDateTime: 'yesterday' }),
      click('dry-2'),
    ]);
    // A row Google accepted in a dry run says so, so no workflow can report it as uploaded.
    assert.deepEqual(clicks[0], { ok: true, validateOnly: true });
    assert.deepEqual(names(clicks[1]), ['date_error.INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET']);
    assert.deepEqual(clicks[2], { ok: true, validateOnly: true });
    const adjustments = await dry.uploadEnhancements(CUSTOMER, undefined, [enhancement('dry-e')]);
    assert.deepEqual(adjustments, [{ ok: true, validateOnly: true }]);

    const reqs = newRequests();
    assert.deepEqual(
      reqs.map((r) => [r.method, r.body.validate_only, r.body.partial_failure]),
      [
        ['UploadClickConversions', true, true],
        ['UploadConversionAdjustments', true, true],
      ],
    );
    const uploaded = emu.uploaded();
    assert.ok(!uploaded.clicks.some((c) => c.conversion.order_id?.startsWith('dry-')));
    assert.ok(!uploaded.enhancements.some((c) => c.conversion.order_id?.startsWith('dry-')));
    // The dry run left no trace, so the real upload of the same rows is not a duplicate.
    assert.deepEqual(await client.uploadClickConversions(CUSTOMER, undefined, [click('dry-0')]), [{ ok: true }]);
  });
});

describe('request error classification and redaction (pure)', () => {
  test('gRPC statuses map to kinds; a refused OAuth refresh inside the credentials plugin is auth', () => {
    const kinds = [8, 14, 4, 13, 2, 10, 16, 7, 3, 5, 9, 12].map((c) => `${c}:${kindForGrpcStatus(c)}`);
    assert.deepEqual(kinds, [
      '8:quota',
      '14:transient',
      '4:transient',
      '13:transient',
      '2:transient',
      '10:transient',
      '16:auth',
      '7:auth',
      '3:invalid',
      '5:invalid',
      '9:invalid',
      '12:invalid',
    ]);
    assert.equal(kindForGrpcStatus(2, 'Getting metadata from plugin failed with error: invalid_grant'), 'auth');
    assert.equal(
      kindForGrpcStatus(14, 'Getting metadata from plugin failed with error: connect ETIMEDOUT'),
      'transient',
    );
  });

  test('mixed Google Ads errors: retryable causes win over auth, auth over invalid', () => {
    const e = (category: string, name: string) => ({ category, name, message: '' });
    assert.equal(kindForGoogleAdsErrors([e('request_error', 'X'), e('quota_error', 'RESOURCE_EXHAUSTED')]), 'quota');
    assert.equal(
      kindForGoogleAdsErrors([e('request_error', 'X'), e('internal_error', 'TRANSIENT_ERROR')]),
      'transient',
    );
    assert.equal(
      kindForGoogleAdsErrors([e('request_error', 'X'), e('authorization_error', 'USER_PERMISSION_DENIED')]),
      'auth',
    );
    assert.equal(kindForGoogleAdsErrors([e('header_error', 'INVALID_LOGIN_CUSTOMER_ID')]), 'auth');
    assert.equal(kindForGoogleAdsErrors([e('quota_error', 'ACCESS_PROHIBITED')]), 'auth');
    assert.equal(kindForGoogleAdsErrors([e('request_error', 'INVALID_CUSTOMER_ID')]), 'invalid');
    assert.equal(kindForGoogleAdsErrors([]), 'invalid');
  });

  test('messages lose credentials, tokens and digests', () => {
    const text = redactGoogleAdsMessage(
      `dev ${DEV_TOKEN} Bearer abc.def ya29.a0AfH6 1//0gRefresh-token ${EMAIL} ${Buffer.from(EMAIL, 'hex').toString('base64')}`,
      [DEV_TOKEN],
    );
    assert.equal(
      text,
      'dev [redacted] Bearer [redacted] [redacted-token] [redacted-token] [redacted-hash] [redacted-hash]',
    );
  });
});
