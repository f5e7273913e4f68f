// The emulator's call conversions and GoogleAdsService, driven through the google-ads-api library
// itself rather than the relay's client, so rows and queries the client would never send (a
// national caller id, a missing field, broken GAQL) reach it too.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { errors, GoogleAdsApi, services, type Customer } from 'google-ads-api';
import {
  DEMO_CALL_CONVERSION_ACTIONS,
  DEMO_REMOVED_CALL_CONVERSION_ACTIONS,
  GOOGLE_ADS_FAILURE_TRAILER,
  startGoogleAdsEmulator,
  type GoogleAdsEmulator,
} from '../../src/sandbox/google-ads/emulator';

const CUSTOMER = '1234567890';
const DEV_TOKEN = 'emulator-test-token';
const SALES_CALL = DEMO_CALL_CONVERSION_ACTIONS['Sales call'] as string;
const QUALIFIED = DEMO_CALL_CONVERSION_ACTIONS['Qualified lead call'] as string;
const REMOVED = DEMO_REMOVED_CALL_CONVERSION_ACTIONS['Old sales call'] as string;
const action = (id: string) => `customers/${CUSTOMER}/conversionActions/${id}`;

interface Row {
  caller_id?: string;
  call_start_date_time?: string;
  conversion_action?: string;
  conversion_date_time?: string;
  conversion_value?: number;
  currency_code?: string;
}

interface LibraryInternals {
  loadService(name: 'GoogleAdsServiceClient'): {
    search(
      request: services.SearchGoogleAdsRequest,
      options: unknown,
    ): Promise<[services.IGoogleAdsRow[], unknown, unknown]>;
    searchStream(request: services.SearchGoogleAdsStreamRequest, options: unknown): NodeJS.ReadableStream;
  };
}

function libraryCustomer(emu: GoogleAdsEmulator, developerToken = DEV_TOKEN): Customer {
  const api = new GoogleAdsApi({
    client_id: 'id',
    client_secret: 'secret',
    developer_token: developerToken,
    grpc_channel_options: { apiEndpoint: emu.host, port: emu.port, emulatorTest: true },
  });
  const customer = api.Customer({ customer_id: CUSTOMER, refresh_token: 'rt' });
  const { grpc } = createRequire(require.resolve('google-ads-api'))('google-gax') as {
    grpc: { credentials: { createInsecure(): unknown } };
  };
  Object.defineProperty(customer, 'getCredentials', { value: () => grpc.credentials.createInsecure() });
  return customer;
}

function callRow(caller: string, extra: Row = {}): Row {
  return {
    caller_id: caller,
    call_start_date_time: '2026-11-24 10:00:00+00:00',
    conversion_action: action(SALES_CALL),
    conversion_date_time: '2026-11-24 10:20:00+00:00',
    ...extra,
  };
}

interface Answer {
  results: Record<string, unknown>[];
  /** `index:category.NAME@path` of every row error. */
  failures: string[];
  hasJobId: boolean;
}

function describeFailure(failure: errors.GoogleAdsFailure): string[] {
  const plain = errors.GoogleAdsFailure.toObject(failure, { enums: String }) as {
    errors?: {
      error_code?: Record<string, string>;
      location?: { field_path_elements?: { field_name?: string; index?: number }[] };
    }[];
  };
  return (plain.errors ?? []).map((e) => {
    const [category, name] = Object.entries(e.error_code ?? {})[0] ?? ['?', '?'];
    const path = e.location?.field_path_elements ?? [];
    const index = path[0]?.index ?? '-';
    const rest = path
      .slice(1)
      .map((p) => p.field_name)
      .join('.');
    return `${index}:${category}.${name}${rest ? `@${rest}` : ''}`;
  });
}

