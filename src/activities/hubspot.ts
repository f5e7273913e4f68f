// HubSpot activities: the only door from workflows to the CRM. Contact data is hashed here, inside the
// activity, so the workflow (and its history) only ever holds hashes and the plain address parts Google
// accepts. Client errors become ApplicationFailures with a type here, and nowhere else.
import { ApplicationFailure } from '@temporalio/common';
import {
  hubSpotDateToIso,
  type HubSpotCrmClient,
  type HubSpotDeal,
  type HubSpotPropertyChange,
} from '../clients/hubspot/client';
import { HubSpotError } from '../clients/hubspot/errors';
import type { OutageCircuits } from '../clients/shared/circuit';
import { throughCircuit } from './outage';
import { hashIdentity } from '../domain/identifiers/hash';
import type { ClickIdProperties } from '../domain/conversion-events/definitions';
import type { DroppedIdentifier, HashedIdentity, PlainIdentity } from '../domain/identifiers/types';

import { HUBSPOT_AUTH_RETRY_DELAY_MS, HubSpotFailure } from '../domain/hubspot/failures';

export { HUBSPOT_AUTH_RETRY_DELAY_MS, HUBSPOT_NON_RETRYABLE, HubSpotFailure } from '../domain/hubspot/failures';
export type { HubSpotFailureType } from '../domain/hubspot/failures';

export const SHARED_FIELDS = ['email', 'phone', 'firstName', 'lastName', 'address'] as const;
export type SharedField = (typeof SHARED_FIELDS)[number];

export interface ReadContactRequest {
  contactId: string;
  /** The lifecycle stage's internal value (`customer`, or a custom stage's numeric id). */
  stage: string;
  /** A contact property holding the ad-data consent answer, when the conversion event checks one. */
  consentProperty?: string;
  /** The contact fields the conversion event may send to Google, hashed. */
  sharedFields: SharedField[];
  /** Contact properties holding gbraid / wbraid, where the portal stores them. */
  clickIdProperties?: ClickIdProperties;
}

export interface ContactSnapshot {
  found: true;
  /** Only the shared fields; names and street are hashed inside `address`, city/state/postcode/country plain. */
  hashed: HashedIdentity;
  dropped: DroppedIdentifier[];
  clickIds: {
    gclid?: string;
    /**
     * ISO 8601: when HubSpot first recorded this gclid on the contact (its property history). That is the
     * visit that carried the click, at or just after the click itself: the best click time HubSpot knows.
     */
    gclidRecordedAt?: string;
    gbraid?: string;
    wbraid?: string;
  };
  consentValue?: string;
  /** ISO 8601: when the contact entered `stage` (hs_v2_date_entered_<stage>). */
  stageEnteredAt?: string;
  lifecycleStage?: string;
}

export type ContactReadResult = ContactSnapshot | { found: false };

export interface HubSpotActivityDeps {
  crm: Pick<HubSpotCrmClient, 'getContact' | 'getMostRecentDeal'>;
  /** Region for phone numbers written without +country when the contact has no usable country. */
  defaultRegion?: string;
  /**
   * The process's outage circuits (src/activities/outage.ts): a revoked token or missing scope parks every
   * lifecycle conversion (WAITING_FOR_CREDENTIALS) instead of Temporal retrying each read every 15 minutes.
   */
  circuits?: OutageCircuits;
}

/** One HubSpot app (one token) per process: one circuit for all its reads. */
export const HUBSPOT_CIRCUIT = 'hubspot';

export function hubSpotErrorToFailure(err: HubSpotError): ApplicationFailure {
  const { message } = err;
  switch (err.kind) {
    case 'rate-limit':
      // The ten-secondly window clears by itself; the workflow's backoff spreads the retries. A daily limit
      // does not, so the work is parked instead of spending attempts.
      return ApplicationFailure.create({
        type: HubSpotFailure.RateLimited,
        message,
        nextRetryDelay: err.policy === 'DAILY' ? err.retryAfterMs : undefined,
      });
    case 'transient':
      return ApplicationFailure.create({ type: HubSpotFailure.Transient, message });
    case 'auth':
      return ApplicationFailure.create({
        type: HubSpotFailure.Auth,
        message,
        nextRetryDelay: HUBSPOT_AUTH_RETRY_DELAY_MS,
      });
    case 'not-found':
    case 'invalid':
      return ApplicationFailure.create({ type: HubSpotFailure.Invalid, message, nonRetryable: true });
  }
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: HubSpotFailure.Invalid, message, nonRetryable: true });
}

