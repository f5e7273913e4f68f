// A local stand-in for the HubSpot CRM API (v3 objects and properties, v4 associations, call dispositions),
// speaking HubSpot's JSON so the real @hubspot/api-client is exercised unchanged through its `basePath`. It
// models what the relay depends on: records with string-valued properties, contact↔deal and call→contact/deal
// associations, numeric ids (past 2^53 too), HubSpot's error bodies (401, 404, 429 with its policy, 5xx),
// cursor paging, property definitions of every type the Pendo import translates, the rolling 10-second request
// budget with its rate-limit headers, and synthetic records generated on the fly (a million contacts cost no
// memory). Call search is modelled with HubSpot's filters, one sort, `after` offsets, 200 a page and the
// 10,000-result cap; search on other objects only as far as its `total` (no filters). Form submissions are
// modelled as HubSpot's legacy v1 submissions API serves them (newest first, offset `after` cursors, 50 a page).
// Writes, pipelines and property validation are not modelled.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultSwitch } from '../shared/fault-switch';
import { hubSpotFaultSchema, type HubSpotEmulatorFault } from './faults';

export type HubSpotObjectType = 'contacts' | 'companies' | 'deals' | 'calls';
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
  /** Default 100,000,000 (contacts), 200,000,000 (companies) and 300,000,000 (calls), clear of seeded ids. */
  firstId?: number;
}

/** Synthetic inbound calls (see syntheticCallProperties); call `n` was modified at `firstModifiedAt + n * stepMs`. */
export interface HubSpotSyntheticCalls extends HubSpotSyntheticRecords {
  /** Epoch ms; default 2026-01-01T00:00:00Z. */
  firstModifiedAt?: number;
  /** Default 1000; 0 gives every call the same hs_lastmodifieddate. */
  stepMs?: number;
}

/** A call for `addCall`: its properties (hs_call_direction, hs_call_from_number, hs_timestamp, …) and links. */
export interface HubSpotCallSeed {
  /** Numeric, up to 18 digits (past 2^53 is fine); default the next free id. */
  id?: string;
  properties?: HubSpotSeedProperties;
  contactIds?: string[];
  dealIds?: string[];
}

/** One field of a form submission as HubSpot lists it; a multi-checkbox field can appear several times. */
export interface HubSpotFormSubmissionField {
  name: string;
  value: string;
  /** The object the field's property belongs to; default `0-1` (contacts), as for most form fields. */
  objectTypeId?: string;
}

/** A submission for `addFormSubmission`. */
export interface HubSpotFormSubmissionSeed {
  /** A UUID, unique within the form; default a random one. */
  conversionId?: string;
  /** Epoch ms; default the emulator's clock. */
  submittedAt?: number;
  /** A record for one value per field; a list keeps HubSpot's repeated entries (multi-checkbox fields). */
  values: Record<string, string> | HubSpotFormSubmissionField[];
  pageUrl?: string;
}

/** A stored submission, exactly as GET /form-integrations/v1/submissions/forms/{formGuid} returns it. */
export interface HubSpotStoredFormSubmission {
  conversionId: string;
  submittedAt: number;
  values: { name: string; value: string; objectTypeId: string }[];
  pageUrl?: string;
}

/** Options of `addSyntheticFormSubmissions`: its number `i` (0-based) is submitted at `startMs + i * stepMs`. */
export interface HubSpotSyntheticFormSubmissions {
  /** Epoch ms of the first (oldest); default `count * stepMs` before the emulator's clock. */
  startMs?: number;
  /** Default 1000; 0 submits them all in the same millisecond. */
  stepMs?: number;
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
  /**
   * Every request to HubSpot's API (/crm, /calling, /form-integrations), oldest first. Cleared in place by
   * DELETE /_sandbox/requests.
   */
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
  /** Replaces the synthetic calls; they match searches like stored calls and have no associations. */
  setSyntheticCalls(calls: HubSpotSyntheticCalls | undefined): void;
  /**
   * Stores a new call with hs_lastmodifieddate (and hs_createdate, unless given) set to the emulator's clock, and
   * its associated contacts and deals (ids as given; they need not be seeded). Returns its id.
   */
  addCall(call?: HubSpotCallSeed): string;
  /**
   * Merges the properties into a stored call (null removes a value) and sets hs_lastmodifieddate to the clock;
   * `contactIds`/`dealIds`, when given, replace its associations. Throws for an unknown id.
   */
  updateCall(
    id: string,
    properties: HubSpotSeedProperties,
    links?: { contactIds?: string[]; dealIds?: string[] },
  ): void;
  /**
   * Registers a form (a UUID, compared case-insensitively) without submissions, so its endpoint answers 200 with no
   * results instead of 404. Registering a known form again changes nothing. A first submission registers its form
   * too.
   */
  addForm(formGuid: string): void;
  /**
   * Stores a submission of the form (registering the form if need be) and returns it as the API will. Throws for a
   * form GUID that is not a UUID, a conversionId the form already has, or a bad timestamp.
   */
  addFormSubmission(formGuid: string, submission: HubSpotFormSubmissionSeed): HubSpotStoredFormSubmission;
  /**
   * `count` synthetic submissions (see syntheticFormSubmissionValues), oldest first in the returned list;
   * numbered on from the emulator's previous synthetic submissions, so repeated calls never share an order id.
   */
  addSyntheticFormSubmissions(
    formGuid: string,
    count: number,
    opts?: HubSpotSyntheticFormSubmissions,
  ): HubSpotStoredFormSubmission[];
  /** The form's submissions in the API's order (newest first), as copies; empty for an unknown form. */
  formSubmissions(formGuid: string): HubSpotStoredFormSubmission[];
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
  /** Property values in the form search compares them, parsed on first use and dropped at the next write. */
  searchKeys?: Record<string, string | number | undefined>;
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
  calls: 'calls',
  call: 'calls',
  '0-48': 'calls',
};

/** The singular names HubSpot's messages use. */
const SINGULAR: Record<HubSpotObjectType, string> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
  calls: 'call',
};

// HubSpot's own names for the "last modified" property differ between contacts and other objects.
const LAST_MODIFIED: Record<HubSpotObjectType, string> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
  calls: 'hs_lastmodifieddate',
};

