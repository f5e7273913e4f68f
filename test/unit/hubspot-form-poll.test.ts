// The form poll's activity over the real reader and the HubSpot emulator: what a submission becomes before it
// enters history (ids, times, the order id, hashes — never a field value), what is skipped and why.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createFormPollActivities } from '../../src/activities/hubspot-forms';
import { HubSpotFormSubmissionReader } from '../../src/clients/hubspot/forms';
import { HubSpotRateLimiter } from '../../src/clients/hubspot/rate-limit';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { formDefinition } from '../helpers/hubspot-google-ads';

const TOKEN = 'forms-token';
const FORM = '11111111-2222-4333-8444-555555555555';
const NOW = Date.now();
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let hubspot: HubSpotEmulator;
let reader: HubSpotFormSubmissionReader;
before(async () => {
  hubspot = await startHubSpotEmulator({ accessToken: TOKEN });
  reader = new HubSpotFormSubmissionReader({
    accessToken: TOKEN,
    basePath: hubspot.basePath,
    limiter: new HubSpotRateLimiter({ max: 1000, intervalMs: 1000 }),
  });
});
after(() => hubspot?.close());

const definition = formDefinition({
  trigger: { type: 'form_submission', formId: FORM, conversionAction: 'customers/1234567890/conversionActions/777' },
  sharedFields: ['email', 'firstName'],
  orderIdField: 'gtag_transaction_id',
});

function activities() {
  return createFormPollActivities({ forms: reader, lastPoll: () => Promise.resolve(undefined), now: () => NOW });
}

describe('readNewFormSubmissions', () => {
  test('submissions become order ids and hashes only; the skipped ones say why, never with a value', async () => {
    const at = (minutes: number) => NOW - minutes * 60_000;
    const tagged = hubspot.addFormSubmission(FORM, {
      submittedAt: at(50),
      values: {
        email: ' Jane.Doe@Example.com\u200b',
        firstname: 'Jane',
        phone: '+1 650 253 0000',
        gtag_transaction_id: 'T-77',
      },
      pageUrl: 'https://shop.example.com/demo?gclid=Cj0-from-the-page&email=jane.doe%40example.com',
    });
    const untagged = hubspot.addFormSubmission(FORM, { submittedAt: at(40), values: { email: 'alex@example.com' } });
    // Only a phone, which this definition does not share: nothing to enhance with.
    hubspot.addFormSubmission(FORM, { submittedAt: at(30), values: { phone: '+1 650 253 0001' } });
    hubspot.addFormSubmission(FORM, {
      submittedAt: at(20),
      values: { email: 'bad-order@example.com', gtag_transaction_id: 'T-\u0000-1' },
    });
    const page = await activities().readNewFormSubmissions({
      definition,
      // A watermark older than the window: the reader returns what is older, the activity skips it.
      watermark: { submittedAtMs: NOW - 48 * 3_600_000, conversionIds: [] },
      safetyMarginMs: 10 * 60_000,
    });
    hubspot.addFormSubmission(FORM, { submittedAt: NOW - 30 * 3_600_000, values: { email: 'late@example.com' } });

    assert.deepEqual(
      page.submissions.map((s) => [s.orderId, s.orderIdFrom]),
      [
        ['T-77', 'field'],
        [untagged.conversionId, 'conversionId'],
      ],
    );
    const [first] = page.submissions;
    assert.equal(first!.conversionId, tagged.conversionId);
    // Invisible characters stripped before hashing; only the shared fields (no phone) leave.
    assert.deepEqual(first!.userIdentifiers, [
      { hashed_email: sha('jane.doe@example.com') },
      { address_info: { hashed_first_name: sha('jane') } },
    ]);
    assert.equal(first!.gclid, 'Cj0-from-the-page');
    assert.deepEqual(
      page.skipped.map((s) => s.reason),
      [
        'no email, phone or name/address to enhance the conversion with',
        'the order id (gtag_transaction_id) holds control or invisible characters',
      ],
    );
    assert.equal(page.complete, true);
    const text = JSON.stringify(page);
    // The phone in every spelling (a bare '650' could appear by chance in a random conversion id or a hash).
    for (const plain of ['Jane', 'jane', 'alex@', '650 253', '6502530000', 'shop.example.com', 'bad-order']) {
      assert.ok(!text.includes(plain), `the page carries ${plain}`);
    }
  });

  test('a first poll (no watermark) reads only the enhancement window', async () => {
    const form = '22222222-2222-4333-8444-555555555555';
    hubspot.addFormSubmission(form, { submittedAt: NOW - 30 * 3_600_000, values: { email: 'old@example.com' } });
    const fresh = hubspot.addFormSubmission(form, { submittedAt: NOW - 60_000, values: { email: 'new@example.com' } });
    const page = await activities().readNewFormSubmissions({
      definition: { ...definition, trigger: { ...definition.trigger, formId: form } },
      safetyMarginMs: 10 * 60_000,
    });
    assert.deepEqual(
      page.submissions.map((s) => s.conversionId),
      [fresh.conversionId],
    );
    assert.deepEqual(page.skipped, []);
    assert.equal(page.watermark?.submittedAtMs, fresh.submittedAt);
  });

  test('an unknown form is a non-retryable HubSpotInvalid failure naming no value', async () => {
    await assert.rejects(
      activities().readNewFormSubmissions({
        definition: {
          ...definition,
          trigger: { ...definition.trigger, formId: '33333333-2222-4333-8444-555555555555' },
        },
        safetyMarginMs: 0,
      }),
      (err: { type?: string; nonRetryable?: boolean }) => err.type === 'HubSpotInvalid' && err.nonRetryable === true,
    );
  });
});
