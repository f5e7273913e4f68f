// Records the histories that test/replay/replay.test.ts replays. Run by hand after a deliberate,
// compatible workflow change: `npx tsx test/replay/record-histories.ts`. Each scenario is a real run on
// the time-skipping test server with the test payload key, so payloads in the files are encrypted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createCm360Activities } from '../../src/activities/cm360';
import { createGoogleAdsActivities } from '../../src/activities/google-ads';
import type { ContactReadResult, HubSpotActivities } from '../../src/activities/hubspot';
import { Cm360HttpError } from '../../src/clients/cm360/errors';
import { GoogleAdsRequestError } from '../../src/clients/google-ads/errors';
import type { HubSpotDeal } from '../../src/clients/hubspot/client';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import type { Cm360RowResult } from '../../src/domain/cm360/types';
import type { FormDefinition, LifecycleDefinition } from '../../src/domain/conversion-events/definitions';
import { googleAdsDateTime } from '../../src/domain/google-ads/rules';
import type { GoogleAdsRowResult } from '../../src/domain/google-ads/types';
import { cm360EnhancementWorkflow } from '../../src/workflows/cm360-enhancement';
import { FORM_ENHANCEMENT_FLOW, formEnhancementWorkflow, formWorkflowId } from '../../src/workflows/form-enhancement';
import {
  LIFECYCLE_CONVERSION_FLOW,
  lifecycleConversionWorkflow,
  lifecycleWorkflowId,
} from '../../src/workflows/lifecycle-conversion';
import { RelayAccount, RelayFlow, RelayStatus } from '../../src/workflows/search-attributes';
import {
  EMAIL_HASH,
  formDefinition,
  lifecycleDefinition,
  NAME_HASH,
  PHONE_HASH,
  rowError,
} from '../helpers/hubspot-google-ads';
import { pendoActivities, seedVisitors, startPendoParts, type PendoParts } from '../helpers/pendo';
import { createRelayTestWorkers, createTimeSkippingEnv, TEST_PAYLOAD_KEY } from '../helpers/temporal';
import {
  callerOf,
  callsConfig,
  CUSTOMER_ID,
  rowError as rowErrorOf,
  scriptedCallActivities,
  templateCsv,
  type UploadScript,
} from '../helpers/calls';
import { prepareCallImport, startCallImport } from '../../src/api/calls-routes';
import { parseCallCsv } from '../../src/domain/calls/csv';
import { CALLS_HUBSPOT_PULL_FLOW, callImportPartId } from '../../src/domain/calls/types';
import { callsHubSpotPullWorkflow } from '../../src/workflows/calls-hubspot-pull';
import { createFormPollActivities } from '../../src/activities/hubspot-forms';
import { formPollStart } from '../../src/schedules/hubspot-form-poll';
import { formPollWorkflowId, hubspotFormPollWorkflow } from '../../src/workflows/hubspot-form-poll';
import { PENDO_IMPORT_FLOW, pendoImportWorkflow, type PendoImportInput } from '../../src/workflows/pendo-import';

const HOUR = 3_600_000;

type Activities = Parameters<typeof Worker.create>[0]['activities'];

interface Scenario {
  activities: () => Activities | Promise<Activities>;
  start: (env: TestWorkflowEnvironment, taskQueue: string) => Promise<WorkflowHandle>;
  /** Record this run of the workflow (default: the latest, after any continue-as-new). */
  run?: 'first' | 'latest';
  close?: () => Promise<void>;
}

