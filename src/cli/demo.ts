// `relay demo`: drives every flow of the running `npm start` stack with realistic, signed events for the
// emulators' demo records — one plain success and one failure path per flow — then follows each workflow to
// where it shows something and prints what to open in the Web UI. It only ever talks to emulators: a flow whose
// integration has real credentials (no emulator in sandbox.json) is skipped, so no test data reaches a vendor.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { Env } from '../config/env';
import { projectRoot } from '../dev/temporal-binaries';
import { payloadCodec, relayDataConverter } from '../temporal/data-converter';
import { DEV_API_KEY, DEV_HUBSPOT_SECRET } from '../workers/dev-stack';
import { processAlive, readSandboxStackFile, stackDataDir, type SandboxStackFile } from '../sandbox/stack-file';
import { loadHubSpotEmulator } from '../sandbox/lazy';
import type { SandboxEmulatorName } from '../sandbox/catalog';
import type { CallImportReport } from '../api/call-imports';
import { CALL_IMPORT_FLOW } from '../domain/calls/types';
import { formatInZone } from '../domain/time-zones';
import { countsLine } from '../workflows/call-import';
import { CM360_ENHANCEMENT_FLOW } from '../workflows/cm360-enhancement';
import { FORM_ENHANCEMENT_FLOW } from '../workflows/form-enhancement';
import { LIFECYCLE_CONVERSION_FLOW } from '../workflows/lifecycle-conversion';
import { PENDO_IMPORT_FLOW } from '../workflows/pendo-import';
import { RelayReason, RelayStatus } from '../workflows/search-attributes';
import { apiCall, ApiCallError, type ApiTarget } from './api-client';
import { sandboxTargets, setSandboxFault, type SandboxTargets } from './sandbox';
import { FORMS_PATH, LIFECYCLE_PATH, lifecycleEvent, postSigned, type HubSpotTarget } from './hubspot';

/** The Floodlight configuration whose rows the CM360 emulator refuses with PERMISSION_DENIED during the demo. */
const DEMO_DENIED_FLOODLIGHT_CONFIG = '77777';
const DEMO_FLOODLIGHT = { configurationId: '99999', activityId: '8888' };

/** Fictional people (Google's own documentation examples), as a site's back end would post them. */
const JANE = {
  email: 'jane.doe@example.com',
  phone: '+1 650-253-0000',
  firstName: 'Jane',
  lastName: 'Doe',
  streetAddress: '1600 Amphitheatre Pkwy',
  city: 'Mountain View',
  state: 'CA',
  postalCode: '94043',
  countryCode: 'US',
};
const RAVI = {
  email: 'ravi.kumar@example.de',
  firstName: 'Ravi',
  lastName: 'Kumar',
  city: 'Berlin',
  countryCode: 'DE',
};
/** A HubSpot contact the demo adds: its Pendo visitor does not exist and its employee count is no number. */
const PENDO_FAILURE_CONTACT = { id: '1090', visitorId: 'demo-visitor-1090' };

export interface DemoStack {
  stack: SandboxStackFile;
  /** The stack's emulators, as `relay sandbox` finds them. */
  emulators: SandboxTargets;
  api: ApiTarget;
  hubspot: HubSpotTarget;
  /** Decodes payloads (the status queries), with the stack's payload key. */
  temporal: { address: string; namespace: string; uiUrl: string; connect: () => Promise<Client> };
}

/** What a workflow of the demo should end as (or stay as, for one that waits longer than the demo). */
interface Expectation {
  /** Temporal's execution status at the end. */
  status: 'COMPLETED' | 'FAILED';
  /** RelayStatus at the end; null: none (the plain way writes none). */
  relayStatus: string | null;
  relayReason?: string;
  /** A state of the status query that counts as "shown" when the workflow waits past the demo's deadline. */
  waitingState?: string;
}

export interface DemoWorkflow {
  flow: string;
  label: string;
  workflowId: string;
  runId?: string;
  url: string;
  /** In words. */
  expected: string;
  /** What it did, in words, once the demo saw it (or where it stood when the demo stopped waiting). */
  outcome?: string;
  /** Whether the outcome is the expected one. */
  ok?: boolean;
  expect: Expectation;
}