/** A HubSpot request refused for the app's token is an outage of HUBSPOT_CIRCUIT (see throughCircuit). */
export function hubSpotOutageOf(err: unknown): { type: string; message: string } | undefined {
  return err instanceof HubSpotError && err.kind === 'auth'
    ? { type: HubSpotFailure.Auth, message: err.message }
    : undefined;
}

/** A HubSpot read through the process's circuit; its error becomes the typed failure. */
export async function crmCall<T>(circuits: OutageCircuits | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await throughCircuit(circuits, HUBSPOT_CIRCUIT, fn, hubSpotOutageOf);
  } catch (err) {
    if (err instanceof HubSpotError) throw hubSpotErrorToFailure(err);
    throw err;
  }
}

// HubSpot internal property names (and lifecycle stage values) are letters, digits and underscores; anything
// else would be a broken definition, and must not be spliced into a property name.
const PROPERTY_NAME = /^[A-Za-z0-9_]{1,100}$/;

/** HubSpot properties read for each shared field. `country` is also the region of a phone number. */
const PROPERTIES_FOR: Record<SharedField, string[]> = {
  email: ['email'],
  phone: ['phone', 'mobilephone', 'country'],
  firstName: ['firstname'],
  lastName: ['lastname'],
  address: ['address', 'city', 'state', 'zip', 'country'],
};

const GCLID_PROPERTY = 'hs_google_click_id';

/**
 * When the current value was first set: the oldest change to it in the unbroken run of changes to that
 * value at the head of the history (newest first). An older, different value before it does not count.
 */
function firstRecorded(history: HubSpotPropertyChange[] | undefined, value: string): string | undefined {
  let first: string | undefined;
  for (const change of history ?? []) {
    if (change.value.trim() !== value) break;
    first = change.timestamp;
  }
  return first;
}

const isRecordId = (id: unknown): id is string => typeof id === 'string' && id.trim() !== '';

const present = (v: string | null | undefined): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : undefined;

