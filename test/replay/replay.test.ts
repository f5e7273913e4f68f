// Replays committed histories of real runs against today's workflow code: a change that would break
// running workflows fails here. Record new histories with test/replay/record-histories.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { testDataConverter, workflowBundle } from '../helpers/temporal';

const dir = join(__dirname, 'histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

function histories() {
  return files.map((f) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      workflowId: string;
      history: unknown;
    };
    return { workflowId, history: historyFromJSON(history) };
  });
}

describe('replay of recorded histories', () => {
  test('there are histories for every CM360 outcome', () => {
    assert.ok(files.length >= 6, `only ${files.length} histories`);
  });

  test("today's workflow code replays every recorded history", async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle(), dataConverter: testDataConverter() },
      histories(),
    );
    let replayed = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${String(r.error)}`);
      replayed += 1;
    }
    assert.equal(replayed, files.length);
  });

  test('negative control: reordered workflow code raises a determinism violation', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./nondeterministic'),
      logger: new DefaultLogger('WARN'),
    });
    const results = Worker.runReplayHistories(
      { workflowBundle: bundle, dataConverter: testDataConverter() },
      histories(),
    );
    let violations = 0;
    for await (const r of results) {
      if (r.error instanceof DeterminismViolationError) violations += 1;
    }
    assert.equal(violations, files.length);
  });
});
