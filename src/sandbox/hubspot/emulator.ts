// A local stand-in for the HubSpot CRM API (v3 objects and properties, v4 associations), speaking
// HubSpot's JSON so the real @hubspot/api-client is exercised unchanged through its `basePath`. It models
// what the relay depends on: records with string-valued properties, contact↔deal associations, numeric
// ids, HubSpot's error bodies (401, 404, 429 with its policy, 5xx), cursor paging, property definitions of
// every type the Pendo import translates, the rolling 10-second request budget with its rate-limit headers,
// and synthetic records generated on the fly (a million contacts cost no memory). Search is modelled only as
// far as its `total` (no filters); writes, pipelines and property validation are not modelled.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultSwitch } from '../shared/fault-switch';

export type HubSpotEmulatorFault =
  /** Requests fail with 429 and HubSpot's body for the policy. */
  | { type: 'rate-limit'; policy: 'TEN_SECONDLY_ROLLING' | 'DAILY'; times?: number }
  /** Requests fail with HTTP 5xx. */
  | { type: 'server-error'; status?: 500 | 502 | 503 | 504; times?: number };

export type HubSpotObjectType = 'contacts' | 'companies' | 'deals';
/** What seeding accepts; HubSpot stores every value as a string, so numbers and booleans are written as text. */
export type HubSpotSeedProperties = Record<string, string | number | boolean | null | undefined>;

export interface HubSpotRecordedRequest {
  method: string;
  /** Without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  /** The parsed JSON body, if any. */
  body: unknown;
  /** Request headers without `authorization`. */
  headers: Record<string, string | string[] | undefined>;
  /** By the emulator's clock. */
  at: number;
  /** The HTTP status the emulator answered with. */
  status: number;
}

/** HubSpot's rolling request budget: `max` requests per `intervalMs`; past it, 429 TEN_SECONDLY_ROLLING. */
export interface HubSpotEmulatorRateLimit {
  max: number;
  intervalMs: number;
}

/** Records generated from their index instead of stored: ids `firstId`, `firstId + 1`, … `firstId + count - 1`. */
export interface HubSpotSyntheticRecords {
  count: number;
  /** Default 100,000,000 (contacts) and 200,000,000 (companies), clear of seeded ids. */
  firstId?: number;
}

export interface HubSpotEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 190 requests per 10 s (Professional); `false` switches the budget off. */
  rateLimit?: HubSpotEmulatorRateLimit | false;
  /** Keep every /crm request in `requests` (default true; a benchmark of millions of records turns it off). */
  recordRequests?: boolean;
  host?: string;
  /** When set, only `Bearer <accessToken>` is accepted; otherwise any non-empty bearer token. */
  accessToken?: string;
  /** Seed a few demo contacts, deals and companies (see DEMO_* below). */
  seedDemo?: boolean;
  now?: () => number;
}

export interface HubSpotEmulator {
  /** `http://host:port`, for the SDK's `basePath`. */
  basePath: string;
  /** Every request to a /crm endpoint, oldest first. Cleared in place by DELETE /_sandbox/requests. */
  requests: HubSpotRecordedRequest[];
  /**
   * Creates the contact or merges the properties into it (null removes a value). `at` (epoch ms, default now)
   * is when the values were written, as their property history shows it.
   */
  upsertContact(id: string, properties: HubSpotSeedProperties, at?: number): void;
  /** As upsertContact; `contactIds`, when given, replaces the deal's associated contacts. */
  upsertDeal(id: string, properties: HubSpotSeedProperties, contactIds?: string[]): void;
  upsertCompany(id: string, properties: HubSpotSeedProperties): void;
  /** Replaces the synthetic contacts or companies (see syntheticProperties for their values). */
  setSynthetic(type: 'contacts' | 'companies', records: HubSpotSyntheticRecords | undefined): void;
  setFault(fault?: HubSpotEmulatorFault): void;
  close(): Promise<void>;
}

/** One entry of a property's history, HubSpot's `ValueWithTimestamp`. */
interface HistoryEntry {
  value: string;
  timestamp: string;
  sourceType: string;
  sourceId: string;
}

interface StoredObject {
  id: string;
  properties: Record<string, string>;
  /** Per property, newest first, as HubSpot lists it. */
  history: Record<string, HistoryEntry[]>;
  createdAt: string;
  updatedAt: string;
}

const OBJECT_TYPES: Record<string, HubSpotObjectType> = {
  contacts: 'contacts',
  contact: 'contacts',
  '0-1': 'contacts',
  companies: 'companies',
  company: 'companies',
  '0-2': 'companies',
  deals: 'deals',
  deal: 'deals',
  '0-3': 'deals',
};

// HubSpot's own names for the "last modified" property differ between contacts and other objects.
const LAST_MODIFIED: Record<HubSpotObjectType, string> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

/** What HubSpot returns when a read names no properties. */
const DEFAULT_PROPERTIES: Record<HubSpotObjectType, string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  deals: [
    'amount',
    'closedate',
    'createdate',
    'dealname',
    'dealstage',
    'hs_lastmodifieddate',
    'hs_object_id',
    'pipeline',
  ],
};

type PropertyRow = [name: string, label: string, type: string, fieldType: string, groupName: string];

/** Properties that reference HubSpot users (`referencedObjectType: OWNER`). */
const OWNER_PROPERTIES = new Set(['hubspot_owner_id']);