async function uploadCalls(
  customer: Customer,
  rows: Row[],
  extra: { partial_failure?: boolean; validate_only?: boolean } = {},
): Promise<Answer> {
  const request = services.UploadCallConversionsRequest.create({
    customer_id: CUSTOMER,
    conversions: rows.map((r) => services.CallConversion.create(r)),
    partial_failure: extra.partial_failure ?? true,
    validate_only: extra.validate_only ?? false,
  });
  const response = await customer.conversionUploads.uploadCallConversions(request);
  const detail = response.partial_failure_error?.details?.[0]?.value;
  const bytes = typeof detail === 'string' ? Buffer.from(detail, 'base64') : detail;
  return {
    // gax hands over oneof markers (`_caller_id: 'caller_id'`) beside the fields; only the fields matter.
    results: (response.results ?? []).map((r) =>
      Object.fromEntries(Object.entries(r).filter(([k, v]) => !k.startsWith('_') && v !== undefined)),
    ),
    failures: bytes ? describeFailure(errors.GoogleAdsFailure.decode(bytes)) : [],
    hasJobId: 'job_id' in response && (response as { job_id?: unknown }).job_id !== undefined,
  };
}

/** What the library throws for a whole-request failure, as `category.NAME` strings. */
async function requestFailure(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof errors.GoogleAdsFailure, `expected a GoogleAdsFailure, got ${String(err)}`);
    return describeFailure(err).map((d) => d.replace(/^[^:]*:/, ''));
  }
  assert.fail('expected the request to fail');
}

const searchRequest = (query: string, validateOnly = false) =>
  services.SearchGoogleAdsRequest.create({ customer_id: CUSTOMER, query, validate_only: validateOnly });

const ACTION_FIELDS = ['resource_name', 'id', 'name', 'type', 'status'] as const;

/**
 * The conversion_action fields the emulator sent. gax decodes with defaults on, so a field the
 * query did not select arrives as its proto default ('', '0', UNSPECIFIED) and is dropped here.
 */
function sentFields(a: unknown): Record<string, string> {
  const row = (a ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    ACTION_FIELDS.flatMap((f) => {
      const v = row[f];
      const text = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
      return text === '' || text === '0' || text === 'UNSPECIFIED' ? [] : [[f, text]];
    }),
  );
}

async function search(customer: Customer, query: string, validateOnly = false, developerToken = DEV_TOKEN) {
  const service = (customer as unknown as LibraryInternals).loadService('GoogleAdsServiceClient');
  const [rows] = await service.search(searchRequest(query, validateOnly), {
    otherArgs: { headers: { 'developer-token': developerToken } },
  });
  return rows.map((r) => sentFields(r.conversion_action));
}

async function searchStream(customer: Customer, query: string): Promise<Record<string, string>[]> {
  const service = (customer as unknown as LibraryInternals).loadService('GoogleAdsServiceClient');
  const stream = service.searchStream(services.SearchGoogleAdsStreamRequest.create({ customer_id: CUSTOMER, query }), {
    otherArgs: { headers: { 'developer-token': DEV_TOKEN } },
    // gax's retry-request takes a stream that fails before its first message for one that never
    // answered and sends it again twice, whatever the status: that would hide a one-off fault.
    retryRequestOptions: { retries: 0, noResponseRetries: 0 },
  });
  const rows: Record<string, string>[] = [];
  for await (const chunk of stream as AsyncIterable<services.ISearchGoogleAdsStreamResponse>) {
    rows.push(...(chunk.results ?? []).map((r) => sentFields(r.conversion_action)));
  }
  return rows;
}

/** A raw GoogleAdsService error: its gRPC code and the query_error (or other) codes in its trailer. */
async function searchFailure(p: Promise<unknown>): Promise<{ code: number; errors: string[] }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; metadata?: { get(key: string): unknown[] } };
    const [trailer] = e.metadata?.get(GOOGLE_ADS_FAILURE_TRAILER) ?? [];
    assert.ok(trailer instanceof Uint8Array, `no failure trailer on ${String(err)}`);
    return {
      code: e.code ?? -1,
      errors: describeFailure(errors.GoogleAdsFailure.decode(trailer)).map((d) => d.replace(/^[^:]*:/, '')),
    };
  }
  assert.fail('expected the search to fail');
}

let emu: GoogleAdsEmulator;
let customer: Customer;

