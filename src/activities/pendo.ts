// Flow E activities: HubSpot records go from the list API straight to Pendo's bulk metadata endpoint inside
// one activity, so property values and Pendo ids never reach the workflow. What comes back is counts, the
// next page cursor and HubSpot record ids. Client errors become typed ApplicationFailures here and nowhere else.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PendoClient, PendoMetadataRecord } from '../clients/pendo/client';
import { PendoHttpError } from '../clients/pendo/client';
import type { HubSpotRecordReader } from '../clients/hubspot/records';
import type { PendoConfig } from '../domain/pendo/config';
import { configuredLevels } from '../domain/pendo/config';
import { resolveFields, schemaTypeMatches, translateRecord } from '../domain/pendo/translate';
import {
  addToSample,
  emptyCounts,
  emptySamples,
  HUBSPOT_OBJECT_OF,
  MAX_CONFLICTING_IDS,
  PENDO_AUTH_RETRY_DELAY_MS,
  PENDO_BATCH_MAX,
  PendoFailure,
  type ImportPlan,
  type ImportSamples,
  type LevelCounts,
  type LevelPlan,
  type PendoLevel,
} from '../domain/pendo/types';
import type { OutageCircuits } from '../clients/shared/circuit';
import { crmCall } from './hubspot';
import { throughCircuit } from './outage';

/** One Pendo integration key per process: one circuit for its writes. */
export const PENDO_CIRCUIT = 'pendo';

export interface RunningImport {
  workflowId: string;
  startTime: Date;
}

export interface PendoActivityDeps {
  /** The `pendo:` section of RELAY_CONFIG; absent when the file has none. */
  config?: PendoConfig;
  hubspot: Pick<HubSpotRecordReader, 'page' | 'propertyDefinitions' | 'count'>;
  pendo: Pick<PendoClient, 'writeMetadata' | 'customFields'>;
  /** Pendo imports running now (visibility), for the one-at-a-time rule. */
  runningImports: () => Promise<RunningImport[]>;
  /**
   * The process's circuits: a revoked HubSpot token or Pendo key fails the import's call at once with the time
   * the account is tried again, and the import parks until then (WAITING_FOR_CREDENTIALS).
   */
  circuits?: OutageCircuits;
}

export function pendoErrorToFailure(err: PendoHttpError): ApplicationFailure {
  const { message } = err;
  switch (err.kind) {
    case 'rate-limit':
      return ApplicationFailure.create({ type: PendoFailure.RateLimited, message, nextRetryDelay: err.retryAfterMs });
    case 'busy':
      return ApplicationFailure.create({ type: PendoFailure.Busy, message });
    case 'transient':
      return ApplicationFailure.create({ type: PendoFailure.Transient, message });
    case 'auth':
      return ApplicationFailure.create({ type: PendoFailure.Auth, message, nextRetryDelay: PENDO_AUTH_RETRY_DELAY_MS });
    case 'invalid':
      return ApplicationFailure.create({ type: PendoFailure.Invalid, message, nonRetryable: true });
  }
}

/** A Pendo request refused for the integration key is an outage of PENDO_CIRCUIT (see throughCircuit). */
function pendoOutageOf(err: unknown): { type: string; message: string } | undefined {
  return err instanceof PendoHttpError && err.kind === 'auth'
    ? { type: PendoFailure.Auth, message: err.message }
    : undefined;
}

/** A Pendo write through the process's circuit; its error becomes the typed failure. */
async function pendoCall<T>(circuits: OutageCircuits | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await throughCircuit(circuits, PENDO_CIRCUIT, fn, pendoOutageOf);
  } catch (err) {
    if (err instanceof PendoHttpError) throw pendoErrorToFailure(err);
    throw err;
  }
}

/** 16 hex digits of SHA-256 over salt and id: enough to tell a million ids apart, and not the id itself. */
export function idFingerprint(salt: string, id: string): string {
  return createHash('sha256').update(salt).update('\0').update(id).digest('hex').slice(0, 16);
}

