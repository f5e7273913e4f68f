// Form submissions out of HubSpot, for the form-conversion relay: HubSpot has no webhook for them, so the relay
// polls its legacy submissions API, GET /form-integrations/v1/submissions/forms/{formGuid} (scope `forms`),
// through the SDK's generic apiRequest (the SDK has no typed method for it). Every request goes through the
// process's HubSpot rate budget; 429s are waited out as records.ts does it.
//
// HubSpot lists a form's submissions newest first, 50 a page at most, and its `after` cursor is an offset into
// that list. newSubmissions reads from the head down to a watermark (the newest submission of the previous poll).
// Submission values are personal data: they are never logged, nor put in an error.
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@hubspot/api-client';
import { z } from 'zod';
import { HubSpotError, hubSpotErrorFrom, HubSpotHttpError } from './errors';
import type { HubSpotRateLimiter } from './rate-limit';
import { waitAfter429 } from './records';

export interface HubSpotFormSubmission {
  /** HubSpot's id of the submission (a UUID), unique within the form. */
  conversionId: string;
  submittedAtMs: number;
  /**
   * Field name → value. A name HubSpot lists more than once (a multiple-checkbox field sends one entry per ticked
   * option) has its values joined with ';' in HubSpot's order, as HubSpot stores multi-select properties.
   */
  values: Record<string, string>;
  pageUrl?: string;
}

export interface HubSpotFormSubmissionPage {
  /** Newest first. */
  submissions: HubSpotFormSubmission[];
  /** HubSpot's cursor of the next page; absent on the last. */
  after?: string;
}

/**
 * How far a poll has read: the newest `submittedAt` it returned and every conversionId it returned at exactly that
 * millisecond. A submission is new when it is later, or of that millisecond and not listed.
 */
export interface HubSpotFormWatermark {
  submittedAtMs: number;
  conversionIds: string[];
}

/** Where an incomplete newSubmissions stopped; pass it back as `resume`. Plain JSON, fit for workflow state. */
export interface HubSpotFormResume {
  /** HubSpot's cursor of the first unread page. */
  after: string;
  /** The watermark the run was started with (checked when it is resumed). */
  since?: HubSpotFormWatermark;
  /** The newest submission returned so far by the run: the watermark it ends with, once complete. */
  newest?: HubSpotFormWatermark;
  /** conversionIds of the last submissions the run returned, so a resumed call drops those the offset repeats. */
  recentIds: string[];
}

export interface HubSpotNewFormSubmissions {
  /** Oldest first; each conversionId at most once. */
  submissions: HubSpotFormSubmission[];
  /**
   * When `complete`, the watermark to store once `submissions` are handled: the newest submission seen by the whole
   * run (resumed calls included), or the one passed in when nothing newer was found; absent only when none was
   * passed in and the form has no submissions. When not complete: exactly the watermark passed in (absent when
   * none was), which is always safe to store.
   */
  watermark?: HubSpotFormWatermark;
  /** False when `maxPages` stopped the reading before it reached the watermark (or the end); `resume` is then set. */
  complete: boolean;
  resume?: HubSpotFormResume;
}

export interface NewFormSubmissionsOptions {
  /** Pages of 50 one call reads at most; default 20 (1,000 submissions). */
  maxPages?: number;
  /** From an incomplete call of the same run, which must pass the same watermark. */
  resume?: HubSpotFormResume;
}

