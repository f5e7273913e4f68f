// Inbound calls out of HubSpot for the call-conversion relay: the calls search API (@hubspot/api-client),
// their associated contacts and deals (v4 associations batch read), deal amounts (deals batch read) and the
// account's call outcomes (`/calling/v1/dispositions`, for which the SDK has no method). Every request goes
// through the process's HubSpot rate budget; 429s are waited out as records.ts does it.
//
// Paging restarts the search at the last hs_lastmodifieddate seen instead of following HubSpot's `after`
// offsets: an offset counts positions in a list that moves whenever a call is modified (it jumps to the end),
// so offset paging skips calls, and HubSpot refuses offsets past 10,000 results. Calls already returned at that
// timestamp are skipped. When more calls share one timestamp than a page holds, that instant is read in id
// order on its own. The caller numbers are personal data: they are never logged, nor put in an error.
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@hubspot/api-client';
import {
  FilterOperatorEnum,
  type Filter,
  type PublicObjectSearchRequest,
  type SimplePublicObject,
} from '@hubspot/api-client/lib/codegen/crm/objects/calls';
import { z } from 'zod';
import { hubSpotDateToIso, hubSpotNumber } from '../../domain/hubspot/values';
import { HubSpotError, hubSpotErrorFrom, HubSpotHttpError } from './errors';
import type { HubSpotRateLimiter } from './rate-limit';
import { waitAfter429 } from './records';

export interface HubSpotCall {
  /** Exactly as HubSpot sends it (ids may exceed 2^53). */
  id: string;
  /** hs_call_direction: INBOUND or OUTBOUND. */
  direction: string;
  /** hs_call_from_number as entered, in whatever format. */
  fromNumber?: string;
  /** hs_timestamp, when the call took place (epoch ms). */
  timestampMs?: number;
  /** hs_call_duration. */
  durationMs?: number;
  /** hs_call_disposition: the GUID of the call's outcome (see dispositions()). */
  dispositionId?: string;
  /** hs_lastmodifieddate (epoch ms). */
  lastModifiedMs: number;
  contactIds: string[];
  dealIds: string[];
}

export interface HubSpotCallDisposition {
  id: string;
  label: string;
}

export interface HubSpotCallPage {
  /** In hs_lastmodifieddate order. Empty only on the last page. */
  calls: HubSpotCall[];
  /** Where the next page starts; absent when there is nothing more. Opaque, and valid across processes. */
  cursor?: string;
}

export interface ModifiedInboundCallsOptions {
  /** Epoch ms, exclusive: calls last modified after it. Ignored when `cursor` is given (it carries its own). */
  since: number;
  cursor?: string;
  /** Calls per page, 1 to 200; default 100. */
  limit?: number;
}

export interface HubSpotCallReaderOptions {
  accessToken: string;
  basePath?: string;
  limiter: HubSpotRateLimiter;
  /** How many 429s in a row one request waits out before it gives up (then Temporal retries). Default 6. */
  rateLimitRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the relay reads of a call, and no more (hs_lastmodifieddate positions the paging). */
export const HUBSPOT_CALL_PROPERTIES = [
  'hs_call_direction',
  'hs_call_from_number',
  'hs_timestamp',
  'hs_call_duration',
  'hs_call_disposition',
  'hs_lastmodifieddate',
] as const;

/** HubSpot's cap on a search page. */
export const HUBSPOT_SEARCH_PAGE_MAX = 200;
const DEFAULT_PAGE = 100;
/** HubSpot's cap on inputs of a batch read of records. */
const BATCH_READ_MAX = 100;
/** Documented: HubSpot's only call-outcome endpoint (it logs requests to it as /twilio/v1/dispositions). */
const DISPOSITIONS_PATH = '/calling/v1/dispositions';
/** The wait after a search API 429 (HubSpot allows a few searches a second per account). */
const SECONDLY_WAIT_MS = 1000;

/** Where a search resumes: after an instant; at an instant, skipping calls already returned; or within one, by id. */
type Position =
  | { mode: 'after'; at: number }
  | { mode: 'from'; at: number; seen: string[] }
  | { mode: 'tie'; at: number; afterId?: string; seen: string[] };

const idText = z.string().regex(/^\d{1,30}$/);
const cursorSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('after'), at: z.number().int() }),
  z.object({ mode: z.literal('from'), at: z.number().int(), seen: z.array(idText) }),
  z.object({ mode: z.literal('tie'), at: z.number().int(), afterId: idText.optional(), seen: z.array(idText) }),
]);
const dispositionsSchema = z.array(z.object({ id: z.string().min(1), label: z.string() }));

