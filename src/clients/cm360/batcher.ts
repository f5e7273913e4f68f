// Collects single conversions from many concurrent activities into batchupdate requests. CM360's
// quota is counted in requests (1 QPS, 50k/day per project), not rows, so batching is what lets
// the relay scale.
import Bottleneck from 'bottleneck';
import { CM360_MAX_CONVERSIONS_PER_REQUEST, type Cm360Conversion, type Cm360RowResult } from '../../domain/cm360/types';
import { applyRateShare, DailyBudget, RequestTurns } from '../shared/quota';
import { batchSize, RowBatcher, type BatchObserver, type RowSubmitOptions } from '../shared/row-batcher';
import type { Cm360Client } from './client';
import { Cm360HttpError } from './errors';

export interface Cm360BatcherOptions {
  client: Pick<Cm360Client, 'batchUpdate'>;
  profileId: string;
  /** Rows per request, at most CM360_MAX_CONVERSIONS_PER_REQUEST. Default 1000. */
  maxBatchSize?: number;
  /** A request that is not full leaves once no conversion has joined for this long. Default 200 ms. */
  lingerMs?: number;
  /** …or once its oldest conversion has waited this long, however many keep joining. Default `lingerMs`. */
  maxWaitMs?: number;
  /** Requests per second. Default 1 (CM360's default project quota). Ignored when `limiter` is given. */
  queriesPerSecond?: number;
  /**
   * A limiter shared with other batchers. CM360's QPS quota is per Cloud project, so every profile
   * served by one set of credentials must draw from the same limiter (Cm360BatcherPool does this).
   */
  limiter?: Bottleneck;
  /** Told of every request sent (metrics). */
  observer?: BatchObserver<Cm360RowResult>;
  /** Awaited before each request leaves, counted as quota wait (the pool's turns between processes). */
  beforeSend?: () => Promise<void>;
}

export function createCm360Limiter(queriesPerSecond = 1): Bottleneck {
  if (!(queriesPerSecond > 0)) throw new RangeError('queriesPerSecond must be positive');
  return new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(1000 / queriesPerSecond) });
}

export class Cm360Batcher {
  readonly profileId: string;
  private readonly rows: RowBatcher<Cm360Conversion, Cm360RowResult>;

  constructor(opts: Cm360BatcherOptions) {
    const maxBatchSize = batchSize(opts.maxBatchSize, CM360_MAX_CONVERSIONS_PER_REQUEST);
    this.profileId = opts.profileId;
    this.rows = new RowBatcher({
      send: (conversions) => opts.client.batchUpdate(opts.profileId, conversions),
      maxBatchSize,
      lingerMs: Math.max(0, opts.lingerMs ?? 200),
      ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
      limiter: opts.limiter ?? createCm360Limiter(opts.queriesPerSecond ?? 1),
      ownsLimiter: !opts.limiter,
      name: `CM360 profile ${opts.profileId}`,
      ...(opts.observer ? { observer: opts.observer } : {}),
      ...(opts.beforeSend ? { beforeSend: opts.beforeSend } : {}),
    });
  }

  /**
   * Queues one conversion and resolves with its own row of the request it ends up in. `signal` withdraws it
   * while it is queued (the promise rejects with the signal's reason); once its request is sent it stays sent.
   */
  enhance(conversion: Cm360Conversion, options?: RowSubmitOptions): Promise<Cm360RowResult> {
    return this.rows.submit(conversion, options);
  }

  /** Sends everything queued without waiting for the linger time, waits for it, then stops. */
  close(): Promise<void> {
    return this.rows.close();
  }
}

export interface Cm360BatcherPoolOptions extends Omit<Cm360BatcherOptions, 'profileId'> {
  /**
   * Requests a day the project may send (CM360: 50,000, reset at midnight Pacific time). Past this process's
   * part of it, a request fails as CM360's own dailyLimitExceeded would, without being sent. Default: no count.
   */
  dailyRequests?: number;
}

/** CM360's daily quota resets at midnight Pacific time. */
const CM360_QUOTA_TIME_ZONE = 'America/Los_Angeles';

/** One batcher per CM360 user profile, all drawing from one QPS limiter and one daily budget. */
export class Cm360BatcherPool {
  private readonly opts: Cm360BatcherPoolOptions;
  private readonly limiter: Bottleneck;
  private readonly ownsLimiter: boolean;
  private readonly budget: DailyBudget | undefined;
  /** One request a turn, the processes taking turns (none with a limiter given: the caller owns the pace). */
  private readonly turns: RequestTurns | undefined;
  private readonly batchers = new Map<string, Cm360Batcher>();
  private closed: Promise<void> | undefined;

  constructor(opts: Cm360BatcherPoolOptions) {
    this.ownsLimiter = !opts.limiter;
    this.limiter = opts.limiter ?? createCm360Limiter(opts.queriesPerSecond ?? 1);
    const budget = opts.dailyRequests ? new DailyBudget(opts.dailyRequests, CM360_QUOTA_TIME_ZONE) : undefined;
    this.budget = budget;
    const turns = opts.limiter ? undefined : new RequestTurns(1000 / (opts.queriesPerSecond ?? 1));
    this.turns = turns;
    const client = opts.client;
    this.opts =
      budget || turns
        ? {
            ...opts,
            ...(turns ? { beforeSend: () => turns.take() } : {}),
            client: {
              batchUpdate: async (profileId, conversions) => {
                if (budget && !budget.take()) {
                  const { day, used, allowed } = budget.usage;
                  const message =
                    `this process's part of the project's daily CM360 requests is spent ` +
                    `(${used} of ${allowed} on ${day}, Pacific time); not sent`;
                  throw new Cm360HttpError({
                    status: 0,
                    reason: 'dailyLimitExceeded',
                    kind: 'quota-daily',
                    retryable: true,
                    message,
                  });
                }
                return client.batchUpdate(profileId, conversions);
              },
            },
          }
        : opts;
  }

  /**
   * Runs this process at `share` of the project's quota (requests per second and per day), when several
   * processes serve the uploads (src/temporal/upload-share.ts). 0 holds every request until a share is given.
   */
  setShare(share: number, turn?: { index: number; count: number }): Promise<void> {
    if (share > 0) this.budget?.setShare(share);
    if (turn) this.turns?.assign(turn.index, turn.count);
    return applyRateShare(this.limiter, this.opts.queriesPerSecond ?? 1, share);
  }

  /** Requests sent today against this process's part of the daily budget, when one is counted. */
  get dailyUsage(): { day: string; used: number; allowed: number } | undefined {
    return this.budget?.usage;
  }

  forProfile(profileId: string): Cm360Batcher {
    if (this.closed) throw new Error('CM360 batcher pool is closed');
    let batcher = this.batchers.get(profileId);
    if (!batcher) {
      batcher = new Cm360Batcher({ ...this.opts, profileId, limiter: this.limiter });
      this.batchers.set(profileId, batcher);
    }
    return batcher;
  }

  close(): Promise<void> {
    this.closed ??= this.closeAll();
    return this.closed;
  }

  private async closeAll(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((b) => b.close()));
    if (this.ownsLimiter) await this.limiter.stop({ dropWaitingJobs: false });
  }
}
