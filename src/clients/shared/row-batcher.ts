// The engine behind every per-account batcher: many concurrent callers (activities of many workflows)
// each queue one row; rows leave in requests of up to `maxBatchSize` under a shared rate limiter — when the
// request is full, when no row has joined for `lingerMs`, or when the oldest row has waited `maxWaitMs` — and
// each caller gets its own row's result back. A caller may
// withdraw its row with an AbortSignal while the row is still queued (see submit).
import type Bottleneck from 'bottleneck';

export interface RowBatcherOptions<Row, Result> {
  /** Sends one request and answers one result per row, in order. */
  send(rows: Row[]): Promise<Result[]>;
  maxBatchSize: number;
  /** A request that is not full leaves once no row has joined the queue for this long. */
  lingerMs: number;
  /**
   * …or once its oldest row has waited this long, even while rows keep joining (default `lingerMs`). A burst that
   * arrives over seconds fills whole requests instead of leaving every `lingerMs` with what came so far: the
   * vendor's quota counts requests, not rows.
   */
  maxWaitMs?: number;
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
  /** Told of every request sent (rows, quota wait, answer time, results). */
  observer?: BatchObserver<Result>;
  /**
   * Awaited once a request has its slot and its rows, before it is sent: a wait the quota imposes beyond the
   * limiter (CM360's turns between processes). Counted as quota wait.
   */
  beforeSend?: () => Promise<void>;
}

/** What a batcher reports of each request it sent (metrics: src/metrics/relay.ts). */
export interface BatchObserver<Result> {
  /**
   * One request: its rows, how long it waited for the rate limiter once it was ready to leave, how long the
   * vendor took, and the rows' results (or the error that failed the whole request).
   */
  requestSent(sent: {
    rows: number;
    quotaWaitMs: number;
    durationMs: number;
    results?: Result[];
    error?: unknown;
  }): void;
}

export interface RowSubmitOptions {
  /**
   * Withdraws the row while it is still queued: it leaves the queue and its promise rejects with the signal's
   * reason. Once the row's request has been sent it cannot be recalled: the signal is then ignored and the
   * promise settles with the request's answer. A signal already aborted at submit queues nothing.
   */
  signal?: AbortSignal;
}

interface Pending<Row, Result> {
  row: Row;
  enqueuedAt: number;
  resolve(result: Result): void;
  reject(err: unknown): void;
  /** Stops listening to the caller's signal (the row was sent, or settled otherwise). */
  detach(): void;
}

/** The signal's reason when it is an Error (Temporal's CancelledFailure, an AbortError), else one naming it. */
function withdrawnError(name: string, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new Error(`${name}: the row was withdrawn before it was sent (${String(reason)})`, { cause: reason });
}

export class RowBatcher<Row, Result> {
  private queue: Pending<Row, Result>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the pending request slot was booked with the limiter: its wait there is the quota wait. */
  private bookedAt = 0;
  /** When the newest queued row joined: the queue is quiet once `lingerMs` has passed since. */
  private lastEnqueuedAt = 0;
  private readonly maxWaitMs: number;
  /**
   * True while a request slot is booked with the limiter but has not started. Rows keep joining the
   * queue meanwhile and the slot takes whatever is queued when it starts, so a backlog behind the rate
   * limit turns into fuller requests instead of a growing line of small ones.
   */
  private slotBooked = false;
  private readonly running = new Set<Promise<void>>();
  private closing = false;
  private closed: Promise<void> | undefined;
  /**
   * The queued rows of each caller's signal, behind one abort listener per signal: an activity that queues
   * 1,500 call rows with its one cancellation signal adds one listener, not 1,500 (Node warns past 10).
   */
  private readonly bySignal = new Map<AbortSignal, { rows: Set<Pending<Row, Result>>; onAbort: () => void }>();

  constructor(private readonly opts: RowBatcherOptions<Row, Result>) {
    this.maxWaitMs = Math.max(opts.lingerMs, opts.maxWaitMs ?? opts.lingerMs);
  }

