// Credentials and configuration outages as the activities report them: a failure that no retry of the activity
// helps (revoked token, missing scope, integration not configured) opens the account's circuit, and the failure
// goes to the workflow as non-retryable with the time the account is tried again (OutageDetails). The workflow
// parks on a durable timer until then — visible as WAITING_FOR_CREDENTIALS — instead of Temporal retrying the
// activity every 15 minutes until the deadline. While the circuit is open, every other call for the account
// fails at once with the same time, without reaching the vendor.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CircuitState, OutageCircuits } from '../clients/shared/circuit';
import type { OutageDetails } from '../domain/outage';

/** Failure types that mean "nobody can fix this but an operator": credentials and configuration. */
export const OUTAGE_FAILURE_TYPES = new Set([
  'Cm360AuthError',
  'Cm360NotConfigured',
  'GoogleAdsAuthError',
  'GoogleAdsNotConfigured',
  'HubSpotAuthError',
  'HubSpotNotConfigured',
]);

function parked(type: string, state: CircuitState): ApplicationFailure {
  const details: OutageDetails = { outage: true, retryAtMs: state.openUntilMs, failures: state.failures };
  return ApplicationFailure.create({ type, message: state.message, nonRetryable: true, details: [details] });
}

/**
 * Runs one vendor call for `account` through its circuit. `outageOf` turns the call's error into the outage
 * failure it is (type and message), or undefined for any other error, which is rethrown as it is.
 */
export async function throughCircuit<T>(
  circuits: OutageCircuits | undefined,
  account: string,
  call: () => Promise<T>,
  outageOf: (err: unknown) => { type: string; message: string } | undefined,
): Promise<T> {
  // The time Temporal scheduled this attempt: the workflow's clock, which its parking timers run on.
  const now = activityNow();
  const open = circuits?.open(account, now);
  if (open) throw parked(open.type, open);
  try {
    const result = await call();
    circuits?.succeeded(account);
    return result;
  } catch (err) {
    const outage = outageOf(err) ?? notConfiguredOutage(err);
    if (!outage || !circuits) throw err;
    throw parked(outage.type, circuits.failed(account, outage.type, outage.message, now));
  }
}

function activityNow(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now(); // outside an activity (unit tests of the clients)
  }
}

/** The composition's "not configured" failures are outages too. */
function notConfiguredOutage(err: unknown): { type: string; message: string } | undefined {
  if (err instanceof ApplicationFailure && err.type && OUTAGE_FAILURE_TYPES.has(err.type)) {
    return { type: err.type, message: err.message };
  }
  return undefined;
}