/**
 * Properties of every type the Pendo import translates, as HubSpot defines them: text, textarea, phone
 * number, single and multiple checkboxes, select, radio, number, score, date, datetime, calculations of each
 * result type, file, and HubSpot user.
 */
const PENDO_DEMO_CONTACT_PROPERTIES: PropertyRow[] = [
  ['pendo_visitor_id', 'Pendo visitor id', 'string', 'text', 'pendo'],
  ['hs_lead_status', 'Lead Status', 'enumeration', 'radio', 'sales_properties'],
  ['num_employees', 'Number of employees (exact)', 'number', 'number', 'pendo'],
  ['about_me', 'About me', 'string', 'textarea', 'pendo'],
  ['interests', 'Interests', 'enumeration', 'checkbox', 'pendo'],
  ['plan_tier', 'Plan tier', 'enumeration', 'select', 'pendo'],
  ['newsletter_opt_in', 'Newsletter opt-in', 'bool', 'booleancheckbox', 'pendo'],
  ['hubspotscore', 'HubSpot Score', 'number', 'calculation_score', 'contactinformation'],
  ['renewal_date', 'Renewal date', 'date', 'date', 'pendo'],
  ['last_login_at', 'Last login', 'datetime', 'date', 'pendo'],
  ['days_to_close', 'Days To Close', 'number', 'calculation_equation', 'contactinformation'],
  ['is_key_contact', 'Is key contact', 'bool', 'calculation_equation', 'pendo'],
  ['display_name', 'Display name', 'string', 'calculation_equation', 'pendo'],
  ['first_deal_closed_at', 'First deal closed', 'datetime', 'calculation_rollup', 'pendo'],
  ['contract_pdf', 'Contract', 'string', 'file', 'pendo'],
  ['hubspot_owner_id', 'Contact owner', 'enumeration', 'select', 'contactinformation'],
];
const PENDO_DEMO_COMPANY_PROPERTIES: PropertyRow[] = [
  ['pendo_account_id', 'Pendo account id', 'string', 'text', 'pendo'],
  ['annualrevenue', 'Annual Revenue', 'number', 'number', 'companyinformation'],
  ['description', 'Description', 'string', 'textarea', 'companyinformation'],
  ['phone', 'Phone Number', 'string', 'phonenumber', 'companyinformation'],
  ['is_public', 'Is public', 'bool', 'booleancheckbox', 'companyinformation'],
  ['founded_date', 'Founded', 'date', 'date', 'companyinformation'],
  ['total_revenue', 'Total Revenue', 'number', 'calculation_rollup', 'companyinformation'],
  ['company_logo', 'Logo', 'string', 'file', 'companyinformation'],
  ['hubspot_owner_id', 'Company owner', 'enumeration', 'select', 'companyinformation'],
];

const LIFECYCLE_STAGES = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
] as const;

const COMMON_ROWS = (lastModified: string): PropertyRow[] => [
  ['createdate', 'Create Date', 'datetime', 'date', 'objectinformation'],
  [lastModified, 'Last Modified Date', 'datetime', 'date', 'objectinformation'],
  ['hs_object_id', 'Record ID', 'number', 'number', 'objectinformation'],
];

/** The HubSpot-defined properties the relay reads, with the types HubSpot reports for them. */
const BUILT_IN_PROPERTIES: Record<HubSpotObjectType, PropertyRow[]> = {
  contacts: [
    ['email', 'Email', 'string', 'text', 'contactinformation'],
    ['phone', 'Phone Number', 'string', 'phonenumber', 'contactinformation'],
    ['mobilephone', 'Mobile Phone Number', 'string', 'phonenumber', 'contactinformation'],
    ['firstname', 'First Name', 'string', 'text', 'contactinformation'],
    ['lastname', 'Last Name', 'string', 'text', 'contactinformation'],
    ['address', 'Street Address', 'string', 'text', 'contactinformation'],
    ['city', 'City', 'string', 'text', 'contactinformation'],
    ['state', 'State/Region', 'string', 'text', 'contactinformation'],
    ['zip', 'Postal Code', 'string', 'text', 'contactinformation'],
    ['country', 'Country/Region', 'string', 'text', 'contactinformation'],
    ['company', 'Company Name', 'string', 'text', 'contactinformation'],
    ['lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', 'contactinformation'],
    ['hs_google_click_id', 'Google ad click id', 'string', 'text', 'conversioninformation'],
    ...PENDO_DEMO_CONTACT_PROPERTIES,
    ...LIFECYCLE_STAGES.map(([value, label]): PropertyRow => [
      `hs_v2_date_entered_${value}`,
      `Date entered "${label} (Lifecycle Stage Pipeline)"`,
      'datetime',
      'calculation_equation',
      'contactinformation',
    ]),
    ...COMMON_ROWS('lastmodifieddate'),
  ],
  companies: [
    ['name', 'Company name', 'string', 'text', 'companyinformation'],
    ['domain', 'Company Domain Name', 'string', 'text', 'companyinformation'],
    ['industry', 'Industry', 'enumeration', 'select', 'companyinformation'],
    ['city', 'City', 'string', 'text', 'companyinformation'],
    ['country', 'Country/Region', 'string', 'text', 'companyinformation'],
    ['numberofemployees', 'Number of Employees', 'number', 'number', 'companyinformation'],
    ...PENDO_DEMO_COMPANY_PROPERTIES,
    ...COMMON_ROWS('hs_lastmodifieddate'),
  ],
  deals: [
    ['dealname', 'Deal Name', 'string', 'text', 'dealinformation'],
    ['amount', 'Amount', 'number', 'number', 'dealinformation'],
    ['dealstage', 'Deal Stage', 'enumeration', 'radio', 'dealinformation'],
    ['pipeline', 'Pipeline', 'enumeration', 'select', 'dealinformation'],
    ['closedate', 'Close Date', 'datetime', 'date', 'dealinformation'],
    ['hs_deal_stage_probability', 'Deal Stage Probability', 'number', 'number', 'dealinformation'],
    ['hs_is_closed', 'Is Deal Closed?', 'bool', 'booleancheckbox', 'dealinformation'],
    ['hs_is_closed_won', 'Is Closed Won', 'bool', 'booleancheckbox', 'dealinformation'],
    ...COMMON_ROWS('hs_lastmodifieddate'),
  ],
};

