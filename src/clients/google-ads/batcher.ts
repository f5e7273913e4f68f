// Collects single conversions from many concurrent activities into upload requests of up to 2,000
// rows. Google Ads counts the daily quota of a developer token in requests for these services, and
// each request costs a round trip of its own, so batching is what lets the relay scale.
import Bottleneck from 'bottleneck';
import {
  GOOGLE_ADS_MAX_ROWS_PER_REQUEST,
  type CallConversionRow,
  type ClickConversionRow,
  type EnhancementAdjustmentRow,
  type GoogleAdsRowResult,
} from '../../domain/google-ads/types';
import {
  callConversionRowProblem,
  clickConversionRowProblem,
  enhancementRowProblem,
  type GoogleAdsConversionClient,
} from './client';
import { applyRateShare } from '../shared/quota';
import { batchSize, RowBatcher, type BatchObserver, type RowSubmitOptions } from '../shared/row-batcher';
import { GoogleAdsRequestError } from './errors';

export type GoogleAdsUploadService = 'click' | 'call' | 'enhancement';
export type GoogleAdsRowOf<S extends GoogleAdsUploadService> = S extends 'click'
  ? ClickConversionRow
  : S extends 'call'
    ? CallConversionRow
    : EnhancementAdjustmentRow;
export type GoogleAdsUploadClient = Pick<
  GoogleAdsConversionClient,
  'uploadClickConversions' | 'uploadCallConversions' | 'uploadEnhancements'
>;

/**
 * Google's identity of a row within one request: a click conversion or an enhancement with an order id is
 * that order of that conversion action (Google refuses a request's repeats with DUPLICATE_ORDER_ID or
 * DUPLICATE_ENHANCEMENT_IN_REQUEST). Call conversions are left alone: v25 records a repeated call once and
 * says so (DUPLICATE_CALL_CONVERSION_IN_REQUEST), which the call import reads as "already recorded".
 */
function rowKey<S extends GoogleAdsUploadService>(service: S, row: GoogleAdsRowOf<S>): string | undefined {
  if (service === 'call') return undefined;
  const r = row as ClickConversionRow | EnhancementAdjustmentRow;
  return r.orderId ? `${r.conversionAction}\u0000${r.orderId}` : undefined;
}

/** Why a row of this service cannot be sent at all, or undefined. */
function rowProblem<S extends GoogleAdsUploadService>(service: S, row: GoogleAdsRowOf<S>): string | undefined {
  switch (service) {
    case 'click':
      return clickConversionRowProblem(row as ClickConversionRow);
    case 'call':
      return callConversionRowProblem(row as CallConversionRow);
    default:
      return enhancementRowProblem(row as EnhancementAdjustmentRow);
  }
}

export interface GoogleAdsLimiterOptions {
  /** Requests started per second, across every batcher sharing the limiter. Default 5. */
  requestsPerSecond?: number;
  /** Requests in flight at once, across every batcher sharing the limiter. Default 2. */
  maxConcurrentRequests?: number;
}

export interface GoogleAdsBatcherOptions<S extends GoogleAdsUploadService> extends GoogleAdsLimiterOptions {
  client: GoogleAdsUploadClient;
  service: S;
  customerId: string;
  loginCustomerId?: string;
  /** Rows per request, at most GOOGLE_ADS_MAX_ROWS_PER_REQUEST (the default). */
  maxBatchSize?: number;
  /** A request that is not full leaves once no row has joined for this long. Default 200 ms. */
  lingerMs?: number;
  /** …or once its oldest row has waited this long, however many keep joining. Default `lingerMs`. */
  maxWaitMs?: number;
  /** A limiter shared with other batchers (GoogleAdsBatcherPool passes one); overrides the rate options. */
  limiter?: Bottleneck;
  /** Told of every request a service's batcher sends (metrics). */
  observerFor?: (service: GoogleAdsUploadService) => BatchObserver<GoogleAdsRowResult> | undefined;
}

/**
 * Google publishes no request rate for the upload services, but throttles bursts per developer token
 * with RESOURCE_TEMPORARILY_EXHAUSTED; one modest limiter per process keeps a backlog from turning
 * into a burst, and a backlog makes fuller requests rather than more of them (see slotBooked).
 */
export function createGoogleAdsLimiter(opts: GoogleAdsLimiterOptions = {}): Bottleneck {
  const rps = opts.requestsPerSecond ?? 5;
  const concurrent = opts.maxConcurrentRequests ?? 2;
  if (!(rps > 0)) throw new RangeError('requestsPerSecond must be positive');
  if (!Number.isInteger(concurrent) || concurrent < 1) throw new RangeError('maxConcurrentRequests must be >= 1');
  return new Bottleneck({ maxConcurrent: concurrent, minTime: Math.ceil(1000 / rps) });
}

export class GoogleAdsBatcher<S extends GoogleAdsUploadService> {
  readonly service: S;
  readonly customerId: string;
  readonly loginCustomerId: string | undefined;
  private readonly rows: RowBatcher<GoogleAdsRowOf<S>, GoogleAdsRowResult>;

