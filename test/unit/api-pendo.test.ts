// The Pendo routes' edge, without Temporal: the api key, a config without a pendo section, and bad input.
// What they do against a real server is tested end to end (test/e2e/pendo-import.test.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../src/api/server';
import { DEFAULT_CM360_TIMING } from '../../src/domain/cm360/outcomes';
import { BOTH_LEVELS, startPendoParts } from '../helpers/pendo';

const API_KEY = 'pendo-routes-key';
const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) });
const cm360 = { temporal, taskQueue: 'unused', profileId: 'p1', timing: DEFAULT_CM360_TIMING };
const auth = { authorization: `Bearer ${API_KEY}` };

const unconfigured = buildApi({ apiKey: API_KEY, maxBodyBytes: 1024, cm360, pendo: { temporal, taskQueue: 'tq' } });
after(async () => {
  await unconfigured.close();
});

describe('Pendo routes', () => {
  test('every route needs the api key', async () => {
    for (const [method, url] of [
      ['POST', '/v1/pendo/sync'],
      ['GET', '/v1/pendo/status'],
      ['GET', '/v1/pendo/preview'],
      ['GET', '/v1/pendo/runs/pendo-import-manual-x'],
    ] as const) {
      assert.equal((await unconfigured.inject({ method, url })).statusCode, 401, url);
    }
  });

  test('without a pendo section the routes say what is missing', async () => {
    for (const [method, url] of [
      ['POST', '/v1/pendo/sync'],
      ['GET', '/v1/pendo/status'],
      ['GET', '/v1/pendo/preview'],
    ] as const) {
      const res = await unconfigured.inject({ method, url, headers: auth });
      assert.equal(res.statusCode, 503, url);
      assert.match(res.json<{ error: string }>().error, /add a pendo section to the RELAY_CONFIG file/);
    }
  });

  test('a run id that is not a Pendo import, and a bad preview query, are 400s naming the field', async () => {
    const run = await unconfigured.inject({ method: 'GET', url: '/v1/pendo/runs/cm360-enhance-1', headers: auth });
    assert.equal(run.statusCode, 400);
    assert.equal(run.json<{ issues: { field: string }[] }>().issues[0]?.field, 'workflowId');
    const parts = await startPendoParts();
    const api = buildApi({
      apiKey: API_KEY,
      maxBodyBytes: 1024,
      cm360,
      pendo: {
        temporal,
        taskQueue: 'tq',
        config: BOTH_LEVELS,
        clients: { hubspot: parts.reader, pendo: parts.pendoClient },
      },
    });
    try {
      for (const query of ['level=company', 'limit=0', 'limit=1000', 'colour=blue']) {
        const res = await api.inject({ method: 'GET', url: `/v1/pendo/preview?${query}`, headers: auth });
        assert.equal(res.statusCode, 400, query);
      }
      for (const [method, url] of [
        ['POST', '/v1/pendo/sync'],
        ['GET', '/v1/pendo/status'],
      ] as const) {
        const res = await api.inject({ method, url, headers: auth });
        assert.equal(res.statusCode, 503, `${url} with Temporal down`);
        assert.match(res.json<{ error: string }>().error, /Temporal is unavailable/);
      }
      const ok = await api.inject({ method: 'GET', url: '/v1/pendo/preview?level=account&limit=1', headers: auth });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers['cache-control'], 'no-store');
      parts.hubspot.setFault({ type: 'server-error', status: 503 });
      const down = await api.inject({ method: 'GET', url: '/v1/pendo/preview', headers: auth });
      assert.equal(down.statusCode, 502, 'a vendor failure is not ours');
      assert.match(down.json<{ error: string }>().error, /HubSpot .* failed: HTTP 503/);
    } finally {
      await api.close();
      await parts.close();
    }
  });
});
