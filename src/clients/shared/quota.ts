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
