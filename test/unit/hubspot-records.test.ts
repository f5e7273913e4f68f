// The HubSpot record reader (the real @hubspot/api-client) against the HubSpot emulator: list paging with
// `after`, only the chosen properties, values exactly as stored, property definitions of every type, the
// count, synthetic records, and the rolling 10-second budget with its 429 and rate-limit headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HubSpotError } from '../../src/clients/hubspot/errors';
import { HubSpotRateLimiter, parseRateBudget } from '../../src/clients/hubspot/rate-limit';
import { HubSpotRecordReader, waitAfter429 } from '../../src/clients/hubspot/records';
import { translateProperty } from '../../src/domain/pendo/translate';
import { startHubSpotEmulator, syntheticProperties, type HubSpotEmulator } from '../../src/sandbox/hubspot';

const TOKEN = 'records-token';
let hubspot: HubSpotEmulator;
let reader: HubSpotRecordReader;
const fast = new HubSpotRateLimiter({ max: 1000, intervalMs: 1000 });

before(async () => {
  hubspot = await startHubSpotEmulator({ accessToken: TOKEN, rateLimit: false });
  reader = new HubSpotRecordReader({ accessToken: TOKEN, basePath: hubspot.basePath, limiter: fast });
  for (let i = 0; i < 250; i++) {
    hubspot.upsertContact(String(300 + i), {
      pendo_visitor_id: i === 7 ? ' padded-7' : `v-${i}`,
      lifecyclestage: 'lead',
    });
  }
});
after(async () => {
  await hubspot?.close();
});

describe('HubSpotRecordReader', () => {
  test('pages of 100 with the after cursor, only the chosen properties, ids and values exactly as stored', async () => {
    hubspot.requests.length = 0;
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reader.page('contacts', ['pendo_visitor_id'], cursor);
      pages += 1;
      for (const r of page.records) seen.push(r.id);
      if (pages === 1) {
        assert.equal(page.records.length, 100);
        assert.equal(page.records[7]?.properties.pendo_visitor_id, ' padded-7', 'a leading space stays');
        assert.equal(page.records[0]?.properties.email, undefined, 'properties not asked for are not read');
      }
      cursor = page.after;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(seen.length, 250);
    assert.equal(new Set(seen).size, 250);
    const first = hubspot.requests[0];
    assert.equal(first?.path, '/crm/v3/objects/contacts');
    assert.equal(first?.query.limit, '100');
    assert.equal(first?.query.properties, 'pendo_visitor_id');
    assert.equal(hubspot.requests[1]?.query.after, page2Cursor());
  });

  test('companies page the same way', async () => {
    hubspot.upsertCompany('7001', { pendo_account_id: 'acct-1', name: 'Example KK' });
    const page = await reader.page('companies', ['pendo_account_id', 'name']);
    const company = page.records.find((r) => r.id === '7001');
    assert.equal(company?.properties.pendo_account_id, 'acct-1');
    assert.equal(company?.properties.name, 'Example KK');
    assert.equal(company?.properties.domain, undefined);
  });

  test('property definitions: every type the translation knows, calculated, file and HubSpot-user ones among them', async () => {
    const defs = await reader.propertyDefinitions('contacts');
    const byName = Object.fromEntries(defs.map((d) => [d.name, d]));
    assert.equal(byName.hubspot_owner_id?.referencedObjectType, 'OWNER');
    assert.equal(byName.days_to_close?.calculated, true);
    assert.equal(byName.contract_pdf?.fieldType, 'file');
    assert.equal(byName.hs_object_id?.hasUniqueValue, true);
    const translated = (name: string) => {
      const t = translateProperty(byName[name] ?? { name, type: '?', fieldType: '?' });
      return t.imported ? t.pendoType : 'none';
    };
    assert.deepEqual(
      [
        'about_me',
        'interests',
        'plan_tier',
        'newsletter_opt_in',
        'hubspotscore',
        'renewal_date',
        'last_login_at',
        'days_to_close',
        'is_key_contact',
        'display_name',
        'first_deal_closed_at',
        'contract_pdf',
        'hubspot_owner_id',
        'phone',
      ].map(translated),
      [
        'string',
        'string',
        'string',
        'boolean',
        'decimal',
        'time',
        'time',
        'decimal',
        'boolean',
        'string',
        'time',
        'none',
        'string',
        'string',
      ],
    );
    const companies = await reader.propertyDefinitions('companies');
    assert.ok(companies.some((d) => d.name === 'annualrevenue' && d.type === 'number'));
    assert.ok(companies.some((d) => d.name === 'company_logo' && d.fieldType === 'file'));
  });

  test('count comes from the search total; synthetic records page like stored ones and cost no memory', async () => {
    assert.equal(await reader.count('contacts'), 250);
    hubspot.setSynthetic('contacts', { count: 1_000_000 });
    assert.equal(await reader.count('contacts'), 1_000_250);
    let cursor: string | undefined;
    for (let i = 0; i < 3; i++) cursor = (await reader.page('contacts', ['pendo_visitor_id'], cursor)).after;
    const synthetic = await reader.page('contacts', ['pendo_visitor_id', 'num_employees'], cursor);
    assert.equal(synthetic.records[0]?.id, String(100_000_000 + 50));
    assert.equal(
      synthetic.records[0]?.properties.pendo_visitor_id,
      syntheticProperties('contacts', 50).pendo_visitor_id,
    );
    assert.equal(synthetic.records[0]?.properties.num_employees, '50');
    hubspot.setSynthetic('contacts', undefined);
  });
});

