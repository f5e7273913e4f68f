// How every relay workflow tells operators where it is: the `status` its query returns, the RelayStatus and
// RelayReason search attributes, and the current details the Web UI shows. Workflow code (sandboxed): it may
// only import from @temporalio/workflow and pure modules.
import {
  ActivityFailure,
  ApplicationFailure,
  setCurrentDetails,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
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

/**
 * `indexed` is the RelayStatus the api started the workflow with. Each upsert is a billed command, so only a
 * change of state writes one; the current details (free) say what happens within a state.
 */
export function trackProgress<S extends string>(status: TrackedStatus<S>, indexed: S): Progress<S> {
  let indexedState: S | 'FAILED' | typeof WAITING_FOR_CREDENTIALS = indexed;
  const report = (state: S | 'FAILED', details: string) => {
    status.state = state;
    if (state !== indexedState) {
      upsertSearchAttributes([{ key: RelayStatus, value: state }]);
      indexedState = state;
    }
    setCurrentDetails(`**${state}** — ${details}`);
  };
  const settle = (state: S | 'FAILED', reason: string, details: string) => {
    upsertSearchAttributes([{ key: RelayReason, value: reason }]);
    report(state, details);
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
  return { report, settle, fail, park };
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
