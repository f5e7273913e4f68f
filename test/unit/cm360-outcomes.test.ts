// The per-row retry table of Flow D, one test per row, and the activity's mapping of HTTP errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { httpErrorToFailure } from '../../src/activities/cm360';
import { Cm360HttpError } from '../../src/clients/cm360/errors';
import {
  CM360_NON_RETRYABLE,
  cm360Schedule,
  decideCm360Row,
  DEFAULT_CM360_TIMING,
} from '../../src/domain/cm360/outcomes';

const row = (...codes: string[]) => ({
  ok: false as const,
  errors: codes.map((code) => ({ code, message: `${code} text` })),
});

describe('decideCm360Row', () => {
  const table: [string, ReturnType<typeof row> | { ok: true }, string, string | undefined][] = [
    ['success', { ok: true }, 'enhanced', undefined],
    ['NOT_FOUND', row('NOT_FOUND'), 'not-found', undefined],
    ['INTERNAL', row('INTERNAL'), 'retry', 'Cm360Internal'],
    ['INVALID_ARGUMENT', row('INVALID_ARGUMENT'), 'fail', 'Cm360InvalidArgument'],
    ['PERMISSION_DENIED', row('PERMISSION_DENIED'), 'fail', 'Cm360PermissionDenied'],
    ['an undocumented code', row('SOMETHING_NEW'), 'fail', 'Cm360UnknownRowError'],
    ['a failed row without errors', row(), 'fail', 'Cm360UnknownRowError'],
    ['NOT_FOUND with INVALID_ARGUMENT', row('NOT_FOUND', 'INVALID_ARGUMENT'), 'fail', 'Cm360InvalidArgument'],
    ['INTERNAL with PERMISSION_DENIED', row('INTERNAL', 'PERMISSION_DENIED'), 'fail', 'Cm360PermissionDenied'],
    ['NOT_FOUND with INTERNAL', row('NOT_FOUND', 'INTERNAL'), 'retry', 'Cm360Internal'],
  ];
  for (const [name, input, action, failure] of table) {
    test(`${name} → ${action}${failure ? ` (${failure})` : ''}`, () => {
      const decision = decideCm360Row(input);
      assert.equal(decision.action, action);
      assert.equal('failure' in decision ? decision.failure : undefined, failure);
    });
  }

  test('the message carries every code', () => {
    const d = decideCm360Row(row('NOT_FOUND', 'INTERNAL'));
    assert.ok('message' in d && d.message.includes('NOT_FOUND') && d.message.includes('INTERNAL'));
  });

  test('INVALID_ARGUMENT and PERMISSION_DENIED are never retried', () => {
    assert.ok(CM360_NON_RETRYABLE.includes('Cm360InvalidArgument'));
    assert.ok(CM360_NON_RETRYABLE.includes('Cm360PermissionDenied'));
    assert.ok(!CM360_NON_RETRYABLE.includes('Cm360Internal'));
  });
});

describe('httpErrorToFailure', () => {
  const cases: [ConstructorParameters<typeof Cm360HttpError>[0], string, boolean, number | undefined][] = [
    [
      { status: 403, reason: 'userRateLimitExceeded', message: 'm', kind: 'quota-rate', retryable: true },
      'Cm360RateLimited',
      false,
      undefined,
    ],
    [
      { status: 403, reason: 'dailyLimitExceeded', message: 'm', kind: 'quota-daily', retryable: true },
      'Cm360DailyQuotaExceeded',
      false,
      3_600_000,
    ],
    [{ status: 503, message: 'm', kind: 'server', retryable: true }, 'Cm360ServerError', false, undefined],
    [{ status: 0, message: 'm', kind: 'network', retryable: true }, 'Cm360ServerError', false, undefined],
    [{ status: 401, message: 'm', kind: 'auth', retryable: false }, 'Cm360AuthError', false, 900_000],
    [{ status: 400, message: 'm', kind: 'bad-request', retryable: false }, 'Cm360BadRequest', true, undefined],
  ];
  for (const [input, type, nonRetryable, delay] of cases) {
    test(`HTTP ${input.status} ${input.kind} → ${type}`, () => {
      const f = httpErrorToFailure(new Cm360HttpError(input));
      assert.ok(f instanceof ApplicationFailure);
      assert.equal(f.type, type);
      assert.equal(f.nonRetryable, nonRetryable);
      assert.equal(f.nextRetryDelay ?? undefined, delay);
    });
  }
});

describe('cm360Schedule', () => {
  test('derives wait and deadline from the capture timestamp', () => {
    const s = cm360Schedule('1656950400000000', DEFAULT_CM360_TIMING);
    assert.equal(s.captureMs, 1656950400000);
    assert.equal(s.enhanceAtMs - s.captureMs, 90 * 60_000);
    assert.equal(s.deadlineMs - s.captureMs, 24 * 3_600_000 - 10 * 60_000);
  });

  test('truncates microseconds to whole milliseconds with integer arithmetic', () => {
    const s = cm360Schedule('1656950400123999', DEFAULT_CM360_TIMING);
    assert.equal(s.captureMs, 1656950400123);
  });
});
