// The api's Temporal connection never retries past a call's deadline: against an unreachable server a start
// ends with Temporal's own UNAVAILABLE before the deadline, instead of being cut off by the api's timer after
// the SDK's backoff (up to 5 s a step) has carried it past the deadline.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { Client, Connection } from '@temporalio/client';
import { startAll, startBudgetMs } from '../../src/api/starts';
import { deadlineBoundRetryInterceptor } from '../../src/temporal/grpc-retry';

const closedPort = (bounded: boolean) =>
  Connection.lazy({
    address: '127.0.0.1:1',
    connectTimeout: 200,
    ...(bounded ? { interceptors: [deadlineBoundRetryInterceptor()] } : {}),
  });
const connections: Connection[] = [];
after(async () => {
  for (const c of connections) await c.close();
});

async function startOnce(bounded: boolean) {
  const connection = closedPort(bounded);
  connections.push(connection);
  const temporal = new Client({ connection });
  const [outcome] = await startAll([1], { temporal, concurrency: 1, timeoutMs: 2_500 }, () =>
    temporal.workflow.start('anyWorkflow', { taskQueue: 'q', workflowId: 'w' }),
  );
  return outcome;
}

describe('deadline-bound gRPC retries', () => {
  test('an unreachable Temporal is reported by Temporal itself (UNAVAILABLE), within the deadline', async () => {
    assert.deepEqual(await startOnce(true), {
      status: 'failed',
      reason: 'Temporal is unavailable (UNAVAILABLE); send it again',
    });
  });

  test('control: with the SDK default, retries run into the deadline (the call ends DEADLINE_EXCEEDED)', async () => {
    const connection = closedPort(false);
    connections.push(connection);
    const temporal = new Client({ connection });
    // Awaited to the end, so no retry timer of the SDK outlives the test.
    await assert.rejects(
      connection.withDeadline(Date.now() + 2_500, () =>
        temporal.workflow.start('anyWorkflow', { taskQueue: 'q', workflowId: 'w' }),
      ),
      (err: unknown) => {
        const code = (err as { cause?: { code?: number } }).cause?.code;
        assert.equal(code, grpcStatus.DEADLINE_EXCEEDED, String(err));
        return true;
      },
    );
  });
});

describe('startBudgetMs', () => {
  test('counts the budget from the request’s arrival and keeps a margin to write the answer', () => {
    // 10 s budget, 400 ms spent reading and hashing a 1,000-item body: 9.35 s left for the starts.
    assert.equal(startBudgetMs(10_000, 400), 9_350);
    // A short budget keeps a tenth of itself, not 250 ms.
    assert.equal(startBudgetMs(300, 10), 260);
    assert.equal(startBudgetMs(4_000, 5_000), 0);
  });
});

describe('startAll at its deadline', () => {
  test('answers every item: the starts that never began are `failed` too, none is left without an answer', async () => {
    const connection = {
      withAbortSignal: <R>(_s: AbortSignal, fn: () => Promise<R>) => fn(),
      withDeadline: <R>(_d: number, fn: () => Promise<R>) => fn(),
    };
    const temporal = { connection } as unknown as Client;
    let begun = 0;
    // Two lanes, each start hanging: two begin, the other eight never do before the deadline.
    const outcomes = await startAll(
      Array.from({ length: 10 }, (_, i) => i),
      { temporal, concurrency: 2, timeoutMs: 50 },
      () => {
        begun += 1;
        return new Promise(() => undefined);
      },
    );
    assert.equal(begun, 2);
    assert.equal(outcomes.length, 10);
    let answered = 0;
    outcomes.forEach((o) => {
      answered += 1;
      assert.equal(o.status, 'failed');
    });
    assert.equal(answered, 10);
  });
});