// Engagements such as calls have `hs_createdate` where CRM objects have `createdate`.
const CREATED: Record<HubSpotObjectType, string> = {
  contacts: 'createdate',
  companies: 'createdate',
  deals: 'createdate',
  calls: 'hs_createdate',
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
  calls: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
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
  calls: [
    ['hs_timestamp', 'Activity date', 'datetime', 'date', 'engagement'],
    ['hs_call_direction', 'Call direction', 'enumeration', 'select', 'call'],
    ['hs_call_from_number', 'From number', 'string', 'text', 'call'],
    ['hs_call_to_number', 'To number', 'string', 'text', 'call'],
    ['hs_call_duration', 'Call duration', 'number', 'number', 'call'],
    ['hs_call_disposition', 'Call outcome', 'enumeration', 'select', 'call'],
    ['hs_call_status', 'Call status', 'enumeration', 'select', 'call'],
    ['hs_call_title', 'Call title', 'string', 'text', 'call'],
    ['hs_call_body', 'Call notes', 'string', 'html', 'call'],
    ['hs_createdate', 'Create date', 'datetime', 'date', 'engagement'],
    ['hs_lastmodifieddate', 'Last modified date', 'datetime', 'date', 'engagement'],
    ['hs_object_id', 'Record ID', 'number', 'number', 'engagement'],
  ],
};

/** v4 association type ids HubSpot defines for the pairs the emulator models. */
const ASSOCIATION_TYPE_IDS: Record<string, number> = {
  'contacts->deals': 4,
  'deals->contacts': 3,
  'calls->contacts': 194,
  'contacts->calls': 193,
  'calls->deals': 206,
  'deals->calls': 205,
};

/**
 * HubSpot's default call outcomes, label → the internal GUID `hs_call_disposition` holds, as HubSpot documents
 * them, in the order its call log lists them.
 */
export const HUBSPOT_CALL_DISPOSITION_IDS = {
  Busy: '9d9162e7-6cf3-4944-bf63-4dff82258764',
  Connected: 'f240bbac-87c9-4f6e-bf70-924b57d47db7',
  'Left live message': 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff',
  'Left voicemail': 'b2cf5968-551e-4856-9783-52b3da59a7d0',
  'No answer': '73a0d17f-1163-4015-bdd5-ec830791da20',
  'Wrong number': '17b47fee-58de-441e-a44c-c6300d46f273',
} as const;

/** Paths that are HubSpot's API (authenticated, budgeted, recorded), as opposed to the control API. */
const API_PREFIXES = ['/crm/', '/calling/', '/calls/', '/form-integrations/'];
const BATCH_READ_MAX = 100;
const LIST_LIMIT_MAX = 100;
const ASSOCIATIONS_LIMIT_MAX = 500;
/** Inputs of one v4 associations batch read (HubSpot's limit since February 2025). */
const ASSOCIATIONS_BATCH_MAX = 1000;
const SEARCH_LIMIT_MAX = 200;
/** HubSpot's search answers no further than this many results into a query. */
const SEARCH_RESULTS_MAX = 10_000;
const SEARCH_FILTER_GROUPS_MAX = 5;
const SEARCH_FILTERS_PER_GROUP_MAX = 10;
const SEARCH_FILTERS_MAX = 25;
const FORM_SUBMISSIONS_LIMIT_DEFAULT = 20;
const FORM_SUBMISSIONS_LIMIT_MAX = 50;
/** HubSpot form GUIDs are UUIDs; the emulator accepts any version, in either case. */
const FORM_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
const seedCallSchema = z.object({
  id: idSchema.optional(),
  properties: seedPropertiesSchema.default({}),
  contactIds: z.array(idSchema).optional(),
  dealIds: z.array(idSchema).optional(),
});
const formFieldSchema = z.object({
  name: z.string().min(1),
  value: z.string(),
  objectTypeId: z.string().min(1).optional(),
});
const seedFormSubmissionSchema = z.object({
  conversionId: z.string().min(1).optional(),
  submittedAt: z
    .union([z.iso.datetime({ offset: true }).transform((v) => Date.parse(v)), z.number().int().nonnegative()])
    .optional(),
  values: z.union([z.record(z.string().min(1), z.string()), z.array(formFieldSchema)]),
  pageUrl: z.string().optional(),
});
const filterValueSchema = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const searchSchema = z.object({
  filterGroups: z
    .array(
      z.object({
        filters: z.array(
          z.object({
            propertyName: z.string().min(1),
            operator: z.string(),
            value: filterValueSchema.optional(),
            highValue: filterValueSchema.optional(),
            values: z.array(filterValueSchema).optional(),
          }),
        ),
      }),
    )
    .default([]),
  sorts: z
    .array(
      z.union([
        z.string().min(1),
        z.object({ propertyName: z.string().min(1), direction: z.enum(['ASCENDING', 'DESCENDING']).optional() }),
      ]),
    )
    .default([]),
  properties: z.array(z.string()).default([]),
  limit: z.number().int().optional(),
  after: z.union([z.string(), z.number()]).transform(String).optional(),
  query: z.string().optional(),
});
type SearchFilter = z.infer<typeof searchSchema>['filterGroups'][number]['filters'][number];
const associationsBatchSchema = z.object({
  inputs: z.array(z.object({ id: z.union([z.string(), z.number()]).transform(String), after: z.string().optional() })),
});
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

/**
 * Sends `body` as JSON with every `toObjectId` written as a bare JSON number, as HubSpot's v4 associations do,
 * from the id's digits: ids past 2^53 must reach the client exactly, which Number() would not allow.
 */
function sendWithNumericIds(reply: FastifyReply, status: number, body: unknown) {
  const json = JSON.stringify(body).replace(/"toObjectId":"(\d+)"/g, '"toObjectId":$1');
  return reply.code(status).type('application/json; charset=utf-8').send(json);
}

