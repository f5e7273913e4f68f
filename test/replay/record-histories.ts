// Records the histories that test/replay/replay.test.ts replays. Run by hand after a deliberate,
// compatible workflow change: `npx tsx test/replay/record-histories.ts`. Each scenario is a real run on
// the time-skipping test server with the test payload key, so payloads in the files are encrypted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { createCm360Activities } from '../../src/activities/cm360';
import { Cm360HttpError } from '../../src/clients/cm360/errors';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import type { Cm360RowResult } from '../../src/domain/cm360/types';
import { cm360EnhancementWorkflow } from '../../src/workflows/cm360-enhancement';
import { createTimeSkippingEnv, testDataConverter, workflowBundle } from '../helpers/temporal';

const HOUR = 3_600_000;
const notFound: Cm360RowResult = { ok: false, errors: [{ code: 'NOT_FOUND', message: 'conversion not found' }] };

const scenarios: Record<string, { answers: (attempt: number) => Cm360RowResult | Error; captureAgoMs?: number }> = {
  'cm360-enhanced-first-attempt': { answers: () => ({ ok: true }) },
  'cm360-not-found-then-enhanced': { answers: (n) => (n < 4 ? notFound : { ok: true }) },
  'cm360-transient-errors-then-enhanced': {
    answers: (n) =>
      n === 1
        ? new Cm360HttpError({ status: 503, message: 'unavailable', kind: 'server', retryable: true })
        : n === 2
          ? { ok: false, errors: [{ code: 'INTERNAL', message: 'internal' }] }
          : { ok: true },
  },
  'cm360-invalid-argument': {
    answers: () => ({ ok: false, errors: [{ code: 'INVALID_ARGUMENT', message: 'countryCode has the wrong length' }] }),
  },
  'cm360-not-found-window-expired': { answers: () => notFound },
  'cm360-deadline-exceeded': { answers: () => notFound, captureAgoMs: 22 * HOUR },
};

async function main() {
  const env = await createTimeSkippingEnv();
  try {
    for (const [name, scenario] of Object.entries(scenarios)) {
      let attempt = 0;
      const taskQueue = `record-${name}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        dataConverter: testDataConverter(),
        activities: createCm360Activities({
          batchers: {
            forProfile: () => ({
              enhance: () => {
                const answer = scenario.answers(++attempt);
                return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
              },
            }),
          },
        }),
      });
      const captureMs = (await env.currentTimeMs()) - (scenario.captureAgoMs ?? 0);
      const workflowId = `cm360-enhance-99999-8888-${name}`;
      const handle = await env.client.workflow.start(cm360EnhancementWorkflow, {
        taskQueue,
        workflowId,
        args: [
          {
            profileId: '4242',
            conversion: {
              matchId: 'match-1',
              ordinal: name,
              timestampMicros: String(BigInt(captureMs) * 1000n),
              floodlightActivityId: '8888',
              floodlightConfigurationId: '99999',
              quantity: '1',
              value: 104.23,
              userIdentifiers: [{ hashedEmail: '0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b' }],
            },
            dropped: [{ field: 'phone', reason: 'phone number could not be read as E.164' }],
            timing: DEFAULT_CM360_TIMING,
          },
        ],
      });
      await worker.runUntil(handle.result().catch(() => undefined));
      const history = await handle.fetchHistory();
      const file = join(__dirname, 'histories', `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) as unknown }, null, 1),
      );
      console.log(`${name}: ${history.events?.length} events → ${file}`);
    }
  } finally {
    await env.teardown();
  }
}

void main();
