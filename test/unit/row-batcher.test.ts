// The engine behind every batcher: a row whose caller gave up (an AbortSignal) leaves the queue and is never
// sent, a row already sent stays sent, and neither disturbs the other callers. No clock is asserted: every
// wait is on a condition (a request started, a row queued).
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test, type TestContext } from 'node:test';
import Bottleneck from 'bottleneck';
import { RowBatcher } from '../../src/clients/shared/row-batcher';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A batcher over a fake vendor that answers each row with `answer:<row>`. `hold` keeps every request open
 * until released; `sent` lists each request's rows; `started()` resolves when the n-th request has left.
 */
function harness(opts: { lingerMs?: number; hold?: boolean; keyOf?: (row: string) => string | undefined } = {}) {
  const sent: string[][] = [];
  const releases: (() => void)[] = [];
  const waiters: { n: number; resolve(): void }[] = [];
  const batcher = new RowBatcher<string, string>({
    send: (rows) => {
      sent.push(rows);
      for (const w of waiters.filter((w) => sent.length >= w.n)) w.resolve();
      const answer = rows.map((r) => `answer:${r}`);
      if (!opts.hold) return Promise.resolve(answer);
      const gate = deferred<string[]>();
      releases.push(() => gate.resolve(answer));
      return gate.promise;
    },
    maxBatchSize: 10,
    lingerMs: opts.lingerMs ?? 60_000,
    limiter: new Bottleneck({ maxConcurrent: 1 }),
    ownsLimiter: true,
    name: 'test',
    ...(opts.keyOf ? { keyOf: opts.keyOf } : {}),
  });
  const started = (n: number) =>
    sent.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  const releaseAll = () => releases.splice(0).forEach((r) => r());
  return { batcher, sent, started, releaseAll };
}

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('RowBatcher: withdrawing a row with an AbortSignal', () => {
  test("a row aborted while queued leaves the queue, rejects with the signal's reason and is never sent", async () => {
    const { batcher, sent } = harness();
    const controller = new AbortController();
    const kept = batcher.submit('kept');
    const withdrawn = batcher.submit('withdrawn', { signal: controller.signal });
    assert.equal(batcher.queued, 2);
    const reason = new Error('the attempt was cancelled');
    controller.abort(reason);
    await assert.rejects(withdrawn, (err) => err === reason);
    assert.equal(batcher.queued, 1);
    assert.equal(abortListeners(controller.signal), 0, 'no listener left behind');
    // close() sends what is still queued at once: the withdrawn row is not among it.
    await batcher.close();
    assert.equal(await kept, 'answer:kept');
    assert.deepEqual(sent, [['kept']]);
  });

  test('an abort without an Error reason rejects with an error naming the batcher', async () => {
    const { batcher, sent } = harness();
    const controller = new AbortController();
    const withdrawn = batcher.submit('row', { signal: controller.signal });
    controller.abort('gone');
    await assert.rejects(withdrawn, (err: Error) => {
      assert.match(err.message, /^test: the row was withdrawn before it was sent \(gone\)$/);
      assert.equal(err.cause, 'gone');
      return true;
    });
    await batcher.close();
    assert.deepEqual(sent, []);
  });

  test('a row submitted with an already-aborted signal is refused at once and never queued', async () => {
    const { batcher, sent } = harness();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(batcher.submit('late', { signal: controller.signal }), { name: 'AbortError' });
    assert.equal(batcher.queued, 0);
    assert.equal(abortListeners(controller.signal), 0);
    await batcher.close();
    assert.deepEqual(sent, []);
  });

  test("an abort after the row's request has left changes nothing: every caller of that request gets its answer", async () => {
    const { batcher, sent, started, releaseAll } = harness({ lingerMs: 0, hold: true });
    const controller = new AbortController();
    const mine = batcher.submit('mine', { signal: controller.signal });
    const others = ['o1', 'o2'].map((r) => batcher.submit(r));
    await started(1);
    assert.deepEqual(sent, [['mine', 'o1', 'o2']]);
    assert.equal(abortListeners(controller.signal), 0, 'the signal is let go once the row is sent');
    controller.abort(new Error('too late'));
    // The batcher keeps working for rows queued after the abort.
    const next = batcher.submit('next');
    releaseAll();
    assert.equal(await mine, 'answer:mine');
    assert.deepEqual(await Promise.all(others), ['answer:o1', 'answer:o2']);
    await started(2);
    releaseAll();
    assert.equal(await next, 'answer:next');
    assert.deepEqual(sent, [['mine', 'o1', 'o2'], ['next']]);
    await batcher.close();
  });

  test('when every queued row is withdrawn no request is sent, and later rows still go out', async () => {
    const { batcher, sent } = harness({ lingerMs: 0 });
    const controller = new AbortController();
    const rows = ['a', 'b'].map((r) => batcher.submit(r, { signal: controller.signal }));
    controller.abort(new Error('cancelled'));
    for (const r of rows) await assert.rejects(r, /cancelled/);
    assert.equal(await batcher.submit('c'), 'answer:c');
    assert.deepEqual(sent, [['c']]);
    await batcher.close();
  });

  test('two callers with one key: the one that withdraws leaves, the other is still sent and answered', async () => {
    const { batcher, sent } = harness({ keyOf: (row) => row.split('#')[0] });
    const controller = new AbortController();
    const withdrawn = batcher.submit('order-1#first', { signal: controller.signal });
    const kept = batcher.submit('order-1#second');
    controller.abort(new Error('cancelled'));
    await assert.rejects(withdrawn, /cancelled/);
    await batcher.close();
    assert.equal(await kept, 'answer:order-1#second');
    assert.deepEqual(sent, [['order-1#second']]);
  });

  test('one signal over many rows adds one listener; its abort withdraws the queued rows and leaves the sent ones', async () => {
    const { batcher, sent, started, releaseAll } = harness({ lingerMs: 0, hold: true });
    const controller = new AbortController();
    const rows = Array.from({ length: 15 }, (_, i) => `r${i}`);
    const results = rows.map((r) => batcher.submit(r, { signal: controller.signal }));
    assert.equal(abortListeners(controller.signal), 1);
    await started(1);
    assert.deepEqual(sent, [rows.slice(0, 10)]);
    assert.equal(batcher.queued, 5);
    controller.abort(new Error('cancelled'));
    assert.equal(batcher.queued, 0);
    assert.equal(abortListeners(controller.signal), 0);
    releaseAll();
    const settled = await Promise.allSettled(results);
    settled.forEach((s, i) => {
      if (i < 10) assert.deepEqual(s, { status: 'fulfilled', value: `answer:r${i}` });
      else assert.ok(s.status === 'rejected' && /cancelled/.test(String(s.reason)), `row ${i}`);
    });
    await batcher.close();
    assert.deepEqual(sent, [rows.slice(0, 10)]);
  });

  test('a row answered normally lets go of its signal', async () => {
    const { batcher } = harness({ lingerMs: 0 });
    const controller = new AbortController();
    assert.equal(await batcher.submit('x', { signal: controller.signal }), 'answer:x');
    assert.equal(abortListeners(controller.signal), 0);
    await batcher.close();
  });
});