/** An answer of the api the demo provoked on purpose: a refused request is a failure path too. */
export interface DemoCheck {
  flow: string;
  label: string;
  status: number;
  ok: boolean;
  detail: string;
}

export interface DemoReport {
  uiUrl: string;
  namespace: string;
  workflows: DemoWorkflow[];
  checks: DemoCheck[];
  skipped: string[];
  queries: { label: string; query: string; url: string }[];
}

type Out = NodeJS.WritableStream;

/**
 * The running `npm start` stack, from its sandbox.json (RELAY_DATA_DIR, else .data/), with the api key, the
 * webhook secret and the payload key it runs with; or why there is none.
 */
export function demoStack(env: Env): DemoStack | string {
  const dataDir = stackDataDir(env, projectRoot);
  const stack = readSandboxStackFile(dataDir);
  if (!stack || !processAlive(stack.pid) || !stack.temporal || !stack.apiUrl) {
    return `relay demo drives the running npm start stack, and none was found (${join(dataDir, 'sandbox.json')}): run npm start first${
      stack && !stack.temporal ? ' (this one was started by an older version: restart it)' : ''
    }`;
  }
  const keyFile = join(dataDir, 'payload-key');
  const key = env.RELAY_PAYLOAD_KEY ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
  if (!key) return `no payload key: set RELAY_PAYLOAD_KEY as npm start has it (or keep ${keyFile})`;
  const codec = payloadCodec({ id: env.RELAY_PAYLOAD_KEY_ID, key }, env.RELAY_PAYLOAD_PREVIOUS_KEYS);
  const { address, namespace, uiUrl } = stack.temporal;
  return {
    stack,
    emulators: sandboxTargets(env, stack),
    api: { url: stack.apiUrl, apiKey: env.RELAY_API_KEY ?? DEV_API_KEY },
    hubspot: {
      apiUrl: stack.apiUrl,
      ...(env.RELAY_PUBLIC_URL ? { publicUrl: env.RELAY_PUBLIC_URL } : {}),
      secret: env.HUBSPOT_CLIENT_SECRET ?? DEV_HUBSPOT_SECRET,
    },
    temporal: {
      address,
      namespace,
      uiUrl,
      connect: async () =>
        new Client({
          connection: await Connection.connect({ address }),
          namespace,
          dataConverter: relayDataConverter(codec),
        }),
    },
  };
}

const stampOf = (now: number) => new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();

function workflowUrl(t: DemoStack['temporal'], id: string, runId?: string): string {
  const base = `${t.uiUrl}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(id)}`;
  return runId ? `${base}/${runId}/history` : base;
}

function listUrl(t: DemoStack['temporal'], query: string): string {
  return `${t.uiUrl}/namespaces/${encodeURIComponent(t.namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

async function signedPost(
  target: HubSpotTarget,
  path: string,
  body: string,
  secret?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  let res: Awaited<ReturnType<typeof postSigned>>;
  try {
    res = await postSigned(target, path, body, secret);
  } catch (err) {
    throw new ApiCallError(`the api at ${target.apiUrl} did not answer (${(err as Error).message}); is it running?`);
  }
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    // not JSON: the checks below say what was expected
  }
  return { status: res.status, json };
}

const asJson = (data: unknown) => ({ type: 'application/json', data: JSON.stringify(data) });

/** The workflow id the api answered for item `index`, or an error naming what it said instead. */
function startedId(flow: string, json: Record<string, unknown>, index = 0): string {
  // CM360 answers per conversion, the lifecycle webhook per started event.
  const items = (json.conversions ?? json.started) as { workflowId?: string; status?: string }[] | undefined;
  const id = items?.[index]?.workflowId;
  if (!id) throw new ApiCallError(`${flow}: the api did not start the demo's event: ${JSON.stringify(json)}`);
  return id;
}

interface Drive {
  workflows: Omit<DemoWorkflow, 'url'>[];
  checks: DemoCheck[];
  /** Checks that need the workflows' outcome (run after the demo has followed them). */
  followUp?: () => Promise<DemoCheck[]>;
}

