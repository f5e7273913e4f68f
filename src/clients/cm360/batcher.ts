// Collects single conversions from many concurrent activities into batchupdate requests. CM360's
// quota is counted in requests (1 QPS, 50k/day per project), not rows, so batching is what lets
// the relay scale.
import Bottleneck from 'bottleneck';
import { CM360_MAX_CONVERSIONS_PER_REQUEST, type Cm360Conversion, type Cm360RowResult } from '../../domain/cm360/types';
import type { Cm360Client } from './client';

export interface Cm360BatcherOptions {
  client: Pick<Cm360Client, 'batchUpdate'>;
  profileId: string;
  /** Rows per request, at most CM360_MAX_CONVERSIONS_PER_REQUEST. Default 1000. */
  maxBatchSize?: number;
  /** How long the first queued row waits for company. Default 200 ms. */
  lingerMs?: number;
  /** Requests per second. Default 1 (CM360's default project quota). Ignored when `limiter` is given. */
  queriesPerSecond?: number;
  /**
   * A limiter shared with other batchers. CM360's QPS quota is per Cloud project, so every profile
   * served by one set of credentials must draw from the same limiter (Cm360BatcherPool does this).
   */
  limiter?: Bottleneck;
}

interface Pending {
  conversion: Cm360Conversion;
  enqueuedAt: number;
  resolve(result: Cm360RowResult): void;
  reject(err: unknown): void;
}

export function createCm360Limiter(queriesPerSecond = 1): Bottleneck {
  if (!(queriesPerSecond > 0)) throw new RangeError('queriesPerSecond must be positive');
  return new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(1000 / queriesPerSecond) });
}

export class Cm360Batcher {
  private readonly client: Pick<Cm360Client, 'batchUpdate'>;
  readonly profileId: string;
  private readonly maxBatchSize: number;
  private readonly lingerMs: number;
  private readonly limiter: Bottleneck;
  private readonly ownsLimiter: boolean;

  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /**
   * True while a request slot is booked with the limiter but has not started. Rows keep joining
   * the queue meanwhile and the slot takes whatever is queued when it starts, so a backlog behind
   * the QPS limit turns into fuller requests instead of a growing line of small ones.
   */
  private slotBooked = false;
  private readonly running = new Set<Promise<void>>();
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(opts: Cm360BatcherOptions) {
    const maxBatchSize = opts.maxBatchSize ?? CM360_MAX_CONVERSIONS_PER_REQUEST;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > CM360_MAX_CONVERSIONS_PER_REQUEST) {
      throw new RangeError(`maxBatchSize must be an integer in 1..${CM360_MAX_CONVERSIONS_PER_REQUEST}`);
    }
    this.client = opts.client;
    this.profileId = opts.profileId;
    this.maxBatchSize = maxBatchSize;
    this.lingerMs = Math.max(0, opts.lingerMs ?? 200);
    this.ownsLimiter = !opts.limiter;
    this.limiter = opts.limiter ?? createCm360Limiter(opts.queriesPerSecond ?? 1);
  }

  /** Queues one conversion and resolves with its own row of the request it ends up in. */
  enhance(conversion: Cm360Conversion): Promise<Cm360RowResult> {
    if (this.closing) return Promise.reject(new Error(`CM360 batcher for profile ${this.profileId} is closed`));
    return new Promise<Cm360RowResult>((resolve, reject) => {
      this.queue.push({ conversion, enqueuedAt: Date.now(), resolve, reject });
      this.kick();
    });
  }

  /** Sends everything queued without waiting for the linger time, waits for it, then stops. */
  close(): Promise<void> {
    this.closed ??= this.drainAndStop();
    return this.closed;
  }

  private async drainAndStop(): Promise<void> {
    this.closing = true;
    this.clearTimer();
    this.kick();
    while (this.queue.length > 0 || this.running.size > 0) {
      await Promise.allSettled([...this.running]);
      this.kick();
    }
    if (this.ownsLimiter) await this.limiter.stop({ dropWaitingJobs: false });
  }

  private kick(): void {
    if (this.slotBooked || this.queue.length === 0) return;
    if (this.closing || this.queue.length >= this.maxBatchSize) {
      this.bookSlot();
      return;
    }
    if (this.timer) return;
    const first = this.queue[0];
    const wait = first ? Math.max(0, first.enqueuedAt + this.lingerMs - Date.now()) : this.lingerMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.slotBooked && this.queue.length > 0) this.bookSlot();
    }, wait);
  }

  private bookSlot(): void {
    this.clearTimer();
    this.slotBooked = true;
    const job = this.limiter
      .schedule(() => this.sendNextBatch())
      .catch((err: unknown) => {
        // Only reached when the limiter itself refuses the job; sendNextBatch never throws.
        this.slotBooked = false;
        for (const p of this.queue.splice(0)) p.reject(err);
      })
      .finally(() => this.running.delete(job));
    this.running.add(job);
  }

  private async sendNextBatch(): Promise<void> {
    this.slotBooked = false;
    const batch = this.queue.splice(0, this.maxBatchSize);
    // Rows left behind get their own slot (or linger timer) now, while this request is in flight.
    this.kick();
    if (batch.length === 0) return;
    let results: Cm360RowResult[];
    try {
      results = await this.client.batchUpdate(
        this.profileId,
        batch.map((p) => p.conversion),
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    if (results.length !== batch.length) {
      const err = new Error(`CM360 client returned ${results.length} rows for ${batch.length} conversions`);
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i] as Cm360RowResult));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export type Cm360BatcherPoolOptions = Omit<Cm360BatcherOptions, 'profileId'>;

/** One batcher per CM360 user profile, all drawing from one QPS limiter. */
export class Cm360BatcherPool {
  private readonly opts: Cm360BatcherPoolOptions;
  private readonly limiter: Bottleneck;
  private readonly ownsLimiter: boolean;
  private readonly batchers = new Map<string, Cm360Batcher>();
  private closed: Promise<void> | undefined;

  constructor(opts: Cm360BatcherPoolOptions) {
    this.opts = opts;
    this.ownsLimiter = !opts.limiter;
    this.limiter = opts.limiter ?? createCm360Limiter(opts.queriesPerSecond ?? 1);
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
