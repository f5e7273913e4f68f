// `relay sandbox fault|faults|cm360 conversions` as an operator runs them, against the four emulators started the
// way `npm start` starts them (free ports here), found through the *_SANDBOX_URL variables; all over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCm360Emulator, type Cm360Emulator } from '../../src/sandbox/cm360';
import { startGoogleAdsEmulator, type GoogleAdsEmulator } from '../../src/sandbox/google-ads';
import { DEMO_PENDO, startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { startPendoEmulator, type PendoEmulator } from '../../src/sandbox/pendo';
import { batchupdateConversion } from '../helpers/cm360';
import { runRelay } from '../helpers/cli';

const BATCHUPDATE = '/dfareporting/v5/userprofiles/4242/conversions/batchupdate';

describe('relay sandbox', () => {
  let cm360: Cm360Emulator;
  let hubspot: HubSpotEmulator;
  let googleAds: GoogleAdsEmulator;
  let pendo: PendoEmulator;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [cm360, hubspot, googleAds, pendo] = await Promise.all([
      startCm360Emulator(),
      startHubSpotEmulator({ seedDemo: true }),
      startGoogleAdsEmulator({ controlPort: 0 }),
      startPendoEmulator({ seedDemo: DEMO_PENDO }),
    ]);
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CM360_SANDBOX_URL: cm360.apiRoot,
      HUBSPOT_SANDBOX_URL: hubspot.basePath,
      GOOGLE_ADS_SANDBOX_CONTROL_URL: googleAds.controlUrl,
      PENDO_SANDBOX_URL: pendo.baseUrl,
    };
  });
  after(() => Promise.all([cm360.close(), hubspot.close(), googleAds.close(), pendo.close()]));

  const enhance = (ordinal: string) =>
    fetch(`${cm360.apiRoot}${BATCHUPDATE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sandbox' },
      body: JSON.stringify({
        kind: 'dfareporting#conversionsBatchUpdateRequest',
        conversions: [batchupdateConversion(ordinal)],
      }),
    }).then((r) => r.status);

  test('fault cm360 quota --count 1: the next request is a 403, then the emulator recovers; faults lists it', async () => {
    const set = await runRelay(['sandbox', 'fault', 'cm360', 'quota', '--count', '1'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /CM360: fault quota set for the next 1 use/);

    const listed = await runRelay(['sandbox', 'faults'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`cm360 \\(CM360 emulator at ${cm360.apiRoot}: set: quota, 1 left\\)`));
    assert.match(listed.stdout, /google-ads \(Google Ads emulator at http:\/\/127\.0\.0\.1:\d+: no fault set\)/);
    for (const line of [
      /^ {2}auth +the access token is refused: HTTP 401/m,
      /^ {2}busy +metadata writes answer 409/m,
    ]) {
      assert.match(listed.stdout, line);
    }

    assert.equal(await enhance('e2e-1'), 403);
    assert.equal(await enhance('e2e-1'), 200);
    assert.equal(await enhance('e2e-2'), 200);
  });

  test('auth faults on every emulator, then clear', async () => {
    const runs = await Promise.all([
      runRelay(['sandbox', 'fault', 'hubspot', 'auth', '--for', '5m'], env),
      runRelay(['sandbox', 'fault', 'google-ads', 'auth', 'status=PERMISSION_DENIED', '--count', '2'], env),
      runRelay(['sandbox', 'fault', 'pendo', 'auth', 'status=403'], env),
    ]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.match(runs[0].stdout, /HubSpot: fault auth set for 5m/);

    const contact = await fetch(`${hubspot.basePath}/crm/v3/objects/contacts/1001`, {
      headers: { authorization: 'Bearer sandbox' },
    });
    assert.equal(contact.status, 401);
    const state = (await (await fetch(`${googleAds.controlUrl}/_sandbox/fault`)).json()) as { request: unknown };
    assert.deepEqual(state.request, { type: 'auth', status: 'PERMISSION_DENIED', times: 2 });
    const write = await fetch(`${pendo.baseUrl}/api/v1/metadata/visitor/custom/value`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pendo-integration-key': 'k' },
      body: '[]',
    });
    assert.equal(write.status, 403);

    const cleared = await Promise.all(
      ['hubspot', 'google-ads'].map((e) => runRelay(['sandbox', 'fault', e, 'clear'], env)),
    );
    for (const r of cleared) assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (await fetch(`${hubspot.basePath}/crm/v3/objects/contacts/1001`, { headers: { authorization: 'Bearer x' } }))
        .status,
      200,
    );
    assert.deepEqual(await (await fetch(`${googleAds.controlUrl}/_sandbox/fault`)).json(), { request: null, rows: [] });
  });

  test('a bad fault is a usage error naming the problem; an emulator that does not answer is exit 1', async () => {
    const unknown = await runRelay(['sandbox', 'fault', 'cm360', 'meteor'], env);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /unknown CM360 fault "meteor": server-error, quota, permission-denied, internal, auth/,
    );
    const away = await runRelay(['sandbox', 'fault', 'cm360', 'clear'], {
      ...env,
      CM360_SANDBOX_URL: 'http://127.0.0.1:1',
    });
    assert.equal(away.code, 1);
    assert.match(away.stderr, /no CM360 emulator answers at http:\/\/127\.0\.0\.1:1 \(from CM360_SANDBOX_URL\)/);
  });

  test('cm360 conversions: enhanced exactly once or not, per conversion; reset', async () => {
    const shown = await runRelay(['sandbox', 'cm360', 'conversions', '--exactly-once'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /2 conversions seen: 2 enhanced exactly once, 0 more than once, 0 never/);
    assert.match(shown.stdout, /^99999-8888-e2e-1 +1 +2 +ENHANCED +HTTP_403 1, ENHANCED 1$/m);

    assert.equal(await enhance('e2e-2'), 200);
    const twice = await runRelay(['sandbox', 'cm360', 'conversions', '--exactly-once', '--json'], env);
    assert.equal(twice.code, 1);
    assert.equal((JSON.parse(twice.stdout) as { enhancedMoreThanOnce: number }).enhancedMoreThanOnce, 1);
    assert.match(twice.stderr, /not every conversion was enhanced exactly once/);

    const reset = await runRelay(['sandbox', 'cm360', 'conversions', 'reset'], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(cm360.conversions().total, 0);
  });
});