/**
 * A set of 64-bit fingerprints in two typed arrays (open addressing): a million ids cost 16 MB, where a Set
 * of strings would cost several times that. Returns whether the fingerprint was already there.
 */
export class FingerprintSet {
  private hi = new Uint32Array(1 << 12);
  private lo = new Uint32Array(1 << 12);
  private used = new Uint8Array(1 << 12);
  private size = 0;

  addAndCheck(hex: string): boolean {
    const hi = parseInt(hex.slice(0, 8), 16) >>> 0;
    const lo = parseInt(hex.slice(8, 16), 16) >>> 0;
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    const found = this.insert(hi, lo);
    if (!found) this.size += 1;
    return found;
  }

  private insert(hi: number, lo: number): boolean {
    const mask = this.used.length - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      if (!this.used[i]) {
        this.used[i] = 1;
        this.hi[i] = hi;
        this.lo[i] = lo;
        return false;
      }
      if (this.hi[i] === hi && this.lo[i] === lo) return true;
    }
  }

  private grow(): void {
    const { hi, lo, used } = this;
    const capacity = used.length * 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.used = new Uint8Array(capacity);
    for (let i = 0; i < used.length; i++) if (used[i]) this.insert(hi[i] ?? 0, lo[i] ?? 0);
  }
}

export interface ScanRequest {
  level: PendoLevel;
  idProperty: string;
  salt: string;
}

export type ScanResult =
  | { ok: true; scanned: number; emptyIds: number; conflictingRecords: number; conflicts: string[] }
  | { ok: false; scanned: number; reason: typeof PendoFailure.IdPropertyNotUnique; detail: string };

export interface ImportPagesRequest {
  plan: LevelPlan;
  /** Cursor of the first page to read; absent for the first page. */
  after?: string;
  salt: string;
  /** Fingerprints of id values that more than one record holds: none of those records is written. */
  conflicts: string[];
  maxPages: number;
}

export interface ImportPagesResult {
  counts: LevelCounts;
  samples: ImportSamples;
  pages: number;
  /** Cursor of the next unread page; absent when the level is done. */
  after?: string;
}

/** What an attempt saves after each write, so a retry resumes at the first page not yet written. */
interface Checkpoint {
  after?: string;
  pages: number;
  counts: LevelCounts;
  samples: ImportSamples;
}

export interface PreviewField {
  name: string;
  hubspotType?: string;
  fieldType?: string;
  /** The Pendo type the value is sent as, or why the property is not imported. */
  pendoType?: string;
  skipped?: string;
  /** The field's type in Pendo's schema; absent when Pendo has no such field yet. */
  pendoSchemaType?: string;
  warning?: string;
}

export interface PreviewLevel {
  level: PendoLevel;
  idProperty: string;
  fields: PreviewField[];
  /** The exact Pendo body for a sample of records (Pendo ids and values: shown to the operator only). */
  sample: { hubspotRecordId: string; payload?: Record<string, unknown>; skipped?: string; invalid?: string[] }[];
  error?: string;
}