/** One v4 association entry; the id stays text until sendWithNumericIds writes it. */
function associatedEntry(from: HubSpotObjectType, to: HubSpotObjectType) {
  const typeId = ASSOCIATION_TYPE_IDS[`${from}->${to}`];
  const associationTypes = typeId === undefined ? [] : [{ category: 'HUBSPOT_DEFINED', typeId, label: null }];
  return (id: string) => ({ toObjectId: id, associationTypes });
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

const SYNTHETIC_FIRST_ID: Record<'contacts' | 'companies' | 'calls', number> = {
  contacts: 100_000_000,
  companies: 200_000_000,
  calls: 300_000_000,
};
const SYNTHETIC_CALLS_FIRST_MODIFIED = Date.parse('2026-01-01T00:00:00.000Z');
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

/**
 * The values of synthetic call number `n` (0-based), last modified at `modifiedAtMs`: an inbound Connected call
 * from one of a hundred fictional 555-01xx numbers, 1 to 600 s long, that took place five minutes earlier.
 */
export function syntheticCallProperties(n: number, modifiedAtMs: number): Record<string, string> {
  return {
    hs_call_direction: 'INBOUND',
    hs_call_from_number: `+1 212-555-01${String(n % 100).padStart(2, '0')}`,
    hs_call_to_number: '+1 650-555-0100',
    hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS.Connected,
    hs_call_status: 'COMPLETED',
    hs_call_duration: String(((n % 600) + 1) * 1000),
    hs_timestamp: new Date(modifiedAtMs - 5 * 60_000).toISOString(),
  };
}

/**
 * The values of synthetic form submission number `n` (0-based): a fictional person (`synthetic-<n>@example.com`,
 * a 555-01xx phone number) and the hidden field `gtag_transaction_id` carrying the order id `SYN-<n>`.
 */
export function syntheticFormSubmissionValues(n: number): Record<string, string> {
  return {
    email: `synthetic-${n}@example.com`,
    firstname: 'Synthetic',
    lastname: `Person ${n}`,
    phone: `+1 212-555-01${String(n % 100).padStart(2, '0')}`,
    company: `Synthetic company ${n % 50}`,
    gtag_transaction_id: `SYN-${n}`,
  };
}

/** The API's order: newest first; submissions of the same millisecond by conversionId, descending. */
function newestFirst(a: HubSpotStoredFormSubmission, b: HubSpotStoredFormSubmission): number {
  if (a.submittedAt !== b.submittedAt) return b.submittedAt - a.submittedAt;
  return a.conversionId < b.conversionId ? 1 : a.conversionId > b.conversionId ? -1 : 0;
}

// The submissions cursor is opaque to clients, as HubSpot's is: an offset into the newest-first list, encoded.
const encodeFormCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
function decodeFormCursor(after: string): number | undefined {
  const m = /^offset:(\d{1,9})$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
  const offset = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isSafeInteger(offset) && encodeFormCursor(offset) === after ? offset : undefined;
}

const copySubmission = (s: HubSpotStoredFormSubmission): HubSpotStoredFormSubmission => ({
  ...s,
  values: s.values.map((v) => ({ ...v })),
});

/** How search compares a property: as a point in time, a number, a record id (digits of any length) or text. */
type ValueKind = 'time' | 'number' | 'id' | 'text';
const CALL_PROPERTY_TYPES = new Map(BUILT_IN_PROPERTIES.calls.map(([name, , type]) => [name, type]));

function valueKind(property: string): ValueKind {
  if (property === 'hs_object_id') return 'id';
  const type = CALL_PROPERTY_TYPES.get(property);
  return type === 'datetime' || type === 'date' ? 'time' : type === 'number' ? 'number' : 'text';
}

/** A stored or filter value in the form it compares in; undefined when it cannot be read as its kind. */
function comparable(kind: ValueKind, raw: string): string | number | undefined {
  const text = raw.trim();
  if (kind === 'time') {
    // HubSpot takes epoch milliseconds or ISO 8601 in filters, and stores either.
    const ms = /^-?\d+$/.test(text) ? Number(text) : Date.parse(text);
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (kind === 'number') {
    const n = text === '' ? NaN : Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  if (kind === 'id') return /^\d+$/.test(text) ? text.replace(/^0+(?=\d)/, '') : undefined;
  // Search matches text regardless of case.
  return raw.toLowerCase();
}

function compareAs(kind: ValueKind, a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return kind === 'id' ? compareIds(x, y) : x < y ? -1 : x > y ? 1 : 0;
}

const COMPARISONS: Record<'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE', (order: number) => boolean> = {
  EQ: (c) => c === 0,
  NEQ: (c) => c !== 0,
  GT: (c) => c > 0,
  GTE: (c) => c >= 0,
  LT: (c) => c < 0,
  LTE: (c) => c <= 0,
};

type ValueOf = (obj: StoredObject, property: string) => string | number | undefined;

/** A filter as a predicate over records (`valueOf` reads a property in comparable form), or HubSpot's 400 message. */
function compileFilter(f: SearchFilter, valueOf: ValueOf): ((obj: StoredObject) => boolean) | string {
  const kind = valueKind(f.propertyName);
  const name = f.propertyName;
  const read = (obj: StoredObject) => valueOf(obj, name);
  const parse = (v: string | undefined) => (v === undefined ? undefined : comparable(kind, v));
  const invalid = `Invalid value for ${f.operator} on property ${name}`;
  switch (f.operator) {
    case 'HAS_PROPERTY':
      return (o) => o.properties[name] !== undefined;
    case 'NOT_HAS_PROPERTY':
      return (o) => o.properties[name] === undefined;
    case 'IN':
    case 'NOT_IN': {
      const values = (f.values ?? []).map(parse);
      if (values.length === 0 || values.some((v) => v === undefined)) return invalid;
      const wanted = values as (string | number)[];
      return (o) => {
        const v = read(o);
        const hit = v !== undefined && wanted.some((w) => compareAs(kind, v, w) === 0);
        return f.operator === 'IN' ? hit : !hit;
      };
    }
    case 'BETWEEN': {
      const low = parse(f.value);
      const high = parse(f.highValue);
      if (low === undefined || high === undefined) return invalid;
      return (o) => {
        const v = read(o);
        return v !== undefined && compareAs(kind, v, low) >= 0 && compareAs(kind, v, high) <= 0;
      };
    }
    case 'EQ':
    case 'NEQ':
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      const target = parse(f.value);
      if (target === undefined) return invalid;
      const holds = COMPARISONS[f.operator];
      // A record without the property is "not equal" to any value, and neither above nor below it.
      return (o) => {
        const v = read(o);
        return v === undefined ? f.operator === 'NEQ' : holds(compareAs(kind, v, target));
      };
    }
    default:
      return `Unsupported filter operator ${f.operator}`;
  }
}

export async function startHubSpotEmulator(opts: HubSpotEmulatorOptions = {}): Promise<HubSpotEmulator> {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const requests: HubSpotRecordedRequest[] = [];
  const store: Record<HubSpotObjectType, Map<string, StoredObject>> = {
    contacts: new Map(),
    companies: new Map(),
    deals: new Map(),
    calls: new Map(),
  };
  /** Deal id → its associated contact ids. */
  const dealContacts = new Map<string, Set<string>>();
  /** Call id → its associated contact and deal ids. */
  const callLinks = new Map<string, { contacts: Set<string>; deals: Set<string> }>();
  const faults = new FaultSwitch<HubSpotEmulatorFault>(now);
  // A bigint: a seeded id past 2^53 would otherwise make the next assigned ids collide.
  let nextId = 1_000_000n;
  const synthetic: Partial<
    Record<HubSpotObjectType, { count: number; firstId: number; firstModifiedAt: number; stepMs: number }>
  > = {};
  /** Stored ids in numeric order, rebuilt after a write: paging a million records must not sort each page. */
  const sortedIds: Partial<Record<HubSpotObjectType, string[]>> = {};
  /** knownProperties of each type, until the next write of that type: a read must not scan every stored record. */
  const knownNames: Partial<Record<HubSpotObjectType, Set<string>>> = {};
  /** Every synthetic call, built on the first search after setSynthetic: a search reads them all anyway. */
  let syntheticCallList: StoredObject[] | undefined;
  /** Stored and synthetic calls in one search order, kept until the next write of a call. */
  let callsVersion = 0;
  let orderedCalls: { sort: string; version: number; calls: StoredObject[] } | undefined;
  const rateLimit = opts.rateLimit === false ? undefined : (opts.rateLimit ?? { max: 190, intervalMs: 10_000 });
  /** Arrival times of the requests inside the current rolling window, oldest first. */
  const window: number[] = [];
  /** Counts of API requests since the last reset, kept even when `requests` is not. */
  const stats = { requests: 0, throttled: 0, firstAt: 0, lastAt: 0 };
  /** Lower-cased form GUID → its submissions in the API's order (newest first), and their conversionIds. */
  const forms = new Map<string, { list: HubSpotStoredFormSubmission[]; ids: Set<string> }>();
  /** Number of the next synthetic submission, across forms. */
  let nextSyntheticSubmission = 0;

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
    const created = CREATED[type];
    const createdate = obj.properties[created];
    const createdMs =
      createdate === undefined ? NaN : /^\d+$/.test(createdate) ? Number(createdate) : Date.parse(createdate);
    if (Number.isFinite(createdMs)) obj.createdAt = new Date(createdMs).toISOString();
    obj.properties[created] = createdate ?? obj.createdAt;
    obj.properties.hs_object_id = id;
    obj.updatedAt = at;
    obj.properties[LAST_MODIFIED[type]] = at;
    obj.searchKeys = undefined;
    if (type === 'calls') callsVersion += 1;
    if (!store[type].has(id)) delete sortedIds[type];
    delete knownNames[type];
    store[type].set(id, obj);
    if (BigInt(id) >= nextId) nextId = BigInt(id) + 1n;
    return obj;
  }

  const upsertContact = (id: string, properties: HubSpotSeedProperties, at?: number) =>
    void upsert('contacts', id, properties, at);
  const upsertCompany = (id: string, properties: HubSpotSeedProperties) => void upsert('companies', id, properties);
  const upsertDeal = (id: string, properties: HubSpotSeedProperties, contactIds?: string[], at?: number) => {
    const deal = upsert('deals', id, properties, at);
    if (contactIds !== undefined) dealContacts.set(deal.id, new Set(contactIds.map((c) => idSchema.parse(c))));
  };

  function linkCall(id: string, links: { contactIds?: string[]; dealIds?: string[] }): void {
    const current = callLinks.get(id) ?? { contacts: new Set<string>(), deals: new Set<string>() };
    if (links.contactIds !== undefined) current.contacts = new Set(links.contactIds.map((c) => idSchema.parse(c)));
    if (links.dealIds !== undefined) current.deals = new Set(links.dealIds.map((d) => idSchema.parse(d)));
    callLinks.set(id, current);
  }

  function addCall(call: HubSpotCallSeed = {}): string {
    const id = call.id === undefined ? String(nextId) : idSchema.parse(call.id);
    if (store.calls.has(id)) throw new Error(`call ${id} already exists`);
    upsert('calls', id, call.properties ?? {});
    linkCall(id, call);
    return id;
  }

  function updateCall(
    id: string,
    properties: HubSpotSeedProperties,
    links: { contactIds?: string[]; dealIds?: string[] } = {},
  ): void {
    if (!store.calls.has(id)) throw new Error(`no call ${id}`);
    upsert('calls', id, properties);
    linkCall(id, links);
  }

  /** The form, registered if need be; throws for a GUID that is not a UUID. */
  function formOf(formGuid: string): { list: HubSpotStoredFormSubmission[]; ids: Set<string> } {
    if (!FORM_GUID.test(formGuid)) throw new Error(`form GUID ${formGuid} is not a UUID`);
    const key = formGuid.toLowerCase();
    let form = forms.get(key);
    if (!form) forms.set(key, (form = { list: [], ids: new Set() }));
    return form;
  }

  /**
   * A seed as it will be stored, its conversionId taken in `ids`; throws for a bad seed, or a conversionId the
   * form already has (before `ids` changes).
   */
  function storedSubmission(seed: HubSpotFormSubmissionSeed, ids: Set<string>): HubSpotStoredFormSubmission {
    const conversionId = seed.conversionId ?? randomUUID();
    if (conversionId === '') throw new Error('conversionId must not be empty');
    if (ids.has(conversionId)) throw new Error(`the form already has a submission ${conversionId}`);
    const submittedAt = seed.submittedAt ?? now();
    if (!Number.isSafeInteger(submittedAt) || submittedAt < 0) throw new Error('submittedAt must be epoch ms');
    const fields: HubSpotFormSubmissionField[] = Array.isArray(seed.values)
      ? seed.values
      : Object.entries(seed.values).map(([name, value]) => ({ name, value }));
    const values = fields.map((f) => ({ name: f.name, value: f.value, objectTypeId: f.objectTypeId ?? '0-1' }));
    ids.add(conversionId);
    return { conversionId, submittedAt, values, ...(seed.pageUrl !== undefined ? { pageUrl: seed.pageUrl } : {}) };
  }

  function addFormSubmission(formGuid: string, seed: HubSpotFormSubmissionSeed): HubSpotStoredFormSubmission {
    const { list, ids } = formOf(formGuid);
    const submission = storedSubmission(seed, ids);
    // Binary search for the place in newest-first order: a submission of now goes to the head.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newestFirst(list[mid] as HubSpotStoredFormSubmission, submission) <= 0) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, submission);
    return copySubmission(submission);
  }

  function addSyntheticFormSubmissions(
    formGuid: string,
    count: number,
    opts: HubSpotSyntheticFormSubmissions = {},
  ): HubSpotStoredFormSubmission[] {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    const stepMs = opts.stepMs ?? 1000;
    const startMs = opts.startMs ?? now() - count * stepMs;
    if (!Number.isSafeInteger(startMs) || startMs < 0 || !Number.isSafeInteger(stepMs) || stepMs < 0) {
      throw new RangeError('startMs must be epoch ms, stepMs a non-negative integer');
    }
    const { list, ids } = formOf(formGuid);
    const added = Array.from({ length: count }, (_, i) =>
      storedSubmission(
        {
          submittedAt: startMs + i * stepMs,
          values: syntheticFormSubmissionValues(nextSyntheticSubmission + i),
          pageUrl: 'https://www.example.com/synthetic-form',
        },
        ids,
      ),
    );
    nextSyntheticSubmission += count;
    // One sort for the lot: inserting a million submissions one by one would be quadratic.
    list.push(...added);
    list.sort(newestFirst);
    return added.map(copySubmission);
  }

  const formSubmissions = (formGuid: string) => (forms.get(formGuid.toLowerCase())?.list ?? []).map(copySubmission);

  /** The ids associated with a record, in id order. */
  function associatedIds(from: HubSpotObjectType, to: HubSpotObjectType, id: string): string[] {
    let ids: Iterable<string> = [];
    if (from === 'contacts' && to === 'deals') {
      ids = [...dealContacts].filter(([, contacts]) => contacts.has(id)).map(([dealId]) => dealId);
    } else if (from === 'deals' && to === 'contacts') {
      ids = dealContacts.get(id) ?? [];
    } else if (from === 'calls' && (to === 'contacts' || to === 'deals')) {
      ids = callLinks.get(id)?.[to] ?? [];
    } else if (to === 'calls' && (from === 'contacts' || from === 'deals')) {
      ids = [...callLinks].filter(([, links]) => links[from].has(id)).map(([callId]) => callId);
    }
    // Contact↔deal links count only to records that exist; call links are kept as written, like a test wrote them.
    const kept = [...ids].filter((i) => from === 'calls' || to === 'calls' || store[to].has(i));
    return kept.sort(compareIds);
  }

  /** Names a read may return for a type: HubSpot's own and every name seeded on a record of that type. */
  function knownProperties(type: HubSpotObjectType): Set<string> {
    const cached = knownNames[type];
    if (cached) return cached;
    const names = new Set(BUILT_IN_PROPERTIES[type].map(([name]) => name));
    for (const obj of store[type].values()) for (const name of Object.keys(obj.properties)) names.add(name);
    return (knownNames[type] = names);
  }

  function setSynthetic(
    type: 'contacts' | 'companies' | 'calls',
    records: HubSpotSyntheticRecords | HubSpotSyntheticCalls | undefined,
  ): void {
    if (type === 'calls') {
      syntheticCallList = undefined;
      callsVersion += 1;
    }
    if (!records || records.count <= 0) delete synthetic[type];
    else {
      const calls: HubSpotSyntheticCalls = records;
      synthetic[type] = {
        count: records.count,
        firstId: records.firstId ?? SYNTHETIC_FIRST_ID[type],
        firstModifiedAt: calls.firstModifiedAt ?? SYNTHETIC_CALLS_FIRST_MODIFIED,
        stepMs: calls.stepMs ?? 1000,
      };
    }
  }

  function valueOf(obj: StoredObject, property: string): string | number | undefined {
    const keys = (obj.searchKeys ??= Object.create(null) as Record<string, string | number | undefined>);
    if (property in keys) return keys[property];
    const raw = obj.properties[property];
    return (keys[property] = raw === undefined ? undefined : comparable(valueKind(property), raw));
  }

  function syntheticCalls(): StoredObject[] {
    const range = synthetic.calls;
    if (!range) return [];
    syntheticCallList ??= Array.from({ length: range.count }, (_, n) =>
      syntheticObject('calls', String(range.firstId + n)),
    ).filter((o): o is StoredObject => o !== undefined);
    return syntheticCallList;
  }

  /** A synthetic record, built when it is read. */
  function syntheticObject(type: HubSpotObjectType, id: string): StoredObject | undefined {
    const range = synthetic[type];
    if (!range || type === 'deals' || !/^\d{1,15}$/.test(id)) return undefined;
    const n = Number(id) - range.firstId;
    if (n < 0 || n >= range.count) return undefined;
    if (type === 'calls') {
      const modifiedMs = range.firstModifiedAt + n * range.stepMs;
      const at = new Date(modifiedMs).toISOString();
      const properties = {
        ...syntheticCallProperties(n, modifiedMs),
        hs_createdate: at,
        hs_lastmodifieddate: at,
        hs_object_id: id,
      };
      return { id, properties, history: {}, createdAt: at, updatedAt: at };
    }
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
    const names = requested.length > 0 ? [...requested, CREATED[type], 'hs_object_id', LAST_MODIFIED[type]] : [];
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
    if (!API_PREFIXES.some((prefix) => req.url.startsWith(prefix))) return;
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
    const authFault = faults.current?.type === 'auth' ? faults.current : undefined;
    if (authFault) faults.spend();
    if (authFault?.status === 403) {
      return reply
        .code(403)
        .send(
          hubSpotError(
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
            'MISSING_SCOPES',
          ),
        );
    }
    if (authFault || !token || (opts.accessToken !== undefined && token !== opts.accessToken)) {
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
    const label = SINGULAR[type].toUpperCase();
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
    const related = associatedIds(from, to, id);

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
    const nextAfter = start + limit < related.length ? String(start + limit) : undefined;
    const path = req.url.split('?')[0] ?? '';
    return sendWithNumericIds(reply, 200, {
      results: page.map(associatedEntry(from, to)),
      ...(nextAfter
        ? { paging: { next: { after: nextAfter, link: `${basePath.value}${path}?limit=${limit}&after=${nextAfter}` } } }
        : {}),
    });
  });

  app.post<{ Params: { fromObjectType: string; toObjectType: string } }>(
    '/crm/v4/associations/:fromObjectType/:toObjectType/batch/read',
    (req, reply) => {
      const from = OBJECT_TYPES[req.params.fromObjectType.toLowerCase()];
      const to = OBJECT_TYPES[req.params.toObjectType.toLowerCase()];
      if (!from || !to) {
        const name = from ? req.params.toObjectType : req.params.fromObjectType;
        return reply.code(400).send(hubSpotError(`Unable to infer object type from: ${name}`, 'VALIDATION_ERROR'));
      }
      const parsed = associationsBatchSchema.safeParse(req.body);
      if (!parsed.success) {
        return reply
          .code(400)
          .send(hubSpotError(`Invalid input JSON: ${z.prettifyError(parsed.error)}`, 'VALIDATION_ERROR'));
      }
      const { inputs } = parsed.data;
      if (inputs.length > ASSOCIATIONS_BATCH_MAX) {
        return reply
          .code(400)
          .send(
            hubSpotError(
              `Batch input size ${inputs.length} is over the limit of ${ASSOCIATIONS_BATCH_MAX}`,
              'VALIDATION_ERROR',
            ),
          );
      }
      const startedAt = iso();
      const results = [];
      const errors = [];
      for (const { id, after } of inputs) {
        const start = after === undefined ? 0 : Number(after);
        if (!Number.isInteger(start) || start < 0) {
          return reply
            .code(400)
            .send(hubSpotError('after must be a paging cursor from a previous page', 'VALIDATION_ERROR'));
        }
        const ids = associatedIds(from, to, id);
        if (ids.length === 0) {
          // HubSpot reports a record without associations as an error entry of a 207, not as an empty result.
          errors.push({
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
            message: `No ${SINGULAR[to]} is associated with ${SINGULAR[from]} ${id}.`,
            context: { fromObjectId: [id], fromObjectType: [SINGULAR[from]], toObjectType: [SINGULAR[to]] },
          });
          continue;
        }
        const end = start + ASSOCIATIONS_LIMIT_MAX;
        results.push({
          from: { id },
          to: ids.slice(start, end).map(associatedEntry(from, to)),
          ...(end < ids.length ? { paging: { next: { after: String(end) } } } : {}),
        });
      }
      const body = { status: 'COMPLETE', results, startedAt, completedAt: iso() };
      if (errors.length === 0) return sendWithNumericIds(reply, 200, body);
      return sendWithNumericIds(reply, 207, { ...body, numErrors: errors.length, errors });
    },
  );

  /**
   * Every call, stored and synthetic, in the order of a sort (id order without one). HubSpot applies one sort and
   * promises no order among equal values: ties come back in a fixed order that is deliberately not id order, so a
   * client cannot come to rely on one. Values a record lacks sort last.
   */
  function callsInOrder(sort: { property: string; descending: boolean } | undefined): StoredObject[] {
    const key = sort ? `${sort.descending ? '-' : ''}${sort.property}` : '';
    if (orderedCalls?.sort === key && orderedCalls.version === callsVersion) return orderedCalls.calls;
    const calls = [...store.calls.values()];
    for (const obj of syntheticCalls()) if (!store.calls.has(obj.id)) calls.push(obj);
    if (!sort) calls.sort(byNumericId);
    else {
      const kind = valueKind(sort.property);
      const keyed = calls.map((o) => ({ o, key: valueOf(o, sort.property) }));
      keyed.sort((a, b) => {
        if (a.key === undefined || b.key === undefined) {
          if (a.key === b.key) return compareIds(b.o.id, a.o.id);
          return a.key === undefined ? 1 : -1;
        }
        const order = compareAs(kind, a.key, b.key);
        return order !== 0 ? (sort.descending ? -order : order) : compareIds(b.o.id, a.o.id);
      });
      orderedCalls = { sort: key, version: callsVersion, calls: keyed.map((k) => k.o) };
      return orderedCalls.calls;
    }
    orderedCalls = { sort: key, version: callsVersion, calls };
    return calls;
  }

  /** A call search: HubSpot's filters, its first sort, `after` offsets, 200 a page and 10,000 results at most. */
  function searchCalls(req: FastifyRequest, reply: FastifyReply) {
    const parsed = searchSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return reply
        .code(400)
        .send(hubSpotError(`Invalid input JSON: ${z.prettifyError(parsed.error)}`, 'VALIDATION_ERROR'));
    }
    const { filterGroups, sorts, properties, query } = parsed.data;
    const bad = (message: string) => reply.code(400).send(hubSpotError(message, 'VALIDATION_ERROR'));
    if (query !== undefined) return bad('the sandbox emulator does not model free-text search (query)');
    const limit = parsed.data.limit ?? 10;
    if (limit < 1 || limit > SEARCH_LIMIT_MAX) return bad(`limit must be between 1 and ${SEARCH_LIMIT_MAX}`);
    const after = parsed.data.after === undefined ? 0 : Number(parsed.data.after);
    if (!Number.isInteger(after) || after < 0) return bad('after must be a paging cursor from a previous page');
    if (after + limit > SEARCH_RESULTS_MAX) {
      return bad(`Search results are limited to ${SEARCH_RESULTS_MAX}; after + limit may not exceed that`);
    }
    const filterCount = filterGroups.reduce((n, g) => n + g.filters.length, 0);
    if (
      filterGroups.length > SEARCH_FILTER_GROUPS_MAX ||
      filterGroups.some((g) => g.filters.length > SEARCH_FILTERS_PER_GROUP_MAX) ||
      filterCount > SEARCH_FILTERS_MAX
    ) {
      const most = [SEARCH_FILTER_GROUPS_MAX, SEARCH_FILTERS_PER_GROUP_MAX, SEARCH_FILTERS_MAX];
      return bad(`At most ${most[0]} filter groups, ${most[1]} filters in a group and ${most[2]} in all`);
    }
    const groups: ((obj: StoredObject) => boolean)[][] = [];
    for (const group of filterGroups) {
      const predicates = [];
      for (const filter of group.filters) {
        const predicate = compileFilter(filter, valueOf);
        if (typeof predicate === 'string') return bad(predicate);
        predicates.push(predicate);
      }
      groups.push(predicates);
    }
    // Groups are ORed, the filters of a group ANDed.
    const matches = (o: StoredObject) => groups.length === 0 || groups.some((g) => g.every((p) => p(o)));
    const sort = sorts[0];
    const matched = callsInOrder(
      sort === undefined
        ? undefined
        : typeof sort === 'string'
          ? { property: sort.replace(/^-/, ''), descending: sort.startsWith('-') }
          : { property: sort.propertyName, descending: sort.direction === 'DESCENDING' },
    ).filter(matches);

    const known = knownProperties('calls');
    const page = matched.slice(after, after + limit);
    const next = after + limit < matched.length ? String(after + limit) : undefined;
    return {
      total: matched.length,
      results: page.map((o) => publicObject('calls', o, properties, known)),
      ...(next ? { paging: { next: { after: next } } } : {}),
    };
  }

  // Search of other objects, only as far as a count: HubSpot's `total` for a search without filters (what
  // progress reads).
  app.post<{ Params: TypeParams }>('/crm/v3/objects/:objectType/search', (req, reply) => {
    const type = objectTypeOf(req, reply);
    if (!type) return reply;
    if (type === 'calls') return searchCalls(req, reply);
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

  // A form's submissions, newest first (ties by conversionId, descending), `limit` 1 to 50 (default 20).
  //
  // The `after` cursor is an offset into that newest-first list (HubSpot's opaque cursor is taken to be one), not a
  // position pinned to a submission: it stays valid (never an error) when submissions arrive between page reads, but a
  // submission that arrives at the head pushes every older one a place down, so the next page starts that many places
  // early and repeats the last submissions of the previous page. A client pages correctly only if it de-duplicates by
  // conversionId. The emulator never deletes a submission, so its offsets never skip one.
  app.get<{ Params: { formGuid: string }; Querystring: Record<string, string | string[]> }>(
    '/form-integrations/v1/submissions/forms/:formGuid',
    (req, reply) => {
      const bad = (message: string) => reply.code(400).send(hubSpotError(message, 'VALIDATION_ERROR'));
      const limitText = queryOne(req.query.limit);
      const limit = limitText === undefined ? FORM_SUBMISSIONS_LIMIT_DEFAULT : Number(limitText);
      if (!/^\d+$/.test(limitText ?? '1') || limit < 1 || limit > FORM_SUBMISSIONS_LIMIT_MAX) {
        return bad(`limit must be an integer between 1 and ${FORM_SUBMISSIONS_LIMIT_MAX}`);
      }
      const after = queryOne(req.query.after);
      const offset = after === undefined ? 0 : decodeFormCursor(after);
      if (offset === undefined) return bad('after must be a paging cursor from a previous page');
      const list = forms.get(req.params.formGuid.toLowerCase())?.list;
      if (!list) {
        return reply.code(404).send(hubSpotError(`Form ${req.params.formGuid} does not exist`, 'OBJECT_NOT_FOUND'));
      }
      const end = offset + limit;
      const next = end < list.length ? encodeFormCursor(end) : undefined;
      const path = req.url.split('?')[0] ?? '';
      return {
        results: list.slice(offset, end).map(copySubmission),
        ...(next
          ? { paging: { next: { after: next, link: `${basePath.value}${path}?limit=${limit}&after=${next}` } } }
          : {}),
      };
    },
  );

  // HubSpot documents /calling/v1/dispositions (its API logs show /twilio/v1/dispositions); /calls/v1 answers the same.
  for (const path of ['/calling/v1/dispositions', '/calls/v1/dispositions']) {
    app.get(path, () => Object.entries(HUBSPOT_CALL_DISPOSITION_IDS).map(([label, id]) => ({ id, label })));
  }

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
  app.post('/_sandbox/calls', (req, reply) => {
    const items: unknown[] = Array.isArray(req.body) ? req.body : [req.body];
    const parsed = z.array(seedCallSchema).safeParse(items);
    if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
    const ids = parsed.data.map((call) => {
      if (call.id === undefined || !store.calls.has(call.id)) return addCall(call);
      updateCall(call.id, call.properties, call);
      return call.id;
    });
    return reply.code(200).send({ ids });
  });
  // A form's submissions, seeded (one or an array; registers the form); PUT registers a form without any.
  app.post<{ Params: { formGuid: string } }>('/_sandbox/forms/:formGuid/submissions', (req, reply) => {
    if (!FORM_GUID.test(req.params.formGuid)) return reply.code(400).send({ error: 'the form GUID must be a UUID' });
    const items: unknown[] = Array.isArray(req.body) ? req.body : [req.body];
    const parsed = z.array(seedFormSubmissionSchema).safeParse(items);
    if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
    const known = forms.get(req.params.formGuid.toLowerCase())?.ids ?? new Set<string>();
    const ids = parsed.data.map((s) => s.conversionId).filter((id): id is string => id !== undefined);
    if (ids.some((id) => known.has(id)) || new Set(ids).size !== ids.length) {
      return reply.code(409).send({ error: 'a conversionId is already taken' });
    }
    const stored = parsed.data.map((s) => addFormSubmission(req.params.formGuid, s));
    return reply.code(200).send({ conversionIds: stored.map((s) => s.conversionId) });
  });
  app.put<{ Params: { formGuid: string } }>('/_sandbox/forms/:formGuid', (req, reply) => {
    if (!FORM_GUID.test(req.params.formGuid)) return reply.code(400).send({ error: 'the form GUID must be a UUID' });
    formOf(req.params.formGuid);
    return reply.code(204).send();
  });
  const syntheticSchema = z.object({
    count: z.number().int().nonnegative(),
    firstId: z.number().int().positive().optional(),
  });
  const syntheticCallsSchema = syntheticSchema.extend({
    firstModifiedAt: z.number().int().optional(),
    stepMs: z.number().int().nonnegative().optional(),
  });
  for (const type of ['contacts', 'companies', 'calls'] as const) {
    app.put(`/_sandbox/synthetic/${type}`, (req, reply) => {
      const parsed = (type === 'calls' ? syntheticCallsSchema : syntheticSchema).safeParse(req.body);
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

  if (opts.seedDemo) seedDemo({ upsertContact, upsertDeal, upsertCompany, addCall, addFormSubmission }, now());

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
    setSyntheticCalls: (calls) => setSynthetic('calls', calls),
    addCall,
    updateCall,
    addForm: (formGuid) => void formOf(formGuid),
    addFormSubmission,
    addSyntheticFormSubmissions,
    formSubmissions,
    setFault: (fault) => faults.set(fault),
    close: () => app.close(),
  };
}

/** The consent property the demo contacts carry; a conversion definition can name it. */
export const DEMO_CONSENT_PROPERTY = 'google_ads_consent';
export const DEMO_CONTACT_IDS = { jane: '1001', ravi: '1002', noDeals: '1003' } as const;
/**
 * The demo calls. Inbound: Jane (Connected, deal 3002), Ravi (Connected, deal 3003), an unknown caller (No
 * answer) and the no-deals contact (Left voicemail); outbound: a Connected call to Jane. The caller numbers are
 * fictional 555-01xx numbers in the formats people type them in, for the relay's normalisation.
 */
export const DEMO_CALL_IDS = {
  janeConnected: '4001',
  raviConnected: '4002',
  unknownNoAnswer: '4003',
  janeOutbound: '4004',
  noDealsVoicemail: '4005',
} as const;
/** The company line the demo calls reach (inbound) or come from (outbound). */
export const DEMO_CALL_LINE = '+1 650-555-0100';
/** The Pendo ids the demo contacts and companies carry; the Pendo emulator's demo knows the same ids. */
export const DEMO_PENDO = {
  visitorIdProperty: 'pendo_visitor_id',
  accountIdProperty: 'pendo_account_id',
  visitors: ['demo-visitor-1001', 'demo-visitor-1002'],
  accounts: ['demo-account-2001', 'demo-account-2002'],
} as const;

/** The forms of examples/conversion-events.yaml: demo-request-form and newsletter-form-mcc. */
export const DEMO_FORM_GUIDS = {
  demoRequest: '5f1c7a2e-8b3d-4c9e-a6f0-2d4b8e1c3a57',
  newsletter: '0b9e4d61-3f2a-4e8c-9d17-6a5c2f8e4b90',
} as const;
/**
 * The demo form submissions, each with the order id its hidden field `gtag_transaction_id` carries (what the
 * Google tag recorded as the conversion's transaction id). Demo request form: Jane (2 h ago), Alex, who is not in
 * the CRM and typed the email with capitals and a trailing space (35 min ago), and the no-deals contact, who left
 * the optional phone and company empty, so HubSpot lists no value for them (10 min ago); newsletter form: Ravi
 * (3 h ago) and Taro, not in the CRM either (50 min ago). Fictional people and numbers only.
 */
export const DEMO_FORM_SUBMISSIONS = {
  janeDemoRequest: { conversionId: '6d0f3b8e-2a41-4c7d-9e85-1b3a7c9d2e01', orderId: 'ORD-2026-10481' },
  alexDemoRequest: { conversionId: '9a2c5e71-4b8d-4f03-a6e2-7d1c8b5f3a02', orderId: 'ORD-2026-10493' },
  noDealsDemoRequest: { conversionId: 'c4e81f2a-7d3b-4a96-8c05-2f9e6d1b7a03', orderId: 'ORD-2026-10502' },
  raviNewsletter: { conversionId: '1b7d9e3c-5f2a-4e81-b0c6-8a4d2f7e9b04', orderId: 'NL-2026-00317' },
  taroNewsletter: { conversionId: 'e3a6c0d9-8b1f-4d27-95e4-6c2b9a8f1d05', orderId: 'NL-2026-00322' },
} as const;

type Seeder = Pick<HubSpotEmulator, 'upsertContact' | 'upsertDeal' | 'upsertCompany' | 'addCall' | 'addFormSubmission'>;

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
  const MINUTE = 60_000;
  s.addCall({
    id: DEMO_CALL_IDS.janeConnected,
    properties: {
      hs_call_direction: 'INBOUND',
      hs_call_from_number: '+1 212-555-0142',
      hs_call_to_number: DEMO_CALL_LINE,
      hs_timestamp: at(2),
      hs_call_duration: 6 * MINUTE + 12_000,
      hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS.Connected,
      hs_call_status: 'COMPLETED',
      hs_call_title: 'Pricing question',
    },
    contactIds: [DEMO_CONTACT_IDS.jane],
    dealIds: ['3002'],
  });
  s.addCall({
    id: DEMO_CALL_IDS.raviConnected,
    properties: {
      hs_call_direction: 'INBOUND',
      hs_call_from_number: '(212) 555-0199',
      hs_call_to_number: DEMO_CALL_LINE,
      // Epoch milliseconds, as HubSpot keeps hs_timestamp when an integration wrote it that way.
      hs_timestamp: String(nowMs - DAY - 30 * MINUTE),
      hs_call_duration: 95_000,
      hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS.Connected,
      hs_call_status: 'COMPLETED',
      hs_call_title: 'Renewal follow-up',
    },
    contactIds: [DEMO_CONTACT_IDS.ravi],
    dealIds: ['3003'],
  });
  s.addCall({
    id: DEMO_CALL_IDS.unknownNoAnswer,
    properties: {
      hs_call_direction: 'INBOUND',
      hs_call_from_number: '2125550123',
      hs_call_to_number: DEMO_CALL_LINE,
      hs_timestamp: at(1),
      hs_call_duration: 0,
      hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS['No answer'],
      hs_call_status: 'NO_ANSWER',
    },
  });
  s.addCall({
    id: DEMO_CALL_IDS.janeOutbound,
    properties: {
      hs_call_direction: 'OUTBOUND',
      hs_call_from_number: DEMO_CALL_LINE,
      hs_call_to_number: '+1 212-555-0142',
      hs_timestamp: at(1),
      hs_call_duration: 4 * MINUTE,
      hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS.Connected,
      hs_call_status: 'COMPLETED',
    },
    contactIds: [DEMO_CONTACT_IDS.jane],
    dealIds: ['3002'],
  });
  s.addCall({
    id: DEMO_CALL_IDS.noDealsVoicemail,
    properties: {
      hs_call_direction: 'INBOUND',
      hs_call_from_number: '+12125550177',
      hs_call_to_number: DEMO_CALL_LINE,
      hs_timestamp: at(0.5),
      hs_call_duration: 40_000,
      hs_call_disposition: HUBSPOT_CALL_DISPOSITION_IDS['Left voicemail'],
      hs_call_status: 'COMPLETED',
    },
    contactIds: [DEMO_CONTACT_IDS.noDeals],
  });
  const HOUR = 60 * MINUTE;
  const form = (
    guid: string,
    demo: { conversionId: string; orderId: string },
    agoMs: number,
    pageUrl: string,
    values: Record<string, string>,
  ) =>
    s.addFormSubmission(guid, {
      conversionId: demo.conversionId,
      submittedAt: nowMs - agoMs,
      values: { ...values, gtag_transaction_id: demo.orderId },
      pageUrl,
    });
  const demoRequestPage = 'https://www.example.com/demo-request';
  const newsletterPage = 'https://www.example.com/newsletter';
  form(DEMO_FORM_GUIDS.demoRequest, DEMO_FORM_SUBMISSIONS.janeDemoRequest, 2 * HOUR, demoRequestPage, {
    email: 'jane.doe@example.com',
    firstname: 'Jane',
    lastname: 'Doe',
    phone: '+1 650-555-0134',
    company: 'Example Corp',
  });
  form(DEMO_FORM_GUIDS.demoRequest, DEMO_FORM_SUBMISSIONS.alexDemoRequest, 35 * MINUTE, demoRequestPage, {
    email: 'Alex.Smith@Example.com ',
    firstname: 'Alex',
    lastname: 'Smith',
    phone: '(650) 555-0187',
    company: 'Example Corp',
  });
  form(DEMO_FORM_GUIDS.demoRequest, DEMO_FORM_SUBMISSIONS.noDealsDemoRequest, 10 * MINUTE, demoRequestPage, {
    email: 'no.deals@example.com',
    firstname: 'Noa',
    lastname: 'Deals',
  });
  form(DEMO_FORM_GUIDS.newsletter, DEMO_FORM_SUBMISSIONS.raviNewsletter, 3 * HOUR, newsletterPage, {
    email: 'ravi.kumar@example.de',
    firstname: 'Ravi',
    lastname: 'Kumar',
    phone: '030 5550123',
    company: 'Example GmbH',
  });
  form(DEMO_FORM_GUIDS.newsletter, DEMO_FORM_SUBMISSIONS.taroNewsletter, 50 * MINUTE, newsletterPage, {
    email: 'taro.yamada@example.jp',
    firstname: 'Taro',
    lastname: 'Yamada',
    phone: '+81 3-5550-0199',
    company: 'Example KK',
  });
}