/** Answers the nth call (1-based) of a scripted dependency. */
type Script<T> = (n: number) => T | Error;
function scripted<T>(script: Script<T>): () => Promise<T> {
  let n = 0;
  return () => {
    const answer = script(++n);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
}

// ------------------------------------------------------------------------------------------- CM360

const notFound: Cm360RowResult = { ok: false, errors: [{ code: 'NOT_FOUND', message: 'conversion not found' }] };

function cm360(answers: Script<Cm360RowResult>, captureAgoMs = 0): (name: string) => Scenario {
  return (name) => ({
    activities: () => {
      // One script per scenario: the batcher is looked up again for every attempt.
      const enhance = scripted(answers);
      return createCm360Activities({ batchers: { forProfile: () => ({ enhance }) } });
    },
    start: async (env, taskQueue) => {
      const captureMs = (await env.currentTimeMs()) - captureAgoMs;
      return env.client.workflow.start(cm360EnhancementWorkflow, {
        taskQueue,
        workflowId: `cm360-enhance-99999-8888-${name}`,
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
              userIdentifiers: [{ hashedEmail: EMAIL_HASH }],
            },
            dropped: [{ field: 'phone', reason: 'phone number could not be read as E.164' }],
            timing: DEFAULT_CM360_TIMING,
          },
        ],
      });
    },
  });
}

// ------------------------------------------------------------------------------- Flow A (lifecycle)

const consentingContact: ContactReadResult = {
  found: true,
  hashed: { hashedEmail: EMAIL_HASH, hashedPhoneNumber: PHONE_HASH },
  dropped: [],
  clickIds: { gclid: 'Cj0KCQiA-replay-gclid' },
  consentValue: 'true',
  stageEnteredAt: '2025-03-04T05:06:07.890Z',
  lifecycleStage: 'salesqualifiedlead',
};
const openDeal: HubSpotDeal = { id: 'deal-1', amount: 1000, probability: 0.4, closed: false, closedWon: false };

function lifecycle(opts: {
  uploads?: Script<GoogleAdsRowResult>;
  contact?: ContactReadResult;
  definition?: LifecycleDefinition;
  /** Started as today's api starts it: no RelayStatus (PLAIN_PATH_UNINDEXED). */
  unindexed?: boolean;
}): (name: string) => Scenario {
  const def = opts.definition ?? lifecycleDefinition({ sharedFields: ['email', 'phone'] });
  return (name) => ({
    activities: () => {
      const hubspot: HubSpotActivities = {
        readContactForConversion: () => Promise.resolve(opts.contact ?? consentingContact),
        readMostRecentDeal: () => Promise.resolve(openDeal),
      };
      const googleAds = createGoogleAdsActivities({
        uploaders: {
          uploadClick: scripted(opts.uploads ?? (() => ({ ok: true }))),
          uploadEnhancement: () => Promise.reject(new Error('not part of Flow A')),
        },
      });
      return { ...hubspot, ...googleAds };
    },
    start: (env, taskQueue) =>
      env.client.workflow.start(lifecycleConversionWorkflow, {
        taskQueue,
        workflowId: lifecycleWorkflowId({
          portalId: '62515',
          contactId: '501',
          stage: `${def.trigger.stage}-${name}`,
          occurredAtMs: Date.parse('2025-03-04T05:06:09.000Z'),
          definitionId: def.id,
        }),
        args: [
          {
            portalId: '62515',
            eventId: name,
            contactId: '501',
            stage: def.trigger.stage,
            occurredAtMs: Date.parse('2025-03-04T05:06:09.000Z'),
            definition: def,
          },
        ],
        typedSearchAttributes: [
          { key: RelayFlow, value: LIFECYCLE_CONVERSION_FLOW },
          { key: RelayAccount, value: `google-ads:${def.customerId}` },
          // The api set RelayStatus at the start until the plain path went unindexed (PLAIN_PATH_UNINDEXED).
          ...(opts.unindexed ? [] : [{ key: RelayStatus, value: 'READING_CONTACT' }]),
        ],
      }),
  });
}

// ------------------------------------------------------------------------------------ Flow B (form)

