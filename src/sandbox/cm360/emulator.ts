// A local stand-in for the CM360 conversions API (v5 batchupdate/batchinsert), speaking the real
// wire format so the relay's own client is exercised unchanged. It models what the relay depends
// on: row-level errors inside HTTP 200, the indexing delay behind NOT_FOUND, and quota/server
// failures of whole requests. It is deliberately not a full Floodlight model.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CM360_MAX_CONVERSIONS_PER_REQUEST, MAX_USER_IDENTIFIERS, cm360ConversionKey } from '../../domain/cm360/types';
import { FaultSwitch } from '../shared/fault-switch';
import { cm360FaultSchema, type Cm360Fault } from './faults';

export interface Cm360ConversionKeyFields {
  floodlightConfigurationId: string | number;
  floodlightActivityId: string | number;
  ordinal: string | number;
}

export interface RecordedRequest {
  profileId: string;
  method: 'batchupdate' | 'batchinsert';
  path: string;
  /** The parsed JSON body, as received. */
  body: unknown;
  /** Request headers without `authorization`. */
  headers: Record<string, string | string[] | undefined>;
  /** By the emulator's clock (`now`). */
  at: number;
  /** The HTTP status the emulator answered with. */
  status: number;
}

export interface Cm360EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** How long after capture a conversion becomes visible to batchupdate. Default 0. */
  indexDelayMs?: number;
  /** Treat unknown conversions as captured at their own timestampMicros. Default true. */
  autoCapture?: boolean;
  /** When set, only `Bearer <accessToken>` is accepted; otherwise any non-empty bearer token. */
  accessToken?: string;
  now?: () => number;
}

export interface Cm360Emulator {
  /** `http://host:port`, for Cm360Client's apiRoot. */
  apiRoot: string;
  /** Every request to a conversions endpoint, oldest first. Cleared in place by DELETE /_sandbox/requests. */
  requests: RecordedRequest[];
  /** Registers a conversion as captured by the Floodlight tag at `atMs` (default: now). */
  capture(key: Cm360ConversionKeyFields, atMs?: number): void;
  setFault(fault: Cm360Fault | undefined): void;
  /** Enhanced conversions by key (`configId-activityId-ordinal`): the last body that enhanced each. */
  enhanced(): Map<string, Record<string, unknown>>;
  /** How many times each conversion (by key) was enhanced successfully: above 1, it was sent again. */
  enhancementCounts(): Map<string, number>;
  /** Every conversion seen, with its rows' outcomes and counts (GET /_sandbox/conversions). */
  conversions(opts?: { rows?: number }): Cm360ConversionsSummary;
  /** Forgets the records, counts and enhanced bodies (POST /_sandbox/conversions/reset); captures stay. */
  resetConversions(): void;
  close(): Promise<void>;
}

/**
 * What became of one row: ENHANCED (batchupdate accepted it), INSERTED (batchinsert), its row error code
 * (NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, INTERNAL), or HTTP_<status> when the whole request failed.
 */
export type Cm360RowOutcome = string;

export interface Cm360RowRecord {
  key: string;
  method: 'batchupdate' | 'batchinsert';
  outcome: Cm360RowOutcome;
  at: number;
}

/** One conversion, keyed as CM360 matches it: floodlight configuration, activity and ordinal. */
export interface Cm360ConversionRecord {
  key: string;
  floodlightConfigurationId: string;
  floodlightActivityId: string;
  ordinal: string;
  /** Successful batchupdates of this conversion: exactly 1 is "enhanced exactly once". */
  enhanced: number;
  /** Rows sent for it, whatever their outcome. */
  attempts: number;
  outcomes: Record<Cm360RowOutcome, number>;
  lastOutcome: Cm360RowOutcome;
  firstAt: number;
  lastAt: number;
}

export interface Cm360ConversionsSummary {
  /** Conversions with at least one row recorded. */
  total: number;
  enhancedOnce: number;
  enhancedMoreThanOnce: number;
  /** Seen, but no batchupdate row of it ever succeeded. */
  neverEnhanced: number;
  /** Rows recorded, by outcome. */
  rowOutcomes: Record<Cm360RowOutcome, number>;
  conversions: Cm360ConversionRecord[];
  /** The most recent rows, oldest first (as many as asked for; the emulator keeps the last ROW_LOG_LIMIT). */
  rows: Cm360RowRecord[];
}