interface FoundCall {
  id: string;
  direction: string;
  fromNumber?: string;
  timestampMs?: number;
  durationMs?: number;
  dispositionId?: string;
  lastModifiedMs: number;
}

/**
 * HubSpot writes v4 association ids (`toObjectId`) as JSON numbers, which JSON.parse rounds past 2^53, and the
 * SDK parses every body that way: the digits are quoted before it does.
 */
const QUOTE_ASSOCIATION_IDS = {
  pre: (context: unknown) => context,
  post: (context: unknown) => {
    const response = context as { body?: { text(): Promise<string>; binary(): Promise<Buffer> } };
    const body = response.body;
    if (body) {
      response.body = {
        text: async () => (await body.text()).replace(/("toObjectId"\s*:\s*)(\d+)/g, '$1"$2"'),
        binary: () => body.binary(),
      };
    }
    return context;
  },
};

export class HubSpotCallReader {
  private readonly client: Client;
  private readonly limiter: HubSpotRateLimiter;
  private readonly retries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly api: {
    calls: Client['crm']['objects']['calls']['searchApi'];
    associations: Client['crm']['associations']['v4']['batchApi'];
    deals: Client['crm']['deals']['batchApi'];
  };

  constructor(opts: HubSpotCallReaderOptions) {
    this.client = new Client({
      accessToken: opts.accessToken,
      ...(opts.basePath ? { basePath: opts.basePath.replace(/\/+$/, '') } : {}),
      middleware: [QUOTE_ASSOCIATION_IDS],
    });
    // Touched now so this client's (empty) retry decorators are pinned, whatever clients are created later.
    this.api = {
      calls: this.client.crm.objects.calls.searchApi,
      associations: this.client.crm.associations.v4.batchApi,
      deals: this.client.crm.deals.batchApi,
    };
    this.limiter = opts.limiter;
    this.retries = opts.rateLimitRetries ?? 6;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
  }