/** v4 association type ids HubSpot defines for the pairs the emulator models. */
const ASSOCIATION_TYPE_IDS: Record<string, number> = { 'contacts->deals': 4, 'deals->contacts': 3 };

const BATCH_READ_MAX = 100;
const LIST_LIMIT_MAX = 100;
const ASSOCIATIONS_LIMIT_MAX = 500;

const idSchema = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform(String)
  .pipe(z.string().regex(/^\d{1,18}$/, 'HubSpot record ids are numeric'));
const seedPropertiesSchema = z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const seedObjectSchema = z.object({
  id: idSchema.optional(),
  properties: seedPropertiesSchema.default({}),
  /** When the values were written (ISO 8601 or epoch ms), for their property history; default now. */
  at: z.union([z.iso.datetime({ offset: true }).transform((v) => Date.parse(v)), z.number().int()]).optional(),
});
const seedDealSchema = seedObjectSchema.extend({ contactIds: z.array(idSchema).optional() });
const timesSchema = z.number().int().positive().optional();
export const hubSpotFaultSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('rate-limit'),
    policy: z.enum(['TEN_SECONDLY_ROLLING', 'DAILY']),
    times: timesSchema,
  }),
  z.object({
    type: z.literal('server-error'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
    times: timesSchema,
  }),
]);
const batchReadSchema = z.object({
  inputs: z.array(z.object({ id: z.union([z.string(), z.number()]).transform(String) })),
  properties: z.array(z.string()).optional(),
  propertiesWithHistory: z.array(z.string()).optional(),
  idProperty: z.string().optional(),
});

/** HubSpot's error body (the `Error` model of its OpenAPI specs). */
function hubSpotError(message: string, category: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: randomUUID(), ...extra, category };
}