function form(opts: {
  uploads?: Script<GoogleAdsRowResult>;
  definition?: FormDefinition;
  submittedAgoMs?: number;
  /** Started as today's api starts it: no RelayStatus (PLAIN_PATH_UNINDEXED). */
  unindexed?: boolean;
}): (name: string) => Scenario {
  const def = opts.definition ?? formDefinition({ sharedFields: ['email', 'firstName', 'address'] });
  return (name) => ({
    activities: () =>
      createGoogleAdsActivities({
        uploaders: {
          uploadClick: () => Promise.reject(new Error('not part of Flow B')),
          uploadEnhancement: scripted(opts.uploads ?? (() => ({ ok: true }))),
        },
      }),
    start: async (env, taskQueue) => {
      const submittedAtMs = Math.floor(((await env.currentTimeMs()) - (opts.submittedAgoMs ?? 0)) / 1000) * 1000;
      return env.client.workflow.start(formEnhancementWorkflow, {
        taskQueue,
        workflowId: formWorkflowId(def.trigger.formId, name),
        args: [
          {
            formId: def.trigger.formId,
            submissionId: name,
            submittedAtMs,
            conversionDateTime: googleAdsDateTime(submittedAtMs),
            userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0',
            userIdentifiers: [
              { hashed_email: EMAIL_HASH },
              { address_info: { hashed_first_name: NAME_HASH, postal_code: '94043', country_code: 'US' } },
            ],
            dropped: [{ field: 'phone', reason: 'phone number could not be read as E.164' }],
            definition: def,
            safetyMarginMs: 10 * 60_000,
          },
        ],
        typedSearchAttributes: [
          { key: RelayFlow, value: FORM_ENHANCEMENT_FLOW },
          { key: RelayAccount, value: `google-ads:${def.customerId}` },
          ...(opts.unindexed ? [] : [{ key: RelayStatus, value: 'UPLOADING' }]),
        ],
      });
    },
  });
}

// ----------------------------------------------------------------------------------------- scenarios

const scenarios: Record<string, (name: string) => Scenario> = {
  'cm360-enhanced-first-attempt': cm360(() => ({ ok: true })),
  // Recorded after PLAIN_PATH_UNINDEXED: the plain path writes no search attribute.
  'cm360-enhanced-first-attempt-unindexed': cm360(() => ({ ok: true })),
  'cm360-not-found-then-enhanced-unindexed': cm360((n) => (n < 4 ? notFound : { ok: true })),
  'cm360-not-found-then-enhanced': cm360((n) => (n < 4 ? notFound : { ok: true })),
  'cm360-transient-errors-then-enhanced': cm360((n) =>
    n === 1
      ? new Cm360HttpError({ status: 503, message: 'unavailable', kind: 'server', retryable: true })
      : n === 2
        ? { ok: false, errors: [{ code: 'INTERNAL', message: 'internal' }] }
        : { ok: true },
  ),
  'cm360-invalid-argument': cm360(() => ({
    ok: false,
    errors: [{ code: 'INVALID_ARGUMENT', message: 'countryCode has the wrong length' }],
  })),
  'cm360-not-found-window-expired': cm360(() => notFound),
  'cm360-deadline-exceeded': cm360(() => notFound, 22 * HOUR),

  'lifecycle-uploaded': lifecycle({}),
  'lifecycle-uploaded-unindexed': lifecycle({ unindexed: true }),
  'lifecycle-ineligible-disabled-unindexed': lifecycle({
    unindexed: true,
    definition: lifecycleDefinition({ enabled: false }),
  }),
  'lifecycle-ineligible-disabled': lifecycle({ definition: lifecycleDefinition({ enabled: false }) }),
  'lifecycle-ineligible-no-consent': lifecycle({ contact: { ...consentingContact, consentValue: 'false' } }),
  'lifecycle-too-recent-then-uploaded': lifecycle({
    uploads: (n) => (n <= 2 ? rowError('conversion_upload_error', 'TOO_RECENT_EVENT') : { ok: true }),
  }),
  'lifecycle-transient-then-already-uploaded': lifecycle({
    uploads: (n) =>
      n === 1
        ? new GoogleAdsRequestError({ kind: 'transient', grpcCode: 14, message: 'gRPC UNAVAILABLE (14)' })
        : rowError('conversion_upload_error', 'CLICK_CONVERSION_ALREADY_EXISTS'),
  }),
  'lifecycle-permanent-failure': lifecycle({ uploads: () => rowError('conversion_upload_error', 'EXPIRED_EVENT') }),

  'form-enhanced': form({}),
  'form-enhanced-unindexed': form({ unindexed: true }),
  'form-too-recent-then-already-enhanced-unindexed': form({
    unindexed: true,
    uploads: (n) =>
      n === 1
        ? rowError('conversion_adjustment_upload_error', 'TOO_RECENT_CONVERSION')
        : rowError('conversion_adjustment_upload_error', 'CONVERSION_ALREADY_ENHANCED'),
  }),
  'form-too-recent-then-already-enhanced': form({
    uploads: (n) =>
      n <= 2
        ? rowError('conversion_adjustment_upload_error', 'TOO_RECENT_CONVERSION')
        : rowError('conversion_adjustment_upload_error', 'CONVERSION_ALREADY_ENHANCED'),
  }),
  'form-manager-not-sent': form({ definition: formDefinition({ managerAccount: true }) }),
  'form-deadline-exceeded': form({
    uploads: () => rowError('conversion_adjustment_upload_error', 'TOO_RECENT_CONVERSION'),
    submittedAgoMs: 20 * HOUR,
  }),
  'form-transient-until-deadline': form({
    uploads: () => new GoogleAdsRequestError({ kind: 'transient', grpcCode: 14, message: 'gRPC UNAVAILABLE (14)' }),
    submittedAgoMs: 23 * HOUR,
  }),
};

