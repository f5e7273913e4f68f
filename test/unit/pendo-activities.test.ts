// Flow E's activities in Temporal's MockActivityEnvironment, over the real clients and the emulators:
// exact id mapping, conflicts found by the id scan, batches of at most 1,000, checkpoints in heartbeats and
// the resume from them, and the preview.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { FingerprintSet, idFingerprint, previewPendoImport } from '../../src/activities/pendo';
import { emptyCounts, emptySamples, MAX_CONFLICTING_IDS, type LevelPlan } from '../../src/domain/pendo/types';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { HubSpotRecordReader } from '../../src/clients/hubspot/records';
import { HubSpotRateLimiter } from '../../src/clients/hubspot/rate-limit';
import {
  BOTH_LEVELS,
  HUBSPOT_TOKEN,
  pendoActivities,
  pendoConfig,
  startPendoParts,
  type PendoParts,
} from '../helpers/pendo';

let parts: PendoParts;
before(async () => {
  parts = await startPendoParts();
  for (let i = 0; i < 2345; i++) {
    parts.hubspot.upsertContact(String(10_000 + i), {
      pendo_visitor_id: `v-${i}`,
      lifecyclestage: 'lead',
      num_employees: String(i),
    });
  }
  parts.pendo.addIds(
    'visitor',
    Array.from({ length: 2345 }, (_, i) => `v-${i}`),
  );
});
after(async () => {
  await parts?.close();
});
beforeEach(() => {
  parts.pendo.writes.length = 0;
});

type Activities = ReturnType<typeof pendoActivities>;

/** Runs one activity of `activities` in `env` with its argument typed. */
function run<K extends 'scanPendoIds' | 'importPendoPages'>(
  env: MockActivityEnvironment,
  activities: Activities,
  name: K,
  arg: Parameters<Activities[K]>[0],
): ReturnType<Activities[K]> {
  const fn = (a: typeof arg) => (activities[name] as (x: typeof arg) => ReturnType<Activities[K]>)(a);
  return env.run(fn, arg) as ReturnType<Activities[K]>;
}

const plan: LevelPlan = {
  level: 'visitor',
  idProperty: 'pendo_visitor_id',
  idUnique: false,
  fields: [
    { name: 'lifecyclestage', hubspotType: 'enumeration', fieldType: 'radio', pendoType: 'string', parser: 'string' },
    { name: 'num_employees', hubspotType: 'number', fieldType: 'number', pendoType: 'decimal', parser: 'number' },
  ],
  skipped: [],
};

describe('id fingerprints', () => {
  test('a set of a hundred thousand fingerprints finds exactly the repeats', () => {
    const set = new FingerprintSet();
    let repeats = 0;
    for (let i = 0; i < 100_000; i++) if (set.addAndCheck(idFingerprint('salt', `id-${i}`))) repeats += 1;
    assert.equal(repeats, 0);
    assert.ok(set.addAndCheck(idFingerprint('salt', 'id-4242')));
    assert.ok(!set.addAndCheck(idFingerprint('salt', 'ID-4242')), 'case matters');
    assert.ok(!set.addAndCheck(idFingerprint('salt', ' id-4242')), 'spaces matter');
  });
  test('the salt changes every fingerprint; none contains the id', () => {
    assert.notEqual(idFingerprint('a', 'x'), idFingerprint('b', 'x'));
    assert.match(idFingerprint('a', 'visitor-1'), /^[0-9a-f]{16}$/);
  });
});

describe('scanPendoIds', () => {
  test('finds the ids several records hold and counts empty ones, reading only the id property', async () => {
    parts.hubspot.upsertContact('50000', { pendo_visitor_id: 'v-3' });
    parts.hubspot.upsertContact('50001', { pendo_visitor_id: '' });
    const env = new MockActivityEnvironment();
    parts.hubspot.requests.length = 0;
    const res = await run(env, pendoActivities(parts), 'scanPendoIds', {
      level: 'visitor',
      idProperty: 'pendo_visitor_id',
      salt: 's',
    });
    assert.ok(res.ok);
    assert.deepEqual(res.conflicts, [idFingerprint('s', 'v-3')]);
    assert.equal(res.conflictingRecords, 2);
    assert.equal(res.scanned, 2347);
    assert.equal(res.emptyIds, 1);
    assert.ok(parts.hubspot.requests.every((r) => r.query.properties === 'pendo_visitor_id'));
  });

  test('an id property shared by more values than an id property can is refused', async () => {
    const hubspot: HubSpotEmulator = await startHubSpotEmulator({ accessToken: HUBSPOT_TOKEN, rateLimit: false });
    try {
      for (let i = 0; i <= MAX_CONFLICTING_IDS; i++) {
        hubspot.upsertContact(String(1000 + 2 * i), { plan: `p${i}` });
        hubspot.upsertContact(String(1001 + 2 * i), { plan: `p${i}` });
      }
      const reader = new HubSpotRecordReader({
        accessToken: HUBSPOT_TOKEN,
        basePath: hubspot.basePath,
        limiter: new HubSpotRateLimiter({ max: 1000, intervalMs: 1000 }),
      });
      const res = await run(
        new MockActivityEnvironment(),
        pendoActivities(parts, { hubspot: reader }),
        'scanPendoIds',
        {
          level: 'visitor',
          idProperty: 'plan',
          salt: 's',
        },
      );
      assert.equal(res.ok, false);
      assert.match(res.ok ? '' : res.detail, /does not hold Pendo ids/);
    } finally {
      await hubspot.close();
    }
  });
});

