// A thin client for the conversion upload RPCs and the conversion action lookup, over the real
// google-ads-api library (gRPC via google-gax). It owns what the library leaves to its callers:
// protobufjs request classes, partial-failure decoding per row, retries switched off (Temporal
// retries), and credentials that can point at the local emulator.
import { createRequire } from 'node:module';
import { GoogleAdsApi, common, enums, errors, services, type Customer } from 'google-ads-api';
import { z } from 'zod';
import {
  GOOGLE_ADS_MAX_ROWS_PER_REQUEST,
  type CallConversionRow,
  type ClickConversionRow,
  type ConversionActionInfo,
  type EnhancementAdjustmentRow,
  type GoogleAdsRowError,
  type GoogleAdsRowResult,
  type GoogleAdsUserIdentifier,
} from '../../domain/google-ads/types';
import {
  GoogleAdsRequestError,
  googleAdsRequestErrorFromErrors,
  googleAdsRequestErrorFromStatus,
  redactGoogleAdsMessage,
} from './errors';

export interface GoogleAdsConversionClientOptions {
  developerToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** A local emulator instead of googleads.googleapis.com:443. */
  endpoint?: { host: string; port: number; insecure?: boolean };
  /** Dry run: every request carries validate_only, so Google checks the rows and stores nothing. */
  validateOnly?: boolean;
  /** Deadline of one RPC. Default 120 s (the library's own default is 4 hours). */
  requestTimeoutMs?: number;
  /** The clock of the conversion action cache. Default Date.now. */
  now?: () => number;
}

/** How long findConversionActions remembers what it found (or did not find) for one name. */
export const GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS = 10 * 60_000;

const SERVICES = {
  click: 'google.ads.googleads.v25.services.ConversionUploadService',
  adjustment: 'google.ads.googleads.v25.services.ConversionAdjustmentUploadService',
  googleAds: 'google.ads.googleads.v25.services.GoogleAdsService',
} as const;

/**
 * The trailer google-ads-api decodes into a GoogleAdsFailure (its `service.js` FAILURE_KEY). The
 * library does that only inside its own service wrappers; the GoogleAdsService client is called
 * directly here, so its errors arrive with the trailer still attached.
 */
const FAILURE_TRAILER = 'google.ads.googleads.v25.errors.googleadsfailure-bin';

/**
 * gax retries UNAVAILABLE and DEADLINE_EXCEEDED on these methods for up to 10 minutes, invisibly,
 * inside one activity attempt. Temporal's retries are visible in history and bounded by the
 * conversion's deadline, so the library gets an empty retry-code list and a plain deadline.
 */
function noRetryClientConfig(timeoutMs: number) {
  const method = { timeout_millis: timeoutMs, retry_codes_name: 'relay_none' };
  return {
    interfaces: {
      [SERVICES.click]: {
        retry_codes: { relay_none: [] },
        methods: { UploadClickConversions: method, UploadCallConversions: method },
      },
      [SERVICES.adjustment]: {
        retry_codes: { relay_none: [] },
        methods: { UploadConversionAdjustments: method },
      },
      [SERVICES.googleAds]: {
        retry_codes: { relay_none: [] },
        methods: { Search: method, SearchStream: method },
      },
    },
  };
}

/** The parts of the library's Customer (a Service) that are protected in its types but needed here. */
interface LibraryCustomerInternals {
  loadService(name: 'GoogleAdsServiceClient'): GoogleAdsServiceClient;
  readonly callHeaders: Record<string, string>;
}

/** The gapic GoogleAdsServiceClient, as far as it is used. */
interface GoogleAdsServiceClient {
  search(
    request: services.SearchGoogleAdsRequest,
    options: { otherArgs: { headers: Record<string, string> }; autoPaginate: boolean },
  ): Promise<[services.IGoogleAdsRow[], unknown, unknown]>;
}

interface LibraryGrpc {
  credentials: { createInsecure(): unknown };
}

/**
 * google-ads-api's own grpc-js, reached through its google-gax: grpc-js checks credentials with
 * instanceof, so credentials from any other copy of grpc-js would be refused by the channel.
 */
function libraryGrpc(): LibraryGrpc {
  const fromLibrary = createRequire(require.resolve('google-ads-api'));
  return (fromLibrary('google-gax') as { grpc: LibraryGrpc }).grpc;
}