function queryList(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function queryOne(value: unknown): string | undefined {
  const v: unknown = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const byNumericId = (a: StoredObject, b: StoredObject) => compareIds(a.id, b.id);

/** Numeric ids as text, compared as numbers without BigInt: a shorter id is smaller. */
const compareIds = (a: string, b: string) => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);

const SYNTHETIC_FIRST_ID: Record<'contacts' | 'companies', number> = { contacts: 100_000_000, companies: 200_000_000 };
const SYNTHETIC_STAGES = LIFECYCLE_STAGES.map(([value]) => value);
const SYNTHETIC_LEAD_STATUSES = ['NEW', 'OPEN', 'IN_PROGRESS', 'CONNECTED'];
const SYNTHETIC_INDUSTRIES = ['COMPUTER_SOFTWARE', 'FINANCIAL_SERVICES', 'HOSPITAL_HEALTH_CARE', 'RETAIL'];

/**
 * The values of synthetic record number `n` (0-based): a Pendo id (`visitor-<n>` / `account-<n>`) and the
 * properties the Pendo examples import, all derived from `n`, so a benchmark can check any of them.
 */
export function syntheticProperties(type: 'contacts' | 'companies', n: number): Record<string, string> {
  if (type === 'contacts') {
    return {
      pendo_visitor_id: `visitor-${n}`,
      lifecyclestage: SYNTHETIC_STAGES[n % SYNTHETIC_STAGES.length] ?? 'lead',
      hs_lead_status: SYNTHETIC_LEAD_STATUSES[n % SYNTHETIC_LEAD_STATUSES.length] ?? 'NEW',
      num_employees: String(n % 5000),
    };
  }
  return {
    pendo_account_id: `account-${n}`,
    name: `Synthetic company ${n}`,
    industry: SYNTHETIC_INDUSTRIES[n % SYNTHETIC_INDUSTRIES.length] ?? 'RETAIL',
    annualrevenue: String((n % 1000) * 10_000),
  };
}

export async function startHubSpotEmulator(opts: HubSpotEmulatorOptions = {}): Promise<HubSpotEmulator> {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const requests: HubSpotRecordedRequest[] = [];
  const store: Record<HubSpotObjectType, Map<string, StoredObject>> = {
    contacts: new Map(),
    companies: new Map(),
    deals: new Map(),
  };
  /** Deal id → its associated contact ids. */
  const dealContacts = new Map<string, Set<string>>();
  const faults = new FaultSwitch<HubSpotEmulatorFault>();
  let nextId = 1_000_000;
  const synthetic: Partial<Record<HubSpotObjectType, { count: number; firstId: number }>> = {};
  /** Stored ids in numeric order, rebuilt after a write: paging a million records must not sort each page. */
  const sortedIds: Partial<Record<HubSpotObjectType, string[]>> = {};
  const rateLimit = opts.rateLimit === false ? undefined : (opts.rateLimit ?? { max: 190, intervalMs: 10_000 });
  /** Arrival times of the requests inside the current rolling window, oldest first. */
  const window: number[] = [];
  /** Counts of /crm requests since the last reset, kept even when `requests` is not. */
  const stats = { requests: 0, throttled: 0, firstAt: 0, lastAt: 0 };

  function upsert(
    type: HubSpotObjectType,
    rawId: string,
    properties: HubSpotSeedProperties,
    atMs: number = now(),
  ): StoredObject {
    const id = idSchema.parse(rawId);
    const at = new Date(atMs).toISOString();
    const obj = store[type].get(id) ?? { id, properties: {}, history: {}, createdAt: at, updatedAt: at };
    for (const [name, value] of Object.entries(properties)) {
      const text = value === null || value === undefined ? '' : String(value);
      if (text === '') delete obj.properties[name];
      else obj.properties[name] = text;
      // The history gets an entry when a write changes the value; clearing it is an entry with an empty value.
      const history = obj.history[name] ?? [];
      if ((history[0]?.value ?? '') !== text) {
        history.unshift({ value: text, timestamp: at, sourceType: 'API', sourceId: 'martech-relay-sandbox' });
        obj.history[name] = history;
      }
    }
    // A seeded createdate is the record's creation time, as it is for records imported into HubSpot.
    const createdate = obj.properties.createdate;
    const createdMs =
      createdate === undefined ? NaN : /^\d+$/.test(createdate) ? Number(createdate) : Date.parse(createdate);
    if (Number.isFinite(createdMs)) obj.createdAt = new Date(createdMs).toISOString();
    obj.properties.createdate = createdate ?? obj.createdAt;
    obj.properties.hs_object_id = id;
    obj.updatedAt = at;
    obj.properties[LAST_MODIFIED[type]] = at;
    if (!store[type].has(id)) delete sortedIds[type];
    store[type].set(id, obj);
    if (BigInt(id) >= BigInt(nextId)) nextId = Number(BigInt(id) + 1n);
    return obj;
  }

  const upsertContact = (id: string, properties: HubSpotSeedProperties, at?: number) =>
    void upsert('contacts', id, properties, at);
  const upsertCompany = (id: string, properties: HubSpotSeedProperties) => void upsert('companies', id, properties);
  const upsertDeal = (id: string, properties: HubSpotSeedProperties, contactIds?: string[], at?: number) => {
    const deal = upsert('deals', id, properties, at);
    if (contactIds !== undefined) dealContacts.set(deal.id, new Set(contactIds.map((c) => idSchema.parse(c))));
  };

  /** Names a read may return for a type: HubSpot's own and every name seeded on a record of that type. */
  function knownProperties(type: HubSpotObjectType): Set<string> {
    const names = new Set(BUILT_IN_PROPERTIES[type].map(([name]) => name));
    for (const obj of store[type].values()) for (const name of Object.keys(obj.properties)) names.add(name);
    return names;
  }

  function setSynthetic(type: 'contacts' | 'companies', records: HubSpotSyntheticRecords | undefined): void {
    if (!records || records.count <= 0) delete synthetic[type];
    else synthetic[type] = { count: records.count, firstId: records.firstId ?? SYNTHETIC_FIRST_ID[type] };
  }

  /** A synthetic record, built when it is read. */
  function syntheticObject(type: HubSpotObjectType, id: string): StoredObject | undefined {
    const range = synthetic[type];
    if (!range || type === 'deals' || !/^\d{1,15}$/.test(id)) return undefined;
    const n = Number(id) - range.firstId;
    if (n < 0 || n >= range.count) return undefined;
    const at = '2026-01-01T00:00:00.000Z';
    const properties = { ...syntheticProperties(type, n), createdate: at, hs_object_id: id, [LAST_MODIFIED[type]]: at };
    return { id, properties, history: {}, createdAt: at, updatedAt: at };
  }

  const recordCount = (type: HubSpotObjectType) => store[type].size + (synthetic[type]?.count ?? 0);

  /** Up to `limit` records from `after` on (inclusive), stored and synthetic merged in id order. */
  function listFrom(type: HubSpotObjectType, after: string | undefined, limit: number): StoredObject[] {
    const ids = (sortedIds[type] ??= [...store[type].keys()].sort(compareIds));
    let lo = 0;
    let hi = ids.length;
    while (after !== undefined && lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(ids[mid] ?? '', after) < 0) lo = mid + 1;
      else hi = mid;
    }
    const range = synthetic[type];
    let n = range ? Math.max(0, after === undefined ? 0 : Number(after) - range.firstId) : 0;
    const out: StoredObject[] = [];
    while (out.length < limit) {
      const stored = ids[lo];
      const synth = range && n < range.count ? String(range.firstId + n) : undefined;
      if (stored === undefined && synth === undefined) break;
      if (synth === undefined || (stored !== undefined && compareIds(stored, synth) <= 0)) {
        const obj = store[type].get(stored ?? '');
        if (obj) out.push(obj);
        lo += 1;
        if (stored === synth) n += 1;
      } else {
        const obj = syntheticObject(type, synth);
        if (obj) out.push(obj);
        n += 1;
      }
    }
    return out;
  }

  /**
   * A record as HubSpot returns it: asked-for properties (null when unset) plus the ones it always adds, and
   * the history of the properties asked for with history (only those that ever had a value).
   */
  function publicObject(
    type: HubSpotObjectType,
    obj: StoredObject,
    requested: string[],
    known: Set<string> = knownProperties(type),
    withHistory: string[] = [],
  ) {
    const names = requested.length > 0 ? [...requested, 'createdate', 'hs_object_id', LAST_MODIFIED[type]] : [];
    const properties: Record<string, string | null> = {};
    for (const name of names.length > 0 ? names : DEFAULT_PROPERTIES[type]) {
      // HubSpot leaves out names that are not properties of the object type at all.
      if (known.has(name)) properties[name] = obj.properties[name] ?? null;
    }
    const record = { id: obj.id, properties, createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: false };
    if (withHistory.length === 0) return record;
    const propertiesWithHistory: Record<string, HistoryEntry[]> = {};
    for (const name of withHistory) {
      const history = obj.history[name];
      if (history && known.has(name)) propertiesWithHistory[name] = history.map((h) => ({ ...h }));
    }
    return { ...record, propertiesWithHistory };
  }

  function propertyDefinitions(type: HubSpotObjectType) {
    const builtIn = new Set(BUILT_IN_PROPERTIES[type].map(([name]) => name));
    const custom = [...knownProperties(type)].filter((name) => !builtIn.has(name)).sort();
    const rows: [...PropertyRow, boolean][] = [
      ...BUILT_IN_PROPERTIES[type].map((r): [...PropertyRow, boolean] => [...r, !r[4].startsWith('pendo')]),
      ...custom.map((name): [...PropertyRow, boolean] => [name, name, 'string', 'text', 'custom', false]),
    ];
    const at = '2019-08-06T02:41:08.029Z';
    return rows.map(([name, label, propType, fieldType, groupName, hubspotDefined], displayOrder) => ({
      updatedAt: at,
      createdAt: at,
      name,
      label,
      type: propType,
      fieldType,
      description: '',
      groupName,
      options:
        name === 'lifecyclestage'
          ? LIFECYCLE_STAGES.map(([value, optionLabel], i) => ({
              label: optionLabel,
              value,
              displayOrder: i,
              hidden: false,
            }))
          : [],
      displayOrder,
      calculated: fieldType.startsWith('calculation'),
      ...(OWNER_PROPERTIES.has(name) ? { referencedObjectType: 'OWNER' } : {}),
      externalOptions: false,
      hasUniqueValue: name === 'hs_object_id',
      hidden: false,
      ...(hubspotDefined ? { hubspotDefined: true } : {}),
      modificationMetadata: { archivable: !hubspotDefined, readOnlyDefinition: hubspotDefined, readOnlyValue: false },
      formField: !hubspotDefined,
      archived: false,
    }));
  }

  const app = Fastify({ logger: false });
  const basePath = { value: '' };
  const recordOf = new WeakMap<FastifyRequest, HubSpotRecordedRequest>();

  app.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) return reply.code(status).send(hubSpotError('internal error', 'INTERNAL_ERROR'));
    return reply.code(status).send(hubSpotError(`Invalid input JSON: ${err.message ?? ''}`.trim(), 'VALIDATION_ERROR'));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(hubSpotError(`No route for ${req.method} ${req.url.split('?')[0]}`, 'OBJECT_NOT_FOUND'));
  });

  // Recording, authentication and faults, in HubSpot's order: a bad token is a 401 even when rate limited.
  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/crm/')) return;
    const { authorization, ...headers } = req.headers;
    const arrivedAt = now();
    stats.requests += 1;
    stats.firstAt ||= arrivedAt;
    stats.lastAt = arrivedAt;
    const record: HubSpotRecordedRequest = {
      method: req.method,
      path: req.url.split('?')[0] ?? req.url,
      query: { ...(req.query as Record<string, string | string[]>) },
      body: req.body,
      headers,
      at: now(),
      status: 200,
    };
    if (opts.recordRequests !== false) requests.push(record);
    recordOf.set(req, record);

    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token || (opts.accessToken !== undefined && token !== opts.accessToken)) {
      return reply
        .code(401)
        .send(
          hubSpotError(
            'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
            'INVALID_AUTHENTICATION',
          ),
        );
    }
    if (rateLimit) {
      while (window.length > 0 && (window[0] ?? 0) <= arrivedAt - rateLimit.intervalMs) window.shift();
      const remaining = Math.max(0, rateLimit.max - window.length);
      void reply.headers({
        'x-hubspot-ratelimit-interval-milliseconds': String(rateLimit.intervalMs),
        'x-hubspot-ratelimit-max': String(rateLimit.max),
        'x-hubspot-ratelimit-remaining': String(Math.max(0, remaining - 1)),
      });
      if (remaining === 0) {
        stats.throttled += 1;
        const waitMs = (window[0] ?? arrivedAt) + rateLimit.intervalMs - arrivedAt;
        return reply
          .code(429)
          .headers({ 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) })
          .send({
            status: 'error',
            message: 'You have reached your ten_secondly_rolling limit.',
            errorType: 'RATE_LIMIT',
            correlationId: randomUUID(),
            policyName: 'TEN_SECONDLY_ROLLING',
            groupName: 'publicapi:private-app-api-calls-10secondly',
          });
      }
      window.push(arrivedAt);
    }
    const fault = faults.current;
    if (fault?.type === 'rate-limit') {
      const daily = fault.policy === 'DAILY';
      faults.spend();
      return reply
        .code(429)
        .headers({
          'x-hubspot-ratelimit-interval-milliseconds': '10000',
          'x-hubspot-ratelimit-max': '190',
          'x-hubspot-ratelimit-remaining': daily ? '150' : '0',
          'x-hubspot-ratelimit-daily': '1000000',
          'x-hubspot-ratelimit-daily-remaining': daily ? '0' : '500000',
        })
        .send({
          status: 'error',
          message: daily ? 'You have reached your daily limit.' : 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: randomUUID(),
          policyName: daily ? 'DAILY' : 'TEN_SECONDLY_ROLLING',
          groupName: daily ? 'publicapi:private-app-api-calls-daily' : 'publicapi:private-app-api-calls-10secondly',
        });
    }
    if (fault?.type === 'server-error') {
      const status = fault.status ?? 500;
      faults.spend();
      return reply.code(status).send(hubSpotError('internal error', 'INTERNAL_ERROR'));
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const record = recordOf.get(req);
    if (record) record.status = reply.statusCode;
  });

  type TypeParams = { objectType: string };
  const objectTypeOf = (req: FastifyRequest<{ Params: TypeParams }>, reply: FastifyReply) => {
    const type = OBJECT_TYPES[req.params.objectType.toLowerCase()];
    if (!type) {
      void reply
        .code(400)
        .send(hubSpotError(`Unable to infer object type from: ${req.params.objectType}`, 'VALIDATION_ERROR'));
    }
    return type;
  };
  const notFound = (reply: FastifyReply, id: string) =>
    reply
      .code(404)
      .send(
        hubSpotError('Object not found.  objectId are usually numeric.', 'OBJECT_NOT_FOUND', { context: { id: [id] } }),
      );

  /** Lookup by id, or by a unique property (`idProperty=email`), as HubSpot's read endpoints allow. */
  function find(type: HubSpotObjectType, id: string, idProperty: string | undefined): StoredObject | undefined {
    if (idProperty === undefined || idProperty === 'hs_object_id')
      return store[type].get(id) ?? syntheticObject(type, id);
    const wanted = idProperty === 'email' ? id.toLowerCase() : id;
    for (const obj of store[type].values()) {
      const value = obj.properties[idProperty];
      if (value !== undefined && (idProperty === 'email' ? value.toLowerCase() : value) === wanted) return obj;
    }
    return undefined;
  }

  app.get<{ Params: TypeParams; Querystring: Record<string, string | string[]> }>(
    '/crm/v3/objects/:objectType',
    (req, reply) => {
      const type = objectTypeOf(req, reply);
      if (!type) return reply;
      const limitText = queryOne(req.query.limit);
      const limit = limitText === undefined ? 10 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
        return reply
          .code(400)
          .send(hubSpotError(`limit must be an integer between 1 and ${LIST_LIMIT_MAX}`, 'VALIDATION_ERROR'));
      }
      const after = queryOne(req.query.after);
      if (after !== undefined && !/^\d+$/.test(after)) {
        return reply
          .code(400)
          .send(hubSpotError('after must be a paging cursor from a previous page', 'VALIDATION_ERROR'));
      }
      // The cursor is the id of the first record of the next page, so paging is stable while records are added.
      const all = listFrom(type, after, limit + 1);
      const page = all.slice(0, limit);
      const requested = queryList(req.query.properties);
      const known = knownProperties(type);
      for (const o of page) for (const name of Object.keys(o.properties)) known.add(name);
      const next = all[limit];
      const path = req.url.split('?')[0] ?? '';
      return {
        results: page.map((o) => publicObject(type, o, requested, known)),
        ...(next
          ? { paging: { next: { after: next.id, link: `${basePath.value}${path}?limit=${limit}&after=${next.id}` } } }
          : {}),
      };
    },
  );

  app.get<{ Params: TypeParams & { objectId: string }; Querystring: Record<string, string | string[]> }>(
    '/crm/v3/objects/:objectType/:objectId',
    (req, reply) => {
      const type = objectTypeOf(req, reply);
      if (!type) return reply;
      const obj = find(type, req.params.objectId, queryOne(req.query.idProperty));
      if (!obj) return notFound(reply, req.params.objectId);
      return publicObject(
        type,
        obj,
        queryList(req.query.properties),
        undefined,
        queryList(req.query.propertiesWithHistory),
      );
    },
  );

  app.post<{ Params: TypeParams }>('/crm/v3/objects/:objectType/batch/read', (req, reply) => {
    const type = objectTypeOf(req, reply);
    if (!type) return reply;
    const parsed = batchReadSchema.safeParse(req.body);
    if (!parsed.success) {
      return reply
        .code(400)
        .send(hubSpotError(`Invalid input JSON: ${z.prettifyError(parsed.error)}`, 'VALIDATION_ERROR'));
    }
    const { inputs, properties = [], propertiesWithHistory = [], idProperty } = parsed.data;
    if (inputs.length > BATCH_READ_MAX) {
      return reply
        .code(400)
        .send(
          hubSpotError(`Batch input size ${inputs.length} is over the limit of ${BATCH_READ_MAX}`, 'VALIDATION_ERROR'),
        );
    }
    const startedAt = iso();
    const results = [];
    const missing: string[] = [];
    const known = knownProperties(type);
    for (const { id } of inputs) {
      const obj = find(type, id, idProperty);
      if (obj) results.push(publicObject(type, obj, properties, known, propertiesWithHistory));
      else missing.push(id);
    }
    const body = { status: 'COMPLETE', results, startedAt, completedAt: iso() };
    if (missing.length === 0) return body;
    const label = type === 'contacts' ? 'CONTACT' : type === 'deals' ? 'DEAL' : 'COMPANY';
    return reply.code(207).send({
      ...body,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
        },
      ],
    });
  });

  app.get<{
    Params: TypeParams & { objectId: string; toObjectType: string };
    Querystring: Record<string, string | string[]>;
  }>('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType', (req, reply) => {
    const from = objectTypeOf(req, reply);
    if (!from) return reply;
    const to = OBJECT_TYPES[req.params.toObjectType.toLowerCase()];
    if (!to) {
      return reply
        .code(400)
        .send(hubSpotError(`Unable to infer object type from: ${req.params.toObjectType}`, 'VALIDATION_ERROR'));
    }
    const id = req.params.objectId;
    if (!store[from].has(id)) return notFound(reply, id);

    let ids: string[] = [];
    if (from === 'contacts' && to === 'deals') {
      ids = [...dealContacts].filter(([, contacts]) => contacts.has(id)).map(([dealId]) => dealId);
    } else if (from === 'deals' && to === 'contacts') {
      ids = [...(dealContacts.get(id) ?? [])];
    }
    const related = ids
      .map((i) => store[to].get(i))
      .filter((o): o is StoredObject => o !== undefined)
      .sort(byNumericId);

    const limitText = queryOne(req.query.limit);
    const limit = Math.min(
      limitText === undefined ? ASSOCIATIONS_LIMIT_MAX : Number(limitText),
      ASSOCIATIONS_LIMIT_MAX,
    );
    if (!Number.isInteger(limit) || limit < 1) {
      return reply.code(400).send(hubSpotError('limit must be a positive integer', 'VALIDATION_ERROR'));
    }
    const after = queryOne(req.query.after);
    const start = after === undefined ? 0 : Number(after);
    if (!Number.isInteger(start) || start < 0) {
      return reply
        .code(400)
        .send(hubSpotError('after must be a paging cursor from a previous page', 'VALIDATION_ERROR'));
    }
    const page = related.slice(start, start + limit);
    const typeId = ASSOCIATION_TYPE_IDS[`${from}->${to}`];
    const nextAfter = start + limit < related.length ? String(start + limit) : undefined;
    const path = req.url.split('?')[0] ?? '';
    return {
      results: page.map((o) => ({
        // HubSpot sends the id as a JSON number here, unlike the v3 object endpoints.
        toObjectId: Number(o.id),
        associationTypes: typeId === undefined ? [] : [{ category: 'HUBSPOT_DEFINED', typeId, label: null }],
      })),
      ...(nextAfter
        ? { paging: { next: { after: nextAfter, link: `${basePath.value}${path}?limit=${limit}&after=${nextAfter}` } } }
        : {}),
    };
  });

  // Search, only as far as a count: HubSpot's `total` for a search without filters (what progress reads).
  app.post<{ Params: TypeParams }>('/crm/v3/objects/:objectType/search', (req, reply) => {
    const type = objectTypeOf(req, reply);
    if (!type) return reply;
    const body = (req.body ?? {}) as { filterGroups?: unknown[]; limit?: unknown; properties?: unknown };
    if (Array.isArray(body.filterGroups) && body.filterGroups.length > 0) {
      return reply
        .code(400)
        .send(hubSpotError('the sandbox emulator does not model search filters', 'VALIDATION_ERROR'));
    }
    const limit = typeof body.limit === 'number' && body.limit > 0 ? Math.min(body.limit, 200) : 10;
    const requested = Array.isArray(body.properties) ? body.properties.map(String) : [];
    const page = listFrom(type, undefined, limit);
    return { total: recordCount(type), results: page.map((o) => publicObject(type, o, requested)) };
  });

  app.get<{ Params: TypeParams }>('/crm/v3/properties/:objectType', (req, reply) => {
    const type = objectTypeOf(req, reply);
    if (!type) return reply;
    return { results: propertyDefinitions(type) };
  });

  // Control API, for seeding a running emulator with curl. Unauthenticated, like the CM360 emulator's.
  function seedRoute(type: HubSpotObjectType) {
    return (req: FastifyRequest, reply: FastifyReply) => {
      const items: unknown[] = Array.isArray(req.body) ? req.body : [req.body];
      const schema = type === 'deals' ? seedDealSchema : seedObjectSchema;
      const parsed = z.array(schema).safeParse(items);
      if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
      const ids = parsed.data.map((item) => {
        const id = item.id ?? String(nextId);
        if (type === 'deals') {
          upsertDeal(id, item.properties, (item as z.infer<typeof seedDealSchema>).contactIds, item.at);
        } else upsert(type, id, item.properties, item.at);
        return id;
      });
      return reply.code(200).send({ ids });
    };
  }
  app.post('/_sandbox/contacts', seedRoute('contacts'));
  app.post('/_sandbox/deals', seedRoute('deals'));
  app.post('/_sandbox/companies', seedRoute('companies'));
  const syntheticSchema = z.object({
    count: z.number().int().nonnegative(),
    firstId: z.number().int().positive().optional(),
  });
  for (const type of ['contacts', 'companies'] as const) {
    app.put(`/_sandbox/synthetic/${type}`, (req, reply) => {
      const parsed = syntheticSchema.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
      setSynthetic(type, parsed.data);
      return reply.code(204).send();
    });
  }
  app.get('/_sandbox/requests', () => requests);
  app.get('/_sandbox/stats', () => stats);
  app.delete('/_sandbox/stats', (_req, reply) => {
    Object.assign(stats, { requests: 0, throttled: 0, firstAt: 0, lastAt: 0 });
    return reply.code(204).send();
  });
  app.delete('/_sandbox/requests', (_req, reply) => {
    requests.length = 0;
    return reply.code(204).send();
  });
  faults.registerRoutes(app, hubSpotFaultSchema);

  if (opts.seedDemo) seedDemo({ upsertContact, upsertDeal, upsertCompany }, now());

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  basePath.value = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    basePath: basePath.value,
    requests,
    upsertContact,
    upsertDeal,
    upsertCompany,
    setSynthetic,
    setFault: (fault) => faults.set(fault),
    close: () => app.close(),
  };
}

