// End to end on the Temporal CLI dev server: `relay pendo preview|sync --wait|status` as a user runs them
// (child processes) against the real api and worker, the real HubSpot SDK against the HubSpot emulator and
// the real Pendo client against the Pendo emulator. The Pendo side is checked record by record, type by type.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Writable } from 'node:stream';
import type { PendoStatusView } from '../../src/api/pendo-routes';
import { runPendoPreview, runPendoStatus } from '../../src/cli/pendo';
import { loadConfig } from '../../src/config/env';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { startPendoEmulator, type PendoEmulator } from '../../src/sandbox/pendo';
import { startApi, startWorker, type RunningApi, type RunningWorker } from '../../src/workers/composition';
import { runRelay } from '../helpers/cli';
import { createDevServerEnv, readableHistory, TEST_PAYLOAD_KEY, uniqueId, workflowBundle } from '../helpers/temporal';

const API_KEY = 'e2e-pendo-key';
const HUBSPOT_TOKEN = 'e2e-pendo-hubspot-token';
const PENDO_KEY = 'e2e-pendo-integration-key';

const CONFIG = `
pendo:
  timeZone: Asia/Tokyo
  window: '00:00-06:00'
  region: jp
  visitor:
    idProperty: pendo_visitor_id
    properties: [lifecyclestage, hs_lead_status, num_employees, newsletter_opt_in, renewal_date, last_login_at, interests, hubspotscore, is_key_contact, hubspot_owner_id, contract_pdf, no_such_property]
  account:
    idProperty: pendo_account_id
    properties: [name, industry, annualrevenue, is_public, founded_date]
`;

let env: TestWorkflowEnvironment;
let hubspot: HubSpotEmulator;
let pendo: PendoEmulator;
let worker: RunningWorker;
let api: RunningApi;
let cliEnv: NodeJS.ProcessEnv;
const warnings: string[] = [];

before(async () => {
  env = await createDevServerEnv();
  hubspot = await startHubSpotEmulator({ accessToken: HUBSPOT_TOKEN });
  pendo = await startPendoEmulator({ integrationKey: PENDO_KEY });
  const dir = mkdtempSync(join(tmpdir(), 'pendo-e2e-'));
  const file = join(dir, 'relay.yaml');
  writeFileSync(file, CONFIG);
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    RELAY_TASK_QUEUE: uniqueId('e2e-pendo'),
    RELAY_HTTP_PORT: '0',
    RELAY_WORKER_HTTP_PORT: '0',
    // A new uploader waits two refreshes before its first request (src/temporal/upload-share.ts).
    RELAY_UPLOAD_SHARE_REFRESH: '200ms',
    RELAY_API_KEY: API_KEY,
    RELAY_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    RELAY_PAYLOAD_KEY_ID: 'test-key',
    RELAY_CONFIG: file,
    HUBSPOT_API_BASE: hubspot.basePath,
    HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN,
    HUBSPOT_RATE_LIMIT: '150/10s',
    PENDO_API_BASE: pendo.baseUrl,
    PENDO_INTEGRATION_KEY: PENDO_KEY,
  });
  worker = await startWorker(config, { workflowBundle: await workflowBundle(), warn: (line) => warnings.push(line) });
  api = await startApi(config);
  cliEnv = { ...process.env, RELAY_API_URL: api.url, RELAY_API_KEY: API_KEY, NO_COLOR: '1' };
});

after(async () => {
  await api?.stop();
  await worker?.stop();
  await pendo?.close();
  await hubspot?.close();
  await env?.teardown();
});

const cli = (args: string[]) => runRelay(args, cliEnv);

const target = () => ({ url: api.url, apiKey: API_KEY });

/** A writable that keeps what the command printed. */
function sink(): NodeJS.WritableStream & { text(): string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return Object.assign(out, { text: () => chunks.join('') });
}

