// Flow B fed by HubSpot itself: the form poll's activities. They read a form's new submissions from HubSpot and
// hand the workflow only what may enter history: ids, times, the order id and hashed identifiers. The
// submission's field values (names, emails, phone numbers, the page URL with its query) never leave here.
import { HubSpotError } from '../clients/hubspot/errors';
import type { HubSpotFormResume, HubSpotFormSubmissionReader, HubSpotFormWatermark } from '../clients/hubspot/forms';
import type { FormDefinition } from '../domain/conversion-events/definitions';
import { toGoogleAdsUserIdentifiers } from '../domain/google-ads/identifiers';
import { GOOGLE_ADS_MAX_USER_IDENTIFIERS, type GoogleAdsUserIdentifier } from '../domain/google-ads/types';
import { idPartProblem } from '../domain/ids';
import { hashIdentity } from '../domain/identifiers/hash';
import type { DroppedIdentifier } from '../domain/identifiers/types';
import { ENHANCEMENT_WINDOW_MS } from '../domain/google-ads/rules';
import { countryCodeFromHubSpot, hubSpotErrorToFailure } from './hubspot';

/** A form's fields as HubSpot names them (its default contact fields). */
export interface FormFields {
  email?: string;
  phone?: string;
  firstname?: string;
  lastname?: string;
  address?: string;
  city?: string;
  state?: string;
  zip?: string;
  country?: string;
}

/** Only the fields the definition shares leave the relay, hashed; the rest is dropped here. */
export function hashFormFields(
  fields: FormFields,
  definition: FormDefinition,
  defaultRegion: string | undefined,
): { userIdentifiers: GoogleAdsUserIdentifier[]; dropped: DroppedIdentifier[] } {
  const shared = new Set(definition.sharedFields);
  const withAddress = shared.has('address');
  // HubSpot's country field is free text ("Deutschland"): read it as the contact activity does, or a country
  // name would be dropped and the phone number read in the default region instead.
  const country = fields.country === undefined ? undefined : (countryCodeFromHubSpot(fields.country) ?? fields.country);
  const hashed = hashIdentity(
    {
      email: shared.has('email') ? fields.email : undefined,
      phone: shared.has('phone') ? fields.phone : undefined,
      firstName: shared.has('firstName') ? fields.firstname : undefined,
      lastName: shared.has('lastName') ? fields.lastname : undefined,
      streetAddress: withAddress ? fields.address : undefined,
      city: withAddress ? fields.city : undefined,
      state: withAddress ? fields.state : undefined,
      postalCode: withAddress ? fields.zip : undefined,
      countryCode: withAddress || shared.has('phone') ? country : undefined,
    },
    { defaultRegion },
  );
  const userIdentifiers = toGoogleAdsUserIdentifiers(hashed.identity, { withAddress: true }).slice(
    0,
    GOOGLE_ADS_MAX_USER_IDENTIFIERS,
  );
  return { userIdentifiers, dropped: hashed.dropped };
}

/** A submission ready for its form workflow: nothing in it is a field value. */
export interface PolledSubmission {
  conversionId: string;
  submittedAtMs: number;
  /** The order id the Google tag recorded (the definition's orderIdField), else the conversionId. */
  orderId: string;
  orderIdFrom: 'field' | 'conversionId';
  userIdentifiers: GoogleAdsUserIdentifier[];
  dropped: DroppedIdentifier[];
  /** The gclid of the page the form was on, when its URL carried one. */
  gclid?: string;
}

export interface FormPollPage {
  /** Oldest first. */
  submissions: PolledSubmission[];
  /** Read but not started, with the reason (never a value). */
  skipped: { conversionId: string; reason: string }[];
  /** The watermark to store once every submission has been started (see HubSpotFormSubmissionReader). */
  watermark?: HubSpotFormWatermark;
  complete: boolean;
  resume?: HubSpotFormResume;
}

