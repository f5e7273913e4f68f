// Several processes hold one vendor quota together: each uploader counts the pollers Temporal sees on the uploads
// queue and takes 1/n of each quota; a new one holds its requests until the others have had time to see it.
// Two real uploads workers (as two processes would run them) poll a dev server here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { uploadTaskQueue } from '../../src/domain/task-queues';
import { UploadShare, uploaderIdentity } from '../../src/temporal/upload-share';
import { waitFor } from '../chaos/stack';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createDevServerEnv();
});
after(async () => {
  await env?.teardown();
});

describe('UploadShare over a dev server', () => {
  test('two uploaders of one queue each take half, and a newcomer holds its requests until it has settled', async () => {
    const taskQueue = uploadTaskQueue(uniqueId('share'));
    const uploader = async () => {
      const identity = uploaderIdentity();
      // A connection each, as two processes would have.
      const connection = await NativeConnection.connect({ address: env.address });
      const worker = await Worker.create({
        connection,
        taskQueue,
        identity,
        activities: { enhanceCm360Conversion: () => Promise.resolve() },
      });
      const shares: number[] = [];
      const share = new UploadShare({
        service: env.client.workflowService,
        namespace: 'default',
        taskQueue,
        identity,
        refreshMs: 100,
        settleMs: 500,
        onShare: (s) => shares.push(s),
      });
      return { worker, share, shares, run: worker.run().finally(() => connection.close()) };
    };
    const a = await uploader();
    a.share.start();
    // Alone: nothing while settling, then the whole quota.
    await waitFor('the first uploader to take the whole quota', () => a.shares.at(-1) === 1, { timeoutMs: 20_000 });
    assert.equal(a.shares[0], 0);

    const b = await uploader();
    b.share.start();
    await waitFor('both uploaders to take half', () => a.shares.at(-1) === 0.5 && b.shares.at(-1) === 0.5, {
      timeoutMs: 20_000,
    });
    // The newcomer never had more than half: it went from holding everything (0) to its half.
    assert.deepEqual([...new Set(b.shares)], [0, 0.5]);
    // And each has its own turn: their places among the two identities, sorted the same way in both.
    assert.deepEqual([a.share.current().index, b.share.current().index].sort(), [0, 1]);
    assert.equal(a.share.current().uploaders, 2);

    for (const u of [a, b]) {
      u.share.stop();
      u.worker.shutdown();
      await u.run;
    }
  });
});