function page2Cursor(): string {
  return String(300 + 100);
}

describe('the 10-second budget', () => {
  test('the emulator answers 429 with HubSpot headers once the budget is spent; the reader waits Retry-After', async () => {
    const limited = await startHubSpotEmulator({ accessToken: TOKEN, rateLimit: { max: 3, intervalMs: 1000 } });
    try {
      limited.upsertContact('1', { pendo_visitor_id: 'v' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${limited.basePath}/crm/v3/objects/contacts?limit=1`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        statuses.push(res.status);
        assert.equal(res.headers.get('x-hubspot-ratelimit-max'), '3');
        assert.equal(res.headers.get('x-hubspot-ratelimit-interval-milliseconds'), '1000');
        if (res.status === 429) {
          assert.equal(res.headers.get('retry-after'), '1');
          assert.equal(((await res.json()) as { policyName: string }).policyName, 'TEN_SECONDLY_ROLLING');
        }
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const waits: number[] = [];
      const r = new HubSpotRecordReader({
        accessToken: TOKEN,
        basePath: limited.basePath,
        limiter: fast,
        sleep: (ms) => {
          waits.push(ms);
          return new Promise((resolve) => setTimeout(resolve, ms));
        },
      });
      const page = await r.page('contacts', ['pendo_visitor_id']);
      assert.equal(page.records.length, 1);
      assert.deepEqual(waits, [1000], 'waited the Retry-After once, then read the page');
    } finally {
      await limited.close();
    }
  });

  test('a daily limit is thrown at once; so is a ten-secondly one past the retries', async () => {
    hubspot.setFault({ type: 'rate-limit', policy: 'DAILY', times: 1 });
    await assert.rejects(
      reader.page('contacts', []),
      (err: unknown) => err instanceof HubSpotError && err.policy === 'DAILY',
    );
    hubspot.setFault({ type: 'rate-limit', policy: 'TEN_SECONDLY_ROLLING' });
    const impatient = new HubSpotRecordReader({
      accessToken: TOKEN,
      basePath: hubspot.basePath,
      limiter: fast,
      rateLimitRetries: 2,
      sleep: () => Promise.resolve(),
    });
    await assert.rejects(
      impatient.page('contacts', []),
      (err: unknown) => err instanceof HubSpotError && err.kind === 'rate-limit',
    );
    hubspot.setFault(undefined);
  });

  test('without Retry-After the window header decides, else 10 s', () => {
    assert.equal(waitAfter429({ headers: { 'Retry-After': '3' } }), 3000);
    assert.equal(waitAfter429({ headers: { 'x-hubspot-ratelimit-interval-milliseconds': '10000' } }), 10_000);
    assert.equal(waitAfter429({}), 10_000);
  });

  test('budgets read like 190/10s', () => {
    const toMs = (d: string) => ({ '10s': 10_000, '1s': 1000 })[d] ?? NaN;
    assert.deepEqual(parseRateBudget('190/10s', toMs), { max: 190, intervalMs: 10_000 });
    assert.deepEqual(parseRateBudget(' 100 / 1s ', toMs), { max: 100, intervalMs: 1000 });
    assert.equal(parseRateBudget('fast', toMs), undefined);
    assert.equal(parseRateBudget('0/10s', toMs), undefined);
  });
});