/** Rows kept for GET /_sandbox/conversions?rows=N; the per-conversion counts are never cut. */
const ROW_LOG_LIMIT = 10_000;

const idSchema = z.union([z.string().min(1), z.number()]).transform(String);
const captureSchema = z.object({
  floodlightConfigurationId: idSchema,
  floodlightActivityId: idSchema,
  ordinal: idSchema,
  atMs: z.number().optional(),
});
interface RowError {
  code: string;
  message: string;
  kind: 'dfareporting#conversionError';
}

const rowError = (code: string, message: string): RowError => ({ code, message, kind: 'dfareporting#conversionError' });

function googleError(status: number, statusText: string, message: string, reason: string, domain = 'global') {
  return { error: { code: status, message, status: statusText, errors: [{ domain, reason, message }] } };
}

const REQUIRED_INT64 = [
  ['floodlightActivityId', 'floodlight_activity_id'],
  ['floodlightConfigurationId', 'floodlight_configuration_id'],
  ['timestampMicros', 'timestamp_micros'],
  ['quantity', 'quantity'],
] as const;

// Exactly one of these names the conversion (v5 Conversion resource).
const CONVERSION_IDENTIFIERS = ['encryptedUserId', 'matchId', 'mobileDeviceId', 'gclid', 'dclid', 'impressionId'];

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPresent = (v: unknown) => v !== undefined && v !== null && v !== '';
const isInt64 = (v: unknown) =>
  (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v));
const isDouble = (v: unknown) =>
  (typeof v === 'number' && Number.isFinite(v)) ||
  (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)));

function hashErrors(obj: Record<string, unknown>): RowError[] {
  return Object.entries(obj)
    .filter(([field, v]) => field.startsWith('hashed') && !(typeof v === 'string' && /^[0-9a-fA-F]{64}$/.test(v)))
    .map(([field]) => rowError('INVALID_ARGUMENT', `The field '${snake(field)}' is not a valid SHA-256 hash value.`));
}

/** The INVALID_ARGUMENT checks of batchupdate, all of them, so a test sees every problem of a row at once. */
function validateConversion(c: unknown): RowError[] {
  if (!isObject(c)) return [rowError('INVALID_ARGUMENT', 'The conversion must be an object.')];
  const errors: RowError[] = [];
  for (const [field, name] of REQUIRED_INT64) {
    if (!isPresent(c[field])) errors.push(rowError('INVALID_ARGUMENT', `The field '${name}' is required.`));
    else if (!isInt64(c[field])) errors.push(rowError('INVALID_ARGUMENT', `The field '${name}' is not a valid int64.`));
  }
  if (!isPresent(c.ordinal)) errors.push(rowError('INVALID_ARGUMENT', `The field 'ordinal' is required.`));
  if (!isPresent(c.value)) errors.push(rowError('INVALID_ARGUMENT', `The field 'value' is required.`));
  else if (!isDouble(c.value)) errors.push(rowError('INVALID_ARGUMENT', `The field 'value' is not a valid double.`));

  const ids = CONVERSION_IDENTIFIERS.filter((f) => isPresent(c[f]));
  if (ids.length !== 1) {
    errors.push(
      rowError('INVALID_ARGUMENT', `Exactly one of ${CONVERSION_IDENTIFIERS.map(snake).join(', ')} must be set.`),
    );
  }

  const identifiers = c.userIdentifiers ?? [];
  if (!Array.isArray(identifiers)) {
    errors.push(rowError('INVALID_ARGUMENT', `The field 'user_identifiers' must be a list.`));
    return errors;
  }
  if (identifiers.length > MAX_USER_IDENTIFIERS) {
    errors.push(rowError('INVALID_ARGUMENT', 'More than five user_identifiers specified.'));
  }
  for (const ui of identifiers) {
    if (!isObject(ui)) {
      errors.push(rowError('INVALID_ARGUMENT', 'A user identifier must be an object.'));
      continue;
    }
    const set = ['hashedEmail', 'hashedPhoneNumber', 'addressInfo'].filter((f) => isPresent(ui[f]));
    if (set.length !== 1) {
      errors.push(
        rowError(
          'INVALID_ARGUMENT',
          'A user identifier sets exactly one of hashed_email, hashed_phone_number, address_info.',
        ),
      );
    }
    errors.push(...hashErrors(ui));
    if (isObject(ui.addressInfo)) {
      errors.push(...hashErrors(ui.addressInfo));
      const cc = ui.addressInfo.countryCode;
      if (cc !== undefined) {
        if (typeof cc !== 'string' || cc.length !== 2) {
          errors.push(rowError('INVALID_ARGUMENT', `The field 'country_code' has the wrong length.`));
        } else if (!/^[A-Za-z]{2}$/.test(cc)) {
          errors.push(rowError('INVALID_ARGUMENT', `The field 'country_code' must be exactly two letters.`));
        }
      }
    }
  }
  return errors;
}

