// One request budget per HubSpot app and process: HubSpot counts requests in a rolling 10-second window
// (100 per app on Free/Starter and for OAuth apps, 190 on Professional/Enterprise). Requests are spaced
// evenly across the window (Bottleneck's minTime), so no rolling window ever holds more than the budget
// and a long import runs at the budget without a burst that HubSpot answers with 429.
import Bottleneck from 'bottleneck';

export interface HubSpotRateBudget {
  /** Requests per interval. */
  max: number;
  intervalMs: number;
}

export const DEFAULT_HUBSPOT_RATE_BUDGET: HubSpotRateBudget = { max: 100, intervalMs: 10_000 };

/** `190/10s` → { max: 190, intervalMs: 10000 }; undefined when the text is not of that form. */
export function parseRateBudget(text: string, toMs: (d: string) => number): HubSpotRateBudget | undefined {
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const max = Number(m[1]);
  let intervalMs: number;
  try {
    intervalMs = toMs(m[2]);
  } catch {
    return undefined;
  }
  return max > 0 && Number.isFinite(intervalMs) && intervalMs > 0 ? { max, intervalMs } : undefined;
}

export class HubSpotRateLimiter {
  readonly budget: HubSpotRateBudget;
  private readonly limiter: Bottleneck;

  constructor(budget: HubSpotRateBudget = DEFAULT_HUBSPOT_RATE_BUDGET, maxConcurrent = 8) {
    this.budget = budget;
    this.limiter = new Bottleneck({ minTime: budget.intervalMs / budget.max, maxConcurrent });
  }

  /** Runs `call` when the budget allows it. */
  schedule<T>(call: () => Promise<T>): Promise<T> {
    return this.limiter.schedule(call);
  }
}
