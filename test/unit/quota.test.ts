// A vendor quota held by several processes: the daily budget's part and its reset at the quota's midnight, and a
// limiter run at a share of the rate (held entirely at share 0).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Bottleneck from 'bottleneck';
import { applyRateShare, DailyBudget, RequestTurns } from '../../src/clients/shared/quota';
import { liveUploaders } from '../../src/temporal/upload-share';

describe('DailyBudget', () => {
  test('allows its part of the day, refuses past it, and starts again at midnight in the quota’s zone', () => {
    // 2026-12-02 07:59 UTC is 23:59 on Dec 1 in Los Angeles.
    let now = Date.parse('2026-12-02T07:59:00Z');
    const budget = new DailyBudget(10, 'America/Los_Angeles', () => now);
    budget.setShare(0.5);
    const taken = Array.from({ length: 6 }, () => budget.take());
    assert.deepEqual(taken, [true, true, true, true, true, false]);
    assert.deepEqual(budget.usage, { day: '2026-12-01', used: 5, allowed: 5 });
    now = Date.parse('2026-12-02T08:00:00Z'); // midnight in Los Angeles
    assert.equal(budget.take(), true);
    assert.deepEqual(budget.usage, { day: '2026-12-02', used: 1, allowed: 5 });
  });
});

describe('applyRateShare', () => {
  test('a share of 0 holds requests until a share is given; a share sets the spacing', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1, minTime: 1000 });
    await applyRateShare(limiter, 1, 0);
    let ran = false;
    const job = limiter.schedule(() => {
      ran = true;
      return Promise.resolve();
    });
    // A job is held by the reservoir, not refused: still queued after the limiter has looked at it.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await limiter.currentReservoir(), 0);
    assert.equal(limiter.counts().QUEUED + limiter.counts().RECEIVED, 1);
    assert.equal(ran, false);
    await applyRateShare(limiter, 4, 0.5);
    await job;
    assert.equal(ran, true);
    assert.equal(await limiter.currentReservoir(), null);
    // 4 requests/s at half the share: one every 500 ms.
    assert.equal(
      (limiter as unknown as { _store: { storeOptions: { minTime: number } } })._store.storeOptions.minTime,
      500,
    );
    await limiter.stop({ dropWaitingJobs: false });
  });
});

describe('liveUploaders', () => {
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  test('counts itself and every other identity that polled within the live window, once each', () => {
    const now = 1_000_000;
    const pollers = [
      { identity: 'b', lastAccessTime: at(now - 5_000) },
      { identity: 'b', lastAccessTime: at(now - 1_000) },
      { identity: 'c', lastAccessTime: at(now - 89_000) },
      { identity: 'gone', lastAccessTime: at(now - 91_000) },
      { identity: '', lastAccessTime: at(now) },
    ];
    assert.deepEqual(liveUploaders(pollers, 'a', now, 90_000), ['a', 'b', 'c']);
    // Itself, even before its first poll is seen.
    assert.deepEqual(liveUploaders([], 'a', now, 90_000), ['a']);
    assert.deepEqual(liveUploaders([{ identity: 'a', lastAccessTime: at(now) }], 'a', now, 90_000), ['a']);
  });
});

describe('RequestTurns', () => {
  test('two processes at 1 QPS send in alternate slots of 1.2 s, one request a turn, only at its start', () => {
    let now = 12_000; // the start of slot 10 (slots of 1,000 ms and a margin of 200 ms)
    const a = new RequestTurns(1000, 200, () => now);
    const b = new RequestTurns(1000, 200, () => now);
    a.assign(0, 2);
    b.assign(1, 2);
    assert.equal(a.claim(), 0); // a's turn now
    assert.equal(b.claim(), 1_200); // b's at the next slot
    assert.equal(a.claim(), 2_400); // a's turn is taken: its next one
    now = 14_400 + 60; // a's slot, but past the first quarter of its margin
    assert.equal(a.claim(), 2_400 - 60);
  });

  test('whenever each asks and however late it then arrives (¾ of the margin), two processes stay a second apart', () => {
    let now = 0;
    const processes = [0, 1, 2].map((i) => {
      const t = new RequestTurns(1000, 200, () => now);
      t.assign(i, 3);
      return t;
    });
    const sent: number[] = [];
    // A fixed pseudo-random walk: asks at uneven times, each request arriving 0–150 ms after its turn.
    let seed = 7;
    const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let k = 0; k < 300; k++) {
      now += Math.floor(next() * 700);
      const p = processes[k % 3]!;
      sent.push(now + p.claim() + Math.floor(next() * 150));
    }
    sent.sort((x, y) => x - y);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i]! - sent[i - 1]! >= 1_000, `${sent[i - 1]} then ${sent[i]}`);
  });

  test('alone, a process has no turns: its rate limiter holds the pace', () => {
    let now = 5_300;
    const t = new RequestTurns(1000, 200, () => now);
    assert.equal(t.claim(), 0);
    now = 5_400;
    assert.equal(t.claim(), 0);
  });
});
