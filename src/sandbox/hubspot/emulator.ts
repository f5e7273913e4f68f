// A local stand-in for the HubSpot CRM API (v3 objects and properties, v4 associations), speaking
// HubSpot's JSON so the real @hubspot/api-client is exercised unchanged through its `basePath`. It models
// what the relay depends on: records with string-valued properties, contact↔deal associations, numeric
// ids, HubSpot's error bodies (401, 404, 429 with its policy, 5xx) and cursor paging. It is deliberately
// not a model of HubSpot's search, writes, pipelines or property validation.
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

export interface HubSpotEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
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

const byNumericId = (a: StoredObject, b: StoredObject) => {
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
};

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
      ...BUILT_IN_PROPERTIES[type].map((r): [...PropertyRow, boolean] => [...r, true]),
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
    const record: HubSpotRecordedRequest = {
      method: req.method,
      path: req.url.split('?')[0] ?? req.url,
      query: { ...(req.query as Record<string, string | string[]>) },
      body: req.body,
      headers,
      at: now(),
      status: 200,
    };
    requests.push(record);
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
    if (idProperty === undefined || idProperty === 'hs_object_id') return store[type].get(id);
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
      const all = [...store[type].values()]
        .sort(byNumericId)
        .filter((o) => after === undefined || BigInt(o.id) >= BigInt(after));
      const page = all.slice(0, limit);
      const requested = queryList(req.query.properties);
      const known = knownProperties(type);
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
  app.get('/_sandbox/requests', () => requests);
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
    setFault: (fault) => faults.set(fault),
    close: () => app.close(),
  };
}

/** The consent property the demo contacts carry; a conversion definition can name it. */
export const DEMO_CONSENT_PROPERTY = 'google_ads_consent';
export const DEMO_CONTACT_IDS = { jane: '1001', ravi: '1002', noDeals: '1003' } as const;

type Seeder = Pick<HubSpotEmulator, 'upsertContact' | 'upsertDeal' | 'upsertCompany'>;

/** Fictional people (Google's own documentation examples), never real customer data. */
function seedDemo(s: Seeder, nowMs: number): void {
  const DAY = 86_400_000;
  const at = (daysAgo: number) => new Date(nowMs - daysAgo * DAY).toISOString();
  s.upsertCompany('2001', { name: 'Example Corp', domain: 'example.com', country: 'United States' });
  s.upsertCompany('2002', { name: 'Example GmbH', domain: 'example.de', country: 'Germany' });
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
