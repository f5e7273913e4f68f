// Flow D: one workflow per captured Floodlight conversion. Waits for CM360 to index the conversion,
// enhances it with hashed user identifiers, retries NOT_FOUND inside its window, and ends with a typed
// failure for anything that must not or can no longer be retried.
import { defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Cm360Activities } from '../activities/cm360';
import { BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS } from '../domain/activity-timing';
import { uploadTaskQueue } from '../domain/task-queues';
import {
  CM360_NON_RETRYABLE,
  Cm360Failure,
  NOT_FOUND_BACKOFF,
  cm360Schedule,
  type Cm360FailureType,
  type Cm360Timing,
} from '../domain/cm360/outcomes';
import { cm360ConversionKey, type Cm360Conversion } from '../domain/cm360/types';
import { canonicalInteger } from '../domain/ids';
import type { DroppedIdentifier } from '../domain/identifiers/types';
import { activityFailureCause, outageOf, retriesHitDeadline, trackProgress } from './progress';
import { RelayAccount, RelayDeadline, RelayFlow } from './search-attributes';

export const CM360_ENHANCEMENT_FLOW = 'cm360-enhancement';

export interface Cm360EnhancementInput {
  profileId: string;
  /** The captured conversion with hashed userIdentifiers only. */
  conversion: Cm360Conversion;
  /** Identifiers left out at the edge, with the reason (never the value). */
  dropped: DroppedIdentifier[];
  timing: Cm360Timing;
}

export type Cm360EnhancementState =
  | 'WAITING_FOR_INDEX'
  | 'ENHANCING'
  | 'RETRYING_NOT_FOUND'
  /** A credentials or configuration outage of the profile: parked until it is tried again. */
  | 'WAITING_FOR_CREDENTIALS'
  | 'ENHANCED'
  | 'FAILED';

export interface Cm360EnhancementStatus {
  state: Cm360EnhancementState;
  attempts: number;
  captureTime: string;
  enhanceAt: string;
  deadline: string;
  /** Set at the first attempt: NOT_FOUND is retried until then. */
  notFoundUntil?: string;
  nextAttemptAt?: string;
  lastError?: string;
  failure?: string;
  enhancedAt?: string;
  dropped: DroppedIdentifier[];
}

export interface Cm360EnhancementResult {
  enhancedAt: string;
  attempts: number;
}

export const cm360StatusQuery = defineQuery<Cm360EnhancementStatus>('status');

/**
 * Workflow id for a conversion: the same capture always maps to the same workflow, and different ones never
 * share one. The Floodlight ids are canonical digits (the api reads them so), so the ordinal, last, needs no
 * escaping; an all-digit ordinal takes one spelling ("099999" is 99999), so a sender that writes it both ways
 * still gets one enhancement. The conversion itself keeps the ordinal as the tag sent it.
 */