  /** The account's call outcomes, default and custom: the GUIDs hs_call_disposition holds and their labels. */
  async dispositions(): Promise<HubSpotCallDisposition[]> {
    const operation = 'read call dispositions';
    const body = await this.call(operation, async () => {
      const res = await this.client.apiRequest({ method: 'GET', path: DISPOSITIONS_PATH });
      const text = await res.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!res.ok) throw new HubSpotHttpError(res.status, json, Object.fromEntries(res.headers));
      return json;
    });
    const parsed = dispositionsSchema.safeParse(body);
    if (!parsed.success) throw invalidResponse(operation);
    return parsed.data.map(({ id, label }) => ({ id, label }));
  }

  /**
   * One page of inbound calls last modified after `since` (or from `cursor` on), oldest modification first,
   * each with its associated contact and deal ids. A call modified again while a caller pages comes back again
   * later, with its new values.
   */
  async modifiedInboundCalls(opts: ModifiedInboundCallsOptions): Promise<HubSpotCallPage> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > HUBSPOT_SEARCH_PAGE_MAX) {
      throw new RangeError(`limit must be an integer from 1 to ${HUBSPOT_SEARCH_PAGE_MAX}`);
    }
    let position: Position | undefined;
    if (opts.cursor !== undefined) position = decodeCursor(opts.cursor);
    else if (Number.isSafeInteger(opts.since)) position = { mode: 'after', at: opts.since };
    else throw new RangeError('since must be epoch milliseconds');

    const found: FoundCall[] = [];
    // A page can hold nothing new (calls already returned, at an instant shared by more than a page); reading on
    // here keeps an empty page meaning the end.
    while (position && found.length === 0) {
      const page = await this.searchPage(position, limit);
      found.push(...page.fresh);
      position = page.next;
    }
    const calls = await this.withAssociations(found);
    return { calls, ...(position ? { cursor: encodeCursor(position) } : {}) };
  }

  /** The `amount` of each deal (undefined when it has none, or the deal does not exist), 100 deals a request. */
  async dealAmounts(dealIds: string[]): Promise<Map<string, number | undefined>> {
    const ids = [...new Set(dealIds)];
    const amounts = new Map<string, number | undefined>(ids.map((id) => [id, undefined]));
    for (let i = 0; i < ids.length; i += BATCH_READ_MAX) {
      const inputs = ids.slice(i, i + BATCH_READ_MAX).map((id) => ({ id }));
      // A deleted deal is an error entry of a 207, not a rejection; it keeps its undefined amount.
      const res = await this.call('read deal amounts', () =>
        this.api.deals.read({ inputs, properties: ['amount'], propertiesWithHistory: [] }),
      );
      for (const deal of res.results) amounts.set(String(deal.id), hubSpotNumber(deal.properties.amount));
    }
    return amounts;
  }

  private async searchPage(position: Position, limit: number): Promise<{ fresh: FoundCall[]; next?: Position }> {
    const operation = 'search calls';
    const request = searchRequest(position, limit);
    const res = await this.call(operation, () => this.api.calls.doSearch(request));
    const results = res.results.map((r) => toFoundCall(r, operation));
    const seen = new Set(position.mode === 'after' ? [] : position.seen);
    const fresh = results.filter((c) => !seen.has(c.id));
    const more = res.paging?.next?.after !== undefined;
    if (!more) return { fresh, ...(position.mode === 'tie' ? { next: { mode: 'after', at: position.at } } : {}) };

    const first = results[0];
    const last = results[results.length - 1];
    // "More" with nothing on the page would repeat this request forever.
    if (!first || !last) throw invalidResponse(operation);
    if (position.mode === 'tie') {
      const afterId = results.map((c) => c.id).reduce((a, b) => (compareIds(a, b) >= 0 ? a : b));
      const seenLater = position.seen.filter((id) => compareIds(id, afterId) > 0);
      return { fresh, next: { mode: 'tie', at: position.at, afterId, seen: seenLater } };
    }
    const at = last.lastModifiedMs;
    if (first.lastModifiedMs === at) {
      // The whole page shares one instant, so more calls may share it than a page holds.
      const carried = position.mode === 'from' && position.at === at ? position.seen : [];
      return { fresh, next: { mode: 'tie', at, seen: [...new Set([...carried, ...results.map((c) => c.id)])] } };
    }
    const seenAtLast = results.filter((c) => c.lastModifiedMs === at).map((c) => c.id);
    return { fresh, next: { mode: 'from', at, seen: seenAtLast } };
  }

  private async withAssociations(found: FoundCall[]): Promise<HubSpotCall[]> {
    if (found.length === 0) return [];
    const ids = found.map((c) => c.id);
    const contacts = await this.associated('contacts', ids);
    const deals = await this.associated('deals', ids);
    return found.map((c) => ({ ...c, contactIds: contacts.get(c.id) ?? [], dealIds: deals.get(c.id) ?? [] }));
  }

  /** Call id → associated ids, for a page of calls (HubSpot takes 1,000 inputs), following each call's paging. */
  private async associated(to: 'contacts' | 'deals', callIds: string[]): Promise<Map<string, string[]>> {
    const operation = `read call ${to}`;
    const ids = new Map<string, Set<string>>();
    const lastAfter = new Map<string, string>();
    let inputs: { id: string; after?: string }[] = callIds.map((id) => ({ id }));
    while (inputs.length > 0) {
      const batch = inputs;
      const res = await this.call(operation, () => this.api.associations.getPage('calls', to, { inputs: batch }));
      // A call without associations is an error entry of a 207 (NO_ASSOCIATIONS_FOUND), as is one deleted since
      // the search; anything else leaves the associations unknown, and guessing "none" would lose a conversion.
      const errors = 'errors' in res ? (res.errors ?? []) : [];
      const failed = errors.find((e) => e.category !== 'OBJECT_NOT_FOUND');
      if (failed) {
        throw new HubSpotError({
          status: 207,
          kind: 'transient',
          retryable: true,
          operation,
          category: failed.category,
        });
      }
      inputs = [];
      for (const result of res.results) {
        const from = String(result._from.id);
        const set = ids.get(from) ?? new Set<string>();
        for (const target of result.to) set.add(String(target.toObjectId));
        ids.set(from, set);
        const after = result.paging?.next?.after;
        if (after === undefined) continue;
        if (lastAfter.get(from) === after) throw invalidResponse(operation);
        lastAfter.set(from, after);
        inputs.push({ id: from, after });
      }
    }
    return new Map([...ids].map(([id, set]) => [id, [...set]]));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.schedule(fn);
      } catch (err) {
        const e = hubSpotErrorFrom(err, operation);
        if (e.kind !== 'rate-limit' || e.policy === 'DAILY' || attempt >= this.retries) throw e;
        await this.sleep(e.policy === 'SECONDLY' ? SECONDLY_WAIT_MS : waitAfter429(err));
      }
    }
  }
}