export interface HubSpotFormSubmissionReaderOptions {
  accessToken: string;
  basePath?: string;
  limiter: HubSpotRateLimiter;
  /** How many 429s in a row one request waits out before it gives up (then Temporal retries). Default 6. */
  rateLimitRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** HubSpot's cap on a page of form submissions (its default is 20). */
export const HUBSPOT_FORM_SUBMISSIONS_PAGE_MAX = 50;
const DEFAULT_MAX_PAGES = 20;
/** How many of the last returned conversionIds a resume carries: two pages. */
const RECENT_IDS = 2 * HUBSPOT_FORM_SUBMISSIONS_PAGE_MAX;
/** The wait after a secondly 429. */
const SECONDLY_WAIT_MS = 1000;
const FORM_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPERATION = 'read form submissions';

const pageSchema = z.object({
  results: z.array(
    z.object({
      conversionId: z.string().min(1),
      submittedAt: z.number().int().nonnegative(),
      values: z.array(
        z.object({
          name: z.string(),
          value: z.union([z.string(), z.number(), z.boolean()]).transform(String),
        }),
      ),
      pageUrl: z.string().nullish(),
    }),
  ),
  paging: z.object({ next: z.object({ after: z.string().min(1) }).optional() }).optional(),
});
const watermarkSchema = z.object({
  submittedAtMs: z.number().int().nonnegative(),
  conversionIds: z.array(z.string().min(1)),
});
const resumeSchema = z.object({
  after: z.string().min(1),
  since: watermarkSchema.optional(),
  newest: watermarkSchema.optional(),
  recentIds: z.array(z.string().min(1)),
});

export class HubSpotFormSubmissionReader {
  private readonly client: Client;
  private readonly limiter: HubSpotRateLimiter;
  private readonly retries: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: HubSpotFormSubmissionReaderOptions) {
    this.client = new Client({
      accessToken: opts.accessToken,
      ...(opts.basePath ? { basePath: opts.basePath.replace(/\/+$/, '') } : {}),
    });
    this.limiter = opts.limiter;
    this.retries = opts.rateLimitRetries ?? 6;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
  }