async function driveCm360(s: DemoStack, stamp: string, now: number): Promise<Drive> {
  await setSandboxFault(s.emulators, 'cm360', {
    type: 'permission-denied',
    floodlightConfigurationId: DEMO_DENIED_FLOODLIGHT_CONFIG,
  });
  const conversion = (configurationId: string, ordinal: string, user: object) => ({
    matchId: `demo-match-${stamp}`,
    ordinal,
    timestampMicros: `${now}000`,
    floodlightConfigurationId: configurationId,
    floodlightActivityId: DEMO_FLOODLIGHT.activityId,
    quantity: 1,
    value: 104.23,
    user,
  });
  const good = conversion(DEMO_FLOODLIGHT.configurationId, `demo-${stamp}-jane`, JANE);
  const denied = conversion(DEMO_DENIED_FLOODLIGHT_CONFIG, `demo-${stamp}-ravi`, RAVI);
  const first = await apiCall<Record<string, unknown>>(s.api, 'POST', '/v1/cm360/conversions', {
    body: asJson([good, denied]),
  });
  const again = await apiCall<{ conversions?: { status?: string }[] }>(s.api, 'POST', '/v1/cm360/conversions', {
    body: asJson(good),
  });
  const invalid = await apiCall<{ conversions?: { issues?: { field?: string; message?: string }[] }[] }>(
    s.api,
    'POST',
    '/v1/cm360/conversions',
    { body: asJson({ ...good, ordinal: `demo-${stamp}-bad`, timestampMicros: 'yesterday' }), accept: [400] },
  );
  const issue = invalid.body.conversions?.[0]?.issues?.[0];
  return {
    workflows: [
      {
        flow: CM360_ENHANCEMENT_FLOW,
        label: 'Jane Doe bought: her conversion is enhanced with hashed identifiers',
        workflowId: startedId('CM360', first.body, 0),
        expected: 'ENHANCED after CM360_ENHANCE_DELAY (waits WAITING_FOR_INDEX until then)',
        expect: { status: 'COMPLETED', relayStatus: null, waitingState: 'WAITING_FOR_INDEX' },
      },
      {
        flow: CM360_ENHANCEMENT_FLOW,
        label: `a conversion of Floodlight configuration ${DEMO_DENIED_FLOODLIGHT_CONFIG}, whose enhanced-conversion terms are not accepted`,
        workflowId: startedId('CM360', first.body, 1),
        expected: 'FAILED with Cm360PermissionDenied, never retried (waits WAITING_FOR_INDEX until then)',
        expect: {
          status: 'FAILED',
          relayStatus: 'FAILED',
          relayReason: 'Cm360PermissionDenied',
          waitingState: 'WAITING_FOR_INDEX',
        },
      },
    ],
    checks: [
      {
        flow: CM360_ENHANCEMENT_FLOW,
        label: 'the same conversion posted again',
        status: again.status,
        ok: again.body.conversions?.[0]?.status === 'duplicate',
        detail: `answered "${again.body.conversions?.[0]?.status ?? '?'}": captured once, never enhanced twice`,
      },
      {
        flow: CM360_ENHANCEMENT_FLOW,
        label: 'a conversion whose timestampMicros is "yesterday"',
        status: invalid.status,
        ok: invalid.status === 400 && issue?.field !== undefined,
        detail: issue ? `${issue.field}: ${issue.message}` : JSON.stringify(invalid.body),
      },
    ],
  };
}

async function driveLifecycle(s: DemoStack, now: number): Promise<Drive> {
  const { DEMO_CONTACT_IDS } = loadHubSpotEmulator();
  const send = (contactId: string, stage: string, occurredAt: number, secret?: string) =>
    signedPost(
      s.hubspot,
      LIFECYCLE_PATH,
      JSON.stringify(lifecycleEvent({ contactId, stage, portalId: '62515', occurredAt })),
      secret,
    );
  const jane = await send(DEMO_CONTACT_IDS.jane, 'customer', now);
  const ravi = await send(DEMO_CONTACT_IDS.ravi, 'customer', now + 1);
  const forged = await send(DEMO_CONTACT_IDS.jane, 'customer', now + 2, 'not-the-app-secret');
  const checked = forged.json.checked as { url?: string; timestamp?: string } | undefined;
  return {
    workflows: [
      {
        flow: LIFECYCLE_CONVERSION_FLOW,
        label: 'Jane Doe became a customer: a click conversion valued at her deal',
        workflowId: startedId('lifecycle', jane.json),
        expected: 'uploaded to Google Ads (the plain way: no RelayStatus)',
        expect: { status: 'COMPLETED', relayStatus: null },
      },
      {
        flow: LIFECYCLE_CONVERSION_FLOW,
        label: 'Ravi Kumar became a customer, but denied Google Ads consent',
        workflowId: startedId('lifecycle', ravi.json),
        expected: 'INELIGIBLE with NO_CONSENT: never uploaded',
        expect: { status: 'COMPLETED', relayStatus: 'INELIGIBLE', relayReason: 'NO_CONSENT' },
      },
    ],
    checks: [
      {
        flow: LIFECYCLE_CONVERSION_FLOW,
        label: 'a webhook signed with the wrong client secret',
        status: forged.status,
        ok: forged.status === 401,
        detail: checked?.url
          ? `refused; the api checked POST ${checked.url} at ${checked.timestamp}`
          : JSON.stringify(forged.json),
      },
    ],
  };
}

