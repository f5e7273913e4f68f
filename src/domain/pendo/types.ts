// Flow E (HubSpot → Pendo metadata) in one place: levels, Pendo's hosts and limits, the failure types the
// activities throw and the workflow branches on, and the shapes of a run's plan and counts. Pure.

/** A Pendo metadata level and the HubSpot object that feeds it. */
export type PendoLevel = 'visitor' | 'account';
export const PENDO_LEVELS: readonly PendoLevel[] = ['visitor', 'account'];
export const HUBSPOT_OBJECT_OF: Readonly<Record<PendoLevel, 'contacts' | 'companies'>> = {
  visitor: 'contacts',
  account: 'companies',
};
/** The id field of a record in Pendo's bulk metadata body. */
export const PENDO_ID_FIELD: Readonly<Record<PendoLevel, 'visitorId' | 'accountId'>> = {
  visitor: 'visitorId',
  account: 'accountId',
};

export type PendoRegion = 'us' | 'eu' | 'us1' | 'jp' | 'au';
/** One host per Pendo data centre; the API lives under /api/v1. */
export const PENDO_HOSTS: Readonly<Record<PendoRegion, string>> = {
  us: 'https://app.pendo.io',
  eu: 'https://app.eu.pendo.io',
  us1: 'https://us1.app.pendo.io',
  jp: 'https://app.jpn.pendo.io',
  au: 'https://app.au.pendo.io',
};

/**
 * Records per bulk metadata write. Pendo documents no maximum; integrations commonly send about 1,000, and a
 * request of that size stays far below any body limit (a few hundred KB).
 */
export const PENDO_BATCH_MAX = 1_000;
/** Pendo asks to keep text values under 1,500 characters; a longer value is left out, never cut. */
export const PENDO_TEXT_MAX = 1_500;
/** HubSpot's list API returns at most 100 records a page (101 is a 400). */
export const HUBSPOT_PAGE_MAX = 100;
/** An id property shared by more distinct values than this is not an id: the level fails instead. */
export const MAX_CONFLICTING_IDS = 1_000;
/** How many HubSpot record ids a run lists per kind of problem (the counts are always complete). */
export const REPORTED_RECORD_IDS_MAX = 50;

/** The Pendo metadata types the HubSpot integration translates into. */
export type PendoType = 'string' | 'boolean' | 'decimal' | 'time';

/** How a HubSpot value (always a string on the wire) is read for its Pendo type. */
export type ValueParser = 'string' | 'boolean' | 'number' | 'date' | 'datetime';

/** A chosen HubSpot property that will be imported. */
export interface ImportedField {
  name: string;
  hubspotType: string;
  fieldType: string;
  pendoType: PendoType;
  parser: ValueParser;
}

/** A chosen property the import skips, and why. */
export interface SkippedField {
  name: string;
  reason: 'UNKNOWN_PROPERTY' | 'NOT_SUPPORTED' | 'INVALID_PENDO_NAME';
  detail: string;
}

/** One level of a run, as the plan activity resolved it against HubSpot's property definitions. */
export interface LevelPlan {
  level: PendoLevel;
  idProperty: string;
  /** HubSpot enforces unique values on the id property: no two records can conflict, so no id scan is needed. */
  idUnique: boolean;
  fields: ImportedField[];
  skipped: SkippedField[];
  /** Set when the level cannot run at all (its id property does not exist). */
  error?: { reason: string; detail: string };
}

export interface ImportPlan {
  region: PendoRegion;
  timeZone: string;
  levels: LevelPlan[];
}

/** What a level of a run did; every record read lands in exactly one of the record outcomes. */
export interface LevelCounts {
  /** HubSpot records read. */
  read: number;
  /** Records Pendo reported as updated. */
  updated: number;
  /** Records Pendo did not know (never created). */
  missing: number;
  /** Records Pendo reported as failed. */
  failed: number;
  /** Records whose id property is empty: nothing to map them to. */
  emptyId: number;
  /** Records sharing their id value with another record: none of them is written. */
  conflicts: number;
  /** Records with no importable value left. */
  noValues: number;
  /** Values left out because they did not parse as their type, by property name. */
  invalidValues: Record<string, number>;
}

export const emptyCounts = (): LevelCounts => ({
  read: 0,
  updated: 0,
  missing: 0,
  failed: 0,
  emptyId: 0,
  conflicts: 0,
  noValues: 0,
  invalidValues: {},
});

