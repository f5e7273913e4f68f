// The wait of an activity whose row sits in a shared batcher (Google Ads clicks, enhancements and calls; CM360).
import { Context } from '@temporalio/activity';
import { BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS } from '../domain/activity-timing';

/**
 * Runs `send` (rows handed to a shared batcher) with the activity's cancellation signal and heartbeats every
 * `intervalMs` until its answer settles. A worker that dies while its rows wait is noticed within the
 * heartbeat timeout (BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS) instead of the start-to-close timeout; an attempt
 * Temporal has given up on (timed out, cancelled, or the worker's shutdown grace is over) takes its rows still
 * queued out of the batcher instead of sending them later beside its retry. A row already sent stays sent.
 * Used by every activity that waits on a batcher (Google Ads clicks, enhancements and calls; CM360).
 */
export async function awaitBatched<T>(
  send: (options: { signal: AbortSignal }) => Promise<T>,
  intervalMs: number = BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS,
): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), intervalMs);
  try {
    return await send({ signal: ctx.cancellationSignal });
  } finally {
    clearInterval(beat);
  }
}
