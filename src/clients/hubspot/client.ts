// A thin typed client over @hubspot/api-client for the CRM reads the relay makes. The SDK does the HTTP;
// this file decides what a "missing" record is, which deal is "the most recent", and turns every
// rejection into a classified HubSpotError.
import { Client } from '@hubspot/api-client';
import { hubSpotDateToIso, hubSpotNumber } from '../../domain/hubspot/values';
import { HubSpotError, hubSpotErrorFrom } from './errors';
import type { HubSpotRateLimiter } from './rate-limit';

export interface HubSpotDeal {
  id: string;
  amount?: number;
  /** hs_deal_stage_probability, 0..1. */
  probability?: number;
  closed: boolean;
  closedWon: boolean;
  /** ISO 8601. */
  createdAt?: string;
}

/** One past value of a property: what it was set to, and when (ISO 8601). */
export interface HubSpotPropertyChange {
  value: string;
  timestamp: string;
}

export interface HubSpotContact {
  id: string;
  properties: Record<string, string | null>;
  /** For the properties asked for with history: their changes, newest first, as HubSpot lists them. */
  history: Record<string, HubSpotPropertyChange[]>;
}

export interface HubSpotCrmClientOptions {
  /** Private app token or OAuth access token. */
  accessToken: string;
  /** Scheme, host and port, no trailing slash; replaces https://api.hubapi.com (emulators). */
  basePath?: string;
  /**
   * In-process SDK retries of 5xx (and of ten-secondly 429s, when the SDK can see the policy), 0..5.
   * Default 0: Temporal's activity retries are the retry policy, visible in history.
   */
  retries?: number;
  /** The process's HubSpot request budget, shared with every other HubSpot client of the same app. */
  limiter?: HubSpotRateLimiter;
}

export const DEAL_PROPERTIES = [
  'amount',
  'hs_deal_stage_probability',
  'hs_is_closed',
  'hs_is_closed_won',
  'dealstage',
  'createdate',
  'closedate',
] as const;

/** HubSpot's cap on inputs of a batch read. */
const BATCH_READ_MAX = 100;
/** HubSpot's cap on a v4 associations page. */
const ASSOCIATIONS_PAGE_MAX = 500;

export class HubSpotCrmClient {
  private readonly contacts: Client['crm']['contacts']['basicApi'];
  private readonly deals: Client['crm']['deals']['batchApi'];
  private readonly associations: Client['crm']['associations']['v4']['basicApi'];
  private readonly limit: <T>(call: () => Promise<T>) => Promise<T>;