function seed(): void {
  hubspot.upsertContact('801', {
    pendo_visitor_id: 'visitor-801',
    lifecyclestage: 'customer',
    hs_lead_status: 'CONNECTED',
    num_employees: '250',
    newsletter_opt_in: 'true',
    renewal_date: '2027-04-01',
    last_login_at: '2026-11-30T23:59:59.500Z',
    interests: 'analytics;guides;nps',
    hubspotscore: '87.5',
    is_key_contact: 'false',
    hubspot_owner_id: '31415926',
    contract_pdf: 'https://files.example/801.pdf',
  });
  hubspot.upsertContact('802', { pendo_visitor_id: 'visitor-802', lifecyclestage: 'lead', num_employees: '12' });
  hubspot.upsertContact('803', { pendo_visitor_id: 'visitor-803', lifecyclestage: 'lead' });
  hubspot.upsertContact('804', { lifecyclestage: 'subscriber' });
  hubspot.upsertCompany('901', {
    pendo_account_id: 'account-901',
    name: 'Example KK',
    industry: 'COMPUTER_SOFTWARE',
    annualrevenue: '98765432.1',
    is_public: 'true',
    founded_date: '1999-02-03',
  });
  pendo.addIds('visitor', ['visitor-801', 'visitor-802']);
  pendo.addIds('account', ['account-901']);
  pendo.defineField('visitor', 'lifecyclestage', 'string');
  pendo.defineField('visitor', 'num_employees', 'boolean');
}