export function createPendoActivities(deps: PendoActivityDeps) {
  const requireConfig = (): PendoConfig => {
    if (!deps.config) {
      throw ApplicationFailure.create({
        type: PendoFailure.NotConfigured,
        message: 'the RELAY_CONFIG file has no pendo section',
        nonRetryable: true,
      });
    }
    return deps.config;
  };

  async function planLevels(config: PendoConfig): Promise<LevelPlan[]> {
    const levels: LevelPlan[] = [];
    for (const level of configuredLevels(config)) {
      const chosen = config[level];
      if (!chosen) continue;
      const definitions = await deps.hubspot.propertyDefinitions(HUBSPOT_OBJECT_OF[level]);
      const idDef = definitions.find((d) => d.name === chosen.idProperty);
      const { fields, skipped } = resolveFields(chosen.properties, definitions);
      levels.push({
        level,
        idProperty: chosen.idProperty,
        idUnique: idDef?.hasUniqueValue === true,
        fields,
        skipped,
        ...(idDef
          ? {}
          : {
              error: {
                reason: 'UNKNOWN_ID_PROPERTY',
                detail: `HubSpot ${HUBSPOT_OBJECT_OF[level]} have no property "${chosen.idProperty}"`,
              },
            }),
      });
    }
    return levels;
  }

  return {
    /**
     * The run's plan: every chosen property checked against HubSpot's property definitions, with its Pendo
     * type, or the reason it is skipped. Property names and types only.
     */
    async planPendoImport(): Promise<ImportPlan> {
      const config = requireConfig();
      const levels = await crmCall(deps.circuits, () => planLevels(config));
      return { region: config.region, timeZone: config.timeZone, levels };
    },

    /** The HubSpot record count of a level, for progress; null when HubSpot does not say. */
    async countHubSpotRecords(req: { level: PendoLevel }): Promise<number | null> {
      return (await crmCall(deps.circuits, () => deps.hubspot.count(HUBSPOT_OBJECT_OF[req.level]))) ?? null;
    },

    /** Another Pendo import that was running before this one started, if any. */
    async otherPendoImportRunning(req: { workflowId: string; startedAt: string }): Promise<string | null> {
      const mine = Date.parse(req.startedAt);
      const earlier = (await deps.runningImports()).filter(
        (r) =>
          r.workflowId !== req.workflowId &&
          (r.startTime.getTime() < mine || (r.startTime.getTime() === mine && r.workflowId < req.workflowId)),
      );
      return earlier[0]?.workflowId ?? null;
    },

    /**
     * Reads every record's id property (nothing else) and finds the id values more than one record holds.
     * They come back as salted fingerprints: the ids themselves never leave the activity.
     */
    async scanPendoIds(req: ScanRequest): Promise<ScanResult> {
      const seen = new FingerprintSet();
      const groups = new Map<string, number>();
      let scanned = 0;
      let emptyIds = 0;
      let after: string | undefined;
      const object = HUBSPOT_OBJECT_OF[req.level];
      do {
        const page = await crmCall(deps.circuits, () => deps.hubspot.page(object, [req.idProperty], after));
        for (const record of page.records) {
          scanned += 1;
          const id = record.properties[req.idProperty];
          if (id === null || id === undefined || id === '') {
            emptyIds += 1;
            continue;
          }
          const fp = idFingerprint(req.salt, id);
          if (seen.addAndCheck(fp)) {
            groups.set(fp, (groups.get(fp) ?? 1) + 1);
            if (groups.size > MAX_CONFLICTING_IDS) {
              return {
                ok: false,
                scanned,
                reason: PendoFailure.IdPropertyNotUnique,
                detail:
                  `more than ${MAX_CONFLICTING_IDS} values of ${req.idProperty} are shared by several records: ` +
                  'it does not hold Pendo ids',
              };
            }
          }
        }
        after = page.after;
        Context.current().heartbeat({ scanned });
      } while (after);
      const conflictingRecords = [...groups.values()].reduce((a, b) => a + b, 0);
      return { ok: true, scanned, emptyIds, conflictingRecords, conflicts: [...groups.keys()] };
    },

    /**
     * Up to `maxPages` pages of a level: read, translate, map ids exactly, write to Pendo in batches of up
     * to 1,000, and count every outcome. After each write the cursor is checkpointed in the heartbeat, so a
     * retry (worker killed, Pendo down) resumes at the first page not yet written.
     */
    async importPendoPages(req: ImportPagesRequest): Promise<ImportPagesResult> {
      const { plan } = req;
      const ctx = Context.current();
      const checkpoint = (ctx.info.heartbeatDetails as Checkpoint | undefined) ?? {
        ...(req.after !== undefined ? { after: req.after } : {}),
        pages: 0,
        counts: emptyCounts(),
        samples: emptySamples(),
      };
      const { after } = checkpoint;
      let { pages, counts, samples } = checkpoint;
      if ((pages > 0 && after === undefined) || pages >= req.maxPages) {
        return { counts, samples, pages, ...(after !== undefined ? { after } : {}) };
      }
      const conflicts = new Set(req.conflicts);
      const object = HUBSPOT_OBJECT_OF[plan.level];
      const properties = [...new Set([plan.idProperty, ...plan.fields.map((f) => f.name)])];
      let batch: PendoMetadataRecord[] = [];
      let recordIdOf = new Map<string, string>();

      const flush = async () => {
        if (batch.length === 0) return;
        const sent = batch;
        const ids = recordIdOf;
        batch = [];
        recordIdOf = new Map();
        const res = await pendoCall(deps.circuits, () => deps.pendo.writeMetadata(plan.level, sent));
        const missingIds = res.missing.flatMap((id) => (ids.has(id) ? [ids.get(id) ?? ''] : []));
        const failedIds = res.errorIds.flatMap((id) => (ids.has(id) ? [ids.get(id) ?? ''] : []));
        counts = {
          ...counts,
          updated: counts.updated + res.updated,
          missing: counts.missing + res.missing.length,
          failed: counts.failed + res.failed,
        };
        samples = {
          ...samples,
          missing: addToSample(samples.missing, missingIds),
          failed: addToSample(samples.failed, failedIds),
        };
      };

      const save = (cursor: string | undefined, pagesDone: number) =>
        ctx.heartbeat({
          ...(cursor !== undefined ? { after: cursor } : {}),
          pages: pagesDone,
          counts,
          samples,
        } satisfies Checkpoint);

      // A page read ahead must not become an unhandled rejection when a write fails first.
      const readPage = (cursor: string | undefined) => {
        const p = crmCall(deps.circuits, () => deps.hubspot.page(object, properties, cursor));
        p.catch(() => undefined);
        return p;
      };
      let next = after;
      let pending = readPage(next);
      while (pages < req.maxPages) {
        const cursorOfPage = next;
        const page = await pending;
        next = page.after;
        // The next page is read while this one is written.
        if (next !== undefined && pages + 1 < req.maxPages) {
          pending = readPage(next);
        }
        if (batch.length + page.records.length > PENDO_BATCH_MAX) {
          // Everything before this page is written now: a retry starts at this page.
          await flush();
          save(cursorOfPage, pages);
        }
        pages += 1;
        const emptyId: string[] = [];
        const conflicting: string[] = [];
        const invalidRecords: string[] = [];
        const invalidValues = { ...counts.invalidValues };
        let noValues = 0;
        for (const record of page.records) {
          const id = record.properties[plan.idProperty];
          if (id === null || id === undefined || id === '') {
            emptyId.push(record.id);
            continue;
          }
          if (conflicts.size > 0 && conflicts.has(idFingerprint(req.salt, id))) {
            conflicting.push(record.id);
            continue;
          }
          const { values, invalid } = translateRecord(plan.fields, record.properties);
          for (const name of invalid) invalidValues[name] = (invalidValues[name] ?? 0) + 1;
          if (invalid.length > 0) invalidRecords.push(record.id);
          if (Object.keys(values).length === 0) {
            noValues += 1;
            continue;
          }
          // Exactly as HubSpot holds it: no trimming, no case folding, no prefix.
          batch.push({ id, values });
          recordIdOf.set(id, record.id);
        }
        counts = {
          ...counts,
          read: counts.read + page.records.length,
          emptyId: counts.emptyId + emptyId.length,
          conflicts: counts.conflicts + conflicting.length,
          noValues: counts.noValues + noValues,
          invalidValues,
        };
        samples = {
          ...samples,
          emptyId: addToSample(samples.emptyId, emptyId),
          conflicts: addToSample(samples.conflicts, conflicting),
          invalid: addToSample(samples.invalid, invalidRecords),
        };
        const last = next === undefined || pages >= req.maxPages;
        if (last || batch.length >= PENDO_BATCH_MAX) {
          await flush();
          save(next, pages);
        }
        if (next === undefined) break;
      }
      return { counts, samples, pages, ...(next !== undefined ? { after: next } : {}) };
    },
  };
}

