// Reading whole object types out of HubSpot for the nightly Pendo import: the CRM list API through
// @hubspot/api-client (100 a page, only the chosen properties, `after` cursor), property definitions, and a
// record count for progress. Every call goes through the process's HubSpot rate budget; a ten-secondly 429 is
// waited out here as HubSpot's headers say (Retry-After, else the window), a daily one is thrown.
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@hubspot/api-client';
import { HUBSPOT_PAGE_MAX } from '../../domain/pendo/types';
import type { HubSpotPropertyDefinition } from '../../domain/pendo/translate';
import { HubSpotError, hubSpotErrorFrom } from './errors';
import type { HubSpotRateLimiter } from './rate-limit';

export type HubSpotListObject = 'contacts' | 'companies';

export interface HubSpotRecord {
  id: string;
  /** Exactly as HubSpot returns them: a leading space stays, an unset property is null. */
  properties: Record<string, string | null>;
}

export interface HubSpotRecordPage {
  records: HubSpotRecord[];
  /** Cursor of the next page; absent on the last. */
  after?: string;
}

export interface HubSpotRecordReaderOptions {
  accessToken: string;
  basePath?: string;
  limiter: HubSpotRateLimiter;
  /** How many 429s in a row one call waits out before it gives up (then Temporal retries). Default 6. */
  rateLimitRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** HubSpot's rolling window when a 429 names none. */
const DEFAULT_WINDOW_MS = 10_000;

export class HubSpotRecordReader {
  private readonly client: Client;
  private readonly limiter: HubSpotRateLimiter;
  private readonly retries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly api: {
    contacts: Client['crm']['contacts'];
    companies: Client['crm']['companies'];
    properties: Client['crm']['properties']['coreApi'];
  };

  constructor(opts: HubSpotRecordReaderOptions) {
    this.client = new Client({
      accessToken: opts.accessToken,
      ...(opts.basePath ? { basePath: opts.basePath.replace(/\/+$/, '') } : {}),
    });
    // Touched now so this client's (empty) retry decorators are pinned, whatever clients are created later.
    this.api = {
      contacts: this.client.crm.contacts,
      companies: this.client.crm.companies,
      properties: this.client.crm.properties.coreApi,
    };
    void this.api.contacts.basicApi;
    void this.api.companies.basicApi;
    void this.api.contacts.searchApi;
    void this.api.companies.searchApi;
    this.limiter = opts.limiter;
    this.retries = opts.rateLimitRetries ?? 6;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
  }

  /** One page of the list API with only `properties` (the id is always there). */
  async page(object: HubSpotListObject, properties: readonly string[], after?: string): Promise<HubSpotRecordPage> {
    const res = await this.call(`list ${object}`, () =>
      this.api[object].basicApi.getPage(HUBSPOT_PAGE_MAX, after, [...properties], undefined, undefined, false),
    );
    const next = res.paging?.next?.after;
    if (next !== undefined && next === after) {
      throw new HubSpotError({ status: 200, kind: 'transient', retryable: true, operation: `list ${object}` });
    }
    return {
      records: res.results.map((r) => ({ id: String(r.id), properties: { ...r.properties } })),
      ...(next ? { after: next } : {}),
    };
  }

  async propertyDefinitions(object: HubSpotListObject): Promise<HubSpotPropertyDefinition[]> {
    const res = await this.call(`read ${object} properties`, () => this.api.properties.getAll(object, false));
    return res.results.map((p) => ({
      name: p.name,
      type: p.type,
      fieldType: p.fieldType,
      calculated: p.calculated ?? false,
      referencedObjectType: p.referencedObjectType ?? null,
      hasUniqueValue: p.hasUniqueValue ?? false,
    }));
  }

  /** How many records the object has, from the search API's total; undefined when HubSpot does not say. */
  async count(object: HubSpotListObject): Promise<number | undefined> {
    try {
      const res = await this.call(`count ${object}`, () =>
        this.api[object].searchApi.doSearch({ limit: 1, properties: ['hs_object_id'], filterGroups: [] }),
      );
      return Number.isSafeInteger(res.total) ? res.total : undefined;
    } catch (err) {
      // Only a progress estimate: a missing count must not stop an import.
      if (err instanceof HubSpotError && err.kind !== 'auth') return undefined;
      throw err;
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.schedule(fn);
      } catch (err) {
        const e = hubSpotErrorFrom(err, operation);
        if (e.kind !== 'rate-limit' || e.policy === 'DAILY' || attempt >= this.retries) throw e;
        await this.sleep(waitAfter429(err));
      }
    }
  }
}

/** Retry-After (seconds) when HubSpot sends it, else the rate-limit window it names, else 10 s. */
export function waitAfter429(err: unknown): number {
  const headers = (err as { headers?: Record<string, string | undefined> } | undefined)?.headers ?? {};
  const get = (name: string) => {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
    return undefined;
  };
  const retryAfter = Number(get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter, 60) * 1000;
  const window = Number(get('x-hubspot-ratelimit-interval-milliseconds'));
  return Number.isFinite(window) && window > 0 ? Math.min(window, 60_000) : DEFAULT_WINDOW_MS;
}
