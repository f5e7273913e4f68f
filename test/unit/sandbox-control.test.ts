// The emulators' control routes over HTTP (faults with --for, auth faults, the CM360 conversion record) and the
// CLI's parsing of `relay sandbox fault` and of where the emulators are.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseFaultCommand, sandboxTargets } from '../../src/cli/sandbox';
import { startCm360Emulator, type Cm360Emulator } from '../../src/sandbox/cm360';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../../src/sandbox/google-ads';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { FaultSwitch } from '../../src/sandbox/shared/fault-switch';
import { batchupdateConversion } from '../helpers/cm360';

const BATCHUPDATE = '/dfareporting/v5/userprofiles/4242/conversions/batchupdate';

async function call(base: string, method: string, path: string, body?: unknown, auth = true) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(auth ? { authorization: 'Bearer t' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}
const update = (emu: Cm360Emulator, ordinals: string[]) =>
  call(emu.apiRoot, 'POST', BATCHUPDATE, {
    kind: 'dfareporting#conversionsBatchUpdateRequest',
    conversions: ordinals.map((o) => batchupdateConversion(o)),
  });

describe('parseFaultCommand', () => {
  test('a named fault with --count, options coerced to the schema’s types', () => {
    assert.deepEqual(parseFaultCommand('cm360', ['quota', '--count', '2']), {
      kind: 'set',
      body: { type: 'quota', times: 2 },
    });
    assert.deepEqual(parseFaultCommand('cm360', ['server-error', 'status=503']), {
      kind: 'set',
      body: { type: 'server-error', status: 503 },
    });
    // orderId is a string in the schema: digits stay as typed.
    assert.deepEqual(
      parseFaultCommand('google-ads', [
        'row',
        'orderId=1234',
        'category=conversion_upload_error',
        'name=TOO_RECENT_EVENT',
      ]),
      {
        kind: 'set',
        body: { type: 'row', orderId: '1234', category: 'conversion_upload_error', name: 'TOO_RECENT_EVENT' },
      },
    );
  });

  test('--for as a duration, JSON faults, clear', () => {
    assert.deepEqual(parseFaultCommand('pendo', ['auth', 'status=403', '--for', '30s']), {
      kind: 'set',
      body: { type: 'auth', status: 403, forMs: 30_000 },
    });
    assert.deepEqual(parseFaultCommand('google-ads', ['{"type":"request","code":14}']), {
      kind: 'set',
      body: { type: 'request', code: 14 },
    });
    assert.deepEqual(parseFaultCommand('hubspot', ['clear']), { kind: 'clear' });
  });

  test('usage problems are messages, never a request', () => {
    const problem = (emulator: Parameters<typeof parseFaultCommand>[0], args: string[], re: RegExp) => {
      const r = parseFaultCommand(emulator, args);
      assert.equal(typeof r, 'string', JSON.stringify(r));
      assert.match(r as string, re);
    };
    problem('cm360', [], /name a fault: server-error, quota/);
    problem('cm360', ['meteor'], /unknown CM360 fault "meteor"/);
    problem('cm360', ['quota', '--count', '2', '--for', '1m'], /not both/);
    problem('cm360', ['quota', '--count', '0'], /--count/);
    problem('cm360', ['quota', '--for', 'soon'], /--for is a duration/);
    problem('cm360', ['server-error', 'status=502'], /CM360 fault server-error: .*status/);
    problem('cm360', ['permission-denied', '--count', '1'], /not counted: give --for/);
    problem('google-ads', ['row', 'category=x', 'name=y'], /exactly one of orderId and callerId/);
    problem('hubspot', ['auth', 'status'], /not a key=value option/);
    problem('hubspot', ['clear', '--count', '1'], /clear takes no options/);
  });
});

describe('sandboxTargets', () => {
  const ports = { CM360_SANDBOX_PORT: 1, HUBSPOT_SANDBOX_PORT: 2, GOOGLE_ADS_SANDBOX_PORT: 3, PENDO_SANDBOX_PORT: 4 };
  test('defaults from the ports, Google Ads control at its port + 1000', () => {
    const t = sandboxTargets(ports, undefined);
    assert.deepEqual(t.cm360, { url: 'http://127.0.0.1:1', source: 'the default port' });
    assert.deepEqual(t['google-ads'], { url: 'http://127.0.0.1:1003', source: 'the default port' });
  });
  test('the stack file over the defaults, an explicit URL over both', () => {
    const stack = {
      pid: 42,
      startedAt: '2026-01-01T00:00:00Z',
      ports: [],
      emulators: { cm360: { controlUrl: 'http://127.0.0.1:9', endpoint: 'http://127.0.0.1:9' } },
    };
    const t = sandboxTargets({ ...ports, PENDO_SANDBOX_URL: 'http://example.test:5/' }, stack);
    assert.equal((t.cm360 as { url: string }).url, 'http://127.0.0.1:9');
    assert.match((t.hubspot as { missing: string }).missing, /runs no HubSpot emulator/);
    assert.deepEqual(t.pendo, { url: 'http://example.test:5', source: 'PENDO_SANDBOX_URL' });
  });
});

describe('FaultSwitch --for', () => {
  test('a fault set for a while clears itself by the clock', () => {
    let now = 1000;
    const faults = new FaultSwitch<{ type: 'x' }>(() => now);
    faults.set({ type: 'x' }, { forMs: 500 });
    assert.deepEqual(faults.state(), { fault: { type: 'x' }, remaining: null, expiresAt: 1500 });
    now = 1499;
    assert.equal(faults.current?.type, 'x');
    now = 1500;
    assert.equal(faults.current, undefined);
  });
});

describe('CM360 emulator: auth faults and the conversion record', () => {
  let emu: Cm360Emulator;
  before(async () => {
    emu = await startCm360Emulator();
  });
  after(() => emu.close());

  test('auth: 401 UNAUTHENTICATED by default, 403 insufficientPermissions, then it clears', async () => {
    assert.equal((await call(emu.apiRoot, 'PUT', '/_sandbox/fault', { type: 'auth', times: 2 })).status, 204);
    const first = await update(emu, ['a1']);
    assert.equal(first.status, 401);
    assert.equal((first.json.error as { status: string }).status, 'UNAUTHENTICATED');
    assert.equal((await call(emu.apiRoot, 'GET', '/_sandbox/fault')).json.remaining, 1);
    await update(emu, ['a1']);
    assert.equal((await update(emu, ['a1'])).status, 200);
    await call(emu.apiRoot, 'PUT', '/_sandbox/fault', { type: 'auth', status: 403, times: 1 });
    const forbidden = await update(emu, ['a2']);
    assert.equal(forbidden.status, 403);
    assert.equal(
      (forbidden.json.error as { errors: { reason: string }[] }).errors[0]?.reason,
      'insufficientPermissions',
    );
    assert.equal((await call(emu.apiRoot, 'PUT', '/_sandbox/fault', { type: 'auth', status: 402 })).status, 400);
    assert.equal((await call(emu.apiRoot, 'PUT', '/_sandbox/fault', { type: 'quota', forMs: -1 })).status, 400);
  });

  test('GET /_sandbox/conversions counts rows per conversion; POST reset forgets them', async () => {
    assert.equal((await call(emu.apiRoot, 'POST', '/_sandbox/conversions/reset')).status, 204);
    emu.capture(
      { floodlightConfigurationId: '99999', floodlightActivityId: '8888', ordinal: 'late' },
      Date.now() + 3_600_000,
    );
    await update(emu, ['once', 'twice', 'late']);
    await call(emu.apiRoot, 'PUT', '/_sandbox/fault', { type: 'quota', times: 1 });
    assert.equal((await update(emu, ['twice'])).status, 403);
    await update(emu, ['twice']);
    const summary = (await call(emu.apiRoot, 'GET', '/_sandbox/conversions?rows=10')).json;
    assert.equal(summary.total, 3);
    assert.equal(summary.enhancedOnce, 1);
    assert.equal(summary.enhancedMoreThanOnce, 1);
    assert.equal(summary.neverEnhanced, 1);
    assert.deepEqual(summary.rowOutcomes, { ENHANCED: 3, NOT_FOUND: 1, HTTP_403: 1 });
    const twice = (summary.conversions as { key: string }[]).find((c) => c.key === '99999-8888-twice');
    assert.deepEqual(twice, {
      ...twice,
      enhanced: 2,
      attempts: 3,
      outcomes: { ENHANCED: 2, HTTP_403: 1 },
      lastOutcome: 'ENHANCED',
      ordinal: 'twice',
    });
    assert.equal((summary.rows as unknown[]).length, 5);
    const one = await call(emu.apiRoot, 'GET', '/_sandbox/conversions/99999-8888-late');
    assert.deepEqual(
      (one.json.rows as { outcome: string }[]).map((r) => r.outcome),
      ['NOT_FOUND'],
    );
    assert.equal((await call(emu.apiRoot, 'GET', '/_sandbox/conversions/nope')).status, 404);
    assert.equal((await call(emu.apiRoot, 'GET', '/_sandbox/conversions?rows=x')).status, 400);
    assert.equal(emu.enhancementCounts().get('99999-8888-twice'), 2);

    await call(emu.apiRoot, 'POST', '/_sandbox/conversions/reset');
    const empty = (await call(emu.apiRoot, 'GET', '/_sandbox/conversions')).json;
    assert.equal(empty.total, 0);
    assert.deepEqual(empty.rows, []);
    assert.equal(emu.enhancementCounts().size, 0);
  });
});

describe('HubSpot emulator: auth fault', () => {
  let emu: HubSpotEmulator;
  before(async () => {
    emu = await startHubSpotEmulator({ seedDemo: true, rateLimit: false });
  });
  after(() => emu.close());

  test('401 INVALID_AUTHENTICATION, 403 MISSING_SCOPES, a counted fault runs out', async () => {
    await call(emu.basePath, 'PUT', '/_sandbox/fault', { type: 'auth', times: 1 }, false);
    const refused = await call(emu.basePath, 'GET', '/crm/v3/objects/contacts/1001');
    assert.equal(refused.status, 401);
    assert.equal(refused.json.category, 'INVALID_AUTHENTICATION');
    assert.equal((await call(emu.basePath, 'GET', '/crm/v3/objects/contacts/1001')).status, 200);
    await call(emu.basePath, 'PUT', '/_sandbox/fault', { type: 'auth', status: 403 }, false);
    const scopes = await call(emu.basePath, 'GET', '/crm/v3/objects/contacts/1001');
    assert.equal(scopes.status, 403);
    assert.equal(scopes.json.category, 'MISSING_SCOPES');
    await call(emu.basePath, 'DELETE', '/_sandbox/fault', undefined, false);
    // The rate-limit policy defaults to the ten-secondly one.
    await call(emu.basePath, 'PUT', '/_sandbox/fault', { type: 'rate-limit', times: 1 }, false);
    const limited = await call(emu.basePath, 'GET', '/crm/v3/objects/contacts/1001');
    assert.equal(limited.status, 429);
    assert.equal(limited.json.policyName, 'TEN_SECONDLY_ROLLING');
  });
});

describe('Google Ads emulator: HTTP control port', () => {
  let emu: GoogleAdsEmulator;
  before(async () => {
    emu = await startGoogleAdsEmulator();
  });
  after(() => emu.close());

  test('PUT sets request and row faults, GET lists them, DELETE clears, bad faults are 400', async () => {
    const base = emu.controlUrl as string;
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await call(base, 'PUT', '/_sandbox/fault', { type: 'auth', times: 2 })).status, 204);
    const row = { type: 'row', orderId: 'O-1', category: 'conversion_upload_error', name: 'TOO_RECENT_EVENT' };
    assert.equal((await call(base, 'PUT', '/_sandbox/fault', { ...row, forMs: 60_000 })).status, 204);
    const state = (await call(base, 'GET', '/_sandbox/fault')).json as {
      request: Record<string, unknown>;
      rows: Record<string, unknown>[];
    };
    assert.deepEqual(state.request, { type: 'auth', times: 2 });
    assert.equal(state.rows[0]?.orderId, 'O-1');
    assert.equal(typeof state.rows[0]?.expiresAt, 'number');
    assert.deepEqual(emu.faults().request, { type: 'auth', times: 2 });

    const unknownCode = { ...row, name: 'NOT_A_CODE' };
    const refused = await call(base, 'PUT', '/_sandbox/fault', unknownCode);
    assert.equal(refused.status, 400);
    assert.match(String(refused.json.error), /NOT_A_CODE/);
    assert.equal((await call(base, 'PUT', '/_sandbox/fault', { type: 'auth', status: 'NOPE' })).status, 400);

    assert.equal((await call(base, 'DELETE', '/_sandbox/fault')).status, 204);
    assert.deepEqual((await call(base, 'GET', '/_sandbox/fault')).json, { request: null, rows: [] });
  });
});