function keyOf(c: Record<string, unknown>): string {
  return cm360ConversionKey({
    floodlightConfigurationId: String(c.floodlightConfigurationId),
    floodlightActivityId: String(c.floodlightActivityId),
    ordinal: String(c.ordinal),
  });
}

function timestampMs(c: Record<string, unknown>): number {
  return Number(BigInt(String(c.timestampMicros)) / 1000n);
}

export async function startCm360Emulator(opts: Cm360EmulatorOptions = {}): Promise<Cm360Emulator> {
  const now = opts.now ?? Date.now;
  const indexDelayMs = opts.indexDelayMs ?? 0;
  const autoCapture = opts.autoCapture ?? true;
  const requests: RecordedRequest[] = [];
  /** Capture time (ms) by conversion key. */
  const captured = new Map<string, number>();
  const enhanced = new Map<string, Record<string, unknown>>();
  const enhancementCounts = new Map<string, number>();
  const faults = new FaultSwitch<Cm360Fault>(now);
  const records = new Map<string, Cm360ConversionRecord>();
  const rowLog: Cm360RowRecord[] = [];
  const rowOutcomes: Record<string, number> = {};
  const recordRow = (method: Cm360RowRecord['method'], c: unknown, outcome: Cm360RowOutcome) => {
    if (!isObject(c) || ![c.floodlightConfigurationId, c.floodlightActivityId, c.ordinal].every(isPresent)) return;
    const key = keyOf(c);
    const at = now();
    let record = records.get(key);
    if (!record) {
      record = {
        key,
        floodlightConfigurationId: String(c.floodlightConfigurationId),
        floodlightActivityId: String(c.floodlightActivityId),
        ordinal: String(c.ordinal),
        enhanced: 0,
        attempts: 0,
        outcomes: {},
        lastOutcome: outcome,
        firstAt: at,
        lastAt: at,
      };
      records.set(key, record);
    }
    record.attempts += 1;
    if (method === 'batchupdate' && outcome === 'ENHANCED') record.enhanced += 1;
    record.outcomes[outcome] = (record.outcomes[outcome] ?? 0) + 1;
    record.lastOutcome = outcome;
    record.lastAt = at;
    rowOutcomes[outcome] = (rowOutcomes[outcome] ?? 0) + 1;
    rowLog.push({ key, method, outcome, at });
    if (rowLog.length > ROW_LOG_LIMIT) rowLog.splice(0, rowLog.length - ROW_LOG_LIMIT);
  };
  const conversions = (o: { rows?: number } = {}): Cm360ConversionsSummary => {
    const all = [...records.values()].sort((a, b) => a.firstAt - b.firstAt || a.key.localeCompare(b.key));
    const rows = Math.max(0, Math.min(o.rows ?? 100, ROW_LOG_LIMIT));
    return {
      total: all.length,
      enhancedOnce: all.filter((r) => r.enhanced === 1).length,
      enhancedMoreThanOnce: all.filter((r) => r.enhanced > 1).length,
      neverEnhanced: all.filter((r) => r.enhanced === 0).length,
      rowOutcomes: { ...rowOutcomes },
      conversions: all.map((r) => ({ ...r, outcomes: { ...r.outcomes } })),
      rows: rows === 0 ? [] : rowLog.slice(-rows),
    };
  };
  const resetConversions = () => {
    records.clear();
    rowLog.length = 0;
    for (const k of Object.keys(rowOutcomes)) delete rowOutcomes[k];
    enhanced.clear();
    enhancementCounts.clear();
  };
  const capture = (key: Cm360ConversionKeyFields, atMs?: number) => {
    captured.set(
      cm360ConversionKey({
        floodlightConfigurationId: String(key.floodlightConfigurationId),
        floodlightActivityId: String(key.floodlightActivityId),
        ordinal: String(key.ordinal),
      }),
      atMs ?? now(),
    );
  };

  // Google's front end limits bodies far above 1000 rows; Fastify's 1 MiB default would not.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });

  // Fastify's own failures (unparsable JSON, oversized body) in Google's error shape, so the client
  // under test sees what it would see from Google.
  app.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      return reply.code(status).send(googleError(status, 'INTERNAL', 'Internal error encountered.', 'backendError'));
    }
    const message = `Invalid request payload. ${err.message ?? ''}`.trim();
    return reply.code(status).send(googleError(status, 'INVALID_ARGUMENT', message, 'parseError'));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send(
        googleError(
          404,
          'NOT_FOUND',
          `The requested URL ${req.url.split('?')[0]} was not found on this server.`,
          'notFound',
        ),
      );
  });

  function batchRoute(method: 'batchupdate' | 'batchinsert') {
    return (req: FastifyRequest<{ Params: { profileId: string } }>, reply: FastifyReply) => {
      const { authorization, ...headers } = req.headers;
      const record: RecordedRequest = {
        profileId: req.params.profileId,
        method,
        path: req.url.split('?')[0] ?? req.url,
        body: req.body,
        headers,
        at: now(),
        status: 200,
      };
      requests.push(record);
      const send = (status: number, payload: unknown) => {
        record.status = status;
        // A request refused as a whole still says, per row, what happened to each conversion in it.
        if (status !== 200 && isObject(req.body) && Array.isArray(req.body.conversions)) {
          for (const c of req.body.conversions as unknown[]) recordRow(method, c, `HTTP_${status}`);
        }
        return reply.code(status).send(payload);
      };

      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      if (!token || (opts.accessToken !== undefined && token !== opts.accessToken)) {
        const message = token
          ? 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'
          : 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
        return send(401, googleError(401, 'UNAUTHENTICATED', message, token ? 'authError' : 'required'));
      }

      const fault = faults.current;
      if (fault?.type === 'auth') {
        faults.spend();
        return fault.status === 403
          ? send(
              403,
              googleError(
                403,
                'PERMISSION_DENIED',
                'Request had insufficient authentication scopes.',
                'insufficientPermissions',
              ),
            )
          : send(
              401,
              googleError(
                401,
                'UNAUTHENTICATED',
                'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
                'authError',
              ),
            );
      }
      if (fault?.type === 'server-error') {
        const status = fault.status ?? 500;
        faults.spend();
        return send(
          status,
          status === 503
            ? googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'backendError')
            : googleError(500, 'INTERNAL', 'Internal error encountered.', 'backendError'),
        );
      }
      if (fault?.type === 'quota') {
        const reason = fault.reason ?? 'userRateLimitExceeded';
        faults.spend();
        const message = reason === 'dailyLimitExceeded' ? 'Daily Limit Exceeded' : 'User Rate Limit Exceeded';
        return send(403, googleError(403, 'PERMISSION_DENIED', message, reason, 'usageLimits'));
      }

      const body: unknown = req.body;
      const expectedKind =
        method === 'batchupdate'
          ? 'dfareporting#conversionsBatchUpdateRequest'
          : 'dfareporting#conversionsBatchInsertRequest';
      const badRequest = (message: string) => send(400, googleError(400, 'INVALID_ARGUMENT', message, 'invalid'));
      if (!isObject(body)) return badRequest('The request body must be a JSON object.');
      if (body.kind !== expectedKind) return badRequest(`Invalid value for kind: expected ${expectedKind}.`);
      if (!Array.isArray(body.conversions) || body.conversions.length === 0) {
        return badRequest('conversions is required.');
      }
      if (body.conversions.length > CM360_MAX_CONVERSIONS_PER_REQUEST) {
        return badRequest(
          `Too many conversions in the request: at most ${CM360_MAX_CONVERSIONS_PER_REQUEST} are allowed, got ${body.conversions.length}.`,
        );
      }

      const status = (body.conversions as unknown[]).map((c) => {
        const errors = validateConversion(c);
        const conversion = c as Record<string, unknown>;
        if (errors.length === 0) errors.push(...(method === 'batchupdate' ? rowFaults(conversion) : []));
        if (errors.length > 0) {
          recordRow(method, conversion, errors[0]?.code ?? 'INVALID_ARGUMENT');
          return { conversion, errors, kind: 'dfareporting#conversionStatus' };
        }
        const key = keyOf(conversion);
        if (method === 'batchinsert') {
          if (!captured.has(key)) captured.set(key, timestampMs(conversion));
          recordRow(method, conversion, 'INSERTED');
        } else {
          let capturedAt = captured.get(key);
          if (capturedAt === undefined && autoCapture) {
            capturedAt = timestampMs(conversion);
            captured.set(key, capturedAt);
          }
          if (capturedAt === undefined || now() < capturedAt + indexDelayMs) {
            recordRow(method, conversion, 'NOT_FOUND');
            return {
              conversion,
              errors: [rowError('NOT_FOUND', 'The conversion was not found.')],
              kind: 'dfareporting#conversionStatus',
            };
          }
          enhanced.set(key, conversion);
          enhancementCounts.set(key, (enhancementCounts.get(key) ?? 0) + 1);
          recordRow(method, conversion, 'ENHANCED');
        }
        return {
          conversion: { ...conversion, kind: 'dfareporting#conversion' },
          kind: 'dfareporting#conversionStatus',
        };
      });
      return send(200, {
        hasFailures: status.some((s) => 'errors' in s),
        kind:
          method === 'batchupdate'
            ? 'dfareporting#conversionsBatchUpdateResponse'
            : 'dfareporting#conversionsBatchInsertResponse',
        status,
      });
    };
  }

  function rowFaults(c: Record<string, unknown>): RowError[] {
    const fault = faults.current;
    if (fault?.type === 'permission-denied') {
      if (
        fault.floodlightConfigurationId === undefined ||
        fault.floodlightConfigurationId === String(c.floodlightConfigurationId)
      ) {
        return [
          rowError(
            'PERMISSION_DENIED',
            'The terms for enhanced conversions have not been accepted for this Floodlight configuration.',
          ),
        ];
      }
    }
    if (fault?.type === 'internal') {
      faults.spend();
      return [rowError('INTERNAL', 'Internal error encountered.')];
    }
    return [];
  }

  const base = '/dfareporting/v5/userprofiles/:profileId/conversions';
  app.post(`${base}/batchupdate`, batchRoute('batchupdate'));
  app.post(`${base}/batchinsert`, batchRoute('batchinsert'));

  app.get('/_sandbox/requests', () => requests);
  app.delete('/_sandbox/requests', (_req, reply) => {
    requests.length = 0;
    return reply.code(204).send();
  });
  app.post('/_sandbox/capture', (req, reply) => {
    const parsed = captureSchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
    const { atMs, ...key } = parsed.data;
    capture(key, atMs);
    return reply.code(204).send();
  });
  faults.registerRoutes(app, cm360FaultSchema);
  app.get('/_sandbox/enhanced', () => Object.fromEntries(enhanced));
  // The proof of "enhanced exactly once": per conversion, how many rows were sent and what became of each.
  app.get<{ Querystring: { rows?: string } }>('/_sandbox/conversions', (req, reply) => {
    const parsed = z.coerce.number().int().nonnegative().optional().safeParse(req.query.rows);
    if (!parsed.success) return reply.code(400).send({ error: 'rows is a whole number' });
    return conversions({ rows: parsed.data });
  });
  app.get<{ Params: { key: string } }>('/_sandbox/conversions/:key', (req, reply) => {
    const record = records.get(req.params.key);
    if (!record) return reply.code(404).send({ error: `no rows recorded for conversion ${req.params.key}` });
    return { ...record, rows: rowLog.filter((r) => r.key === req.params.key) };
  });
  app.post('/_sandbox/conversions/reset', (_req, reply) => {
    resetConversions();
    return reply.code(204).send();
  });

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const hostPart = host.includes(':') ? `[${host}]` : host;

  return {
    apiRoot: `http://${hostPart}:${port}`,
    requests,
    capture,
    setFault: (fault) => faults.set(fault),
    enhanced: () => new Map(enhanced),
    enhancementCounts: () => new Map(enhancementCounts),
    conversions,
    resetConversions,
    close: () => app.close(),
  };
}