// -------------------------------------------------------------------------------------------- Pendo

/** A nightly import against fresh HubSpot and Pendo emulators, the real clients and activities. */
function pendo(opts: {
  seed: (parts: PendoParts) => void;
  input?: Partial<PendoImportInput>;
  running?: boolean;
  run?: 'first' | 'latest';
}): (name: string) => Scenario {
  return (name) => {
    let parts: PendoParts | undefined;
    return {
      run: opts.run,
      activities: async () => {
        parts = await startPendoParts();
        opts.seed(parts);
        const running = opts.running
          ? [{ workflowId: 'pendo-import-2026-12-01T15:00:00Z', startTime: new Date(0) }]
          : [];
        return pendoActivities(parts, { running });
      },
      start: (env, taskQueue) =>
        env.client.workflow.start(pendoImportWorkflow, {
          taskQueue,
          workflowId: `pendo-import-manual-${name}`,
          args: [{ trigger: 'manual', ...opts.input }],
          typedSearchAttributes: [
            { key: RelayFlow, value: PENDO_IMPORT_FLOW },
            { key: RelayStatus, value: 'STARTING' },
          ],
        }),
      close: async () => parts?.close(),
    };
  };
}

function pendoRecords(parts: PendoParts, visitors: number, accounts: number): void {
  seedVisitors(parts, visitors);
  for (let i = 0; i < accounts; i++) {
    parts.hubspot.upsertCompany(String(9000 + i), {
      pendo_account_id: `a-${i}`,
      name: `Company ${i}`,
      annualrevenue: String(i * 1000),
    });
  }
  parts.pendo.addIds(
    'account',
    Array.from({ length: accounts }, (_, i) => `a-${i}`),
  );
}

const pendoScenarios: Record<string, (name: string) => Scenario> = {
  'pendo-completed': pendo({ seed: (p) => pendoRecords(p, 150, 20) }),
  'pendo-completed-with-failures': pendo({
    seed: (p) => {
      pendoRecords(p, 10, 2);
      p.hubspot.upsertContact('6000', { pendo_visitor_id: 'v-1', lifecyclestage: 'lead' });
      p.hubspot.upsertContact('6001', { pendo_visitor_id: 'v-new', num_employees: 'abc', lifecyclestage: 'lead' });
    },
  }),
  'pendo-continued-as-new': pendo({
    seed: (p) => pendoRecords(p, 450, 0),
    input: { pagesPerChunk: 1, chunksPerRun: 2 },
    run: 'first',
  }),
  'pendo-continued-as-new-last-run': pendo({
    seed: (p) => pendoRecords(p, 450, 0),
    input: { pagesPerChunk: 1, chunksPerRun: 2 },
  }),
  'pendo-chunk-retried-after-409': pendo({
    seed: (p) => {
      pendoRecords(p, 50, 0);
      p.pendo.setFault({ type: 'busy', times: 7 });
    },
  }),
  'pendo-skipped-already-running': pendo({ seed: () => undefined, running: true }),
};
Object.assign(scenarios, pendoScenarios);