/** The consent property the demo contacts carry; a conversion definition can name it. */
export const DEMO_CONSENT_PROPERTY = 'google_ads_consent';
export const DEMO_CONTACT_IDS = { jane: '1001', ravi: '1002', noDeals: '1003' } as const;
/** The Pendo ids the demo contacts and companies carry; the Pendo emulator's demo knows the same ids. */
export const DEMO_PENDO = {
  visitorIdProperty: 'pendo_visitor_id',
  accountIdProperty: 'pendo_account_id',
  visitors: ['demo-visitor-1001', 'demo-visitor-1002'],
  accounts: ['demo-account-2001', 'demo-account-2002'],
} as const;

type Seeder = Pick<HubSpotEmulator, 'upsertContact' | 'upsertDeal' | 'upsertCompany'>;

/** Fictional people (Google's own documentation examples), never real customer data. */
function seedDemo(s: Seeder, nowMs: number): void {
  const DAY = 86_400_000;
  const at = (daysAgo: number) => new Date(nowMs - daysAgo * DAY).toISOString();
  s.upsertCompany('2001', {
    name: 'Example Corp',
    domain: 'example.com',
    country: 'United States',
    industry: 'COMPUTER_SOFTWARE',
    annualrevenue: '12000000',
    [DEMO_PENDO.accountIdProperty]: DEMO_PENDO.accounts[0],
  });
  s.upsertCompany('2002', {
    name: 'Example GmbH',
    domain: 'example.de',
    country: 'Germany',
    industry: 'MANUFACTURING',
    annualrevenue: '3500000',
    [DEMO_PENDO.accountIdProperty]: DEMO_PENDO.accounts[1],
  });
  s.upsertContact(
    DEMO_CONTACT_IDS.jane,
    {
      email: 'jane.doe@example.com',
      phone: '+1 650-253-0000',
      firstname: 'Jane',
      lastname: 'Doe',
      address: '1600 Amphitheatre Pkwy',
      city: 'Mountain View',
      state: 'CA',
      zip: '94043',
      country: 'US',
      company: 'Example Corp',
      lifecyclestage: 'salesqualifiedlead',
      hs_google_click_id: 'Cj0KCQiA-demo-gclid-1001',
      [DEMO_CONSENT_PROPERTY]: 'granted',
      [DEMO_PENDO.visitorIdProperty]: DEMO_PENDO.visitors[0],
      hs_lead_status: 'IN_PROGRESS',
      num_employees: '250',
      createdate: at(20),
      hs_v2_date_entered_lead: at(20),
      // Epoch milliseconds, as HubSpot stores some of these when they were written through the API.
      hs_v2_date_entered_salesqualifiedlead: String(nowMs - DAY),
      // Written when the contact was created, so the property history dates the click id 20 days back.
    },
    nowMs - 20 * DAY,
  );
  s.upsertContact(DEMO_CONTACT_IDS.ravi, {
    email: 'ravi.kumar@example.de',
    mobilephone: '030 1234567',
    firstname: 'Ravi',
    lastname: 'Kumar',
    city: 'Berlin',
    country: 'Germany',
    company: 'Example GmbH',
    lifecyclestage: 'customer',
    [DEMO_CONSENT_PROPERTY]: 'denied',
    [DEMO_PENDO.visitorIdProperty]: DEMO_PENDO.visitors[1],
    hs_lead_status: 'CONNECTED',
    num_employees: '40',
    createdate: at(60),
    hs_v2_date_entered_customer: at(2),
  });
  s.upsertContact(DEMO_CONTACT_IDS.noDeals, {
    email: 'no.deals@example.com',
    lifecyclestage: 'marketingqualifiedlead',
    createdate: at(5),
    hs_v2_date_entered_marketingqualifiedlead: at(1),
  });
  s.upsertDeal(
    '3001',
    {
      dealname: 'Example Corp – pilot',
      amount: '5000',
      dealstage: 'qualifiedtobuy',
      pipeline: 'default',
      hs_deal_stage_probability: '0.4',
      hs_is_closed: 'false',
      hs_is_closed_won: 'false',
      createdate: at(15),
    },
    [DEMO_CONTACT_IDS.jane],
  );
  s.upsertDeal(
    '3002',
    {
      dealname: 'Example Corp – rollout',
      amount: '24000',
      dealstage: 'contractsent',
      pipeline: 'default',
      hs_deal_stage_probability: '0.9',
      hs_is_closed: 'false',
      hs_is_closed_won: 'false',
      createdate: at(3),
    },
    [DEMO_CONTACT_IDS.jane],
  );
  s.upsertDeal(
    '3003',
    {
      dealname: 'Example GmbH – renewal',
      amount: '8000',
      dealstage: 'closedlost',
      pipeline: 'default',
      hs_deal_stage_probability: '0',
      hs_is_closed: 'true',
      hs_is_closed_won: 'false',
      createdate: at(10),
      closedate: at(2),
    },
    [DEMO_CONTACT_IDS.ravi],
  );
}