  constructor(opts: HubSpotCrmClientOptions) {
    const retries = opts.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0 || retries > 5) {
      throw new RangeError('HubSpotCrmClient retries must be an integer from 0 to 5');
    }
    const client = new Client({
      accessToken: opts.accessToken,
      ...(opts.basePath ? { basePath: opts.basePath.replace(/\/+$/, '') } : {}),
      // The SDK's option counts attempts, not retries: 1 would mean "no retry".
      ...(retries > 0 ? { numberOfApiCallRetries: retries + 1 } : {}),
    });
    // The SDK keeps its retry/limiter decorators in a process-wide singleton that the latest `new Client()`
    // overwrites, and applies them when an API object is first touched. Touching them now pins this
    // client's decorators, whatever other clients are created later.
    this.contacts = client.crm.contacts.basicApi;
    this.deals = client.crm.deals.batchApi;
    this.associations = client.crm.associations.v4.basicApi;
    const limiter = opts.limiter;
    this.limit = limiter ? (call) => limiter.schedule(call) : (call) => call();
  }

  /**
   * One contact with the given properties (a property without a value is null) and the history of those in
   * `withHistory`, or undefined if it does not exist.
   */
  async getContact(
    contactId: string,
    properties: string[],
    withHistory: string[] = [],
  ): Promise<HubSpotContact | undefined> {
    try {
      const contact = await this.limit(() =>
        this.contacts.getById(contactId, properties, withHistory.length > 0 ? withHistory : undefined),
      );
      const history: Record<string, HubSpotPropertyChange[]> = {};
      for (const [name, changes] of Object.entries(contact.propertiesWithHistory ?? {})) {
        history[name] = changes.flatMap((c) => {
          const at = c.timestamp instanceof Date ? c.timestamp.getTime() : NaN;
          return Number.isFinite(at) ? [{ value: c.value, timestamp: new Date(at).toISOString() }] : [];
        });
      }
      return { id: String(contact.id), properties: { ...contact.properties }, history };
    } catch (err) {
      const e = hubSpotErrorFrom(err, 'getContact');
      if (e.kind === 'not-found') return undefined;
      throw e;
    }
  }

  /** The contact's associated deal created last, or undefined when it has none (or does not exist). */
  async getMostRecentDeal(contactId: string): Promise<HubSpotDeal | undefined> {
    const dealIds = await this.associatedDealIds(contactId);
    if (dealIds === undefined || dealIds.length === 0) return undefined;

    const deals: HubSpotDeal[] = [];
    for (let i = 0; i < dealIds.length; i += BATCH_READ_MAX) {
      const inputs = dealIds.slice(i, i + BATCH_READ_MAX).map((id) => ({ id }));
      try {
        // A deleted deal comes back as a 207 error entry, not a rejection; it is simply absent here.
        const page = await this.limit(() =>
          this.deals.read({ inputs, properties: [...DEAL_PROPERTIES], propertiesWithHistory: [] }),
        );
        for (const raw of page.results) deals.push(toDeal(raw));
      } catch (err) {
        throw hubSpotErrorFrom(err, 'readDeals');
      }
    }
    return mostRecent(deals);
  }

  private async associatedDealIds(contactId: string): Promise<string[] | undefined> {
    const ids = new Set<string>();
    let after: string | undefined;
    do {
      let page: Awaited<ReturnType<HubSpotCrmClient['associations']['getPage']>>;
      try {
        page = await this.limit(() =>
          this.associations.getPage('contacts', contactId, 'deals', after, ASSOCIATIONS_PAGE_MAX),
        );
      } catch (err) {
        const e = hubSpotErrorFrom(err, 'getContactDeals');
        if (e.kind === 'not-found') return undefined;
        throw e;
      }
      // HubSpot sends toObjectId as a JSON number although the SDK types it as a string.
      for (const a of page.results) ids.add(String(a.toObjectId));
      const next = page.paging?.next?.after;
      if (next !== undefined && next === after) {
        throw new HubSpotError({ status: 200, kind: 'transient', retryable: true, operation: 'getContactDeals' });
      }
      after = next;
    } while (after);
    return [...ids];
  }
}

interface RawDeal {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date;
}

function toDeal(raw: RawDeal): HubSpotDeal {
  const p = raw.properties;
  const createdAt =
    hubSpotDateToIso(p.createdate) ??
    (raw.createdAt instanceof Date && Number.isFinite(raw.createdAt.getTime())
      ? raw.createdAt.toISOString()
      : undefined);
  return {
    id: String(raw.id),
    amount: hubSpotNumber(p.amount),
    probability: hubSpotNumber(p.hs_deal_stage_probability),
    closed: p.hs_is_closed === 'true',
    closedWon: p.hs_is_closed_won === 'true',
    ...(createdAt ? { createdAt } : {}),
  };
}

/** Latest createdAt wins; a deal without one loses to any deal with one; ties go to the higher id. */
export function mostRecent(deals: HubSpotDeal[]): HubSpotDeal | undefined {
  const time = (d: HubSpotDeal) => (d.createdAt ? Date.parse(d.createdAt) : Number.NEGATIVE_INFINITY);
  const idOrder = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);
  let best: HubSpotDeal | undefined;
  for (const d of deals) {
    if (!best || time(d) > time(best) || (time(d) === time(best) && idOrder(d.id, best.id) > 0)) best = d;
  }
  return best;
}

export { hubSpotDateToIso, hubSpotNumber };