async function driveForms(s: DemoStack, stamp: string, now: number): Promise<Drive> {
  const { DEMO_FORM_GUIDS } = loadHubSpotEmulator();
  const tracked = `demo-${stamp}-tracked`;
  const untracked = `demo-${stamp}-untracked`;
  await setSandboxFault(s.emulators, 'google-ads', {
    type: 'row',
    orderId: untracked,
    method: 'UploadConversionAdjustments',
    category: 'conversion_adjustment_upload_error',
    name: 'CONVERSION_NOT_FOUND',
    message: 'The conversion for this adjustment was not found.',
  });
  const submittedAt = new Date(now - 5 * 60_000).toISOString();
  const submission = (submissionId: string, fields: Record<string, string>) =>
    JSON.stringify({
      formId: DEMO_FORM_GUIDS.demoRequest,
      submissionId,
      submittedAt,
      userAgent: 'Mozilla/5.0',
      fields,
    });
  const ok = await signedPost(
    s.hubspot,
    FORMS_PATH,
    submission(tracked, { email: JANE.email, firstname: 'Jane', lastname: 'Doe', phone: JANE.phone, country: 'US' }),
  );
  const failing = await signedPost(
    s.hubspot,
    FORMS_PATH,
    submission(untracked, { email: 'noa.levi@example.com', firstname: 'Noa', lastname: 'Levi', country: 'IL' }),
  );
  const stale = await signedPost(
    s.hubspot,
    FORMS_PATH,
    JSON.stringify({
      formId: DEMO_FORM_GUIDS.demoRequest,
      submissionId: `demo-${stamp}-stale`,
      submittedAt: new Date(now - 2 * 86_400_000).toISOString(),
      fields: { email: JANE.email },
    }),
  );
  const issues = stale.json.issues as { field?: string; message?: string }[] | undefined;
  return {
    workflows: [
      {
        flow: FORM_ENHANCEMENT_FLOW,
        label: 'Jane Doe sent the demo-request form: an ENHANCEMENT of the tag’s conversion',
        workflowId: formWorkflowId(ok.json),
        expected: 'enhanced (the plain way: no RelayStatus)',
        expect: { status: 'COMPLETED', relayStatus: null },
      },
      {
        flow: FORM_ENHANCEMENT_FLOW,
        label: 'a submission whose order id the Google tag never recorded',
        workflowId: formWorkflowId(failing.json),
        expected: 'FAILED with conversion_adjustment_upload_error.CONVERSION_NOT_FOUND, never retried',
        expect: {
          status: 'FAILED',
          relayStatus: 'FAILED',
          relayReason: 'conversion_adjustment_upload_error.CONVERSION_NOT_FOUND',
        },
      },
    ],
    checks: [
      {
        flow: FORM_ENHANCEMENT_FLOW,
        label: 'a submission from two days ago',
        status: stale.status,
        ok: stale.status === 400,
        detail: issues?.[0] ? `${issues[0].field}: ${issues[0].message}` : JSON.stringify(stale.json),
      },
    ],
  };
}

function formWorkflowId(json: Record<string, unknown>): string {
  if (typeof json.workflowId === 'string') return json.workflowId;
  throw new ApiCallError(`form: the api did not start the demo's submission: ${JSON.stringify(json)}`);
}

