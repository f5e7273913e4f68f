// Flow B on the time-skipping test server: real workflow code and the real Google Ads activity factory
// over a scripted uploader, so row and request errors are classified as in production.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createGoogleAdsActivities } from '../../src/activities/google-ads';
import { GoogleAdsRequestError } from '../../src/clients/google-ads/errors';
import type { FormDefinition } from '../../src/domain/conversion-events/definitions';
import { GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS } from '../../src/domain/google-ads/classify';
import { ENHANCEMENT_WINDOW_MS, googleAdsDateTime, Ineligible } from '../../src/domain/google-ads/rules';
import type {
  EnhancementAdjustmentRow,
  GoogleAdsRowResult,
  GoogleAdsUserIdentifier,
} from '../../src/domain/google-ads/types';
import { OutageCircuits } from '../../src/clients/shared/circuit';
import { GoogleAdsFailure } from '../../src/domain/google-ads/failures';
import {
  FORM_ENHANCEMENT_FLOW,
  formEnhancementStatusQuery,
  formEnhancementWorkflow,
  type FormEnhancementInput,
} from '../../src/workflows/form-enhancement';
import { RelayAccount, RelayFlow } from '../../src/workflows/search-attributes';
import {
  createTestWorker,
  createTimeSkippingEnv,
  expectCompleted as value,
  expectFailure as failure,
  observeRun,
  uniqueId,
} from '../helpers/temporal';
import { EMAIL_HASH, formDefinition, NAME_HASH, PHONE_HASH, rowError } from '../helpers/hubspot-google-ads';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const MARGIN = 10 * MINUTE;
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const IDENTIFIERS: GoogleAdsUserIdentifier[] = [
  { hashed_email: EMAIL_HASH },
  { hashed_phone_number: PHONE_HASH },
  { address_info: { hashed_first_name: NAME_HASH, city: 'mountainview', postal_code: '94043', country_code: 'US' } },
];

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

/** Answers each upload from a script that sees the attempt number (1-based). */
type Script = (attempt: number) => GoogleAdsRowResult | Error;

interface RunOptions {
  definition?: FormDefinition;
  script?: Script;
  /** How long before the workflow starts the form was submitted. */
  submittedAgoMs?: number;
  input?: Partial<FormEnhancementInput>;
  /** The process's outage circuits: with them an auth error parks the workflow. */
  circuits?: OutageCircuits;
}