// The SDK types `sorts` as strings; HubSpot documents the object form, which the SDK passes through as it is.
const ascending = (propertyName: string) => ({ propertyName, direction: 'ASCENDING' }) as unknown as string;

function searchRequest(position: Position, limit: number): PublicObjectSearchRequest {
  const inbound: Filter = { propertyName: 'hs_call_direction', operator: FilterOperatorEnum.Eq, value: 'INBOUND' };
  const modified = (operator: FilterOperatorEnum): Filter => ({
    propertyName: 'hs_lastmodifieddate',
    operator,
    value: String(position.at),
  });
  const base = { properties: [...HUBSPOT_CALL_PROPERTIES], limit };
  if (position.mode === 'tie') {
    const afterId: Filter[] = position.afterId
      ? [{ propertyName: 'hs_object_id', operator: FilterOperatorEnum.Gt, value: position.afterId }]
      : [];
    return {
      ...base,
      filterGroups: [{ filters: [inbound, modified(FilterOperatorEnum.Eq), ...afterId] }],
      sorts: [ascending('hs_object_id')],
    };
  }
  const operator = position.mode === 'after' ? FilterOperatorEnum.Gt : FilterOperatorEnum.Gte;
  return {
    ...base,
    filterGroups: [{ filters: [inbound, modified(operator)] }],
    sorts: [ascending('hs_lastmodifieddate')],
  };
}

function toFoundCall(raw: SimplePublicObject, operation: string): FoundCall {
  const p = raw.properties;
  const updatedAt = raw.updatedAt instanceof Date ? raw.updatedAt.getTime() : undefined;
  const lastModifiedMs = hubSpotTimeMs(p.hs_lastmodifieddate) ?? updatedAt;
  if (lastModifiedMs === undefined || !Number.isFinite(lastModifiedMs)) throw invalidResponse(operation);
  const fromNumber = nonEmpty(p.hs_call_from_number);
  const timestampMs = hubSpotTimeMs(p.hs_timestamp);
  const durationMs = hubSpotNumber(p.hs_call_duration);
  const dispositionId = nonEmpty(p.hs_call_disposition);
  return {
    id: String(raw.id),
    direction: p.hs_call_direction ?? '',
    ...(fromNumber !== undefined ? { fromNumber } : {}),
    ...(timestampMs !== undefined ? { timestampMs } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(dispositionId !== undefined ? { dispositionId } : {}),
    lastModifiedMs,
  };
}

/** A HubSpot datetime value (ISO 8601 or epoch ms text) as epoch ms. */
function hubSpotTimeMs(value: string | null | undefined): number | undefined {
  const iso = hubSpotDateToIso(value);
  return iso === undefined ? undefined : Date.parse(iso);
}

const nonEmpty = (value: string | null | undefined) =>
  value === null || value === undefined || value.trim() === '' ? undefined : value;

/** Numeric ids as text, compared as numbers without BigInt: a shorter id is smaller. */
const compareIds = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);

const invalidResponse = (operation: string) =>
  new HubSpotError({ status: 200, kind: 'transient', retryable: true, operation, category: 'INVALID_RESPONSE' });

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) {
    throw new HubSpotError({
      status: 0,
      kind: 'invalid',
      retryable: false,
      operation: 'search calls',
      category: 'INVALID_CURSOR',
    });
  }
  return parsed.data;
}