export function createHubSpotActivities(deps: HubSpotActivityDeps) {
  return {
    /**
     * Reads the contact and returns what a conversion may use: hashes of the shared fields only (plaintext
     * of the others is never even requested), the click id, the consent answer and the stage timestamp.
     * A contact that does not exist is `{ found: false }`, for the workflow to decide on.
     */
    async readContactForConversion(req: ReadContactRequest): Promise<ContactReadResult> {
      if (!isRecordId(req.contactId)) throw invalid('the contact id is missing or empty');
      if (!PROPERTY_NAME.test(req.stage)) throw invalid('the lifecycle stage is not a HubSpot internal value');
      if (req.consentProperty !== undefined && !PROPERTY_NAME.test(req.consentProperty)) {
        throw invalid('the consent property is not a HubSpot internal property name');
      }
      const braidProperties = Object.entries(req.clickIdProperties ?? {}).filter(
        (e): e is ['gbraid' | 'wbraid', string] => (e[0] === 'gbraid' || e[0] === 'wbraid') && e[1] !== undefined,
      );
      for (const [kind, name] of braidProperties) {
        if (!PROPERTY_NAME.test(name)) throw invalid(`the ${kind} property is not a HubSpot internal property name`);
      }
      const unknown = req.sharedFields.filter((f) => !(SHARED_FIELDS as readonly string[]).includes(f));
      if (unknown.length > 0) throw invalid(`unknown shared fields: ${unknown.join(', ')}`);

      const shared = new Set(req.sharedFields);
      const stageProperty = `hs_v2_date_entered_${req.stage}`;
      const properties = new Set(['lifecyclestage', GCLID_PROPERTY, stageProperty]);
      if (req.consentProperty) properties.add(req.consentProperty);
      for (const [, name] of braidProperties) properties.add(name);
      for (const field of shared) for (const p of PROPERTIES_FOR[field]) properties.add(p);

      const contact = await crmCall(deps.circuits, () =>
        deps.crm.getContact(req.contactId, [...properties], [GCLID_PROPERTY]),
      );
      if (!contact) return { found: false };
      const props = contact.properties;

      const country = present(props.country);
      const countryCode = countryCodeFromHubSpot(country);
      const plain: PlainIdentity = {};
      if (shared.has('email')) plain.email = present(props.email);
      if (shared.has('phone')) plain.phone = present(props.phone) ?? present(props.mobilephone);
      if (shared.has('firstName')) plain.firstName = present(props.firstname);
      if (shared.has('lastName')) plain.lastName = present(props.lastname);
      if (shared.has('address')) {
        plain.streetAddress = present(props.address);
        plain.city = present(props.city);
        plain.state = present(props.state);
        plain.postalCode = present(props.zip);
        // An unrecognised country goes in as written, so it is dropped with hashIdentity's reason.
        plain.countryCode = countryCode ?? country;
      }
      const { identity, dropped } = hashIdentity(plain, { defaultRegion: countryCode ?? deps.defaultRegion });

      const gclid = present(props[GCLID_PROPERTY])?.trim();
      const gclidRecordedAt = gclid ? firstRecorded(contact.history[GCLID_PROPERTY], gclid) : undefined;
      const clickIds: ContactSnapshot['clickIds'] = gclid
        ? { gclid, ...(gclidRecordedAt ? { gclidRecordedAt } : {}) }
        : {};
      for (const [kind, name] of braidProperties) {
        const braid = present(props[name])?.trim();
        if (braid) clickIds[kind] = braid;
      }
      const consentValue = req.consentProperty ? present(props[req.consentProperty]) : undefined;
      const stageEnteredAt = hubSpotDateToIso(props[stageProperty]);
      const lifecycleStage = present(props.lifecyclestage);
      return {
        found: true,
        hashed: identity,
        dropped,
        clickIds,
        ...(consentValue !== undefined ? { consentValue } : {}),
        ...(stageEnteredAt !== undefined ? { stageEnteredAt } : {}),
        ...(lifecycleStage !== undefined ? { lifecycleStage } : {}),
      };
    },

    /** The contact's most recently created deal, or null when it has none. */
    async readMostRecentDeal(req: { contactId: string }): Promise<HubSpotDeal | null> {
      if (!isRecordId(req.contactId)) throw invalid('the contact id is missing or empty');
      const deal = await crmCall(deps.circuits, () => deps.crm.getMostRecentDeal(req.contactId));
      return deal ?? null;
    },
  };
}

export type HubSpotActivities = ReturnType<typeof createHubSpotActivities>;

// Codes Intl names that are not ISO-3166-1 countries: groupings, exceptional reservations, retired codes.
const NOT_COUNTRIES = new Set('EU EZ UN QO XA XB ZZ AC CP DG EA IC TA AN BU CS DD FX NT SU TP YD YU ZR'.split(' '));
const COUNTRY_ALIASES: Record<string, string> = {
  usa: 'US',
  'u s a': 'US',
  'u s': 'US',
  'united states of america': 'US',
  america: 'US',
  uk: 'GB',
  'u k': 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  holland: 'NL',
  'the netherlands': 'NL',
  'republic of korea': 'KR',
  'czech republic': 'CZ',
  uae: 'AE',
};
const foldName = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
let countryIndex: Map<string, string> | undefined;

function countryNames(): Map<string, string> {
  if (countryIndex) return countryIndex;
  const index = new Map<string, string>(Object.entries(COUNTRY_ALIASES));
  // The languages HubSpot portals most often write country names in; English wins a clash.
  for (const locale of ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt']) {
    const names = new Intl.DisplayNames([locale], { type: 'region', fallback: 'none' });
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const code = String.fromCharCode(a, b);
        if (NOT_COUNTRIES.has(code)) continue;
        const name = names.of(code);
        if (!name || name === code) continue;
        const key = foldName(name);
        if (!index.has(key)) index.set(key, code);
      }
    }
  }
  countryIndex = index;
  return index;
}

/**
 * HubSpot's `country` is free text ("United States", "Deutschland", "US"); Google wants ISO-3166-1 alpha-2.
 * Returns the code when the text is one, or a country name Intl knows; otherwise undefined.
 */
export function countryCodeFromHubSpot(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (/^[A-Za-z]{2}$/.test(trimmed)) {
    const code = trimmed.toUpperCase();
    return code === 'UK' ? 'GB' : code;
  }
  return countryNames().get(foldName(trimmed));
}
