// The CM360 enhancement lifecycle on the time-skipping test server: real workflow code, the real
// activity factory over a scripted batcher (the CM360 HTTP layer is tested against the emulator elsewhere).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createCm360Activities } from '../../src/activities/cm360';
import { Cm360HttpError } from '../../src/clients/cm360/errors';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import { DEFAULT_CM360_TIMING, type Cm360Timing } from '../../src/domain/cm360/outcomes';
import type { Cm360Conversion, Cm360RowResult } from '../../src/domain/cm360/types';
import {
  cm360EnhancementWorkflow,
  cm360StatusQuery,
  type Cm360EnhancementInput,
} from '../../src/workflows/cm360-enhancement';
import { createTestWorker, createTimeSkippingEnv, observeRun, uniqueId } from '../helpers/temporal';

const HOUR = 3_600_000;
const MINUTE = 60_000;

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

function conversion(captureMs: number): Cm360Conversion {
  return {
    matchId: 'match-1',
    ordinal: uniqueId('ord'),
    timestampMicros: String(BigInt(captureMs) * 1000n),
    floodlightActivityId: '8888',
    floodlightConfigurationId: '99999',
    quantity: '1',
    value: 104.23,
    userIdentifiers: [{ hashedEmail: '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b' }],
  };
}

/** Answers each batchupdate from a script that sees how long ago the first attempt was. */
type Script = (sinceFirstMs: number, attempt: number) => Cm360RowResult | Error;

async function run(
  script: Script,
  opts: { captureAgoMs?: number; timing?: Partial<Cm360Timing>; circuits?: OutageCircuits } = {},
) {
  const calls: number[] = [];
  const activities = createCm360Activities({
    ...(opts.circuits ? { circuits: opts.circuits } : {}),
    batchers: {
      forProfile: () => ({
        enhance: async () => {
          const now = await env.currentTimeMs();
          calls.push(now);
          const answer = script(now - (calls[0] ?? now), calls.length);
          if (answer instanceof Error) throw answer;
          return answer;
        },
      }),
    },
  });
  const { worker, taskQueue } = await createTestWorker(env, activities);
  const captureMs = (await env.currentTimeMs()) - (opts.captureAgoMs ?? 0);
  const input: Cm360EnhancementInput = {
    profileId: 'profile-1',
    conversion: conversion(captureMs),
    dropped: [],
    timing: { ...DEFAULT_CM360_TIMING, ...opts.timing },
  };
  const handle = await env.client.workflow.start(cm360EnhancementWorkflow, {
    taskQueue,
    workflowId: uniqueId('cm360'),
    args: [input],
  });
  const { outcome, status, relayStatus, relayReason, upserts, actions } = await observeRun(
    worker,
    handle,
    cm360StatusQuery,
  );
  return { outcome, calls, captureMs, status, relayStatus, relayReason, upserts, actions };
}

function failureType(outcome: { error: unknown } | { value: unknown }): string | undefined {
  const err = 'error' in outcome ? outcome.error : undefined;
  if (!(err instanceof WorkflowFailedError)) return undefined;
  return err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}

const ok: Cm360RowResult = { ok: true };
const notFound: Cm360RowResult = { ok: false, errors: [{ code: 'NOT_FOUND', message: 'conversion not found' }] };

describe('cm360EnhancementWorkflow: a credentials outage', () => {
  const authError = () =>
    new Cm360HttpError({ status: 401, kind: 'auth', retryable: true, message: 'invalid credentials' });

  test('parks on a timer backing off 5, 10, 20 minutes (not 15-minute activity retries), visible, then enhances', async () => {
    const circuits = new OutageCircuits();
    const r = await run((_since, attempt) => (attempt <= 3 ? authError() : ok), {
      captureAgoMs: 3 * HOUR,
      circuits,
    });
    assert.ok('value' in r.outcome, String((r.outcome as { error?: unknown }).error));
    // One call per attempt: the activity is not retried by Temporal in between.
    assert.equal(r.calls.length, 4);
    const gaps = r.calls.slice(1).map((t, i) => Math.round((t - r.calls[i]!) / MINUTE));
    assert.deepEqual(gaps, [5, 10, 20]);
    assert.equal(r.status.state, 'ENHANCED');
    // Searchable while it waited, and afterwards: RelayStatus and RelayReason in one upsert per wait.
    assert.equal(r.relayReason, 'Cm360AuthError');
    assert.equal(r.upserts.filter((keys) => keys.includes('RelayReason') && keys.includes('RelayStatus')).length, 3);
  });

  test('an outage past the deadline ends DEADLINE_EXCEEDED, after a dozen attempts at most', async () => {
    const r = await run(() => authError(), { circuits: new OutageCircuits() });
    assert.equal(failureType(r.outcome), 'Cm360DeadlineExceeded');
    assert.ok(r.calls.length <= 12, `${r.calls.length} attempts`);
    assert.match(r.status.lastError ?? '', /Cm360AuthError until past the deadline/);
  });
});