async function run(opts: RunOptions = {}) {
  const uploads: { row: EnhancementAdjustmentRow; atMs: number }[] = [];
  const script = opts.script ?? (() => ({ ok: true }));
  const activities = createGoogleAdsActivities({
    ...(opts.circuits ? { circuits: opts.circuits } : {}),
    uploaders: {
      uploadClick: () => Promise.reject(new Error('Flow B never uploads click conversions')),
      uploadEnhancement: async (row) => {
        uploads.push({ row, atMs: await env.currentTimeMs() });
        const answer = script(uploads.length);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  });
  const { worker, taskQueue } = await createTestWorker(env, activities);
  const def = opts.definition ?? formDefinition();
  // Whole seconds, as a submittedAt with an offset arrives from HubSpot.
  const submittedAtMs = Math.floor(((await env.currentTimeMs()) - (opts.submittedAgoMs ?? 0)) / 1000) * 1000;
  const submissionId = uniqueId('submission');
  const input: FormEnhancementInput = {
    formId: def.trigger.formId,
    submissionId,
    submittedAtMs,
    conversionDateTime: googleAdsDateTime(submittedAtMs),
    userAgent: USER_AGENT,
    gclid: 'Cj0KCQiA-form-gclid',
    userIdentifiers: IDENTIFIERS,
    dropped: [{ field: 'lastName', reason: 'empty after normalization' }],
    definition: def,
    safetyMarginMs: MARGIN,
    ...opts.input,
  };
  // Started as the webhook route starts it, so the search attributes seen here are the ones operators see.
  const handle = await env.client.workflow.start(formEnhancementWorkflow, {
    taskQueue,
    workflowId: uniqueId('form'),
    args: [input],
    typedSearchAttributes: [
      { key: RelayFlow, value: FORM_ENHANCEMENT_FLOW },
      { key: RelayAccount, value: `google-ads:${def.customerId}` },
    ],
  });
  return {
    ...(await observeRun(worker, handle, formEnhancementStatusQuery)),
    uploads,
    input,
    deadlineMs: submittedAtMs + ENHANCEMENT_WINDOW_MS - (opts.input?.safetyMarginMs ?? MARGIN),
  };
}

describe('formEnhancementWorkflow: uploads', () => {
  test('uploads one ENHANCEMENT keyed by the submission id, with a restatement of the custom value', async () => {
    const r = await run();
    assert.deepEqual(value(r.outcome), { outcome: 'ENHANCED', attempts: 1 });
    assert.equal(r.uploads.length, 1);
    assert.deepEqual(r.uploads[0]!.row, {
      customerId: '1234567890',
      loginCustomerId: '9876543210',
      conversionAction: 'customers/1234567890/conversionActions/777',
      orderId: r.input.submissionId,
      conversionDateTime: r.input.conversionDateTime,
      gclid: 'Cj0KCQiA-form-gclid',
      userAgent: USER_AGENT,
      restatement: { adjustedValue: 120, currencyCode: 'EUR' },
      userIdentifiers: IDENTIFIERS,
    });
    assert.match(r.input.conversionDateTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00:00$/);
    assert.equal(r.status.state, 'ENHANCED');
    assert.equal(r.status.deadline, new Date(r.deadlineMs).toISOString());
    assert.deepEqual(r.status.identifiers, ['hashed_email', 'hashed_phone_number', 'address_info']);
    assert.deepEqual(r.status.dropped, [{ field: 'lastName', reason: 'empty after normalization' }]);
    // The plain way writes no search attribute: the start and the upload are its two Actions.
    assert.equal(r.relayStatus, undefined);
    assert.equal(r.relayReason, undefined);
    assert.deepEqual(r.upserts, []);
    assert.deepEqual(r.actions, { total: 2, byKind: { start: 1, activity: 1 } });
  });

  test('a deal-amount value restates nothing; a missing user agent or gclid is left out', async () => {
    const r = await run({
      definition: formDefinition({
        value: { type: 'deal_amount', default: 40, currency: 'EUR' },
        loginCustomerId: undefined,
      }),
      input: { userAgent: undefined, gclid: undefined },
    });
    assert.equal(value(r.outcome).outcome, 'ENHANCED');
    const row = r.uploads[0]!.row;
    for (const absent of ['restatement', 'userAgent', 'gclid']) {
      assert.equal(absent in row, false, `${absent} sent`);
    }
    assert.equal(row.loginCustomerId, undefined);
  });
});

describe('formEnhancementWorkflow: a credentials outage', () => {
  const unauthenticated = () =>
    new GoogleAdsRequestError({ kind: 'auth', grpcCode: 16, message: 'gRPC UNAUTHENTICATED (16)' });

  test('parks WAITING_FOR_CREDENTIALS on a timer (5, then 10 minutes), then enhances', async () => {
    const r = await run({ script: (n) => (n <= 2 ? unauthenticated() : { ok: true }), circuits: new OutageCircuits() });
    assert.equal(value(r.outcome).outcome, 'ENHANCED');
    assert.equal(r.uploads.length, 3, 'one upload per attempt, no activity retries in between');
    const gaps = r.uploads.slice(1).map((u, i) => Math.round((u.atMs - r.uploads[i]!.atMs) / 60_000));
    assert.deepEqual(gaps, [5, 10]);
    assert.equal(r.relayReason, 'GoogleAdsAuthError');
  });

  test('an outage that outlasts the 24 h window ends DEADLINE_EXCEEDED naming it', async () => {
    const r = await run({
      script: () => unauthenticated(),
      circuits: new OutageCircuits(),
      submittedAgoMs: 22 * 3_600_000,
    });
    const f = failure(r.outcome);
    assert.equal(f.type, GoogleAdsFailure.DeadlineExceeded);
    assert.match(f.message, /GoogleAdsAuthError until past/);
  });
});

describe('formEnhancementWorkflow: nothing is sent', () => {
  test('a manager account: NOT_SENT MANAGER_ACCOUNT, no upload', async () => {
    const r = await run({ definition: formDefinition({ managerAccount: true }) });
    const result = value(r.outcome);
    assert.equal(result.outcome, 'NOT_SENT');
    assert.equal(result.outcome === 'NOT_SENT' && result.reason, Ineligible.ManagerAccount);
    assert.equal(r.uploads.length, 0);
    assert.equal(r.status.state, 'NOT_SENT');
    assert.equal(r.status.notSent?.reason, Ineligible.ManagerAccount);
    assert.equal(r.status.attempts, 0);
    assert.equal(r.relayStatus, 'NOT_SENT');
    assert.equal(r.relayReason, Ineligible.ManagerAccount);
  });

  test('a switched-off definition: NOT_SENT DEFINITION_DISABLED, no upload', async () => {
    const r = await run({ definition: formDefinition({ enabled: false }) });
    const result = value(r.outcome);
    assert.equal(result.outcome === 'NOT_SENT' && result.reason, Ineligible.DefinitionDisabled);
    assert.equal(r.uploads.length, 0);
    assert.equal(r.status.state, 'NOT_SENT');
    assert.equal(r.relayStatus, 'NOT_SENT');
    assert.equal(r.relayReason, Ineligible.DefinitionDisabled);
  });
});

describe('formEnhancementWorkflow: Google Ads answers', () => {
  test('TOO_RECENT_CONVERSION is retried an hour apart until the enhancement goes through', async () => {
    const r = await run({
      script: (n) => (n <= 3 ? rowError('conversion_adjustment_upload_error', 'TOO_RECENT_CONVERSION') : { ok: true }),
    });
    assert.deepEqual(value(r.outcome), { outcome: 'ENHANCED', attempts: 4 });
    assert.equal(r.uploads.length, 4);
    for (let i = 1; i < r.uploads.length; i++) {
      const gap = r.uploads[i]!.atMs - r.uploads[i - 1]!.atMs;
      assert.ok(gap >= GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS, `attempt ${i + 1} only ${gap / MINUTE} min later`);
    }
    assert.equal(r.status.lastError, 'conversion_adjustment_upload_error.TOO_RECENT_CONVERSION');
  });

  test('CONVERSION_ALREADY_ENHANCED is a success: ALREADY_ENHANCED', async () => {
    const r = await run({
      script: () => rowError('conversion_adjustment_upload_error', 'CONVERSION_ALREADY_ENHANCED'),
    });
    assert.deepEqual(value(r.outcome), { outcome: 'ALREADY_ENHANCED', attempts: 1 });
    assert.equal(r.uploads.length, 1);
    assert.equal(r.status.state, 'ENHANCED');
    // Not the plain way: searchable by the code.
    assert.equal(r.relayStatus, 'ENHANCED');
    assert.equal(r.relayReason, 'conversion_adjustment_upload_error.CONVERSION_ALREADY_ENHANCED');
  });

  test('a dry run (validate_only) ends VALIDATED, never ENHANCED', async () => {
    const r = await run({ script: () => ({ ok: true, validateOnly: true }) });
    assert.deepEqual(value(r.outcome), { outcome: 'VALIDATED', attempts: 1 });
    assert.equal(r.status.state, 'VALIDATED');
    assert.equal(r.relayStatus, 'VALIDATED');
  });

  test('a permanent row error fails with the code, without retry', async () => {
    const r = await run({ script: () => rowError('conversion_adjustment_upload_error', 'CONVERSION_NOT_FOUND') });
    const f = failure(r.outcome);
    assert.equal(f.type, 'GoogleAdsPermanentError');
    assert.match(f.message, /conversion_adjustment_upload_error\.CONVERSION_NOT_FOUND/);
    assert.equal(r.uploads.length, 1);
    assert.equal(r.relayReason, 'conversion_adjustment_upload_error.CONVERSION_NOT_FOUND');
  });

  test('an invalid request fails at once as GoogleAdsInvalidRequest', async () => {
    const r = await run({
      script: () => new GoogleAdsRequestError({ kind: 'invalid', grpcCode: 3, message: 'bad adjustment' }),
    });
    assert.equal(failure(r.outcome).type, 'GoogleAdsInvalidRequest');
    assert.equal(r.uploads.length, 1);
    assert.equal(r.status.state, 'FAILED');
  });
});

describe('formEnhancementWorkflow: the 24-hour deadline', () => {
  test('retry-later answers until the deadline fail as GoogleAdsEnhancementDeadlineExceeded', async () => {
    const r = await run({
      submittedAgoMs: 18 * HOUR,
      script: () => rowError('conversion_adjustment_upload_error', 'TOO_RECENT_CONVERSION'),
    });
    const f = failure(r.outcome);
    assert.equal(f.type, 'GoogleAdsEnhancementDeadlineExceeded');
    assert.ok(r.uploads.length > 1, `only ${r.uploads.length} attempt(s)`);
    const last = r.uploads.at(-1)!.atMs;
    assert.ok(last <= r.deadlineMs, `an attempt ${(last - r.deadlineMs) / MINUTE} min after the deadline`);
    assert.ok(last >= r.deadlineMs - GOOGLE_ADS_TOO_RECENT_CONVERSION_DELAY_MS, 'gave up well before the deadline');
    assert.equal(r.status.state, 'FAILED');
    assert.equal(r.relayStatus, 'FAILED');
    assert.equal(r.relayReason, 'GoogleAdsEnhancementDeadlineExceeded');
  });

  test('transient request errors until the deadline fail the same way', async () => {
    const r = await run({
      submittedAgoMs: 22 * HOUR,
      script: () => new GoogleAdsRequestError({ kind: 'transient', grpcCode: 14, message: 'gRPC UNAVAILABLE (14)' }),
    });
    const f = failure(r.outcome);
    assert.equal(f.type, 'GoogleAdsEnhancementDeadlineExceeded');
    assert.ok(r.uploads.length > 1, `only ${r.uploads.length} attempt(s)`);
    const last = r.uploads.at(-1)!.atMs;
    assert.ok(last <= r.deadlineMs, `an attempt ${(last - r.deadlineMs) / MINUTE} min after the deadline`);
    assert.equal(r.relayReason, 'GoogleAdsEnhancementDeadlineExceeded');
  });

  test('a submission already past the deadline fails without an upload', async () => {
    const r = await run({ submittedAgoMs: ENHANCEMENT_WINDOW_MS });
    assert.equal(failure(r.outcome).type, 'GoogleAdsEnhancementDeadlineExceeded');
    assert.equal(r.uploads.length, 0);
  });
});
