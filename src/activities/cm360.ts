// CM360 activities: the only door from workflows to conversions.batchupdate. Client errors become
// ApplicationFailures with a type here, and nowhere else.
import { ApplicationFailure } from '@temporalio/common';
import { Cm360HttpError } from '../clients/cm360/errors';
import type { RowSubmitOptions } from '../clients/shared/row-batcher';
import { Cm360Failure, decideCm360Row, type Cm360FailureType } from '../domain/cm360/outcomes';
import type { Cm360Conversion, Cm360RowResult } from '../domain/cm360/types';
import type { OutageCircuits } from '../clients/shared/circuit';
import { awaitBatched } from './batched';
import { throughCircuit } from './outage';

export interface Cm360EnhanceRequest {
  profileId: string;
  conversion: Cm360Conversion;
}

export type Cm360EnhanceOutcome = { outcome: 'ENHANCED' } | { outcome: 'NOT_FOUND'; message: string };

/** What the activities need: one shared batcher per CM360 user profile. */
export interface Cm360Batchers {
  forProfile(profileId: string): {
    enhance(conversion: Cm360Conversion, options?: RowSubmitOptions): Promise<Cm360RowResult>;
  };
}

/** How long a daily-quota error parks the work before the next try (the quota resets at midnight PT). */
export const DAILY_QUOTA_RETRY_DELAY_MS = 60 * 60_000;
/** Credentials failures wait this long, so an operator can fix them before the deadline. */
export const AUTH_RETRY_DELAY_MS = 15 * 60_000;

function failure(type: Cm360FailureType, message: string, nonRetryable: boolean, nextRetryDelayMs?: number) {
  return ApplicationFailure.create({ type, message, nonRetryable, nextRetryDelay: nextRetryDelayMs });
}

export function httpErrorToFailure(err: Cm360HttpError): ApplicationFailure {
  const message = `CM360 HTTP ${err.status}${err.reason ? ` ${err.reason}` : ''}: ${err.message}`;
  switch (err.kind) {
    case 'quota-rate':
      return failure(Cm360Failure.RateLimited, message, false);
    case 'quota-daily':
      return failure(Cm360Failure.DailyQuotaExceeded, message, false, DAILY_QUOTA_RETRY_DELAY_MS);
    case 'auth':
      return failure(Cm360Failure.AuthError, message, false, AUTH_RETRY_DELAY_MS);
    case 'bad-request':
      return failure(Cm360Failure.BadRequest, message, true);
    case 'server':
    case 'network':
      return failure(Cm360Failure.ServerError, message, false);
  }
}

export function createCm360Activities(deps: {
  batchers: Cm360Batchers;
  /** The process's outage circuits (src/activities/outage.ts); without them an auth failure is retried by Temporal. */
  circuits?: OutageCircuits;
  /** How often an enhancement waiting on its batcher heartbeats; default BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS. */
  heartbeatIntervalMs?: number;
}) {
  return {
    /**
     * Sends one conversion (through the profile's shared batcher) and reads its own row, heartbeating while
     * it waits; a cancelled attempt withdraws its row if it is still queued (see awaitBatched).
     * NOT_FOUND is returned, not thrown: the workflow owns that window and its timers.
     */
    async enhanceCm360Conversion(req: Cm360EnhanceRequest): Promise<Cm360EnhanceOutcome> {
      let row: Cm360RowResult;
      try {
        // One profile, one circuit: a credentials failure parks every conversion of the profile together.
        row = await throughCircuit(
          deps.circuits,
          `cm360:${req.profileId}`,
          () =>
            awaitBatched(
              (options) => deps.batchers.forProfile(req.profileId).enhance(req.conversion, options),
              deps.heartbeatIntervalMs,
            ),
          (err) =>
            err instanceof Cm360HttpError && err.kind === 'auth'
              ? { type: Cm360Failure.AuthError, message: httpErrorToFailure(err).message }
              : undefined,
        );
      } catch (err) {
        if (err instanceof Cm360HttpError) throw httpErrorToFailure(err);
        throw err;
      }
      const decision = decideCm360Row(row);
      switch (decision.action) {
        case 'enhanced':
          return { outcome: 'ENHANCED' };
        case 'not-found':
          return { outcome: 'NOT_FOUND', message: decision.message };
        case 'retry':
          throw failure(decision.failure, decision.message, false);
        case 'fail':
          throw failure(decision.failure, decision.message, true);
      }
    },
  };
}

export type Cm360Activities = ReturnType<typeof createCm360Activities>;
