// How every relay workflow tells operators where it is: the `status` its query returns, the RelayStatus and
// RelayReason search attributes, and the current details the Web UI shows. Workflow code (sandboxed): it may
// only import from @temporalio/workflow and pure modules.
import {
  ActivityFailure,
  ApplicationFailure,
  setCurrentDetails,
  sleep,
  TimeoutFailure,
  patched,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { isOutageDetails, WAITING_FOR_CREDENTIALS } from '../domain/outage';
import { RelayReason, RelayStatus } from './search-attributes';

/** The part of a workflow's status this module writes. */
export interface TrackedStatus<S extends string> {
  state: S | 'FAILED' | typeof WAITING_FOR_CREDENTIALS;
  failure?: string;
  lastError?: string;
  nextAttemptAt?: string;
}

export interface Progress<S extends string> {
  /** Sets the state and the current details; writes RelayStatus only when the state changes. */
  report: (state: S | 'FAILED', details: string) => void;
  /** Ends in `state` with a searchable RelayReason. */
  settle: (state: S | 'FAILED', reason: string, details: string) => void;
  /**
   * Ends in a success state reached some other way than the plain one (e.g. "already enhanced"): searchable by
   * `reason`. Histories from before PLAIN_PATH_UNINDEXED only reported the state, and replay so.
   */
  succeedOtherwise: (state: S, reason: string, details: string) => void;
  /** Ends the workflow as failed: failure type, RelayReason (`reason`, default the type), non-retryable. */
  fail: (type: string, message: string, reason?: string) => never;
  /**
   * Parks the workflow until its account is tried again after a credentials or configuration outage: state
   * WAITING_FOR_CREDENTIALS and RelayReason the failure type (one upsert), the next attempt in the status, then a
   * durable timer. RelayReason keeps the type after the outage ends, so a conversion that had to wait stays
   * findable.
   */
  park: (outage: { type: string; message: string; retryAtMs: number }) => Promise<void>;
}

/** The patch that took the upserts off the plain path (Actions per conversion: CM360 5 → 3, lifecycle 6 → 4). */
export const PLAIN_PATH_UNINDEXED = 'plain-path-unindexed';

/**
 * `indexed` is the RelayStatus the api starts the workflow with. Each upsert is a billed Action, so only a change
 * of state writes one; the current details (free) say what happens within a state.
 *
 * With `plain` states — the way of a conversion that goes through at the first try — the workflow is started with
 * no RelayStatus, and those states write nothing while nothing else has been written: a completed workflow
 * without RelayStatus went the plain way, and every other outcome (a retry, a wait, a failure, and whatever
 * follows them) is searchable. `indexed` is then what an earlier release started it with: a history recorded
 * before (without the PLAIN_PATH_UNINDEXED marker) replays with the upserts it has.
 */
export function trackProgress<S extends string>(
  status: TrackedStatus<S>,
  indexed: S,
  plain: readonly S[] = [],
): Progress<S> {
  const unindexed = plain.length > 0 && patched(PLAIN_PATH_UNINDEXED);
  let indexedState: S | 'FAILED' | typeof WAITING_FOR_CREDENTIALS | undefined = unindexed
    ? startedWithStatus<S>()
    : indexed;
  const quiet = (state: S | 'FAILED') => unindexed && indexedState === undefined && plain.includes(state as S);
  const report = (state: S | 'FAILED', details: string) => {
    status.state = state;
    if (state !== indexedState && !quiet(state)) {
      upsertSearchAttributes([{ key: RelayStatus, value: state }]);
      indexedState = state;
    }
    setCurrentDetails(`**${state}** — ${details}`);
  };
  const settle = (state: S | 'FAILED', reason: string, details: string) => {
    if (!unindexed) {
      // As recorded before PLAIN_PATH_UNINDEXED: the reason, then the state, in two upserts.
      upsertSearchAttributes([{ key: RelayReason, value: reason }]);
      report(state, details);
      return;
    }
    // One upsert (one Action) for both, and the state always: a settled outcome is never the plain way.
    status.state = state;
    upsertSearchAttributes([
      { key: RelayReason, value: reason },
      { key: RelayStatus, value: state },
    ]);
    indexedState = state;
    setCurrentDetails(`**${state}** — ${details}`);
  };
  const fail = (type: string, message: string, reason: string = type): never => {
    status.failure = type;
    status.lastError = message;
    if (status.nextAttemptAt !== undefined) status.nextAttemptAt = undefined;
    settle('FAILED', reason, `${type}: ${message}`);
    throw ApplicationFailure.create({ type, message, nonRetryable: true });
  };
  const park = async (outage: { type: string; message: string; retryAtMs: number }) => {
    status.state = WAITING_FOR_CREDENTIALS;
    status.lastError = outage.message;
    status.nextAttemptAt = new Date(outage.retryAtMs).toISOString();
    upsertSearchAttributes([
      { key: RelayStatus, value: WAITING_FOR_CREDENTIALS },
      { key: RelayReason, value: outage.type },
    ]);
    indexedState = WAITING_FOR_CREDENTIALS;
    setCurrentDetails(
      `**${WAITING_FOR_CREDENTIALS}** — ${outage.type}: ${outage.message}; next attempt at ${status.nextAttemptAt}`,
    );
    // At least a second: a clock that disagrees with the activity's must not make a loop of it.
    await sleep(Math.max(1_000, outage.retryAtMs - Date.now()), { summary: `${outage.type}: waiting for credentials` });
  };
  const succeedOtherwise = (state: S, reason: string, details: string) =>
    unindexed ? settle(state, reason, details) : report(state, details);
  return { report, settle, succeedOtherwise, fail, park };
}

/** The RelayStatus this workflow was started with, if any (an api of an earlier release set one). */
function startedWithStatus<S extends string>(): S | undefined {
  return workflowInfo().typedSearchAttributes.get(RelayStatus) as S | undefined;
}

/**
 * An activity whose retries ran into its scheduleToClose timeout (the workflow's deadline): the server stops
 * as soon as the next attempt would start after it, and reports the last error with retry state TIMEOUT
 * while the workflow's clock may still be short of the deadline.
 */
export function retriesHitDeadline(err: unknown): err is ActivityFailure {
  return err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.cause instanceof TimeoutFailure);
}

/** The type and message of the typed ApplicationFailure an activity gave up with, if that is what ended it. */
export function activityFailureCause(err: unknown): { type: string; message: string } | undefined {
  if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type)) return undefined;
  return { type: err.cause.type, message: err.cause.message };
}

/** An activity that reported a credentials or configuration outage: when its account is tried again. */
export function outageOf(err: unknown): { type: string; message: string; retryAtMs: number } | undefined {
  if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)) return undefined;
  const details: unknown = err.cause.details?.[0];
  if (!isOutageDetails(details)) return undefined;
  return { type: err.cause.type ?? 'Outage', message: err.cause.message, retryAtMs: details.retryAtMs };
}
