// How activities that wait on a shared batcher (CM360 enhancements, Google Ads uploads) tell Temporal they are
// alive, and how long a worker may take to stop. One place for the numbers, imported by the activities (which
// heartbeat), the workflows (which set the timeout) and the worker (which sets its shutdown grace). Pure: the
// workflows import it.

/** How often an activity heartbeats while its row waits in a batcher or its request is out. */
export const BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Temporal fails an attempt that sent no heartbeat for this long and retries it: a killed worker's rows are
 * retried within this plus the retry interval (10 s), instead of the 5-minute start-to-close timeout. Four
 * heartbeat intervals, so a busy event loop missing one or two beats does not fail a healthy attempt.
 */
export const BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS = 4 * BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS;

/** The longest default batch linger (GOOGLE_ADS_BATCH_LINGER 15 s; CM360_BATCH_LINGER 5 s). */
export const DEFAULT_BATCH_LINGER_MS = 15_000;

/**
 * What one batched request is given to come back once it has left. CM360 and Google Ads answer in a few
 * seconds; the clients' own timeouts (60 s, 120 s) are for a vendor that hangs, which a shutdown does not wait out.
 */
export const BATCH_REQUEST_ALLOWANCE_MS = 30_000;

/**
 * How long a stopping worker lets running activities finish before cancelling them: the longest batch linger
 * plus one request, so a row queued when SIGTERM came is sent and its answer recorded. An activity still
 * running after that is cancelled: a row still queued is withdrawn (never sent), one already sent may reach
 * the vendor, and the next attempt sends it again (CM360 and Google Ads treat the repeat as the same
 * conversion).
 */
export function workerShutdownGraceMs(longestLingerMs = DEFAULT_BATCH_LINGER_MS): number {
  return Math.max(0, longestLingerMs) + BATCH_REQUEST_ALLOWANCE_MS;
}
