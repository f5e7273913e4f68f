// The engine behind every per-account batcher: many concurrent callers (activities of many workflows)
// each queue one row; rows leave in requests of up to `maxBatchSize`, when full or `lingerMs` after the
// first queued row, under a shared rate limiter; each caller gets its own row's result back.
import type Bottleneck from 'bottleneck';

export interface RowBatcherOptions<Row, Result> {
  /** Sends one request and answers one result per row, in order. */
  send(rows: Row[]): Promise<Result[]>;
  maxBatchSize: number;
  lingerMs: number;
  limiter: Bottleneck;
  /** Stop the limiter on close (when nobody else shares it). */
  ownsLimiter: boolean;
  /** Names the batcher in errors, e.g. "CM360 profile 123". */
  name: string;
  /**
   * The vendor's identity of a row (e.g. conversion action and order id), when it has one: rows of one request
   * with the same key are sent once and every caller gets that row's result. The vendor would refuse the
   * repeats (DUPLICATE_ORDER_ID), and some refuse every copy.
   */
  keyOf?(row: Row): string | undefined;
}

interface Pending<Row, Result> {
  row: Row;
  enqueuedAt: number;
  resolve(result: Result): void;
  reject(err: unknown): void;
}

export class RowBatcher<Row, Result> {
  private queue: Pending<Row, Result>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /**
   * True while a request slot is booked with the limiter but has not started. Rows keep joining the
   * queue meanwhile and the slot takes whatever is queued when it starts, so a backlog behind the rate
   * limit turns into fuller requests instead of a growing line of small ones.
   */
  private slotBooked = false;
  private readonly running = new Set<Promise<void>>();
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly opts: RowBatcherOptions<Row, Result>) {}

  /** Queues one row and resolves with its own result of the request it ends up in. */
  submit(row: Row): Promise<Result> {
    if (this.closing) return Promise.reject(new Error(`${this.opts.name} batcher is closed`));
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ row, enqueuedAt: Date.now(), resolve, reject });
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
    if (this.opts.ownsLimiter) await this.opts.limiter.stop({ dropWaitingJobs: false });
  }

  private kick(): void {
    if (this.slotBooked || this.queue.length === 0) return;
    if (this.closing || this.queue.length >= this.opts.maxBatchSize) {
      this.bookSlot();
      return;
    }
    if (this.timer) return;
    const first = this.queue[0];
    const wait = first ? Math.max(0, first.enqueuedAt + this.opts.lingerMs - Date.now()) : this.opts.lingerMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.slotBooked && this.queue.length > 0) this.bookSlot();
    }, wait);
  }

  private bookSlot(): void {
    this.clearTimer();
    this.slotBooked = true;
    const job = this.opts.limiter
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
    const batch = this.queue.splice(0, this.opts.maxBatchSize);
    // Rows left behind get their own slot (or linger timer) now, while this request is in flight.
    this.kick();
    if (batch.length === 0) return;
    const { rows, rowOf } = this.merge(batch);
    let results: Result[];
    try {
      results = await this.opts.send(rows);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    if (results.length !== rows.length) {
      const err = new Error(`${this.opts.name}: ${results.length} results for ${rows.length} rows`);
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[rowOf[i]!] as Result));
  }

  /** The rows to send, each key once, and for each caller the index of its row among them. */
  private merge(batch: Pending<Row, Result>[]): { rows: Row[]; rowOf: number[] } {
    const rows: Row[] = [];
    const firstWithKey = new Map<string, number>();
    const rowOf = batch.map((p) => {
      const key = this.opts.keyOf?.(p.row);
      const known = key === undefined ? undefined : firstWithKey.get(key);
      if (known !== undefined) return known;
      if (key !== undefined) firstWithKey.set(key, rows.length);
      rows.push(p.row);
      return rows.length - 1;
    });
    return { rows, rowOf };
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Checks a batch size option against the API's limit. */
export function batchSize(requested: number | undefined, max: number): number {
  const size = requested ?? max;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new RangeError(`maxBatchSize must be an integer in 1..${max}`);
  }
  return size;
}