// ------------------------------------------------------------------------------------------- calls

/** A file import through the api's own fan-out; records the import (`record: 'import'`) or its first part. */
function callFile(opts: {
  rows: number;
  day: number;
  script?: UploadScript;
  name?: (i: number) => string;
  record: 'import' | 'part';
}): (name: string) => Scenario {
  return () => ({
    activities: () => scriptedCallActivities(opts.script).activities,
    start: async (env, taskQueue) => {
      const csv = templateCsv(opts.rows, { start: Date.parse(`2026-11-${opts.day}T15:00:00Z`), name: opts.name });
      const prepared = await prepareCallImport(
        parseCallCsv(csv),
        callsConfig(),
        TEST_PAYLOAD_KEY,
        Date.parse('2026-12-01T12:00:00Z'),
      );
      if (!('importId' in prepared)) throw new Error('the scenario rows must be valid');
      await startCallImport({ temporal: env.client, taskQueue }, callsConfig(), prepared, 'file');
      return env.client.workflow.getHandle(
        opts.record === 'import' ? prepared.importId : callImportPartId(prepared.importId, 0),
      );
    },
  });
}

/** A pull of HubSpot calls from a scripted reader (two Connected calls, one No answer). */
function callPull(calls: number): (name: string) => Scenario {
  return (name) => ({
    activities: () =>
      scriptedCallActivities(undefined, {
        config: callsConfig({
          hubspot: {
            everyMs: 3_600_000,
            every: '1h',
            outcomes: { Connected: 'Sales call' },
            value: { type: 'custom', amount: 50 },
          },
        }),
        hubspot: {
          dispositions: () =>
            Promise.resolve([
              { id: 'connected', label: 'Connected' },
              { id: 'no-answer', label: 'No answer' },
            ]),
          modifiedInboundCalls: () =>
            Promise.resolve({
              calls: Array.from({ length: calls }, (_, i) => ({
                id: String(7000 + i),
                direction: 'INBOUND',
                fromNumber: `(212) 555-01${String(10 + i)}`,
                timestampMs: Date.parse('2026-11-30T15:00:00Z') + i * 60_000,
                durationMs: 180_000,
                dispositionId: i === 2 ? 'no-answer' : 'connected',
                lastModifiedMs: Date.parse('2026-11-30T16:00:00Z') + i,
                contactIds: [],
                dealIds: [],
              })),
            }),
          dealAmounts: () => Promise.resolve(new Map()),
        },
      }).activities,
    start: (env, taskQueue) =>
      env.client.workflow.start(callsHubSpotPullWorkflow, {
        taskQueue,
        workflowId: `calls-hubspot-pull-manual-${name}`,
        args: [{ trigger: 'manual', customerId: CUSTOMER_ID, timeZone: 'America/New_York' }],
        typedSearchAttributes: [
          { key: RelayFlow, value: CALLS_HUBSPOT_PULL_FLOW },
          { key: RelayStatus, value: 'READING' },
        ],
      }),
  });
}

/** A poll of a HubSpot form through the real activity over a scripted reader: `n` new submissions, one too old. */
function formPollScenario(n: number): (name: string) => Scenario {
  return (name) => {
    const def: FormDefinition = { ...formDefinition(), id: `poll-${name}`, orderIdField: 'gtag_transaction_id' };
    const now = Date.now();
    const submissions = Array.from({ length: n }, (_, i) => ({
      conversionId: `00000000-0000-4000-8000-00000000000${i}`,
      submittedAtMs: i === 0 ? now - 30 * HOUR : now - HOUR + i * 60_000,
      values: { email: `person${i}@example.com`, ...(i === 2 ? {} : { gtag_transaction_id: `T-${i}` }) },
    }));
    return {
      activities: () => ({
        ...createFormPollActivities({
          forms: {
            newSubmissions: (_formId, since) =>
              Promise.resolve({ submissions, complete: true, ...(since ? { watermark: since } : {}) }),
          },
          lastPoll: () => Promise.resolve(undefined),
          now: () => now,
        }),
        ...createGoogleAdsActivities({
          uploaders: {
            uploadClick: () => Promise.reject(new Error('not part of Flow B')),
            uploadEnhancement: () => Promise.resolve({ ok: true }),
          },
        }),
      }),
      start: (env, taskQueue) =>
        env.client.workflow.start(hubspotFormPollWorkflow, {
          taskQueue,
          workflowId: formPollWorkflowId(`${def.id}-manual`),
          ...formPollStart(def, 10 * 60_000, 'manual'),
        }),
    };
  };
}

