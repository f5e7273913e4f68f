// A thin typed client for Pendo's metadata API (Engage REST v1): plain fetch plus zod, no Pendo SDK exists
// for it. Bulk writes read every count of the answer (total, updated, failed, missing, errors), because a
// 200 can still carry failed and unknown records. Messages never quote a body: it holds CRM values.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import {
  PENDO_BATCH_MAX,
  PENDO_BUSY_BACKOFF_MS,
  PENDO_BUSY_RETRIES,
  PENDO_ID_FIELD,
  type PendoLevel,
} from '../../domain/pendo/types';
import type { PendoValue } from '../../domain/pendo/translate';

export type PendoErrorKind = 'rate-limit' | 'busy' | 'transient' | 'auth' | 'invalid';

export class PendoHttpError extends Error {
  override readonly name = 'PendoHttpError';
  constructor(
    readonly status: number,
    readonly kind: PendoErrorKind,
    readonly operation: string,
    /** Milliseconds Pendo asked to wait (Retry-After), if it said. */
    readonly retryAfterMs?: number,
  ) {
    super(`Pendo ${operation} failed: ${status > 0 ? `HTTP ${status}` : 'no response'}, ${kind}`);
  }
}

export function classifyPendoStatus(status: number): PendoErrorKind {
  if (status === 429) return 'rate-limit';
  if (status === 409) return 'busy';
  if (status === 401 || status === 403) return 'auth';
  if (status === 0 || status === 408 || status >= 500) return 'transient';
  return 'invalid';
}

/** One record of a bulk write: the Pendo id and the values of its custom fields. */
export interface PendoMetadataRecord {
  id: string;
  values: Record<string, PendoValue>;
}

export interface PendoWriteResult {
  total: number;
  updated: number;
  failed: number;
  /** Ids Pendo does not know; they are not created. */
  missing: string[];
  /** How many entries `errors` had (their text is not kept: it can quote values). */
  errors: number;
  /** The ids that `errors` entries name, where an entry names one (the shape is not documented). */
  errorIds: string[];
}

// Pendo's answer in the shape public clients read; unknown extra fields are ignored, nulls are empty.
const writeResultSchema = z.object({
  total: z.number().int().nonnegative().default(0),
  updated: z.number().int().nonnegative().default(0),
  failed: z.number().int().nonnegative().default(0),
  missing: z
    .array(z.union([z.string(), z.number()]).transform(String))
    .nullish()
    .transform((v) => v ?? []),
  errors: z
    .array(z.unknown())
    .nullish()
    .transform((v) => v ?? []),
});

const schemaFieldSchema = z.looseObject({ Type: z.string().optional(), type: z.string().optional() });
const schemaSchema = z.record(z.string(), z.record(z.string(), schemaFieldSchema).nullish());

export interface PendoClientOptions {
  /** Scheme and host, e.g. https://app.pendo.io (the region's host) or an emulator. */
  baseUrl: string;
  integrationKey: string;
  /** Per request. Default 60 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Waits between in-process retries of 409/429; tests shorten them. */
  sleep?: (ms: number) => Promise<void>;
}

export class PendoClient {
  private readonly baseUrl: string;
  private readonly key: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: PendoClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.key = opts.integrationKey;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchImpl = opts.fetch ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => delay(ms));
  }

  /**
   * `POST /api/v1/metadata/{visitor|account}/custom/value`, without `create`: unknown ids come back missing.
   * 409 (another write running) and 429 are retried here with backoff, then thrown as PendoHttpError.
   */
  async writeMetadata(level: PendoLevel, records: readonly PendoMetadataRecord[]): Promise<PendoWriteResult> {
    if (records.length === 0) return { total: 0, updated: 0, failed: 0, missing: [], errors: 0, errorIds: [] };
    if (records.length > PENDO_BATCH_MAX) {
      throw new RangeError(`a Pendo metadata write takes at most ${PENDO_BATCH_MAX} records, got ${records.length}`);
    }
    const idField = PENDO_ID_FIELD[level];
    const body = JSON.stringify(records.map((r) => ({ [idField]: r.id, values: r.values })));
    const operation = `write ${level} metadata`;
    for (let attempt = 0; ; attempt++) {
      const res = await this.request('POST', `/api/v1/metadata/${level}/custom/value`, operation, body);
      if (res.ok) {
        const parsed = writeResultSchema.safeParse(await readJson(res, operation));
        if (!parsed.success) throw new PendoHttpError(res.status, 'transient', `${operation} (unreadable answer)`);
        const { errors, ...rest } = parsed.data;
        return { ...rest, errors: errors.length, errorIds: [...new Set(errors.flatMap((e) => idNamedBy(e, idField)))] };
      }
      const error = errorOf(res, operation);
      await res.body?.cancel();
      if ((error.kind === 'busy' || error.kind === 'rate-limit') && attempt < PENDO_BUSY_RETRIES) {
        await this.sleep(error.retryAfterMs ?? PENDO_BUSY_BACKOFF_MS * 2 ** attempt);
        continue;
      }
      throw error;
    }
  }

  /** The custom fields of a level and their Pendo type names (`GET /api/v1/metadata/schema/{level}`). */
  async customFields(level: PendoLevel): Promise<Record<string, string>> {
    const operation = `read ${level} schema`;
    const res = await this.request('GET', `/api/v1/metadata/schema/${level}`, operation);
    if (!res.ok) {
      await res.body?.cancel();
      throw errorOf(res, operation);
    }
    const parsed = schemaSchema.safeParse(await readJson(res, operation));
    if (!parsed.success) throw new PendoHttpError(res.status, 'transient', `${operation} (unreadable answer)`);
    const fields: Record<string, string> = {};
    for (const [name, f] of Object.entries(parsed.data.custom ?? {})) fields[name] = f.Type ?? f.type ?? 'unknown';
    return fields;
  }

  private async request(method: string, path: string, operation: string, body?: string): Promise<Response> {
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          'x-pendo-integration-key': this.key,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new PendoHttpError(0, 'transient', operation);
    }
  }
}

function idNamedBy(entry: unknown, idField: string): string[] {
  if (typeof entry !== 'object' || entry === null) return [];
  const e = entry as Record<string, unknown>;
  const id = e[idField] ?? e.id;
  return typeof id === 'string' || typeof id === 'number' ? [String(id)] : [];
}

async function readJson(res: Response, operation: string): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    throw new PendoHttpError(res.status, 'transient', `${operation} (unreadable answer)`);
  }
}

function errorOf(res: Response, operation: string): PendoHttpError {
  const retryAfter = Number(res.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 300) * 1000 : undefined;
  return new PendoHttpError(res.status, classifyPendoStatus(res.status), operation, retryAfterMs);
}