before(async () => {
  emu = await startGoogleAdsEmulator({ developerToken: DEV_TOKEN });
  customer = libraryCustomer(emu);
});

after(() => emu.close());

describe('emulator UploadCallConversions', () => {
  test('answers CallConversionResult per accepted row, an empty result per failed row, and no job_id', async () => {
    const answer = await uploadCalls(customer, [callRow('+16502531000'), callRow('+16502531001', { caller_id: '' })]);
    assert.deepEqual(answer.results[0], {
      caller_id: '+16502531000',
      call_start_date_time: '2026-11-24 10:00:00+00:00',
      conversion_action: action(SALES_CALL),
      conversion_date_time: '2026-11-24 10:20:00+00:00',
    });
    assert.deepEqual(answer.results[1], {});
    assert.deepEqual(answer.failures, ['1:field_error.REQUIRED@caller_id']);
    assert.equal(answer.hasJobId, false);
    const [stored] = emu.uploaded().calls;
    assert.equal(stored?.conversion.caller_id, '+16502531000');
    assert.equal(stored?.customerId, CUSTOMER);
    assert.equal(emu.requests.at(-1)?.method, 'UploadCallConversions');
  });

  test('validates every row with the v25 codes, at the field Google names', async () => {
    const answer = await uploadCalls(customer, [
      callRow('call me maybe'),
      callRow('+0123456789'),
      callRow('+16502531010', { call_start_date_time: undefined }),
      callRow('+16502531011', { conversion_date_time: '2026-11-24 10:20' }),
      callRow('+16502531012', { conversion_date_time: '2026-11-24 09:00:00+00:00' }),
      callRow('+16502531013', { conversion_value: -0.01 }),
      callRow('+16502531014', { currency_code: 'EURO' }),
      callRow('+16502531015', { conversion_action: undefined }),
      callRow('+16502531016', { conversion_action: action(REMOVED) }),
      // Accepted the way Google accepts them: international with separators, US national.
      callRow('+64 3-331 6005'),
      callRow('6502531017'),
      callRow('+16502531018', { conversion_value: 0, currency_code: 'JPY' }),
    ]);
    assert.deepEqual(answer.failures, [
      '0:conversion_upload_error.UNPARSEABLE_CALLERS_PHONE_NUMBER@caller_id',
      '1:conversion_upload_error.UNPARSEABLE_CALLERS_PHONE_NUMBER@caller_id',
      '2:field_error.REQUIRED@call_start_date_time',
      '3:date_error.INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET@conversion_date_time',
      '4:conversion_upload_error.CONVERSION_PRECEDES_CALL@conversion_date_time',
      '5:range_error.TOO_LOW@conversion_value',
      '6:currency_code_error.UNSUPPORTED@currency_code',
      '7:field_error.REQUIRED@conversion_action',
      '8:conversion_upload_error.NO_CONVERSION_ACTION_FOUND@conversion_action',
    ]);
    assert.deepEqual(emu.requests.at(-1)?.failedRows, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(
      answer.results.slice(9).map((r) => r.caller_id),
      ['+64 3-331 6005', '6502531017', '+16502531018'],
    );
  });

  test('de-duplicates by action, call and conversion time, however the number is written', async () => {
    const first = await uploadCalls(customer, [
      callRow('+16502531020'),
      callRow('+1 650-253-1020'),
      callRow('+16502531020', { conversion_action: action(QUALIFIED) }),
    ]);
    assert.deepEqual(first.failures, ['1:conversion_upload_error.DUPLICATE_CALL_CONVERSION_IN_REQUEST']);
    const second = await uploadCalls(customer, [
      callRow('6502531020'),
      callRow('+16502531020', { conversion_date_time: '2026-11-24 10:21:00+00:00' }),
    ]);
    assert.deepEqual(second.failures, ['0:conversion_upload_error.CALL_CONVERSION_ALREADY_EXISTS']);
  });

  test('without partial_failure one bad row fails the whole request, as Google does', async () => {
    const failure = await requestFailure(
      uploadCalls(customer, [callRow('+16502531030'), callRow('+16502531031', { currency_code: 'usd' })], {
        partial_failure: false,
      }),
    );
    assert.deepEqual(failure, ['currency_code_error.UNSUPPORTED@currency_code']);
    assert.equal(emu.requests.at(-1)?.status, 3);
    assert.ok(!emu.uploaded().calls.some((c) => c.conversion.caller_id === '+16502531030'));
  });

  test('request-level checks: no rows, more than 2,000 rows', async () => {
    assert.deepEqual(await requestFailure(uploadCalls(customer, [])), ['field_error.REQUIRED']);
    const many = Array.from({ length: 2001 }, (_, i) => callRow(`+1650254${String(i).padStart(4, '0')}`));
    assert.deepEqual(await requestFailure(uploadCalls(customer, many)), [
      'conversion_upload_error.TOO_MANY_CONVERSIONS_IN_REQUEST',
    ]);
  });

  test('validate_only answers no results and stores nothing', async () => {
    const before = emu.uploaded().calls.length;
    const answer = await uploadCalls(customer, [callRow('+16502531040'), callRow('+16502531041', { caller_id: 'x' })], {
      validate_only: true,
    });
    assert.deepEqual(answer.results, []);
    assert.deepEqual(answer.failures, ['1:conversion_upload_error.UNPARSEABLE_CALLERS_PHONE_NUMBER@caller_id']);
    assert.equal(emu.uploaded().calls.length, before);
    assert.deepEqual((await uploadCalls(customer, [callRow('+16502531040')])).failures, []);
  });
});

describe('emulator row faults keyed by caller id', () => {
  test('count down `times`, hit only call rows, and respect `method`', async () => {
    emu.setFault({
      type: 'row',
      callerId: '+16502531050',
      category: 'conversion_upload_error',
      name: 'TOO_RECENT_CALL',
      times: 2,
    });
    // Restricted to another method: never fires for a call upload.
    emu.setFault({
      type: 'row',
      callerId: '+16502531051',
      category: 'conversion_upload_error',
      name: 'EXPIRED_CALL',
      method: 'UploadClickConversions',
    });
    const attempts: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await uploadCalls(customer, [
        callRow('+16502531050', { conversion_date_time: `2026-11-24 10:2${i}:00+00:00` }),
        callRow('+16502531051', { conversion_date_time: `2026-11-24 10:2${i}:00+00:00` }),
      ]);
      attempts.push(answer.failures);
    }
    assert.deepEqual(attempts, [
      ['0:conversion_upload_error.TOO_RECENT_CALL'],
      ['0:conversion_upload_error.TOO_RECENT_CALL'],
      [],
    ]);
    emu.clearFaults();
  });

  test('an order id fault never hits a call row whose caller id has the same text, nor replaces its fault', async () => {
    emu.setFault({
      type: 'row',
      callerId: '+16502531060',
      category: 'conversion_upload_error',
      name: 'CALL_NOT_FOUND',
    });
    emu.setFault({
      type: 'row',
      orderId: '+16502531060',
      category: 'conversion_upload_error',
      name: 'TOO_RECENT_EVENT',
    });
    emu.setFault({
      type: 'row',
      orderId: '+16502531061',
      category: 'conversion_upload_error',
      name: 'TOO_RECENT_EVENT',
    });
    const answer = await uploadCalls(customer, [callRow('+16502531060'), callRow('+16502531061')]);
    assert.deepEqual(answer.failures, ['0:conversion_upload_error.CALL_NOT_FOUND']);
    emu.clearFaults();
  });

  test('a row fault needs exactly one of orderId and callerId, and a real error code', () => {
    const base = { type: 'row', category: 'conversion_upload_error', name: 'TOO_RECENT_CALL' } as const;
    assert.throws(() => emu.setFault({ ...base, orderId: 'o', callerId: '+16502531070' } as never), RangeError);
    assert.throws(() => emu.setFault({ ...base } as never), RangeError);
    assert.throws(() => emu.setFault({ ...base, callerId: '+16502531070', name: 'NO_SUCH_CODE' }), RangeError);
  });
});

