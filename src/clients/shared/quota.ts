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
 * Turns of a per-second quota held by several processes. Time is cut into slots of `intervalMs` (1 s at 1 QPS)
 * plus a margin of `marginMs`, and process `index` of `count` sends only in every `count`-th slot, one request a
 * slot, and only in the first quarter of the margin: a request that misses it waits for the process's next slot.
 * So two processes' requests are at least `intervalMs` apart even when one reaches the vendor up to three quarters
 * of the margin later than the other (a timer or event loop behind, a slower connection), up to the machines'
 * clock skew (keep them on NTP). The margin is the price: at 1 QPS, requests leave at most every 1.2 s. Measured
 * across two uploaders on a loaded machine, a margin of 100 ms with half of it to send in let two requests arrive
 * 984 ms apart. A process alone has no turns: its rate limiter holds the pace. Every process numbers itself the same way: its place among the live uploaders' identities, sorted
 * (src/temporal/upload-share.ts).
 */
export class RequestTurns {
  private index = 0;
  private count = 1;
  private lastSlot = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly marginMs = Math.min(200, intervalMs / 5),
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

  /** How long until this process's next unused turn (0: now), marking it used. */
  claim(): number {
    if (this.count === 1) return 0;
    const t = this.now();
    const slotMs = this.intervalMs + this.marginMs;
    const cycle = slotMs * this.count;
    let slot = Math.floor(t / cycle) * this.count + this.index;
    // Past the first quarter of the slot's margin, or already used: the turn after.
    while (t > slot * slotMs + this.marginMs / 4 || slot <= this.lastSlot) slot += this.count;
    this.lastSlot = slot;
    return Math.max(0, slot * slotMs - t);
  }
}