describe('HubSpot → Pendo, end to end through the relay CLI', () => {
  test('preview shows every type and the exact payload, and writes nothing', async () => {
    seed();
    const r = await cli(['pendo', 'preview', '--json', '--limit', '3']);
    assert.equal(r.code, 0, r.stderr);
    const { levels } = JSON.parse(r.stdout) as {
      levels: {
        level: string;
        fields: { name: string; pendoType?: string; skipped?: string; warning?: string; pendoSchemaType?: string }[];
        sample: { hubspotRecordId: string; payload?: { visitorId?: string; values: Record<string, unknown> } }[];
      }[];
    };
    const visitor = levels.find((l) => l.level === 'visitor');
    const field = (name: string) => visitor?.fields.find((f) => f.name === name);
    assert.equal(field('num_employees')?.pendoType, 'decimal');
    assert.match(field('num_employees')?.warning ?? '', /boolean/, 'a type mismatch with Pendo is a warning');
    assert.equal(field('lifecyclestage')?.pendoSchemaType, 'string');
    assert.match(field('contract_pdf')?.skipped ?? '', /file/);
    assert.match(field('no_such_property')?.skipped ?? '', /no property/);
    assert.deepEqual(visitor?.sample.find((s) => s.hubspotRecordId === '802')?.payload, {
      visitorId: 'visitor-802',
      values: { lifecyclestage: 'lead', num_employees: 12 },
    });
    assert.equal(pendo.writes.length, 0);
    // The worker named the two properties every run will skip when it started (its check runs beside start-up).
    for (let i = 0; i < 100 && warnings.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(warnings.sort(), [
      'pendo visitor: property "contract_pdf" is skipped: HubSpot file properties have no Pendo translation',
      'pendo visitor: property "no_such_property" is skipped: HubSpot has no property "no_such_property"',
    ]);

    // The table a person reads: the same api answer, printed by the same command in process.
    const human = sink();
    assert.equal(await runPendoPreview(target(), { json: false }, human), 0);
    assert.match(human.text(), /num_employees\s+number\/number\s+decimal\s+boolean/);
    assert.match(human.text(), /Nothing was written/);
  });

  test('sync --wait imports now, exits 0 and prints the counts; Pendo holds every value with its type', async () => {
    pendo.defineField('visitor', 'num_employees', 'float');
    const r = await cli(['pendo', 'sync', '--wait']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^started pendo-import-manual-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/m);
    assert.match(r.stdout, /COMPLETED/);
    assert.match(r.stdout, /visitor\s+read 4, updated 2, not in Pendo 1, failed 0, conflicting ids 0, without id 1/);
    assert.match(r.stdout, /account\s+read \d+, updated 1/);
    assert.match(r.stdout, /skipped property contract_pdf/);

    assert.deepEqual(pendo.valuesOf('visitor', 'visitor-801'), {
      lifecyclestage: 'customer',
      hs_lead_status: 'CONNECTED',
      num_employees: 250,
      newsletter_opt_in: true,
      renewal_date: Date.UTC(2027, 3, 1),
      last_login_at: Date.UTC(2026, 10, 30, 23, 59, 59, 500),
      interests: 'analytics;guides;nps',
      hubspotscore: 87.5,
      is_key_contact: false,
      hubspot_owner_id: '31415926',
    });
    assert.deepEqual(pendo.valuesOf('visitor', 'visitor-802'), { lifecyclestage: 'lead', num_employees: 12 });
    assert.equal(pendo.valuesOf('visitor', 'visitor-803'), undefined, 'an id Pendo does not know is not created');
    assert.deepEqual(pendo.valuesOf('account', 'account-901'), {
      name: 'Example KK',
      industry: 'COMPUTER_SOFTWARE',
      annualrevenue: 98765432.1,
      is_public: true,
      founded_date: Date.UTC(1999, 1, 3),
    });

    const workflowId = /started (\S+)/.exec(r.stdout)?.[1] ?? '';
    const { text } = await readableHistory(env.client.workflow.getHandle(workflowId));
    for (const plain of ['visitor-801', 'account-901', 'Example KK', 'analytics;guides', '31415926', '98765432.1']) {
      assert.ok(!text.includes(plain), `the history holds ${plain}`);
    }
  });

  test('status: the last run with its counts, and the next start in the subscription zone', async () => {
    const r = await cli(['pendo', 'status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout) as PendoStatusView;
    assert.equal(status.timeZone, 'Asia/Tokyo');
    assert.equal(status.lastRun?.state, 'COMPLETED');
    assert.equal(status.lastRun?.levels?.find((l) => l.level === 'visitor')?.counts.updated, 2);
    assert.ok(status.lastRun?.startedAt && status.lastRun.finishedAt);
    assert.match(status.schedule?.nextStart ?? '', /^\d{4}-\d{2}-\d{2} 00:\d{2}:\d{2}\+09:00$/);
    assert.equal(status.running, undefined);
    const human = sink();
    assert.equal(await runPendoStatus(target(), { json: false }, human), 0);
    assert.match(human.text(), /next start\s+\d{4}-\d{2}-\d{2} 00:\d{2}:\d{2}\+09:00/);
    assert.match(human.text(), /last run\s+pendo-import-manual-\S+\s+COMPLETED/);
  });

  test('a run with failures exits non-zero and names them; the api answers 401 without the key', async () => {
    hubspot.upsertContact('805', { pendo_visitor_id: 'visitor-802', lifecyclestage: 'lead' });
    hubspot.upsertContact('806', { pendo_visitor_id: 'visitor-806', num_employees: 'a dozen' });
    pendo.addIds('visitor', ['visitor-806']);
    const r = await cli(['pendo', 'sync', '--wait']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /COMPLETED_WITH_FAILURES/);
    assert.match(r.stdout, /conflicting ids 2/);
    assert.match(r.stdout, /conflicting HubSpot records: (802, 805|805, 802)/);
    assert.match(r.stdout, /values left out by property: num_employees 1/);
    assert.deepEqual(pendo.valuesOf('visitor', 'visitor-806'), {}, 'the unparsable number was left out');
    const unauthenticated = await fetch(`${api.url}/v1/pendo/sync`, { method: 'POST' });
    assert.equal(unauthenticated.status, 401);
    const badLevel = await fetch(`${api.url}/v1/pendo/preview?level=company`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    assert.equal(badLevel.status, 400);
    assert.match(JSON.stringify(await badLevel.json()), /level/);
  });
});