describe('RowBatcher: when a request that is not full leaves', () => {
  // The batcher's own timers and clock are mocked: time moves only when the test says. The limiter lets every
  // request go at once, so nothing but the batcher decides when a request leaves.
  const openLimiter = {
    schedule: (fn: () => Promise<void>) => fn(),
    stop: () => Promise.resolve(),
  } as unknown as Bottleneck;

  function timed(t: TestContext, opts: { lingerMs: number; maxWaitMs?: number }) {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const sent: { atMs: number; rows: string[] }[] = [];
    const batcher = new RowBatcher<string, string>({
      send: (rows) => {
        sent.push({ atMs: Date.now(), rows });
        return Promise.resolve(rows.map((r) => `answer:${r}`));
      },
      maxBatchSize: 1_000,
      ...opts,
      limiter: openLimiter,
      ownsLimiter: false,
      name: 'test',
    });
    const submit = (row: string) => void batcher.submit(row);
    return { batcher, sent, submit, tick: (ms: number) => t.mock.timers.tick(ms) };
  }

  test('once no row has joined for the linger time', (t) => {
    const { sent, submit, tick } = timed(t, { lingerMs: 50, maxWaitMs: 10_000 });
    submit('a');
    tick(40);
    submit('b');
    tick(40);
    assert.deepEqual(sent, [], 'left while rows were still joining');
    tick(10);
    assert.deepEqual(sent, [{ atMs: 90, rows: ['a', 'b'] }]);
  });

  test('or once its oldest row has waited the longest wait, however many keep joining', (t) => {
    const { sent, submit, tick } = timed(t, { lingerMs: 50, maxWaitMs: 200 });
    for (let i = 0; i < 6; i++) {
      submit(`r${i}`);
      tick(40);
    }
    // Rows joined every 40 ms (never quiet for 50): the request left when r0 was 200 ms old, with r0…r4; r5
    // (joined at 200 ms) waits for the next one.
    assert.deepEqual(sent, [{ atMs: 200, rows: ['r0', 'r1', 'r2', 'r3', 'r4'] }]);
    tick(9);
    assert.equal(sent.length, 1, 'r5 left before the queue was quiet for 50 ms');
    tick(1);
    assert.deepEqual(sent.at(-1)?.rows, ['r5']);
  });

  test('without a longest wait, the linger counts from the first row (as before)', (t) => {
    const { sent, submit, tick } = timed(t, { lingerMs: 50 });
    submit('a');
    tick(40);
    submit('b');
    tick(10);
    assert.deepEqual(sent, [{ atMs: 50, rows: ['a', 'b'] }]);
  });
});