  /**
   * One page of the form's submissions, newest first: the first page, or the one `after` names. `limit` is 1 to 50,
   * default 50. An unknown form is a HubSpotError of kind `not-found`; a body that is not HubSpot's shape one of
   * kind `invalid` (not retryable; category INVALID_RESPONSE).
   */
  async page(formGuid: string, opts: { after?: string; limit?: number } = {}): Promise<HubSpotFormSubmissionPage> {
    if (!FORM_GUID.test(formGuid)) throw new RangeError('formGuid must be a HubSpot form GUID (a UUID)');
    const limit = opts.limit ?? HUBSPOT_FORM_SUBMISSIONS_PAGE_MAX;
    if (!Number.isInteger(limit) || limit < 1 || limit > HUBSPOT_FORM_SUBMISSIONS_PAGE_MAX) {
      throw new RangeError(`limit must be an integer from 1 to ${HUBSPOT_FORM_SUBMISSIONS_PAGE_MAX}`);
    }
    const path = `/form-integrations/v1/submissions/forms/${encodeURIComponent(formGuid)}`;
    const qs = { limit: String(limit), ...(opts.after !== undefined ? { after: opts.after } : {}) };
    const body = await this.call(async () => {
      const res = await this.client.apiRequest({ method: 'GET', path, qs });
      const text = await res.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        // A cut-off or non-JSON 2xx body (a proxy's page) says nothing about the request: worth another try.
        if (res.ok) throw invalidResponse('transient');
        json = undefined;
      }
      if (!res.ok) throw new HubSpotHttpError(res.status, json, Object.fromEntries(res.headers));
      return json;
    });
    // The zod issues are not passed on: they can quote the values they rejected.
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) throw invalidResponse('invalid');
    const { results, paging } = parsed.data;
    const next = paging?.next?.after;
    // A next page that is this one again, or "more" after an empty page, would repeat this request forever.
    if (next !== undefined && (next === opts.after || results.length === 0)) throw invalidResponse('transient');
    return {
      submissions: results.map((r) => {
        const values = new Map<string, string>();
        for (const { name, value } of r.values) {
          const earlier = values.get(name);
          values.set(name, earlier === undefined ? value : `${earlier};${value}`);
        }
        return {
          conversionId: r.conversionId,
          submittedAtMs: r.submittedAt,
          // fromEntries defines own properties: a field named __proto__ stays a field.
          values: Object.fromEntries(values),
          ...(typeof r.pageUrl === 'string' ? { pageUrl: r.pageUrl } : {}),
        };
      }),
      ...(next !== undefined ? { after: next } : {}),
    };
  }

  /**
   * The form's submissions newer than `watermark` (all of them without one), oldest first, each once.
   *
   * It reads pages of 50 from the newest down, and stops at the first page that holds a submission older than the
   * watermark's millisecond, or at the last page. Submissions at or before the watermark (older, or of its
   * millisecond and listed in it) are left out; one of exactly its millisecond that it does not list is new. A
   * page that only reaches the watermark's millisecond does not stop the reading: HubSpot does not say in which
   * order it lists submissions of one millisecond, so an unlisted one can still follow on the next page.
   *
   * Contract. `complete: true`: every submission newer than `watermark` that existed when the run started (its first
   * call) is in `submissions`, or in those of the run's earlier calls when it was resumed; the returned `watermark` is
   * the one to store once they are handled; submissions that arrive while it reads are returned now or by the next poll
   * from that watermark, never lost. `complete: false` (`maxPages` pages read, more to go): the returned `watermark` is
   * the one passed in, unchanged, because the unread pages lie between it and the submissions returned; storing it is
   * safe, and a poll from it returns these submissions again. To go on instead, call again with the same `watermark`
   * and `{ resume }`: the resumed call continues where this one stopped, leaves out the submissions this run returned
   * (up to the last 100; should more than 100 submissions arrive between two calls, one can come back twice, so handle
   * them idempotently by conversionId), and ends with the watermark of the whole run. A resume is an offset into a list
   * that grows at its head, so it only ever repeats, never skips: resume it promptly, as each submission that arrives
   * in the meantime makes it repeat one more.
   *
   * Assumes what HubSpot does: a submission is never deleted while a run reads (a deletion moves the older ones up
   * one place, and an offset read after it skips one), and a new one is never older than the newest already
   * listed (it is stamped when HubSpot receives it).
   */
  async newSubmissions(
    formGuid: string,
    watermark?: HubSpotFormWatermark,
    opts: NewFormSubmissionsOptions = {},
  ): Promise<HubSpotNewFormSubmissions> {
    const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new RangeError('maxPages must be a positive integer');
    if (watermark !== undefined && !watermarkSchema.safeParse(watermark).success) {
      throw new RangeError('watermark must be { submittedAtMs: epoch ms, conversionIds: string[] }');
    }
    const resume = opts.resume;
    if (resume !== undefined) {
      if (!resumeSchema.safeParse(resume).success) throw new RangeError('resume must come from newSubmissions');
      if (!sameWatermark(resume.since, watermark)) {
        throw new RangeError('a resumed newSubmissions needs the watermark its run started with');
      }
    }

    const atWatermark = new Set(watermark?.conversionIds ?? []);
    const returnedBefore = new Set(resume?.recentIds ?? []);
    const found = new Map<string, HubSpotFormSubmission>();
    let newest = resume?.newest;
    let after = resume?.after;
    let pages = 0;
    for (;;) {
      const page = await this.page(formGuid, { after, limit: HUBSPOT_FORM_SUBMISSIONS_PAGE_MAX });
      pages += 1;
      let reachedOlder = false;
      for (const s of page.submissions) {
        if (watermark !== undefined) {
          if (s.submittedAtMs < watermark.submittedAtMs) {
            reachedOlder = true;
            continue;
          }
          if (s.submittedAtMs === watermark.submittedAtMs && atWatermark.has(s.conversionId)) continue;
        }
        // Why the offset cursor can repeat a submission but never skip one: HubSpot's `after` counts places from
        // the head of the newest-first list. A submission that arrives between two page reads goes to the head
        // (it is the newest), so every submission already listed moves one place down: the next page starts one
        // place earlier than it would have, at the last submission of this page, which comes back a second time.
        // m arrivals repeat the last m. No submission ever moves up (none is removed, none is inserted below the
        // head), so a place once passed cannot hide one that was not read yet. The repeats are dropped here, by
        // conversionId; an arrival that is never reached (it lies above the cursor) is newer than, or of the same
        // millisecond as and not listed in, the watermark this run ends with, so the next poll returns it.
        if (found.has(s.conversionId) || returnedBefore.has(s.conversionId)) continue;
        found.set(s.conversionId, s);
        newest = later(newest, s);
      }
      if (reachedOlder || page.after === undefined) {
        return { submissions: oldestFirst(found), watermark: merged(watermark, newest), complete: true };
      }
      after = page.after;
      if (pages >= maxPages) {
        const recentIds = [...(resume?.recentIds ?? []), ...found.keys()].slice(-RECENT_IDS);
        return {
          submissions: oldestFirst(found),
          ...(watermark !== undefined ? { watermark: copyWatermark(watermark) } : {}),
          complete: false,
          resume: {
            after,
            ...(watermark !== undefined ? { since: copyWatermark(watermark) } : {}),
            ...(newest !== undefined ? { newest: copyWatermark(newest) } : {}),
            recentIds,
          },
        };
      }
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.schedule(fn);
      } catch (err) {
        const e = hubSpotErrorFrom(err, OPERATION);
        if (e.kind !== 'rate-limit' || e.policy === 'DAILY' || attempt >= this.retries) throw e;
        await this.sleep(e.policy === 'SECONDLY' ? SECONDLY_WAIT_MS : waitAfter429(err));
      }
    }
  }
}