async function driveCalls(s: DemoStack, now: number): Promise<Drive> {
  const timeZone = 'America/New_York';
  const hour = 3_600_000;
  const row = (caller: string, startedAgo: number, name: string, value: number) => ({
    callerId: caller,
    callStartTime: formatInZone(now - startedAgo, timeZone),
    conversionName: name,
    conversionTime: formatInZone(now - startedAgo + 30 * 60_000, timeZone),
    conversionValue: value,
    conversionCurrency: 'USD',
  });
  const { status, body } = await apiCall<{ importId?: string }>(s.api, 'POST', '/v1/google-ads/calls', {
    body: asJson({
      timeZone,
      rows: [
        row('+1 212-555-0101', 5 * hour, 'Sales call', 250),
        row('(212) 555-0102', 4 * hour, 'Sales call', 80),
        row('+1 212-555-0104', 3 * hour, 'Support call', 1),
      ],
    }),
  });
  const importId = body.importId;
  if (!importId) throw new ApiCallError(`calls: the api did not start the demo's import: HTTP ${status}`);
  return {
    workflows: [
      {
        flow: CALL_IMPORT_FLOW,
        label: 'three sales calls from a CRM export; one names a conversion action the config does not map',
        workflowId: importId,
        expected: '2 uploaded, 1 refused (never sent) with its row and reason: COMPLETED_WITH_FAILURES INVALID_ROWS',
        expect: { status: 'COMPLETED', relayStatus: 'COMPLETED_WITH_FAILURES', relayReason: 'INVALID_ROWS' },
      },
    ],
    checks: [],
    followUp: async () => {
      const report = await apiCall<CallImportReport>(s.api, 'GET', `/v1/google-ads/calls/imports/${importId}`);
      const c = report.body.counts;
      const failed = report.body.failed[0];
      return [
        {
          flow: CALL_IMPORT_FLOW,
          label: `its report (relay calls report ${importId} --failed)`,
          status: report.status,
          ok: c?.uploaded === 2 && report.body.failedTotal === 1 && failed?.row === 3,
          detail: `${c ? countsLine(c) : 'no counts yet'}${failed ? `; row ${failed.row}: ${failed.code}: ${failed.reason}` : ''}`,
        },
      ];
    },
  };
}