  constructor(opts: GoogleAdsBatcherOptions<S>) {
    const maxBatchSize = batchSize(opts.maxBatchSize, GOOGLE_ADS_MAX_ROWS_PER_REQUEST);
    if (!/^\d+$/.test(opts.customerId)) throw new RangeError('customerId must be digits only');
    if (opts.loginCustomerId !== undefined && !/^\d+$/.test(opts.loginCustomerId)) {
      throw new RangeError('loginCustomerId must be digits only');
    }
    this.service = opts.service;
    this.customerId = opts.customerId;
    this.loginCustomerId = opts.loginCustomerId || undefined;
    const { client, customerId } = opts;
    const loginCustomerId = this.loginCustomerId;
    const service: GoogleAdsUploadService = opts.service;
    this.rows = new RowBatcher({
      // Every service's requests go through the one limiter below: the rate is the developer token's.
      send: (rows) =>
        service === 'click'
          ? client.uploadClickConversions(customerId, loginCustomerId, rows as ClickConversionRow[])
          : service === 'call'
            ? client.uploadCallConversions(customerId, loginCustomerId, rows as CallConversionRow[])
            : client.uploadEnhancements(customerId, loginCustomerId, rows as EnhancementAdjustmentRow[]),
      maxBatchSize,
      lingerMs: Math.max(0, opts.lingerMs ?? 200),
      ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
      limiter: opts.limiter ?? createGoogleAdsLimiter(opts),
      ownsLimiter: !opts.limiter,
      name: `Google Ads ${this.describe()}`,
      keyOf: (row) => rowKey(service, row),
      ...(opts.observerFor?.(service) ? { observer: opts.observerFor(service) } : {}),
    });
  }

  /**
   * Queues one row and resolves with its own row of the request it ends up in. Rejects with a
   * GoogleAdsRequestError when that request as a whole failed, or at once (kind `invalid`) when the
   * row could never be sent: checked here so one bad row cannot sink the 1,999 others in its batch.
   * `signal` withdraws the row while it is queued (the promise rejects with the signal's reason); once its
   * request is sent it stays sent.
   */
  upload(row: GoogleAdsRowOf<S>, options?: RowSubmitOptions): Promise<GoogleAdsRowResult> {
    if (row.customerId !== this.customerId || (row.loginCustomerId || undefined) !== this.loginCustomerId) {
      return Promise.reject(new RangeError(`row belongs to another account than the ${this.describe()} batcher`));
    }
    const problem = rowProblem(this.service, row);
    if (problem) return Promise.reject(new GoogleAdsRequestError({ kind: 'invalid', message: problem }));
    return this.rows.submit(row, options);
  }

  /** Sends everything queued without waiting for the linger time, waits for it, then stops. */
  close(): Promise<void> {
    return this.rows.close();
  }

  private describe(): string {
    return `${this.service} ${this.customerId}${this.loginCustomerId ? ` via ${this.loginCustomerId}` : ''}`;
  }
}

export type GoogleAdsBatcherPoolOptions = Omit<
  GoogleAdsBatcherOptions<GoogleAdsUploadService>,
  'service' | 'customerId' | 'loginCustomerId'
>;

/**
 * One batcher per (service, customer, login customer), all drawing from one limiter: the rate
 * limits that matter are per developer token, which every account served by one client shares.
 * `uploadClick`/`uploadCall`/`uploadEnhancement` route a row by the account it names.
 */
export class GoogleAdsBatcherPool {
  private readonly opts: GoogleAdsBatcherPoolOptions;
  private readonly limiter: Bottleneck;
  private readonly ownsLimiter: boolean;
  private readonly batchers = new Map<string, GoogleAdsBatcher<GoogleAdsUploadService>>();
  private closed: Promise<void> | undefined;

  constructor(opts: GoogleAdsBatcherPoolOptions) {
    this.opts = opts;
    this.ownsLimiter = !opts.limiter;
    this.limiter = opts.limiter ?? createGoogleAdsLimiter(opts);
  }

  forAccount<S extends GoogleAdsUploadService>(
    service: S,
    customerId: string,
    loginCustomerId?: string,
  ): GoogleAdsBatcher<S> {
    if (this.closed) throw new Error('Google Ads batcher pool is closed');
    const key = `${service}/${customerId}/${loginCustomerId || ''}`;
    let batcher = this.batchers.get(key) as GoogleAdsBatcher<S> | undefined;
    if (!batcher) {
      batcher = new GoogleAdsBatcher<S>({ ...this.opts, service, customerId, loginCustomerId, limiter: this.limiter });
      this.batchers.set(key, batcher);
    }
    return batcher;
  }

  /**
   * Runs this process at `share` of the developer token's request rate, when several processes serve the uploads
   * (src/temporal/upload-share.ts). 0 holds every request until a share is given.
   */
  setShare(share: number): Promise<void> {
    return applyRateShare(this.limiter, this.opts.requestsPerSecond ?? 5, share);
  }

  uploadClick(row: ClickConversionRow, options?: RowSubmitOptions): Promise<GoogleAdsRowResult> {
    return this.route('click', row, options);
  }

  uploadCall(row: CallConversionRow, options?: RowSubmitOptions): Promise<GoogleAdsRowResult> {
    return this.route('call', row, options);
  }

  uploadEnhancement(row: EnhancementAdjustmentRow, options?: RowSubmitOptions): Promise<GoogleAdsRowResult> {
    return this.route('enhancement', row, options);
  }

  close(): Promise<void> {
    this.closed ??= this.closeAll();
    return this.closed;
  }

  private route<S extends GoogleAdsUploadService>(
    service: S,
    row: GoogleAdsRowOf<S>,
    options: RowSubmitOptions | undefined,
  ): Promise<GoogleAdsRowResult> {
    try {
      return this.forAccount(service, row.customerId, row.loginCustomerId).upload(row, options);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async closeAll(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((b) => b.close()));
    if (this.ownsLimiter) await this.limiter.stop({ dropWaitingJobs: false });
  }
}