/** Why a click conversion row cannot be sent at all, or undefined. Checked before it joins a batch. */
export function clickConversionRowProblem(row: ClickConversionRow): string | undefined {
  const clickIds = (['gclid', 'gbraid', 'wbraid'] as const).filter((k) => Boolean(row[k]));
  if (clickIds.length > 1) return `more than one click id is set (${clickIds.join(', ')}); send exactly one`;
  return identifiersProblem(row.userIdentifiers);
}

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Why a call conversion row cannot be sent at all, or undefined. The caller id never appears in
 * the answer: it is personal data, and problems end up in histories and logs.
 */
export function callConversionRowProblem(row: CallConversionRow): string | undefined {
  if (typeof row.callerId !== 'string' || !E164.test(row.callerId)) {
    return 'callerId must be an E.164 number: a + and 7 to 15 digits, without separators';
  }
  return undefined;
}

/** Why an enhancement row cannot be sent at all, or undefined. */
export function enhancementRowProblem(row: EnhancementAdjustmentRow): string | undefined {
  if (row.userIdentifiers.length === 0) return 'an enhancement needs at least one user identifier';
  return identifiersProblem(row.userIdentifiers);
}

function identifiersProblem(ids: readonly GoogleAdsUserIdentifier[]): string | undefined {
  // More than five is left to Google (a row error); more than one field in one identifier is not,
  // because protobuf would silently keep only the last field of the oneof.
  const bad = ids.findIndex(
    (id) => [id.hashed_email, id.hashed_phone_number, id.address_info].filter((v) => v !== undefined).length !== 1,
  );
  return bad >= 0
    ? `user identifier ${bad} must set exactly one of hashed_email, hashed_phone_number, address_info`
    : undefined;
}

function invalidRow(index: number, problem: string): GoogleAdsRequestError {
  return new GoogleAdsRequestError({ kind: 'invalid', message: `row ${index}: ${problem}` });
}

function checkBatch<T>(rows: readonly T[], customerId: string, problem: (row: T) => string | undefined): void {
  if (rows.length === 0) throw new RangeError('a Google Ads upload needs at least one row');
  if (rows.length > GOOGLE_ADS_MAX_ROWS_PER_REQUEST) {
    throw new RangeError(
      `a Google Ads upload takes at most ${GOOGLE_ADS_MAX_ROWS_PER_REQUEST} rows, got ${rows.length}`,
    );
  }
  if (!/^\d+$/.test(customerId)) throw new RangeError('customerId must be digits only');
  rows.forEach((row, i) => {
    const p = problem(row);
    if (p) throw invalidRow(i, p);
  });
}

function userIdentifier(id: GoogleAdsUserIdentifier): common.UserIdentifier {
  if (id.hashed_email !== undefined) return common.UserIdentifier.create({ hashed_email: id.hashed_email });
  if (id.hashed_phone_number !== undefined) {
    return common.UserIdentifier.create({ hashed_phone_number: id.hashed_phone_number });
  }
  const a = id.address_info ?? {};
  return common.UserIdentifier.create({
    address_info: common.OfflineUserAddressInfo.create({
      hashed_first_name: a.hashed_first_name,
      hashed_last_name: a.hashed_last_name,
      hashed_street_address: a.hashed_street_address,
      city: a.city,
      state: a.state,
      postal_code: a.postal_code,
      country_code: a.country_code,
    }),
  });
}

/**
 * Field by field: whatever else the caller's object carries must not reach the wire. address_info
 * is passed through rather than dropped, so a click row that carries one fails visibly with
 * Google's UNSUPPORTED_USER_IDENTIFIER instead of losing data silently.
 */
export function toClickConversion(row: ClickConversionRow): services.ClickConversion {
  const problem = clickConversionRowProblem(row);
  if (problem) throw new GoogleAdsRequestError({ kind: 'invalid', message: problem });
  return services.ClickConversion.create({
    conversion_action: row.conversionAction,
    conversion_date_time: row.conversionDateTime,
    conversion_value: row.conversionValue,
    currency_code: row.currencyCode,
    order_id: row.orderId,
    ...(row.gclid
      ? { gclid: row.gclid }
      : row.gbraid
        ? { gbraid: row.gbraid }
        : row.wbraid
          ? { wbraid: row.wbraid }
          : {}),
    user_identifiers: row.userIdentifiers.map(userIdentifier),
    ...(row.adUserDataConsent
      ? { consent: common.Consent.create({ ad_user_data: enums.ConsentStatus[row.adUserDataConsent] }) }
      : {}),
  });
}