const invalidResponse = (kind: 'transient' | 'invalid') =>
  new HubSpotError({
    status: 200,
    kind,
    retryable: kind === 'transient',
    operation: OPERATION,
    category: 'INVALID_RESPONSE',
  });

const copyWatermark = (w: HubSpotFormWatermark): HubSpotFormWatermark => ({
  submittedAtMs: w.submittedAtMs,
  conversionIds: [...w.conversionIds],
});

/** The watermark moved up to a submission returned. */
function later(w: HubSpotFormWatermark | undefined, s: HubSpotFormSubmission): HubSpotFormWatermark {
  if (w === undefined || s.submittedAtMs > w.submittedAtMs) {
    return { submittedAtMs: s.submittedAtMs, conversionIds: [s.conversionId] };
  }
  if (s.submittedAtMs === w.submittedAtMs && !w.conversionIds.includes(s.conversionId)) {
    return { submittedAtMs: w.submittedAtMs, conversionIds: [...w.conversionIds, s.conversionId] };
  }
  return w;
}

/** The later of two watermarks; of the same millisecond, both lists of conversionIds. */
function merged(
  a: HubSpotFormWatermark | undefined,
  b: HubSpotFormWatermark | undefined,
): HubSpotFormWatermark | undefined {
  if (a === undefined || b === undefined) {
    const w = a ?? b;
    return w && copyWatermark(w);
  }
  if (a.submittedAtMs !== b.submittedAtMs) return copyWatermark(a.submittedAtMs > b.submittedAtMs ? a : b);
  return { submittedAtMs: a.submittedAtMs, conversionIds: [...new Set([...a.conversionIds, ...b.conversionIds])] };
}

function sameWatermark(a: HubSpotFormWatermark | undefined, b: HubSpotFormWatermark | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ids = (w: HubSpotFormWatermark) => [...new Set(w.conversionIds)].sort().join('\n');
  return a.submittedAtMs === b.submittedAtMs && ids(a) === ids(b);
}

/** Oldest first; of one millisecond, by conversionId. */
function oldestFirst(found: Map<string, HubSpotFormSubmission>): HubSpotFormSubmission[] {
  return [...found.values()].sort(
    (a, b) =>
      a.submittedAtMs - b.submittedAtMs ||
      (a.conversionId < b.conversionId ? -1 : a.conversionId > b.conversionId ? 1 : 0),
  );
}