export type PendoActivities = ReturnType<typeof createPendoActivities>;

/**
 * `relay pendo preview` and `GET /v1/pendo/preview`: the plan, each field's type in Pendo's schema, and the
 * exact payload of a sample of records. Writes nothing. Runs in the api or CLI, never in a workflow: its
 * answer holds Pendo ids and values, for the operator's eyes only.
 */
export async function previewPendoImport(
  deps: Pick<PendoActivityDeps, 'config' | 'hubspot' | 'pendo'>,
  opts: { level?: PendoLevel; limit?: number } = {},
): Promise<PreviewLevel[]> {
  if (!deps.config) throw new Error('the RELAY_CONFIG file has no pendo section');
  const config = deps.config;
  const limit = Math.max(1, Math.min(opts.limit ?? 5, 100));
  const out: PreviewLevel[] = [];
  for (const level of configuredLevels(config)) {
    const chosen = config[level];
    if (!chosen || (opts.level && opts.level !== level)) continue;
    const object = HUBSPOT_OBJECT_OF[level];
    const definitions = await deps.hubspot.propertyDefinitions(object);
    const { fields, skipped } = resolveFields(chosen.properties, definitions);
    let schema: Record<string, string> | undefined;
    let schemaError: string | undefined;
    try {
      schema = await deps.pendo.customFields(level);
    } catch (err) {
      schemaError = err instanceof Error ? err.message : String(err);
    }
    const previewFields: PreviewField[] = chosen.properties.map((name) => {
      const field = fields.find((f) => f.name === name);
      const skip = skipped.find((s) => s.name === name);
      const def = definitions.find((d) => d.name === name);
      const base: PreviewField = {
        name,
        ...(def ? { hubspotType: def.type, fieldType: def.fieldType } : {}),
      };
      if (!field) return { ...base, skipped: skip?.detail ?? 'not imported' };
      const pendoSchemaType = schema?.[name];
      let warning: string | undefined;
      if (schemaError) warning = `Pendo's schema could not be read: ${schemaError}`;
      else if (pendoSchemaType === undefined) warning = `Pendo has no custom ${level} field "${name}" yet`;
      else if (!schemaTypeMatches(field.pendoType, pendoSchemaType)) {
        warning = `Pendo's field is of type ${pendoSchemaType}, the import sends ${field.pendoType}`;
      }
      return {
        ...base,
        pendoType: field.pendoType,
        ...(pendoSchemaType !== undefined ? { pendoSchemaType } : {}),
        ...(warning ? { warning } : {}),
      };
    });
    const idDef = definitions.find((d) => d.name === chosen.idProperty);
    const entry: PreviewLevel = { level, idProperty: chosen.idProperty, fields: previewFields, sample: [] };
    if (!idDef) {
      out.push({ ...entry, error: `HubSpot ${object} have no property "${chosen.idProperty}"` });
      continue;
    }
    let after: string | undefined;
    const properties = [...new Set([chosen.idProperty, ...fields.map((f) => f.name)])];
    while (entry.sample.length < limit) {
      const page = await deps.hubspot.page(object, properties, after);
      for (const record of page.records) {
        if (entry.sample.length >= limit) break;
        const id = record.properties[chosen.idProperty];
        if (id === null || id === undefined || id === '') {
          entry.sample.push({ hubspotRecordId: record.id, skipped: `no ${chosen.idProperty}` });
          continue;
        }
        const { values, invalid } = translateRecord(fields, record.properties);
        entry.sample.push({
          hubspotRecordId: record.id,
          payload: { [level === 'visitor' ? 'visitorId' : 'accountId']: id, values },
          ...(invalid.length > 0 ? { invalid } : {}),
        });
      }
      after = page.after;
      if (!after) break;
    }
    out.push(entry);
  }
  return out;
}