async function drivePendo(s: DemoStack): Promise<Drive> {
  const { DEMO_PENDO } = loadHubSpotEmulator();
  const hubspot = s.stack.emulators.hubspot?.controlUrl;
  if (!hubspot) throw new ApiCallError('npm start runs no HubSpot emulator');
  const seeded = await fetch(`${hubspot}/_sandbox/contacts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id: PENDO_FAILURE_CONTACT.id,
      properties: {
        email: 'mia.chen@example.com',
        lifecyclestage: 'lead',
        num_employees: 'about forty',
        [DEMO_PENDO.visitorIdProperty]: PENDO_FAILURE_CONTACT.visitorId,
      },
    }),
  });
  if (!seeded.ok) throw new ApiCallError(`the HubSpot emulator refused the demo contact: HTTP ${seeded.status}`);
  const { body } = await apiCall<{ workflowId?: string; status?: string }>(s.api, 'POST', '/v1/pendo/sync', {
    accept: [409],
  });
  if (!body.workflowId) throw new ApiCallError('Pendo: the api did not start the import');
  return {
    workflows: [
      {
        flow: PENDO_IMPORT_FLOW,
        label: `HubSpot → Pendo now: the demo contacts and companies, and contact ${PENDO_FAILURE_CONTACT.id}, whose visitor Pendo does not know and whose employee count is "about forty"`,
        workflowId: body.workflowId,
        expected: 'COMPLETED_WITH_FAILURES: the others imported, num_employees left out, 1 visitor not in Pendo',
        expect: {
          status: 'FAILED',
          relayStatus: 'COMPLETED_WITH_FAILURES',
        },
      },
    ],
    checks: [],
  };
}

/** Where a workflow of the demo stands now, in words, and whether that is what it should show. */
async function observe(client: Client, wf: DemoWorkflow, followUntil: number): Promise<boolean> {
  const handle = client.workflow.getHandle(wf.workflowId);
  const d = await handle.describe();
  wf.runId = d.runId;
  const relayStatus = d.typedSearchAttributes.get(RelayStatus) ?? null;
  const relayReason = d.typedSearchAttributes.get(RelayReason);
  const e = wf.expect;
  if (d.status.name !== 'RUNNING') {
    wf.outcome = [d.status.name, relayStatus, relayReason].filter(Boolean).join(' ');
    wf.ok =
      d.status.name === e.status &&
      relayStatus === e.relayStatus &&
      (e.relayReason === undefined || relayReason === e.relayReason);
    return true;
  }
  const status = await Promise.race<Record<string, unknown> | undefined>([
    handle.query<Record<string, unknown>>('status').catch(() => undefined),
    delay(5000, undefined, { ref: false }),
  ]);
  const state = typeof status?.state === 'string' ? status.state : (relayStatus ?? 'RUNNING');
  const until = status?.enhanceAt ?? status?.nextAttemptAt;
  wf.outcome = `RUNNING ${state}${typeof until === 'string' ? ` until ${until}` : ''}`;
  // A wait that outlasts the demo (CM360's 90-minute index delay) is what the workflow should show now.
  const waitsPastDemo = typeof until === 'string' && Date.parse(until) > followUntil;
  if (e.waitingState === state && waitsPastDemo) {
    wf.ok = true;
    return true;
  }
  return false;
}

export interface DemoOptions {
  wait: boolean;
  timeoutMs: number;
  json: boolean;
  now?: number;
}

/** Runs the demo; 0 when every flow showed what it should, 1 otherwise. */
export async function runDemo(s: DemoStack, opts: DemoOptions, out: Out, err: Out): Promise<number> {
  const now = opts.now ?? Date.now();
  const stamp = stampOf(now);
  const has = (name: SandboxEmulatorName) => s.stack.emulators[name] !== undefined;
  const say = (line: string) => (opts.json ? err : out).write(`${line}\n`);
  const skipped: string[] = [];
  const workflows: DemoWorkflow[] = [];
  const checks: DemoCheck[] = [];
  const followUps: (() => Promise<DemoCheck[]>)[] = [];
  const flows: { name: string; needs: SandboxEmulatorName[]; run: () => Promise<Drive> }[] = [
    { name: 'CM360 (Flow D)', needs: ['cm360'], run: () => driveCm360(s, stamp, now) },
    {
      name: 'HubSpot lifecycle → Google Ads (Flow A)',
      needs: ['hubspot', 'google-ads'],
      run: () => driveLifecycle(s, now),
    },
    {
      name: 'form → Google Ads enhancement (Flow B)',
      needs: ['hubspot', 'google-ads'],
      run: () => driveForms(s, stamp, now),
    },
    { name: 'call conversions → Google Ads (Flow C)', needs: ['google-ads'], run: () => driveCalls(s, now) },
    { name: 'HubSpot → Pendo (Flow E)', needs: ['hubspot', 'pendo'], run: () => drivePendo(s) },
  ];
  for (const flow of flows) {
    const real = flow.needs.filter((n) => !has(n));
    if (real.length > 0) {
      const why = `${flow.name}: skipped, ${real.join(' and ')} ${real.length > 1 ? 'have' : 'has'} real credentials (the demo sends only to emulators)`;
      skipped.push(why);
      say(why);
      continue;
    }
    const drive = await flow.run();
    say(flow.name);
    for (const w of drive.workflows) {
      const full = { ...w, url: workflowUrl(s.temporal, w.workflowId) };
      workflows.push(full);
      say(`  started  ${w.label}\n           ${w.workflowId}\n           expect: ${w.expected}`);
    }
    for (const c of drive.checks) {
      checks.push(c);
      say(checkLine(c));
    }
    if (drive.followUp) followUps.push(drive.followUp);
  }

  const client = await s.temporal.connect();
  try {
    const deadline = Date.now() + (opts.wait ? opts.timeoutMs : 0);
    const open = new Set(workflows);
    if (opts.wait && open.size > 0)
      say(`\nFollowing ${open.size} workflows (at most ${Math.round(opts.timeoutMs / 1000)} s) ...`);
    for (;;) {
      for (const wf of [...open]) {
        if (await observe(client, wf, deadline).catch(() => false)) {
          open.delete(wf);
          say(`  ${wf.ok ? 'as expected' : 'UNEXPECTED '} ${wf.outcome}  ${wf.workflowId}`);
        }
      }
      if (open.size === 0 || Date.now() >= deadline) break;
      await delay(1000);
    }
    for (const wf of open) {
      // Without --no-wait, a workflow that has not got where it should within the timeout is a failure.
      if (opts.wait) wf.ok = false;
      say(
        `  ${opts.wait ? 'still   ' : 'now     '} ${wf.outcome ?? 'not seen'}  ${wf.workflowId} (expected: ${wf.expected})`,
      );
    }
    for (const wf of workflows) wf.url = workflowUrl(s.temporal, wf.workflowId, wf.runId);
    for (const followUp of opts.wait ? followUps : []) {
      for (const c of await followUp()) {
        checks.push(c);
        say(checkLine(c));
      }
    }
  } finally {
    await client.connection.close();
  }

  const queries = savedQueries(s.temporal);
  const report: DemoReport = {
    uiUrl: s.temporal.uiUrl,
    namespace: s.temporal.namespace,
    workflows,
    checks,
    skipped,
    queries,
  };
  if (opts.json) {
    out.write(`${JSON.stringify(report, (k, v: unknown) => (k === 'expect' ? undefined : v), 2)}\n`);
  } else {
    out.write(
      [
        '',
        `Open in the Temporal Web UI (${s.temporal.uiUrl}, namespace ${s.temporal.namespace}):`,
        ...workflows.map((w) => `  ${w.url}\n    ${w.label}: ${w.outcome ?? '?'}`),
        '',
        'Saved queries (paste into the list’s search, or open the link; add RelayStatus and RelayReason as columns):',
        ...queries.map((q) => `  ${q.label}\n    ${q.query}\n    ${q.url}`),
        '',
        'In a workflow: the User Metadata tab has its summary, details and current details (what it does now), the',
        'Queries tab → status the full picture; input and results are shown decrypted through the api’s codec.',
        '',
        `The demo left two emulator faults set: CM360 refuses Floodlight configuration ${DEMO_DENIED_FLOODLIGHT_CONFIG}, and Google Ads`,
        'the untracked order id (`npx relay sandbox faults` lists them; `npx relay sandbox fault cm360 clear` clears one),',
        `and HubSpot contact ${PENDO_FAILURE_CONTACT.id}, which later Pendo imports report too until npm start restarts.`,
        '',
      ].join('\n'),
    );
  }
  const allOk = workflows.every((w) => w.ok !== false) && checks.every((c) => c.ok);
  if (!allOk) err.write('Some flows did not show what they should: see UNEXPECTED above.\n');
  return allOk ? 0 : 1;
}

const checkLine = (c: DemoCheck) => `  ${c.ok ? 'answered' : 'UNEXPECTED'} ${c.label} → HTTP ${c.status}: ${c.detail}`;

function savedQueries(t: DemoStack['temporal']): DemoReport['queries'] {
  const q = (label: string, query: string) => ({ label, query, url: listUrl(t, query) });
  return [
    q('Everything that failed, every flow', 'RelayStatus = "FAILED"'),
    q(
      'CM360 conversions waiting for their first attempt',
      `RelayFlow = "${CM360_ENHANCEMENT_FLOW}" AND ExecutionStatus = "Running" AND RelayStatus IS NULL`,
    ),
    q('CM360 conversions refused for permissions', 'RelayReason = "Cm360PermissionDenied"'),
    q(
      'Lifecycle conversions never uploaded, with their reason',
      `RelayFlow = "${LIFECYCLE_CONVERSION_FLOW}" AND RelayStatus = "INELIGIBLE"`,
    ),
    q(
      'Form enhancements done the plain way',
      `RelayFlow = "${FORM_ENHANCEMENT_FLOW}" AND ExecutionStatus = "Completed" AND RelayStatus IS NULL`,
    ),
    q('Call imports', `RelayFlow = "${CALL_IMPORT_FLOW}"`),
    q(
      'Pendo imports that left something out',
      `RelayFlow = "${PENDO_IMPORT_FLOW}" AND RelayStatus = "COMPLETED_WITH_FAILURES"`,
    ),
    q(
      'Waiting to retry (TOO_RECENT, quota, credentials)',
      'RelayStatus IN ("WAITING_TO_RETRY", "WAITING_FOR_CREDENTIALS", "RETRYING_NOT_FOUND")',
    ),
  ];
}