export interface ReadFormSubmissionsRequest {
  definition: FormDefinition;
  /** The last completed poll's watermark; absent on the first poll of the form. */
  watermark?: HubSpotFormWatermark;
  resume?: HubSpotFormResume;
  safetyMarginMs: number;
}

export interface FormPollDeps {
  forms: Pick<HubSpotFormSubmissionReader, 'newSubmissions'>;
  defaultRegion?: string;
  /** The watermark of the newest completed poll of a definition. */
  lastPoll(definitionId: string): Promise<HubSpotFormWatermark | undefined>;
  now?: () => number;
}

const MAX_ORDER_ID_CHARS = 64;
const PAGES_PER_CALL = 20;

function gclidOf(pageUrl: string | undefined): string | undefined {
  if (!pageUrl) return undefined;
  try {
    const gclid = new URL(pageUrl).searchParams.get('gclid')?.trim();
    return gclid && gclid.length <= 512 && idPartProblem(gclid) === undefined ? gclid : undefined;
  } catch {
    return undefined;
  }
}

export function createFormPollActivities(deps: FormPollDeps) {
  const now = deps.now ?? Date.now;
  return {
    /** Where the previous poll of this definition stopped. */
    async lastFormPoll(req: { definitionId: string }): Promise<HubSpotFormWatermark | null> {
      return (await deps.lastPoll(req.definitionId)) ?? null;
    },

    /**
     * Up to 20 pages of the form's submissions newer than the watermark. A first poll starts at the edge of the
     * enhancement window: an older submission can no longer be enhanced, so there is nothing to read before it.
     */
    async readNewFormSubmissions(req: ReadFormSubmissionsRequest): Promise<FormPollPage> {
      const def = req.definition;
      const floor = now() - ENHANCEMENT_WINDOW_MS + req.safetyMarginMs;
      const since = req.watermark ?? { submittedAtMs: floor, conversionIds: [] };
      let read;
      try {
        read = await deps.forms.newSubmissions(def.trigger.formId, since, {
          maxPages: PAGES_PER_CALL,
          ...(req.resume ? { resume: req.resume } : {}),
        });
      } catch (err) {
        if (err instanceof HubSpotError) throw hubSpotErrorToFailure(err);
        throw err;
      }
      const submissions: PolledSubmission[] = [];
      const skipped: FormPollPage['skipped'] = [];
      for (const s of read.submissions) {
        const skip = (reason: string) => skipped.push({ conversionId: s.conversionId, reason });
        if (s.submittedAtMs < floor) {
          skip('submitted more than 24 h (less the margin) ago: Google Ads no longer accepts its enhancement');
          continue;
        }
        const field = def.orderIdField ? s.values[def.orderIdField]?.trim() : undefined;
        const orderId = field || s.conversionId;
        const problem =
          idPartProblem(orderId) ?? (orderId.length > MAX_ORDER_ID_CHARS ? 'is longer than 64' : undefined);
        if (problem) {
          skip(`the order id (${field ? def.orderIdField : 'conversionId'}) ${problem}`);
          continue;
        }
        const { userIdentifiers, dropped } = hashFormFields(s.values, def, deps.defaultRegion);
        if (userIdentifiers.length === 0) {
          const why = dropped.map((d) => `${d.field}: ${d.reason}`).join('; ');
          skip(`no email, phone or name/address to enhance the conversion with${why ? ` (${why})` : ''}`);
          continue;
        }
        const gclid = gclidOf(s.pageUrl);
        submissions.push({
          conversionId: s.conversionId,
          submittedAtMs: s.submittedAtMs,
          orderId,
          orderIdFrom: field ? 'field' : 'conversionId',
          userIdentifiers,
          dropped,
          ...(gclid ? { gclid } : {}),
        });
      }
      return {
        submissions,
        skipped,
        complete: read.complete,
        ...(read.watermark ? { watermark: read.watermark } : {}),
        ...(read.resume ? { resume: read.resume } : {}),
      };
    },
  };
}

export type FormPollActivities = ReturnType<typeof createFormPollActivities>;