/** Field by field, like toClickConversion: nothing else of the caller's object reaches the wire. */
export function toCallConversion(row: CallConversionRow): services.CallConversion {
  const problem = callConversionRowProblem(row);
  if (problem) throw new GoogleAdsRequestError({ kind: 'invalid', message: problem });
  return services.CallConversion.create({
    caller_id: row.callerId,
    call_start_date_time: row.callStartDateTime,
    conversion_action: row.conversionAction,
    conversion_date_time: row.conversionDateTime,
    conversion_value: row.conversionValue,
    currency_code: row.currencyCode,
  });
}

/**
 * A GAQL string literal. GAQL escapes with backslashes; a line break cannot be written at all
 * (PROHIBITED_NEWLINE_IN_STRING), and no conversion action name contains one.
 */
export function gaqlString(value: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError('a GAQL string cannot contain a line break');
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function conversionActionQuery(name: string): string {
  return (
    'SELECT conversion_action.resource_name, conversion_action.id, conversion_action.name, ' +
    'conversion_action.type, conversion_action.status FROM conversion_action ' +
    `WHERE conversion_action.name = ${gaqlString(name)}`
  );
}

/** An enum field as gax hands it over: by name (its proto-loader options), or by number. */
function enumName(values: Record<string | number, string | number>, value: unknown): string {
  if (typeof value === 'string') return value;
  const name = typeof value === 'number' ? values[value] : undefined;
  return typeof name === 'string' ? name : 'UNSPECIFIED';
}

function toConversionActionInfo(row: services.IGoogleAdsRow): ConversionActionInfo | undefined {
  const a = row.conversion_action;
  if (!a) return undefined;
  return {
    resourceName: a.resource_name ?? '',
    id: String(a.id ?? ''),
    name: a.name ?? '',
    type: enumName(enums.ConversionActionType, a.type),
    status: enumName(enums.ConversionActionStatus, a.status),
  };
}

export function toConversionAdjustment(row: EnhancementAdjustmentRow): services.ConversionAdjustment {
  const problem = enhancementRowProblem(row);
  if (problem) throw new GoogleAdsRequestError({ kind: 'invalid', message: problem });
  const pair =
    row.conversionDateTime || row.gclid
      ? services.GclidDateTimePair.create({
          conversion_date_time: row.conversionDateTime,
          gclid: row.gclid || undefined,
        })
      : undefined;
  return services.ConversionAdjustment.create({
    adjustment_type: enums.ConversionAdjustmentType.ENHANCEMENT,
    conversion_action: row.conversionAction,
    order_id: row.orderId,
    gclid_date_time_pair: pair,
    user_agent: row.userAgent,
    restatement_value: row.restatement
      ? services.RestatementValue.create({
          adjusted_value: row.restatement.adjustedValue,
          currency_code: row.restatement.currencyCode,
        })
      : undefined,
    user_identifiers: row.userIdentifiers.map(userIdentifier),
  });
}

// GoogleAdsFailure as the library's toObject({ enums: String, longs: Number }) renders it.
const failureSchema = z.object({
  errors: z
    .array(
      z.object({
        error_code: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        message: z.string().optional(),
        location: z
          .object({
            field_path_elements: z
              .array(z.object({ field_name: z.string().optional(), index: z.number().optional() }))
              .optional(),
          })
          .optional(),
        details: z
          .object({
            quota_error_details: z
              .object({
                retry_delay: z
                  .object({ seconds: z.union([z.number(), z.string()]).optional(), nanos: z.number().optional() })
                  .optional(),
              })
              .optional(),
          })
          .optional(),
      }),
    )
    .optional()
    .default([]),
});

interface LocatedError {
  error: GoogleAdsRowError;
  /** Index into the request's conversions / conversion_adjustments, when Google named one. */
  index?: number;
}

type Redact = (message: string) => string;

/**
 * Blanks the caller ids of one request where a message quotes them as bare digits; the E.164 form
 * is already caught by redactGoogleAdsMessage. A set lookup per digit run, because a request can
 * carry 2,000 caller ids and as many error messages.
 */
function blankCallerDigits(message: string, digits: ReadonlySet<string>): string {
  if (digits.size === 0) return message;
  return message.replace(/\+?\d+/g, (m) => (digits.has(m.startsWith('+') ? m.slice(1) : m) ? '[redacted-phone]' : m));
}

function decodeFailure(failure: errors.GoogleAdsFailure, listField: string, redact: Redact): LocatedError[] {
  const parsed = failureSchema.safeParse(errors.GoogleAdsFailure.toObject(failure, { enums: String, longs: Number }));
  if (!parsed.success) {
    return [
      {
        error: {
          category: 'unknown',
          name: 'UNDECODABLE_FAILURE',
          message: 'GoogleAdsFailure had an unexpected shape',
        },
      },
    ];
  }
  return parsed.data.errors.map((e) => {
    const [category, name] = Object.entries(e.error_code ?? {})[0] ?? ['unknown', 'UNKNOWN'];
    const delay = e.details?.quota_error_details?.retry_delay;
    const retryDelayMs = delay ? Number(delay.seconds ?? 0) * 1000 + Math.round((delay.nanos ?? 0) / 1e6) : undefined;
    const error: GoogleAdsRowError = {
      category,
      name: String(name),
      message: redact(e.message ?? ''),
      ...(retryDelayMs !== undefined && Number.isFinite(retryDelayMs) ? { retryDelayMs } : {}),
    };
    const first = e.location?.field_path_elements?.[0];
    return first?.field_name === listField && first.index !== undefined ? { error, index: first.index } : { error };
  });
}

interface RpcStatus {
  code?: number | null;
  message?: string | null;
  details?: { type_url?: string | null; value?: Uint8Array | string | null }[] | null;
}

const isFailureDetail = (typeUrl: string | null | undefined) =>
  typeof typeUrl === 'string' && typeUrl.endsWith('.errors.GoogleAdsFailure');

/** The encoded GoogleAdsFailure in a gRPC error's trailers, if Google attached one. */
function failureTrailer(metadata: unknown): Uint8Array | undefined {
  const get = (metadata as { get?: unknown } | null | undefined)?.get;
  if (typeof get !== 'function') return undefined;
  const [value] = (get as (key: string) => unknown[]).call(metadata, FAILURE_TRAILER);
  return value instanceof Uint8Array ? value : undefined;
}

export class GoogleAdsConversionClient {
  private readonly api: GoogleAdsApi;
  private readonly refreshToken: string;
  private readonly validateOnly: boolean;
  private readonly insecure: boolean;
  private readonly secrets: string[];
  private readonly customers = new Map<string, Customer>();
  private readonly now: () => number;
  /** Lookups by (customer, login customer, name), as promises so concurrent callers share one request. */
  private readonly actionCache = new Map<string, { expiresAt: number; found: Promise<ConversionActionInfo[]> }>();

  constructor(opts: GoogleAdsConversionClientOptions) {
    const timeoutMs = opts.requestTimeoutMs ?? 120_000;
    if (!(timeoutMs > 0)) throw new RangeError('requestTimeoutMs must be positive');
    this.now = opts.now ?? Date.now;
    this.refreshToken = opts.refreshToken;
    this.validateOnly = opts.validateOnly ?? false;
    this.insecure = opts.endpoint?.insecure === true;
    this.secrets = [opts.developerToken, opts.clientSecret, opts.refreshToken].filter((s) => s.length > 0);
    this.api = new GoogleAdsApi({
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      developer_token: opts.developerToken,
      // Spread by the library into the gapic client's constructor options, which is where
      // apiEndpoint, port and clientConfig are read. The library caches service clients
      // process-wide by these options, so the plaintext flag is part of them too: a TLS client and
      // a plaintext client can never share a cached channel.
      grpc_channel_options: {
        ...(opts.endpoint ? { apiEndpoint: opts.endpoint.host, port: opts.endpoint.port } : {}),
        ...(this.insecure ? { relayPlaintext: true } : {}),
        clientConfig: noRetryClientConfig(timeoutMs),
      },
    });
  }

  /** ConversionUploadService.UploadClickConversions; one result per row, in order. */
  async uploadClickConversions(
    customerId: string,
    loginCustomerId: string | undefined,
    rows: ClickConversionRow[],
  ): Promise<GoogleAdsRowResult[]> {
    checkBatch(rows, customerId, clickConversionRowProblem);
    const request = services.UploadClickConversionsRequest.create({
      customer_id: customerId,
      conversions: rows.map(toClickConversion),
      partial_failure: true,
      validate_only: this.validateOnly,
    });
    const customer = this.customer(customerId, loginCustomerId);
    const response = await this.call(() => customer.conversionUploads.uploadClickConversions(request));
    return this.rowResults(response.partial_failure_error, rows.length, 'conversions');
  }

  /** ConversionUploadService.UploadCallConversions; one result per row, in order. */
  async uploadCallConversions(
    customerId: string,
    loginCustomerId: string | undefined,
    rows: CallConversionRow[],
  ): Promise<GoogleAdsRowResult[]> {
    checkBatch(rows, customerId, callConversionRowProblem);
    const request = services.UploadCallConversionsRequest.create({
      customer_id: customerId,
      conversions: rows.map(toCallConversion),
      partial_failure: true,
      validate_only: this.validateOnly,
    });
    const redact = this.redactor(new Set(rows.map((r) => r.callerId.slice(1))));
    const customer = this.customer(customerId, loginCustomerId);
    const response = await this.call(() => customer.conversionUploads.uploadCallConversions(request), redact);
    return this.rowResults(response.partial_failure_error, rows.length, 'conversions', redact);
  }

  /**
   * Conversion actions by exact name, through GoogleAdsService.Search over gRPC (the library's
   * `query` helpers go over REST to Google's fixed address, so an emulator could not answer them).
   * One query per name, each remembered for GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS; a name that
   * matches nothing maps to []. Removed actions are included: whether one will do is the caller's call.
   */
  async findConversionActions(
    customerId: string,
    loginCustomerId: string | undefined,
    names: string[],
  ): Promise<Map<string, ConversionActionInfo[]>> {
    if (!/^\d+$/.test(customerId)) throw new RangeError('customerId must be digits only');
    const unique = [...new Set(names)];
    // Every name is checked before any query is sent, so a bad one fails the call as a whole.
    for (const name of unique) {
      if (name.length === 0) throw new RangeError('a conversion action name cannot be empty');
      gaqlString(name);
    }
    const found = await Promise.all(
      unique.map((name) => this.conversionActionsNamed(customerId, loginCustomerId, name)),
    );
    // Copies: what the caller does with its answer must not change what the cache holds.
    return new Map(unique.map((name, i) => [name, (found[i] ?? []).map((a) => ({ ...a }))]));
  }

  /** ConversionAdjustmentUploadService.UploadConversionAdjustments with ENHANCEMENT rows. */
  async uploadEnhancements(
    customerId: string,
    loginCustomerId: string | undefined,
    rows: EnhancementAdjustmentRow[],
  ): Promise<GoogleAdsRowResult[]> {
    checkBatch(rows, customerId, enhancementRowProblem);
    const request = services.UploadConversionAdjustmentsRequest.create({
      customer_id: customerId,
      conversion_adjustments: rows.map(toConversionAdjustment),
      partial_failure: true,
      validate_only: this.validateOnly,
    });
    const customer = this.customer(customerId, loginCustomerId);
    const response = await this.call(() => customer.conversionAdjustmentUploads.uploadConversionAdjustments(request));
    return this.rowResults(response.partial_failure_error, rows.length, 'conversion_adjustments');
  }

  private customer(customerId: string, loginCustomerId: string | undefined): Customer {
    const key = `${customerId}/${loginCustomerId ?? ''}`;
    let customer = this.customers.get(key);
    if (!customer) {
      customer = this.api.Customer({
        customer_id: customerId,
        ...(loginCustomerId ? { login_customer_id: loginCustomerId } : {}),
        refresh_token: this.refreshToken,
      });
      if (this.insecure) {
        // The library hard-wires TLS plus OAuth call credentials in Service.getCredentials and
        // gives no option for anything else. This instance alone gets plaintext credentials
        // (and so never asks Google for a token); a prototype patch would switch every client
        // in the process, production ones included, to plaintext.
        const grpc = libraryGrpc();
        Object.defineProperty(customer, 'getCredentials', { value: () => grpc.credentials.createInsecure() });
      }
      this.customers.set(key, customer);
    }
    return customer;
  }

  private conversionActionsNamed(
    customerId: string,
    loginCustomerId: string | undefined,
    name: string,
  ): Promise<ConversionActionInfo[]> {
    const now = this.now();
    const key = JSON.stringify([customerId, loginCustomerId || '', name]);
    const hit = this.actionCache.get(key);
    if (hit && hit.expiresAt > now) return hit.found;
    for (const [k, entry] of this.actionCache) if (entry.expiresAt <= now) this.actionCache.delete(k);
    const found = this.searchConversionActions(customerId, loginCustomerId, name);
    this.actionCache.set(key, { expiresAt: now + GOOGLE_ADS_CONVERSION_ACTION_CACHE_TTL_MS, found });
    // A failed lookup is not remembered: the next caller asks Google again.
    found.catch(() => {
      if (this.actionCache.get(key)?.found === found) this.actionCache.delete(key);
    });
    return found;
  }

  private async searchConversionActions(
    customerId: string,
    loginCustomerId: string | undefined,
    name: string,
  ): Promise<ConversionActionInfo[]> {
    const customer = this.customer(customerId, loginCustomerId) as unknown as LibraryCustomerInternals;
    // loadService builds the client with this customer's getCredentials, so the plaintext patch
    // applies here as it does to the upload services.
    const service = customer.loadService('GoogleAdsServiceClient');
    const request = services.SearchGoogleAdsRequest.create({
      customer_id: customerId,
      query: conversionActionQuery(name),
    });
    const [rows] = await this.call(() =>
      service.search(request, { otherArgs: { headers: customer.callHeaders }, autoPaginate: true }),
    );
    // `=` is exact in GAQL; checked again so that no near match can ever be taken for the action.
    return rows.flatMap((row) => {
      const info = toConversionActionInfo(row);
      return info && info.name === name ? [info] : [];
    });
  }

  /** Redaction for one request: the client's secrets, plus the bare digits of its caller ids. */
  private redactor(callerDigits: ReadonlySet<string> = new Set()): Redact {
    return (message) => redactGoogleAdsMessage(blankCallerDigits(message, callerDigits), this.secrets);
  }

  private async call<T>(send: () => Promise<T>, redact: Redact = this.redactor()): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw this.requestError(err, redact);
    }
  }

  private requestError(err: unknown, redact: Redact): unknown {
    if (err instanceof errors.GoogleAdsFailure) {
      return googleAdsRequestErrorFromErrors(decodeFailure(err, '', redact).map((x) => x.error));
    }
    const e = err as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown } | null;
    if (e && typeof e.code === 'number') {
      const trailer = failureTrailer(e.metadata);
      if (trailer) {
        const decoded = decodeFailure(errors.GoogleAdsFailure.decode(trailer), '', redact).map((x) => x.error);
        return googleAdsRequestErrorFromErrors(decoded, e.code);
      }
      const details = typeof e.details === 'string' ? e.details : typeof e.message === 'string' ? e.message : '';
      return googleAdsRequestErrorFromStatus(e.code, redact(details), this.secrets);
    }
    // Not an API answer (a bug, a library misuse): left as it is so its stack survives.
    return err;
  }

  private rowResults(
    status: RpcStatus | null | undefined,
    rowCount: number,
    listField: string,
    redact: Redact = this.redactor(),
  ): GoogleAdsRowResult[] {
    const ok: GoogleAdsRowResult = this.validateOnly ? { ok: true, validateOnly: true } : { ok: true };
    const results: GoogleAdsRowResult[] = Array.from({ length: rowCount }, () => ({ ...ok }));
    if (!status || (!status.code && !status.details?.length)) return results;
    const detail = status.details?.find((d) => isFailureDetail(d.type_url));
    if (!detail?.value) {
      // A failure status no row can be held responsible for.
      throw googleAdsRequestErrorFromStatus(status.code ?? 2, redact(status.message ?? ''), this.secrets);
    }
    const bytes = typeof detail.value === 'string' ? Buffer.from(detail.value, 'base64') : detail.value;
    const located = decodeFailure(errors.GoogleAdsFailure.decode(bytes), listField, redact);
    // Rows are matched to callers by index only; an error that names no row (or a row that does
    // not exist) could belong to any of them, so the request as a whole is reported instead.
    const stray = located.filter((x) => x.index === undefined || x.index < 0 || x.index >= rowCount);
    if (stray.length > 0) throw googleAdsRequestErrorFromErrors(stray.map((x) => x.error));
    for (const { error, index } of located) {
      const current = results[index as number];
      results[index as number] =
        current && !current.ok ? { ok: false, errors: [...current.errors, error] } : { ok: false, errors: [error] };
    }
    return results;
  }
}