describe('cm360EnhancementWorkflow', () => {
  test('waits 90 minutes after capture, then enhances once', async () => {
    const { outcome, calls, captureMs, relayStatus, upserts, actions } = await run(() => ok);
    assert.ok('value' in outcome, `expected success, got ${String((outcome as { error?: unknown }).error)}`);
    assert.equal(calls.length, 1);
    assert.ok(calls[0]! >= captureMs + 90 * MINUTE, 'first attempt before capture + 90 min');
    assert.ok(calls[0]! < captureMs + 92 * MINUTE, 'first attempt long after capture + 90 min');
    // The plain way writes no search attribute: start, timer and the one enhancement are its three Actions.
    assert.equal(relayStatus, undefined);
    assert.deepEqual(upserts, []);
    assert.deepEqual(actions, { total: 3, byKind: { start: 1, timer: 1, activity: 1 } });
  });

  test('a conversion captured long ago is attempted at once', async () => {
    const { calls, captureMs } = await run(() => ok, { captureAgoMs: 3 * HOUR });
    assert.equal(calls.length, 1);
    assert.ok(calls[0]! - captureMs < 3 * HOUR + 5 * MINUTE);
  });

  test('NOT_FOUND for 5 hours, then success', async () => {
    const r = await run((since) => (since < 5 * HOUR ? notFound : ok));
    const { outcome, calls, status } = r;
    assert.ok('value' in outcome);
    assert.ok(calls.length > 3, `expected several attempts, got ${calls.length}`);
    const span = calls.at(-1)! - calls[0]!;
    assert.ok(span >= 5 * HOUR && span < 6 * HOUR, `success after ${span / HOUR} h`);
    assert.equal(status?.state, 'ENHANCED');
    assert.equal(status?.attempts, calls.length);
    // Not the plain way: it stays searchable as ENHANCED after its retries.
    assert.equal(r.relayStatus, 'ENHANCED');
  });

  test('NOT_FOUND past the 6-hour window fails with its own type', async () => {
    const { outcome, calls, status } = await run(() => notFound);
    assert.equal(failureType(outcome), 'Cm360NotFoundWindowExpired');
    const span = calls.at(-1)! - calls[0]!;
    assert.ok(span >= 6 * HOUR - MINUTE && span < 6 * HOUR + 5 * MINUTE, `last attempt after ${span / HOUR} h`);
    assert.equal(status?.state, 'FAILED');
    assert.equal(status?.failure, 'Cm360NotFoundWindowExpired');
  });

  test('INVALID_ARGUMENT fails at once, without retry', async () => {
    const { outcome, calls } = await run(() => ({
      ok: false,
      errors: [{ code: 'INVALID_ARGUMENT', message: "The field 'hashed_email' is not a valid SHA-256 hash value." }],
    }));
    assert.equal(failureType(outcome), 'Cm360InvalidArgument');
    assert.equal(calls.length, 1);
  });

  test('PERMISSION_DENIED fails at once, without retry', async () => {
    const { outcome, calls } = await run(() => ({
      ok: false,
      errors: [{ code: 'PERMISSION_DENIED', message: 'terms not accepted' }],
    }));
    assert.equal(failureType(outcome), 'Cm360PermissionDenied');
    assert.equal(calls.length, 1);
  });

  test('INTERNAL rows, 5xx and quota errors are retried until success', async () => {
    const answers: (Cm360RowResult | Error)[] = [
      { ok: false, errors: [{ code: 'INTERNAL', message: 'internal error' }] },
      new Cm360HttpError({ status: 503, message: 'backend unavailable', kind: 'server', retryable: true }),
      new Cm360HttpError({
        status: 403,
        reason: 'userRateLimitExceeded',
        message: 'rate',
        kind: 'quota-rate',
        retryable: true,
      }),
      ok,
    ];
    const { outcome, calls } = await run((_since, attempt) => answers[attempt - 1] ?? ok);
    assert.ok('value' in outcome);
    assert.equal(calls.length, 4);
  });

  test('the 24-hour deadline ends a conversion that keeps failing', async () => {
    const { outcome, calls, captureMs } = await run(
      () => new Cm360HttpError({ status: 500, message: 'server error', kind: 'server', retryable: true }),
      { captureAgoMs: 20 * HOUR },
    );
    assert.equal(failureType(outcome), 'Cm360DeadlineExceeded');
    const deadline = captureMs + 24 * HOUR - 10 * MINUTE;
    assert.ok(calls.at(-1)! <= deadline, 'an attempt after the deadline');
    assert.ok(calls.length > 1);
  });

  test('NOT_FOUND that runs into the deadline is a deadline failure', async () => {
    const { outcome, calls, captureMs } = await run(() => notFound, { captureAgoMs: 22 * HOUR });
    assert.equal(failureType(outcome), 'Cm360DeadlineExceeded');
    assert.ok(calls.at(-1)! <= captureMs + 24 * HOUR - 10 * MINUTE);
  });
});