export function addCounts(a: LevelCounts, b: LevelCounts): LevelCounts {
  const invalidValues = { ...a.invalidValues };
  for (const [name, n] of Object.entries(b.invalidValues)) invalidValues[name] = (invalidValues[name] ?? 0) + n;
  return {
    read: a.read + b.read,
    updated: a.updated + b.updated,
    missing: a.missing + b.missing,
    failed: a.failed + b.failed,
    emptyId: a.emptyId + b.emptyId,
    conflicts: a.conflicts + b.conflicts,
    noValues: a.noValues + b.noValues,
    invalidValues,
  };
}

export const invalidValueCount = (c: LevelCounts): number =>
  Object.values(c.invalidValues).reduce((sum, n) => sum + n, 0);

/** A level has failures when Pendo failed records, ids conflicted or values were left out. */
export const hasFailures = (c: LevelCounts): boolean => c.failed > 0 || c.conflicts > 0 || invalidValueCount(c) > 0;

/** HubSpot record ids, capped at REPORTED_RECORD_IDS_MAX, with the total they were taken from. */
export interface RecordIdSample {
  total: number;
  ids: string[];
}

export const emptySample = (): RecordIdSample => ({ total: 0, ids: [] });

export function addToSample(sample: RecordIdSample, ids: readonly string[]): RecordIdSample {
  const room = Math.max(0, REPORTED_RECORD_IDS_MAX - sample.ids.length);
  return { total: sample.total + ids.length, ids: [...sample.ids, ...ids.slice(0, room)] };
}

const mergeSample = (a: RecordIdSample, b: RecordIdSample): RecordIdSample => ({
  total: a.total + b.total,
  ids: [...a.ids, ...b.ids].slice(0, REPORTED_RECORD_IDS_MAX),
});

/** The HubSpot record ids behind a level's counts, a sample of each kind. */
export interface ImportSamples {
  conflicts: RecordIdSample;
  missing: RecordIdSample;
  emptyId: RecordIdSample;
  failed: RecordIdSample;
  invalid: RecordIdSample;
}

export const emptySamples = (): ImportSamples => ({
  conflicts: emptySample(),
  missing: emptySample(),
  emptyId: emptySample(),
  failed: emptySample(),
  invalid: emptySample(),
});

export const mergeSamples = (a: ImportSamples, b: ImportSamples): ImportSamples => ({
  conflicts: mergeSample(a.conflicts, b.conflicts),
  missing: mergeSample(a.missing, b.missing),
  emptyId: mergeSample(a.emptyId, b.emptyId),
  failed: mergeSample(a.failed, b.failed),
  invalid: mergeSample(a.invalid, b.invalid),
});

/** Failure types of Flow E, thrown by the activities and read by the workflow. */
export const PendoFailure = {
  /** 429: Pendo's leaky bucket overflowed. */
  RateLimited: 'PendoRateLimited',
  /** 409: another metadata write is running for the subscription. */
  Busy: 'PendoBusy',
  /** 5xx, timeouts, refused connections. */
  Transient: 'PendoTransient',
  /** 401/403: the integration key is wrong or read-only. */
  Auth: 'PendoAuthError',
  /** Any other 4xx: the request itself is wrong and will not become right. */
  Invalid: 'PendoInvalid',
  /** Pendo is not configured (no PENDO_INTEGRATION_KEY). */
  NotConfigured: 'PendoNotConfigured',
  /** The id property holds more shared values than an id property can. */
  IdPropertyNotUnique: 'PendoIdPropertyNotUnique',
  /** The run ended with failed records, conflicts or values left out. */
  CompletedWithFailures: 'PendoImportCompletedWithFailures',
} as const;
export type PendoFailureType = (typeof PendoFailure)[keyof typeof PendoFailure];
export const PENDO_NON_RETRYABLE: readonly string[] = [PendoFailure.Invalid, PendoFailure.IdPropertyNotUnique];

/** Credentials failures wait this long, so an operator can fix the key within the night. */
export const PENDO_AUTH_RETRY_DELAY_MS = 15 * 60_000;
/**
 * How long an import parks on a credentials outage (the process's circuit: 5 minutes, doubling to hours)
 * before the level fails with it: the night's import must leave room for the next one.
 */
export const PENDO_OUTAGE_WINDOW_MS = 6 * 3_600_000;
/** In-process retries of a 409/429 before the activity gives up to Temporal's retry policy. */
export const PENDO_BUSY_RETRIES = 5;
/** First in-process backoff after a 409/429; doubled each time (1, 2, 4, 8, 16 s). */
export const PENDO_BUSY_BACKOFF_MS = 1_000;
