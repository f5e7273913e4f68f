// A vendor quota held by several processes: each runs its limiter at its part of the rate, and counts its part
// of a daily request budget. The part comes from src/temporal/upload-share.ts; one process alone has all of it.
import type Bottleneck from 'bottleneck';

/**
 * Runs `limiter` at `share` of `ratePerSecond` (requests started per second). A share of 0 holds every request
 * (queued, not refused) until a share is given.
 */
export async function applyRateShare(limiter: Bottleneck, ratePerSecond: number, share: number): Promise<void> {
  // Bottleneck's typings say it returns the limiter; at run time it returns a promise of it.
  if (!(share > 0)) await Promise.resolve(limiter.updateSettings({ reservoir: 0 }));
  else
    await Promise.resolve(
      limiter.updateSettings({ reservoir: null, minTime: Math.ceil(1000 / (ratePerSecond * share)) }),
    );
}

/** The calendar day of `ms` in `timeZone`, e.g. "2026-12-02": a budget that resets at local midnight. */
function dayIn(timeZone: string, ms: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

/**
 * A count of requests per day against this process's part of a daily budget. CM360's 50,000 requests a day per
 * project reset at midnight Pacific time; a process with half the share may send 25,000 of them.
 */
export class DailyBudget {
  private day = '';
  private used = 0;
  private share = 1;

  constructor(
    private readonly perDay: number,
    private readonly timeZone: string,
    private readonly now: () => number = Date.now,
  ) {}

  setShare(share: number): void {
    this.share = Math.max(0, Math.min(1, share));
  }

  /** Takes one request from today's part; false when it is spent (the caller must wait for the next day). */
  take(): boolean {
    const today = dayIn(this.timeZone, this.now());
    if (today !== this.day) {
      this.day = today;
      this.used = 0;
    }
    if (this.used >= Math.floor(this.perDay * this.share)) return false;
    this.used += 1;
    return true;
  }

  /** Requests sent today and today's part. */
  get usage(): { day: string; used: number; allowed: number } {
    return { day: this.day, used: this.used, allowed: Math.floor(this.perDay * this.share) };
  }
}

/**
 * Turns of a per-second quota held by several processes: time is cut into slots of `intervalMs` (1 s at 1 QPS),
 * and process `index` of `count` sends only in every `count`-th slot, one request a slot. A process's rate
 * limit alone would hold the average (n × ½ QPS is 1 QPS), but two processes could still send in the same
 * second; with turns the requests of all processes are at least a slot apart, up to the machines' clock skew
 * (`guardMs` at each end of a slot absorbs some of it). Every process numbers itself the same way: its place
 * among the live uploaders' identities, sorted (src/temporal/upload-share.ts).
 */
export class RequestTurns {
  private index = 0;
  private count = 1;
  private lastSlot = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly guardMs = Math.min(50, intervalMs / 10),
    private readonly now: () => number = Date.now,
  ) {}

  assign(index: number, count: number): void {
    this.count = Math.max(1, count);
    this.index = Math.min(Math.max(0, index), this.count - 1);
  }

  /** Waits for this process's next turn and takes it (at most one request a slot). */
  async take(): Promise<void> {
    const waitMs = this.claim();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** How long until this process's next unused slot opens (0: now), marking it used. */
  claim(): number {
    const t = this.now();
    const cycle = this.intervalMs * this.count;
    let slot = Math.floor(t / cycle) * this.count + this.index;
    // Past the slot's usable part, or already used: the turn after.
    while (t > slot * this.intervalMs + this.intervalMs - this.guardMs || slot <= this.lastSlot) slot += this.count;
    this.lastSlot = slot;
    return Math.max(0, slot * this.intervalMs + this.guardMs - t);
  }
}
