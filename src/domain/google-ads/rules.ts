// The rules of Flows A and B that decide whether and what to upload. Pure and deterministic: the
// workflows call them with data their activities read, so every decision is visible in history.

/** Ends a lifecycle conversion without an upload; searchable as RelayReason. */
/** Google Ads accepts an enhancement for web within this long of the original conversion. */
export const ENHANCEMENT_WINDOW_MS = 24 * 3_600_000;

export const Ineligible = {
  DefinitionDisabled: 'DEFINITION_DISABLED',
  StageChangedBeforeDefinition: 'STAGE_CHANGED_BEFORE_DEFINITION',
  ContactNotFound: 'CONTACT_NOT_FOUND',
  NoConsent: 'NO_CONSENT',
  NoClickId: 'NO_CLICK_ID',
  NoIdentifier: 'NO_CLICK_ID_OR_SHARED_DATA',
  ClickTooOld: 'CLICK_OLDER_THAN_90_DAYS',
  ManagerAccount: 'MANAGER_ACCOUNT',
} as const;
export type IneligibleReason = (typeof Ineligible)[keyof typeof Ineligible];

/** A stage change is synced only within this long of the ad click, where the click time is known. */
export const CLICK_WINDOW_MS = 90 * 24 * 3_600_000;

export interface EligibilityFacts {
  enabled: boolean;
  /** When the definition was created: earlier stage changes do not count. */
  definitionCreatedAtMs: number;
  stageChangedAtMs: number;
  /** The definition's consent property and its consenting value, if it has one. */
  consent?: { property: string; value: string };
  /** The contact's value of the consent property. */
  consentValue?: string;
  contacts: 'all' | 'with_click_id';
  hasClickId: boolean;
  /** Hashed identifiers of the shared fields that survived normalization. */
  identifierCount: number;
  clickAtMs?: number;
}

export type Eligibility = { eligible: true } | { eligible: false; reason: IneligibleReason; detail: string };

const no = (reason: IneligibleReason, detail: string): Eligibility => ({ eligible: false, reason, detail });

/** Every rule of Flow A, in the order an operator would ask about them. */
export function lifecycleEligibility(f: EligibilityFacts): Eligibility {
  if (!f.enabled) return no(Ineligible.DefinitionDisabled, 'the conversion event is switched off');
  if (f.stageChangedAtMs < f.definitionCreatedAtMs) {
    return no(Ineligible.StageChangedBeforeDefinition, 'the stage change happened before the definition was created');
  }
  if (f.consent && (f.consentValue ?? '').trim().toLowerCase() !== f.consent.value.trim().toLowerCase()) {
    return no(Ineligible.NoConsent, `consent property ${f.consent.property} does not hold the consenting value`);
  }
  if (f.contacts === 'with_click_id' && !f.hasClickId) {
    return no(Ineligible.NoClickId, 'only contacts with a Google click id are synced by this definition');
  }
  if (!f.hasClickId && f.identifierCount === 0) {
    return no(Ineligible.NoIdentifier, 'the contact has neither a Google click id nor usable shared data');
  }
  if (f.clickAtMs !== undefined && f.stageChangedAtMs - f.clickAtMs > CLICK_WINDOW_MS) {
    return no(Ineligible.ClickTooOld, 'the stage change is more than 90 days after the ad click');
  }
  return { eligible: true };
}

export type ClickId = { gclid: string } | { gbraid: string } | { wbraid: string };
export type ClickIdType = 'gclid' | 'gbraid' | 'wbraid';

/** At most one click id goes into a click conversion: the gclid, else the gbraid, else the wbraid. */
export function pickClickId(ids: { gclid?: string; gbraid?: string; wbraid?: string }): ClickId | undefined {
  if (ids.gclid) return { gclid: ids.gclid };
  if (ids.gbraid) return { gbraid: ids.gbraid };
  if (ids.wbraid) return { wbraid: ids.wbraid };
  return undefined;
}

export type ValueDefinition =
  { type: 'deal_amount'; default: number; currency: string } | { type: 'custom'; amount: number; currency: string };

export interface DealFacts {
  amount?: number;
  /** hs_deal_stage_probability, 0..1. */
  probability?: number;
  closed: boolean;
  closedWon: boolean;
}

export interface ConversionValue {
  value: number;
  currency: string;
  source: 'weighted-deal-amount' | 'default' | 'custom';
  /** Why the default was used. */
  why?: string;
}

/** Weighted amount of the most recent deal, or the definition's default when that is not usable. */
export function conversionValue(def: ValueDefinition, deal: DealFacts | undefined): ConversionValue {
  if (def.type === 'custom') return { value: def.amount, currency: def.currency, source: 'custom' };
  const fallback = (why: string): ConversionValue => ({
    value: def.default,
    currency: def.currency,
    source: 'default',
    why,
  });
  if (!deal) return fallback('no associated deal');
  if (deal.closed && !deal.closedWon) return fallback('the most recent deal is closed lost');
  if (deal.amount === undefined || !Number.isFinite(deal.amount) || deal.amount <= 0) {
    return fallback('the deal amount is missing or not positive');
  }
  if (deal.probability === undefined || !Number.isFinite(deal.probability)) {
    return fallback('the deal stage has no probability');
  }
  const weighted = Math.round(deal.amount * Math.min(Math.max(deal.probability, 0), 1) * 100) / 100;
  if (weighted <= 0) return fallback('the weighted deal amount is not positive');
  return { value: weighted, currency: def.currency, source: 'weighted-deal-amount' };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Google Ads date-times carry an explicit offset (`yyyy-mm-dd hh:mm:ss+hh:mm`). The relay always writes
 * UTC with `+00:00`, never the server's zone.
 */
export function googleAdsDateTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new RangeError('not a valid time');
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+00:00`
  );
}

/** Parses `yyyy-mm-dd hh:mm:ss±hh:mm` (or ISO 8601 with an offset) to epoch ms; undefined without an offset. */
export function parseOffsetDateTime(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3]}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The order id of a lifecycle conversion: the same stage change of the same contact under the same
 * definition always gets the same id, so Google de-duplicates what Temporal might send twice.
 */
export function lifecycleOrderId(definitionId: string, contactId: string, stageChangedAtMs: number): string {
  return `hs-${definitionId}-${contactId}-${stageChangedAtMs}`;
}