describe('importPendoPages', () => {
  test('batches of at most 1,000 records, a checkpoint after each write, and the cursor of the next page', async () => {
    const env = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const res = await run(env, pendoActivities(parts), 'importPendoPages', {
      plan,
      salt: 's',
      conflicts: [],
      maxPages: 15,
    });
    assert.equal(res.pages, 15);
    assert.equal(res.counts.read, 1500);
    assert.equal(res.counts.updated, 1500);
    assert.ok(res.after, 'more pages follow');
    assert.deepEqual(
      parts.pendo.writes.map((w) => w.records),
      [1000, 500],
    );
    const checkpoints = heartbeats as { after?: string; pages: number; counts: { updated: number } }[];
    assert.deepEqual(
      checkpoints.map((c) => [c.pages, c.counts.updated]),
      [
        [10, 1000],
        [15, 1500],
      ],
    );
    assert.equal(checkpoints[1]?.after, res.after);
  });

  test('a retry starts from the heartbeat checkpoint: pages before it are not read again', async () => {
    const env = new MockActivityEnvironment({
      heartbeatDetails: {
        after: '10500',
        pages: 5,
        counts: { ...emptyCounts(), read: 500, updated: 500 },
        samples: emptySamples(),
      },
      attempt: 2,
    });
    parts.hubspot.requests.length = 0;
    const res = await run(env, pendoActivities(parts), 'importPendoPages', {
      plan,
      salt: 's',
      conflicts: [],
      maxPages: 8,
    });
    assert.equal(parts.hubspot.requests[0]?.query.after, '10500');
    assert.equal(res.pages, 8);
    assert.equal(res.counts.read, 800, 'the checkpoint counts carry on');
    assert.equal(parts.hubspot.requests.length, 3);
  });

  test('conflicting ids are skipped and reported by HubSpot record id; invalid values are left out and counted', async () => {
    parts.hubspot.upsertContact('60000', { dupe_id: 'same', lifecyclestage: 'lead' });
    parts.hubspot.upsertContact('60001', { dupe_id: 'same', lifecyclestage: 'lead' });
    parts.hubspot.upsertContact('60002', { dupe_id: 'v-1', lifecyclestage: 'lead', num_employees: 'abc' });
    const dupePlan = { ...plan, idProperty: 'dupe_id' };
    const res = await run(new MockActivityEnvironment(), pendoActivities(parts), 'importPendoPages', {
      plan: dupePlan,
      after: '60000',
      salt: 's',
      conflicts: [idFingerprint('s', 'same')],
      maxPages: 5,
    });
    assert.equal(res.counts.conflicts, 2);
    assert.deepEqual(res.samples.conflicts.ids, ['60000', '60001']);
    assert.deepEqual(res.counts.invalidValues, { num_employees: 1 });
    assert.deepEqual(parts.pendo.valuesOf('visitor', 'v-1'), { lifecyclestage: 'lead', num_employees: 1 });
    assert.equal(res.after, undefined, 'the last page');
  });
});

describe('previewPendoImport', () => {
  test("each property's types, Pendo's field types, and the exact payload of a few records; nothing written", async () => {
    parts.pendo.defineField('visitor', 'lifecyclestage', 'string');
    parts.pendo.defineField('visitor', 'num_employees', 'string');
    const writes = parts.pendo.writes.length;
    const config = pendoConfig(`
pendo:
  timeZone: Asia/Tokyo
  visitor: { idProperty: pendo_visitor_id, properties: [lifecyclestage, num_employees, contract_pdf, renewal_date, nope] }
`);
    const [visitor] = await previewPendoImport(
      { config, hubspot: parts.reader, pendo: parts.pendoClient },
      { limit: 2 },
    );
    assert.ok(visitor);
    const field = (name: string) => visitor.fields.find((f) => f.name === name);
    assert.equal(field('lifecyclestage')?.pendoType, 'string');
    assert.equal(field('lifecyclestage')?.warning, undefined);
    assert.match(field('num_employees')?.warning ?? '', /type string, the import sends decimal/);
    assert.match(field('contract_pdf')?.skipped ?? '', /file/);
    assert.match(field('renewal_date')?.warning ?? '', /no custom visitor field/);
    assert.match(field('nope')?.skipped ?? '', /no property "nope"/);
    assert.deepEqual(visitor.sample[0], {
      hubspotRecordId: '10000',
      payload: { visitorId: 'v-0', values: { lifecyclestage: 'lead', num_employees: 0 } },
    });
    assert.equal(visitor.sample.length, 2);
    assert.equal(parts.pendo.writes.length, writes);
    const both = await previewPendoImport(
      { config: BOTH_LEVELS, hubspot: parts.reader, pendo: parts.pendoClient },
      { level: 'account' },
    );
    assert.deepEqual(
      both.map((l) => l.level),
      ['account'],
    );
  });
});