describe('emulator conversion action allow-list and names', () => {
  test('the call actions found by name are accepted for calls even when the allow-list leaves them out', async () => {
    const listed = await startGoogleAdsEmulator({ conversionActions: ['555'] });
    try {
      const c = libraryCustomer(listed);
      const answer = await uploadCalls(c, [
        callRow('+16502531080', { conversion_action: action('555') }),
        callRow('+16502531081', { conversion_action: action(SALES_CALL) }),
        callRow('+16502531082', { conversion_action: action(QUALIFIED) }),
        callRow('+16502531083', { conversion_action: action('999') }),
        callRow('+16502531084', { conversion_action: action(REMOVED) }),
      ]);
      assert.deepEqual(answer.failures, [
        '3:conversion_upload_error.NO_CONVERSION_ACTION_FOUND@conversion_action',
        '4:conversion_upload_error.NO_CONVERSION_ACTION_FOUND@conversion_action',
      ]);
    } finally {
      await listed.close();
    }
  });

  test('conversionActionNames replaces the demo set, for lookups and for the allow-list merge', async () => {
    const named = await startGoogleAdsEmulator({
      conversionActions: ['555'],
      conversionActionNames: { Inbound: '4242' },
    });
    try {
      const c = libraryCustomer(named);
      assert.deepEqual(await search(c, 'SELECT conversion_action.id FROM conversion_action'), [
        { resource_name: action('4242'), id: '4242' },
      ]);
      const answer = await uploadCalls(c, [
        callRow('+16502531090', { conversion_action: action('4242') }),
        callRow('+16502531091', { conversion_action: action(SALES_CALL) }),
      ]);
      assert.deepEqual(answer.failures, ['1:conversion_upload_error.NO_CONVERSION_ACTION_FOUND@conversion_action']);
    } finally {
      await named.close();
    }
    await assert.rejects(startGoogleAdsEmulator({ conversionActionNames: { Bad: 'abc' } }), RangeError);
  });
});