  /**
   * Queues one row and resolves with its own result of the request it ends up in. Aborting `signal` while the
   * row is queued removes it and rejects (with the signal's reason); after its request has left, the row
   * cannot be recalled and the abort changes nothing: neither this caller's answer nor the other rows'.
   */
  submit(row: Row, options: RowSubmitOptions = {}): Promise<Result> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(withdrawnError(this.opts.name, signal));
    if (this.closing) return Promise.reject(new Error(`${this.opts.name} batcher is closed`));
    return new Promise<Result>((resolve, reject) => {
      const now = Date.now();
      const pending: Pending<Row, Result> = { row, enqueuedAt: now, resolve, reject, detach: () => {} };
      this.lastEnqueuedAt = now;
      if (signal) this.watch(signal, pending);
      this.queue.push(pending);
      this.kick();
    });
  }

  /** How many rows wait for a request (not counting those in flight). */
  get queued(): number {
    return this.queue.length;
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

  /** Files a queued row under its signal; the row leaves the signal's set when it is sent or withdrawn. */
  private watch(signal: AbortSignal, pending: Pending<Row, Result>): void {
    let watched = this.bySignal.get(signal);
    if (!watched) {
      const entry = { rows: new Set<Pending<Row, Result>>(), onAbort: () => this.withdraw(signal, entry.rows) };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      this.bySignal.set(signal, entry);
      watched = entry;
    }
    const { rows, onAbort } = watched;
    rows.add(pending);
    pending.detach = () => {
      rows.delete(pending);
      if (rows.size > 0 || this.bySignal.get(signal)?.rows !== rows) return;
      signal.removeEventListener('abort', onAbort);
      this.bySignal.delete(signal);
    };
  }

  /** Takes the rows of a caller that gave up out of the queue (every row in `rows` is still queued). */
  private withdraw(signal: AbortSignal, rows: Set<Pending<Row, Result>>): void {
    this.bySignal.delete(signal);
    const withdrawn = new Set(rows);
    rows.clear();
    this.queue = this.queue.filter((p) => !withdrawn.has(p));
    if (this.queue.length === 0) this.clearTimer();
    const err = withdrawnError(this.opts.name, signal);
    for (const p of withdrawn) p.reject(err);
  }

  private kick(): void {
    if (this.slotBooked || this.queue.length === 0) return;
    if (this.closing || this.queue.length >= this.opts.maxBatchSize) {
      this.bookSlot();
      return;
    }
    if (this.timer) return;
    this.armTimer();
  }

  /** The request leaves at the first of: the queue quiet for `lingerMs`, its oldest row `maxWaitMs` old. */
  private dueAt(): number {
    const first = this.queue[0]?.enqueuedAt ?? Date.now();
    return Math.min(this.lastEnqueuedAt + this.opts.lingerMs, first + this.maxWaitMs);
  }

  private armTimer(): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.slotBooked || this.queue.length === 0) return;
        // Rows joined since the timer was set: wait until the queue is quiet (or the oldest row is due).
        if (Date.now() < this.dueAt()) this.armTimer();
        else this.bookSlot();
      },
      Math.max(0, this.dueAt() - Date.now()),
    );
  }

  private bookSlot(): void {
    this.clearTimer();
    this.slotBooked = true;
    this.bookedAt = Date.now();
    const job = this.opts.limiter
      .schedule(() => this.sendNextBatch())
      .catch((err: unknown) => {
        // Only reached when the limiter itself refuses the job; sendNextBatch never throws.
        this.slotBooked = false;
        for (const p of this.queue.splice(0)) {
          p.detach();
          p.reject(err);
        }
      })
      .finally(() => this.running.delete(job));
    this.running.add(job);
  }

  private async sendNextBatch(): Promise<void> {
    this.slotBooked = false;
    const batch = this.queue.splice(0, this.opts.maxBatchSize);
    // From here on these rows are the request's: a caller's abort no longer takes its row back.
    for (const p of batch) p.detach();
    // Rows left behind get their own slot (or linger timer) now, while this request is in flight.
    this.kick();
    if (batch.length === 0) return;
    const { rows, rowOf } = this.merge(batch);
    if (this.opts.beforeSend) {
      try {
        await this.opts.beforeSend();
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
    }
    const startedAt = Date.now();
    const quotaWaitMs = Math.max(0, startedAt - this.bookedAt);
    let results: Result[];
    try {
      results = await this.opts.send(rows);
    } catch (err) {
      this.observe({ rows: rows.length, quotaWaitMs, durationMs: Date.now() - startedAt, error: err });
      for (const p of batch) p.reject(err);
      return;
    }
    this.observe({ rows: rows.length, quotaWaitMs, durationMs: Date.now() - startedAt, results });
    if (results.length !== rows.length) {
      const err = new Error(`${this.opts.name}: ${results.length} results for ${rows.length} rows`);
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[rowOf[i]!] as Result));
  }

  private observe(sent: Parameters<BatchObserver<Result>['requestSent']>[0]): void {
    try {
      this.opts.observer?.requestSent(sent);
    } catch {
      // Metrics never fail a request.
    }
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
