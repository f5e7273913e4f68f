// Flow E's real parts for tests: the HubSpot and Pendo emulators, the real record reader (over
// @hubspot/api-client) and Pendo client, and the real activity factory over them.
import { createPendoActivities, type PendoActivityDeps, type RunningImport } from '../../src/activities/pendo';
import { HubSpotRateLimiter } from '../../src/clients/hubspot/rate-limit';
import { HubSpotRecordReader } from '../../src/clients/hubspot/records';
import { PendoClient } from '../../src/clients/pendo/client';
import { parseConversionEventsConfig } from '../../src/config/conversion-events';
import type { PendoConfig } from '../../src/domain/pendo/config';
import { startHubSpotEmulator, type HubSpotEmulator } from '../../src/sandbox/hubspot';
import { startPendoEmulator, type PendoEmulator } from '../../src/sandbox/pendo';

export const HUBSPOT_TOKEN = 'pendo-test-hubspot-token';
export const PENDO_KEY = 'pendo-test-integration-key';

/** A `pendo:` section, read by the real config loader. */
export function pendoConfig(yaml: string): PendoConfig {
  const { pendo, problems } = parseConversionEventsConfig(yaml, 'yaml');
  if (!pendo || problems.length > 0) throw new Error(`bad test config: ${JSON.stringify(problems)}`);
  return pendo;
}

export const BOTH_LEVELS = pendoConfig(`
pendo:
  timeZone: Asia/Tokyo
  visitor:
    idProperty: pendo_visitor_id
    properties: [lifecyclestage, num_employees, newsletter_opt_in, renewal_date, last_login_at, interests, contract_pdf]
  account:
    idProperty: pendo_account_id
    properties: [name, annualrevenue, is_public]
`);

export interface PendoParts {
  hubspot: HubSpotEmulator;
  pendo: PendoEmulator;
  reader: HubSpotRecordReader;
  pendoClient: PendoClient;
  close(): Promise<void>;
}

export async function startPendoParts(): Promise<PendoParts> {
  const hubspot = await startHubSpotEmulator({ accessToken: HUBSPOT_TOKEN, rateLimit: false });
  const pendo = await startPendoEmulator({ integrationKey: PENDO_KEY });
  const reader = new HubSpotRecordReader({
    accessToken: HUBSPOT_TOKEN,
    basePath: hubspot.basePath,
    limiter: new HubSpotRateLimiter({ max: 1000, intervalMs: 1000 }),
    sleep: () => Promise.resolve(),
  });
  // Backoff between in-process 409/429 retries is real time, which the test server cannot skip: 1 ms here.
  const pendoClient = new PendoClient({
    baseUrl: pendo.baseUrl,
    integrationKey: PENDO_KEY,
    sleep: () => new Promise((r) => setTimeout(r, 1)),
  });
  return {
    hubspot,
    pendo,
    reader,
    pendoClient,
    close: async () => {
      await hubspot.close();
      await pendo.close();
    },
  };
}

export function pendoActivities(
  parts: PendoParts,
  opts: {
    config?: PendoConfig;
    running?: RunningImport[];
    hubspot?: PendoActivityDeps['hubspot'];
    circuits?: PendoActivityDeps['circuits'];
  } = {},
) {
  return createPendoActivities({
    config: opts.config ?? BOTH_LEVELS,
    hubspot: opts.hubspot ?? parts.reader,
    pendo: parts.pendoClient,
    runningImports: () => Promise.resolve(opts.running ?? []),
    ...(opts.circuits ? { circuits: opts.circuits } : {}),
  });
}

/** `n` contacts with Pendo visitor ids `v-<first>…`, ids from `firstId` on; Pendo knows each id. */
export function seedVisitors(parts: PendoParts, n: number, opts: { firstId?: number; prefix?: string } = {}): string[] {
  const firstId = opts.firstId ?? 5000;
  const prefix = opts.prefix ?? 'v-';
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const visitorId = `${prefix}${i}`;
    parts.hubspot.upsertContact(String(firstId + i), {
      pendo_visitor_id: visitorId,
      lifecyclestage: i % 2 === 0 ? 'lead' : 'customer',
      num_employees: String(i),
    });
    ids.push(visitorId);
  }
  parts.pendo.addIds('visitor', ids);
  return ids;
}