describe('emulator GoogleAdsService.Search / SearchStream', () => {
  const full = (id: string, name: string, status = 'ENABLED') => ({
    resource_name: action(id),
    id,
    name,
    type: 'UPLOAD_CALLS',
    status,
  });
  const ALL =
    'SELECT conversion_action.resource_name, conversion_action.id, conversion_action.name, ' +
    'conversion_action.type, conversion_action.status FROM conversion_action';

  test('WHERE name = …, IN (…), no WHERE, LIMIT; only the selected fields plus resource_name', async () => {
    assert.deepEqual(await search(customer, `${ALL} WHERE conversion_action.name = 'Sales call'`), [
      full(SALES_CALL, 'Sales call'),
    ]);
    assert.deepEqual(await search(customer, `${ALL} WHERE conversion_action.name = "Old sales call"`), [
      full(REMOVED, 'Old sales call', 'REMOVED'),
    ]);
    assert.deepEqual(await search(customer, `${ALL} WHERE conversion_action.name = 'sales call'`), []);
    assert.deepEqual(
      (await search(customer, `${ALL} where conversion_action.name in ('Qualified lead call', 'Old sales call')`)).map(
        (a) => a?.name,
      ),
      ['Qualified lead call', 'Old sales call'],
    );
    assert.deepEqual(
      (await search(customer, ALL)).map((a) => a?.id),
      [SALES_CALL, QUALIFIED, REMOVED],
    );
    assert.equal((await search(customer, `${ALL} LIMIT 1`)).length, 1);
    assert.deepEqual(
      await search(
        customer,
        "SELECT conversion_action.name FROM conversion_action WHERE conversion_action.name = 'Sales call'",
      ),
      [{ resource_name: action(SALES_CALL), name: 'Sales call' }],
    );
    assert.deepEqual(await search(customer, ALL, true), [], 'validate_only answers no rows');
    assert.equal(emu.requests.at(-1)?.method, 'Search');
  });

  test('SearchStream answers the same rows in one message', async () => {
    assert.deepEqual(await searchStream(customer, `${ALL} WHERE conversion_action.name = 'Sales call'`), [
      full(SALES_CALL, 'Sales call'),
    ]);
    assert.equal(emu.requests.at(-1)?.method, 'SearchStream');
    assert.equal(emu.requests.at(-1)?.status, 0);
    const failed = await searchFailure(searchStream(customer, 'SELECT campaign.id FROM campaign'));
    assert.deepEqual(failed, { code: 3, errors: ['query_error.BAD_RESOURCE_TYPE_IN_FROM_CLAUSE'] });
  });

  test('escaped quotes and backslashes in a name are read the way GAQL writes them', async () => {
    const tricky = await startGoogleAdsEmulator({ conversionActionNames: { 'It\'s a "big" \\ deal': '31' } });
    try {
      const c = libraryCustomer(tricky);
      const rows = await search(c, `${ALL} WHERE conversion_action.name = 'It\\'s a "big" \\\\ deal'`);
      assert.deepEqual(
        rows.map((r) => r?.id),
        ['31'],
      );
      const doubleQuoted = await search(c, `${ALL} WHERE conversion_action.name = "It's a \\"big\\" \\\\ deal"`);
      assert.deepEqual(
        doubleQuoted.map((r) => r?.id),
        ['31'],
      );
    } finally {
      await tricky.close();
    }
  });

  test('GAQL it cannot parse is INVALID_ARGUMENT with a query_error in the failure trailer', async () => {
    const cases: [string, string][] = [
      ['', 'UNEXPECTED_END_OF_QUERY'],
      ['FROM conversion_action', 'EXPECTED_SELECT'],
      ['SELECT conversion_action.id', 'EXPECTED_FROM'],
      ['SELECT campaign.id FROM campaign', 'BAD_RESOURCE_TYPE_IN_FROM_CLAUSE'],
      ['SELECT conversion_action.category FROM conversion_action', 'UNRECOGNIZED_FIELD'],
      [
        "SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name = 'Sales",
        'STRING_NOT_TERMINATED',
      ],
      [
        "SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name = 'a\\tb'",
        'BAD_ESCAPE_SEQUENCE',
      ],
      [
        'SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name IN ()',
        'PROHIBITED_EMPTY_LIST_IN_CONDITION',
      ],
      ["SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name = 'a' ORDER", 'QUERY_ERROR'],
      ["SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name = 'a' b", 'UNEXPECTED_INPUT'],
      ["SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name LIKE 'a%'", 'QUERY_ERROR'],
      ["SELECT conversion_action.id FROM conversion_action WHERE conversion_action.status = 'ENABLED'", 'QUERY_ERROR'],
      ["SELECT conversion_action.id FROM conversion_action WHERE conversion_action.name = 'a'; DROP", 'BAD_SYMBOL'],
      ['SELECT conversion_action.id FROM conversion_action LIMIT 0', 'BAD_LIMIT_VALUE'],
    ];
    for (const [query, code] of cases) {
      assert.deepEqual(
        await searchFailure(search(customer, query)),
        { code: 3, errors: [`query_error.${code}`] },
        JSON.stringify(query),
      );
    }
  });

  test('request-level checks and faults apply to Search too', async () => {
    const wrong = libraryCustomer(emu, 'wrong-token');
    assert.deepEqual(await searchFailure(search(wrong, ALL, false, 'wrong-token')), {
      code: 16,
      errors: ['authentication_error.DEVELOPER_TOKEN_INVALID'],
    });
    emu.setFault({
      type: 'request',
      code: 8,
      method: 'SearchStream',
      times: 1,
      error: { category: 'quota_error', name: 'RESOURCE_TEMPORARILY_EXHAUSTED' },
    });
    // A fault for SearchStream leaves Search alone, then fails the stream once.
    assert.equal((await search(customer, ALL)).length, 3);
    assert.deepEqual(await searchFailure(searchStream(customer, ALL)), {
      code: 8,
      errors: ['quota_error.RESOURCE_TEMPORARILY_EXHAUSTED'],
    });
    assert.equal((await searchStream(customer, ALL)).length, 3);
  });
});
