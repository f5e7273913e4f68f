// Credentials and configuration outages: a revoked token, a missing scope, an integration without credentials.
// No retry helps until someone fixes it, so work waits on a timer that backs off to hours instead of trying
// every 15 minutes until its deadline (about 96 attempts a conversion a day). One failed call parks every
// conversion of the account (see src/clients/shared/circuit.ts), and each parked workflow shows it: state
// WAITING_FOR_CREDENTIALS, RelayReason the failure type. Pure: workflow code imports it.

/** The waits after the 1st, 2nd, … consecutive outage failure of an account: 5 min doubling to 4 h. */
export const OUTAGE_BACKOFF = { initialMs: 5 * 60_000, factor: 2, maxMs: 4 * 3_600_000 } as const;

/** The wait after the `failures`-th consecutive outage failure (1-based). */
export function outageDelayMs(failures: number): number {
  const n = Math.max(1, Math.floor(failures));
  return Math.min(OUTAGE_BACKOFF.initialMs * OUTAGE_BACKOFF.factor ** (n - 1), OUTAGE_BACKOFF.maxMs);
}

/** The details an outage failure carries (ApplicationFailure details[0]): when the account is tried again. */
export interface OutageDetails {
  outage: true;
  /** Epoch ms. */
  retryAtMs: number;
  /** Consecutive outage failures of the account so far. */
  failures: number;
}

export function isOutageDetails(value: unknown): value is OutageDetails {
  const v = value as Partial<OutageDetails> | null;
  return typeof v === 'object' && v !== null && v.outage === true && typeof v.retryAtMs === 'number';
}

/** The state a parked workflow reports (status query and RelayStatus). */
export const WAITING_FOR_CREDENTIALS = 'WAITING_FOR_CREDENTIALS';
