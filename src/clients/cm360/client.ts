// A thin typed client for conversions.batchupdate (DFA Reporting API v5): plain fetch plus zod, so
// the wire format is visible here instead of hidden in the googleapis package.
import { z } from 'zod';
import {
  CM360_API_VERSION,
  CM360_DEFAULT_API_ROOT,
  CM360_MAX_CONVERSIONS_PER_REQUEST,
  type Cm360Conversion,
  type Cm360RowResult,
} from '../../domain/cm360/types';
import type { Cm360AuthProvider } from './auth';
import { cm360ErrorFromResponse, cm360MalformedResponse, cm360NetworkError, cm360TokenError } from './errors';

export type Cm360WireConversion = Cm360Conversion & { kind: 'dfareporting#conversion' };

export interface Cm360BatchUpdateRequest {
  kind: 'dfareporting#conversionsBatchUpdateRequest';
  conversions: Cm360WireConversion[];
}

/**
 * Field by field rather than a spread: whatever else a caller's object carries (workflow state,
 * raw PII kept for logs) must not leak onto the wire.
 */
export function buildBatchUpdateRequest(conversions: Cm360Conversion[]): Cm360BatchUpdateRequest {
  if (conversions.length === 0) throw new RangeError('a CM360 batchupdate needs at least one conversion');
  if (conversions.length > CM360_MAX_CONVERSIONS_PER_REQUEST) {
    throw new RangeError(
      `a CM360 batchupdate takes at most ${CM360_MAX_CONVERSIONS_PER_REQUEST} conversions, got ${conversions.length}`,
    );
  }
  return {
    kind: 'dfareporting#conversionsBatchUpdateRequest',
    conversions: conversions.map((c) => ({
      matchId: c.matchId,
      ordinal: c.ordinal,
      timestampMicros: c.timestampMicros,
      floodlightActivityId: c.floodlightActivityId,
      floodlightConfigurationId: c.floodlightConfigurationId,
      quantity: c.quantity,
      value: c.value,
      userIdentifiers: c.userIdentifiers,
      kind: 'dfareporting#conversion',
    })),
  };
}

// Google omits empty fields in JSON, so missing `errors` and `hasFailures` are normal.
const conversionStatusSchema = z.object({
  errors: z
    .array(z.object({ code: z.string().default('UNKNOWN'), message: z.string().default('') }))
    .optional()
    .default([]),
});
const batchUpdateResponseSchema = z.object({
  hasFailures: z.boolean().optional(),
  status: z.array(conversionStatusSchema),
});

export interface Cm360ClientOptions {
  /** Scheme and host, no path; defaults to CM360_DEFAULT_API_ROOT. */
  apiRoot?: string;
  auth: Cm360AuthProvider;
  /** Per request, token fetch excluded. Default 60 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class Cm360Client {
  private readonly apiRoot: string;
  private readonly auth: Cm360AuthProvider;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: Cm360ClientOptions) {
    this.apiRoot = (opts.apiRoot ?? CM360_DEFAULT_API_ROOT).replace(/\/+$/, '');
    this.auth = opts.auth;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /**
   * Sends one conversions.batchupdate and returns one result per conversion, in request order.
   * Throws Cm360HttpError when the request as a whole failed (no row was applied).
   */
  async batchUpdate(profileId: string, conversions: Cm360Conversion[]): Promise<Cm360RowResult[]> {
    const body = JSON.stringify(buildBatchUpdateRequest(conversions));
    const url = `${this.apiRoot}/dfareporting/${CM360_API_VERSION}/userprofiles/${encodeURIComponent(profileId)}/conversions/batchupdate`;

    let authorization: string;
    try {
      authorization = await this.auth.authorizationHeader();
    } catch (err) {
      throw cm360TokenError(err);
    }

    let status: number;
    let text: string;
    try {
      const res = await this.fetchImpl(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      // Read inside the try: the timeout also covers a body that stalls mid-stream.
      text = await res.text();
    } catch (err) {
      throw cm360NetworkError(err, this.timeoutMs);
    }

    if (status < 200 || status >= 300) throw cm360ErrorFromResponse(status, text);
    return parseBatchUpdateResponse(status, text, conversions.length);
  }
}

function parseBatchUpdateResponse(status: number, text: string, expectedRows: number): Cm360RowResult[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw cm360MalformedResponse(status, 'body is not JSON');
  }
  const parsed = batchUpdateResponseSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    throw cm360MalformedResponse(status, `unexpected shape at ${where}`);
  }
  const rows = parsed.data.status;
  // Rows are matched to callers by position only; a different count makes every row ambiguous.
  if (rows.length !== expectedRows) {
    throw cm360MalformedResponse(status, `${rows.length} status rows for ${expectedRows} conversions`);
  }
  const results: Cm360RowResult[] = rows.map((row) =>
    row.errors.length > 0
      ? { ok: false, errors: row.errors.map((e) => ({ code: e.code, message: e.message })) }
      : { ok: true },
  );
  // A failure flag no row explains would turn into silent successes if the rows were trusted.
  if (parsed.data.hasFailures === true && results.every((r) => r.ok)) {
    throw cm360MalformedResponse(status, 'hasFailures is true but no row carries an error');
  }
  return results;
}