export function cm360WorkflowId(
  c: Pick<Cm360Conversion, 'floodlightConfigurationId' | 'floodlightActivityId' | 'ordinal'>,
): string {
  const ordinal = /^\d+$/.test(c.ordinal) ? canonicalInteger(c.ordinal) : c.ordinal;
  return `cm360-enhance-${cm360ConversionKey({ ...c, ordinal })}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * How a captured conversion's workflow is started (by the api, and by the benchmarks that measure against it): the
 * id, the policies, the search attributes, the summary and the details an operator sees.
 */
export function cm360EnhancementStart(input: Cm360EnhancementInput, deadlineMs: number, taskQueue: string) {
  const c = input.conversion;
  return {
    workflowId: cm360WorkflowId(c),
    taskQueue,
    args: [input] as [Cm360EnhancementInput],
    // A failed enhancement may be captured again; a running or enhanced one never runs twice.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const,
    workflowIdConflictPolicy: 'FAIL' as const,
    typedSearchAttributes: [
      { key: RelayFlow, value: CM360_ENHANCEMENT_FLOW },
      { key: RelayAccount, value: `cm360:${input.profileId}:${c.floodlightConfigurationId}` },
      { key: RelayDeadline, value: new Date(deadlineMs) },
    ],
    staticSummary: `CM360 enhancement · Floodlight ${c.floodlightConfigurationId}/${c.floodlightActivityId} · ordinal ${c.ordinal}`,
    staticDetails: [
      '| | |',
      '|---|---|',
      `| profile | ${input.profileId} |`,
      `| Floodlight configuration / activity | ${c.floodlightConfigurationId} / ${c.floodlightActivityId} |`,
      `| ordinal | ${c.ordinal} |`,
      `| captured | ${new Date(Number(BigInt(c.timestampMicros) / 1000n)).toISOString()} |`,
      `| deadline | ${new Date(deadlineMs).toISOString()} |`,
      `| identifiers | ${c.userIdentifiers.map((u) => Object.keys(u)[0]).join(', ')} |`,
      `| dropped | ${input.dropped.map((d) => `${d.field} (${d.reason})`).join('; ') || 'none'} |`,
    ].join('\n'),
  };
}

export async function cm360EnhancementWorkflow(input: Cm360EnhancementInput): Promise<Cm360EnhancementResult> {
  const schedule = cm360Schedule(input.conversion.timestampMicros, input.timing);
  const status: Cm360EnhancementStatus = {
    state: 'WAITING_FOR_INDEX',
    attempts: 0,
    captureTime: iso(schedule.captureMs),
    enhanceAt: iso(schedule.enhanceAtMs),
    deadline: iso(schedule.deadlineMs),
    dropped: input.dropped,
  };
  setHandler(cm360StatusQuery, () => status);

  // Waiting, enhancing and enhanced at the first try write no search attribute (see trackProgress).
  const progress = trackProgress<Cm360EnhancementState>(status, 'WAITING_FOR_INDEX', [
    'WAITING_FOR_INDEX',
    'ENHANCING',
    'ENHANCED',
  ]);
  const report = progress.report;
  const fail = (type: Cm360FailureType, message: string): never => progress.fail(type, message);

  if (Date.now() < schedule.enhanceAtMs) {
    report('WAITING_FOR_INDEX', `first attempt at ${status.enhanceAt} (capture + indexing delay)`);
    await sleep(schedule.enhanceAtMs - Date.now(), { summary: 'wait for CM360 to index the conversion' });
  }

  const notFoundUntil = Math.min(Date.now() + input.timing.notFoundWindowMs, schedule.deadlineMs);
  status.notFoundUntil = iso(notFoundUntil);
  let backoffMs = NOT_FOUND_BACKOFF.initialMs;

  for (;;) {
    const now = Date.now();
    if (now >= schedule.deadlineMs) {
      fail(Cm360Failure.DeadlineExceeded, `not enhanced before the deadline ${status.deadline}`);
    }
    status.attempts += 1;
    status.nextAttemptAt = undefined;
    // After a wait for credentials the attempt is an enhancement again; after NOT_FOUND it stays a retry of it.
    const again = status.attempts > 1 && status.state === 'RETRYING_NOT_FOUND';
    report(again ? 'RETRYING_NOT_FOUND' : 'ENHANCING', `attempt ${status.attempts}`);

    // Transient errors (INTERNAL rows, 5xx, quota) are retried by Temporal, but never past the deadline.
    const { enhanceCm360Conversion } = proxyActivities<Cm360Activities>({
      // Uploads have their own task queue, served with enough slots for full batches.
      taskQueue: uploadTaskQueue(workflowInfo().taskQueue),
      startToCloseTimeout: '5m',
      // The activity heartbeats while its row waits in the batcher: a dead worker's attempt is retried in seconds.
      heartbeatTimeout: BATCHED_ACTIVITY_HEARTBEAT_TIMEOUT_MS,
      scheduleToCloseTimeout: schedule.deadlineMs - now,
      retry: {
        initialInterval: '10s',
        backoffCoefficient: 2,
        maximumInterval: '10m',
        nonRetryableErrorTypes: [...CM360_NON_RETRYABLE],
      },
    });

    let outcome;
    try {
      outcome = await enhanceCm360Conversion({ profileId: input.profileId, conversion: input.conversion });
    } catch (err) {
      const outage = outageOf(err);
      if (outage) {
        if (outage.retryAtMs >= schedule.deadlineMs) {
          fail(
            Cm360Failure.DeadlineExceeded,
            `${outage.type} until past the deadline ${status.deadline}: ${outage.message}`,
          );
        }
        await progress.park(outage);
        continue;
      }
      if (retriesHitDeadline(err)) {
        fail(Cm360Failure.DeadlineExceeded, `still failing at the deadline ${status.deadline}: ${err.cause?.message}`);
      }
      const cause = activityFailureCause(err);
      if (cause) fail(cause.type as Cm360FailureType, cause.message);
      throw err;
    }

    if (outcome.outcome === 'ENHANCED') {
      status.enhancedAt = iso(Date.now());
      status.lastError = undefined;
      report('ENHANCED', `enhanced at ${status.enhancedAt} after ${status.attempts} attempt(s)`);
      return { enhancedAt: status.enhancedAt, attempts: status.attempts };
    }

    status.lastError = outcome.message;
    const after = Date.now();
    if (after >= schedule.deadlineMs) {
      fail(Cm360Failure.DeadlineExceeded, `NOT_FOUND at the deadline ${status.deadline}: ${outcome.message}`);
    }
    if (after >= notFoundUntil) {
      fail(Cm360Failure.NotFoundWindowExpired, `NOT_FOUND until ${status.notFoundUntil}: ${outcome.message}`);
    }
    const waitMs = Math.min(backoffMs, notFoundUntil - after);
    status.nextAttemptAt = iso(after + waitMs);
    report(
      'RETRYING_NOT_FOUND',
      `NOT_FOUND; next attempt at ${status.nextAttemptAt}, window ends ${status.notFoundUntil}`,
    );
    await sleep(waitMs, { summary: 'CM360 has not indexed the conversion yet' });
    backoffMs = Math.min(backoffMs * NOT_FOUND_BACKOFF.factor, NOT_FOUND_BACKOFF.maxMs);
  }
}