const formPollScenarios: Record<string, (name: string) => Scenario> = {
  'form-poll-started': formPollScenario(3),
  'form-poll-nothing-new': formPollScenario(0),
};
Object.assign(scenarios, formPollScenarios);

const callScenarios: Record<string, (name: string) => Scenario> = {
  'call-import-completed': callFile({ rows: 3, day: 10, record: 'import' }),
  'call-import-completed-with-failures': callFile({
    rows: 4,
    day: 11,
    script: (row) => (row.callerId === callerOf(1) ? rowErrorOf('EXPIRED_CALL') : { ok: true }),
    name: (i) => (i === 3 ? 'Nobody knows this' : 'Sales call'),
    record: 'import',
  }),
  // Recorded after UNCANCELLED_IMPORT_TIMERS: the import's waits cancel no timer; the second waits six hours
  // for its part, checking every hour.
  'call-import-completed-uncancelled-timers': callFile({ rows: 3, day: 14, record: 'import' }),
  'call-import-waited-hourly-checks': callFile({
    rows: 2,
    day: 15,
    script: (row, attempt) =>
      row.callerId === callerOf(0) && attempt === 1 ? rowErrorOf('TOO_RECENT_CALL') : { ok: true },
    record: 'import',
  }),
  'call-import-part-too-recent-then-uploaded': callFile({
    rows: 2,
    day: 12,
    script: (row, attempt) =>
      row.callerId === callerOf(0) && attempt === 1 ? rowErrorOf('TOO_RECENT_CALL') : { ok: true },
    record: 'part',
  }),
  'call-import-part-partial-failures': callFile({
    rows: 4,
    day: 13,
    script: (row) =>
      row.callerId === callerOf(1)
        ? rowErrorOf('CALL_NOT_FOUND')
        : row.callerId === callerOf(2)
          ? rowErrorOf('CALL_CONVERSION_ALREADY_EXISTS')
          : { ok: true },
    name: (i) => (i === 3 ? 'Nobody knows this' : 'Sales call'),
    record: 'part',
  }),
  'calls-pull-imported': callPull(3),
  'calls-pull-nothing-new': callPull(0),
};
Object.assign(scenarios, callScenarios);

async function main() {
  const only = process.argv.slice(2);
  const env = await createTimeSkippingEnv();
  try {
    for (const [name, make] of Object.entries(scenarios)) {
      if (only.length > 0 && !only.includes(name)) continue;
      const scenario = make(name);
      const taskQueue = `record-${name}`;
      const worker = await createRelayTestWorkers({
        connection: env.nativeConnection,
        taskQueue,
        activities: (await scenario.activities()) ?? {},
      });
      const started = await scenario.start(env, taskQueue);
      await worker.runUntil(started.result().catch(() => undefined));
      await scenario.close?.();
      const firstRunId = (started as { firstExecutionRunId?: string }).firstExecutionRunId;
      const handle =
        scenario.run === 'first' && firstRunId
          ? env.client.workflow.getHandle(started.workflowId, firstRunId)
          : started;
      const history = await handle.fetchHistory();
      const file = join(__dirname, 'histories', `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify(
          { workflowId: handle.workflowId, history: JSON.parse(historyToJSON(history)) as unknown },
          null,
          1,
        ),
      );
      console.log(`${name}: ${history.events?.length} events → ${file}`);
    }
  } finally {
    await env.teardown();
  }
}

void main();
