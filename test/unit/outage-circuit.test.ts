import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import { outageDelayMs, OUTAGE_BACKOFF } from '../../src/domain/outage';

const MIN = 60_000;

describe('outage backoff', () => {
  test('5 minutes doubling to a cap of 4 hours: a day costs 11 attempts, not 96', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => outageDelayMs(n) / MIN),
      [5, 10, 20, 40, 80, 160, 240, 240],
    );
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < 24 * 60 * MIN) elapsed += outageDelayMs(++attempts);
    assert.equal(attempts, 11);
    assert.equal(OUTAGE_BACKOFF.maxMs, 240 * MIN);
  });
});

describe('OutageCircuits', () => {
  test('one failure opens the account for every caller; the probe after the wait closes it or waits longer', () => {
    let now = 1_000_000;
    const circuits = new OutageCircuits();
    assert.equal(circuits.open('cm360:1', now), undefined);
    const first = circuits.failed('cm360:1', 'Cm360AuthError', 'HTTP 401', now);
    assert.deepEqual(first, { openUntilMs: now + 5 * MIN, failures: 1, type: 'Cm360AuthError', message: 'HTTP 401' });
    assert.deepEqual(circuits.open('cm360:1', now), first, 'every other caller sees it open');
    assert.equal(circuits.open('cm360:2', now), undefined, 'other accounts are not affected');
    // A late failure of a call that started before the circuit opened does not lengthen the wait.
    assert.deepEqual(circuits.failed('cm360:1', 'Cm360AuthError', 'HTTP 401', now), first);

    now += 5 * MIN;
    assert.equal(circuits.open('cm360:1', now), undefined, 'the probe may go');
    assert.equal(circuits.failed('cm360:1', 'Cm360AuthError', 'HTTP 401', now).openUntilMs, now + 10 * MIN);
    assert.deepEqual(
      circuits.openAccounts(now).map((a) => a.account),
      ['cm360:1'],
    );
    now += 10 * MIN;
    circuits.succeeded('cm360:1');
    assert.equal(circuits.open('cm360:1', now), undefined);
    assert.equal(
      circuits.failed('cm360:1', 'Cm360AuthError', 'HTTP 401', now).failures,
      1,
      'a success resets the backoff',
    );
  });
});
