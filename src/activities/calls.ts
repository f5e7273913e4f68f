// Flow C activities: conversion names → conversion actions (GoogleAdsService over gRPC, cached in the client),
// call rows → UploadCallConversions through the shared per-account batcher, and the regular pull of HubSpot's
// calls object into validated rows. Caller numbers pass through here and into encrypted payloads only.
import { ApplicationFailure } from '@temporalio/common';
import { GoogleAdsRequestError } from '../clients/google-ads/errors';
import { HubSpotError } from '../clients/hubspot/errors';
import type { HubSpotCall } from '../clients/hubspot/calls';
import type { CallsConfig } from '../domain/calls/config';
import type { RawCallRow } from '../domain/calls/csv';
import { callImportId, digestCallRows, type CallImportItem } from '../domain/calls/import-id';
import { validateCallRow } from '../domain/calls/rows';
import { formatGoogleAdsTime } from '../domain/calls/times';
import {
  CALL_PART_MAX_BYTES,
  CALLS_FIRST_PULL_LOOKBACK_MS,
  CALLS_PULL_OVERLAP_MS,
  CallImportFailure,
  type CallImportRow,
  type InvalidCallRow,
} from '../domain/calls/types';
import type { CallConversionRow, ConversionActionInfo, GoogleAdsRowResult } from '../domain/google-ads/types';
import type { RowSubmitOptions } from '../clients/shared/row-batcher';
import { hubSpotErrorToFailure } from './hubspot';
import type { OutageCircuits } from '../clients/shared/circuit';
import { awaitBatched } from './batched';
import {
  googleAdsCircuitKey,
  googleAdsOutageOf,
  requestErrorToFailure,
  rowOutcome,
  type UploadOutcome,
} from './google-ads';
import { throughCircuit } from './outage';

export interface CallActivityDeps {
  /** The `calls:` section of RELAY_CONFIG; absent when the file has none. */
  config?: CallsConfig;
  googleAds: {
    uploadCall(row: CallConversionRow, options?: RowSubmitOptions): Promise<GoogleAdsRowResult>;
    findConversionActions(
      customerId: string,
      loginCustomerId: string | undefined,
      names: string[],
    ): Promise<Map<string, ConversionActionInfo[]>>;
  };
  hubspot: {
    dispositions(): Promise<{ id: string; label: string }[]>;
    modifiedInboundCalls(opts: {
      since: number;
      cursor?: string;
      limit?: number;
    }): Promise<{ calls: HubSpotCall[]; cursor?: string }>;
    dealAmounts(dealIds: string[]): Promise<Map<string, number | undefined>>;
  };
  /** Where the last completed pull stopped (Temporal visibility), if it is still retained. */
  lastPull(): Promise<{ until: number; recent?: Record<string, number> } | undefined>;
  /** Which of these workflows have closed (Temporal describe), for an import watching its parts. */
  closedWorkflows(workflowIds: string[]): Promise<string[]>;
  /** The payload key (base64): the import ids are keyed with a key derived from it. */
  payloadKey: string;
  /**
   * The process's circuits (the Google Ads activities' own): a credentials outage of the account parks the
   * import's parts with its clicks and enhancements, and an open circuit fails them at once.
   */
  circuits?: OutageCircuits;
  now?: () => number;
  /** How often the call upload heartbeats while its rows wait; default BATCHED_ACTIVITY_HEARTBEAT_INTERVAL_MS. */
  heartbeatIntervalMs?: number;
}

export type ResolvedName = { resourceName: string } | { problem: string };

/** A request error of part of a batch: those rows are tried again this soon, the rest keep their outcome. */
const PARTIAL_REQUEST_RETRY_MS = 60_000;
const HUBSPOT_PAGE = 100;
/** HubSpot pages one activity reads at most (calls with unmapped outcomes fill none of the rows). */
const MAX_HUBSPOT_PAGES_PER_ACTIVITY = 50;
/** A page of HubSpot calls adds at most ~100 rows of a few hundred bytes: stop before one could pass the budget. */
const PAGE_BYTES_RESERVE = 100 * 1200;

export interface CallPullPage {
  rows: CallImportRow[];
  invalid: InvalidCallRow[];
  /** Calls read but not imported: their outcome maps to no conversion name. */
  skipped: number;
  /** Calls the previous pull read already (the overlap), unchanged since. */
  alreadyRead: number;
  read: number;
  /** Calls of this page modified within the overlap before its watermark: id → hs_lastmodifieddate. */
  recent: Record<string, number>;
  /** Digest of rows and invalid rows in order, for the import's id. */
  digest: string;
  cursor?: string;
  /** The largest hs_lastmodifieddate read (epoch ms); the next pull starts after it. */
  watermark: number;
}

function requireConfig(config: CallsConfig | undefined): CallsConfig {
  if (!config) {
    throw ApplicationFailure.create({
      type: CallImportFailure.NotConfigured,
      message: 'call imports are not configured: add a calls section to the RELAY_CONFIG file',
      nextRetryDelay: '15m',
    });
  }
  return config;
}

/** A Google Ads call of `customerId`'s account, through its circuit; a request error becomes its failure. */
function googleAdsCall<T>(
  circuits: OutageCircuits | undefined,
  customerId: string,
  call: () => Promise<T>,
): Promise<T> {
  return throughCircuit(circuits, googleAdsCircuitKey(customerId), call, googleAdsOutageOf).catch((err: unknown) => {
    if (err instanceof GoogleAdsRequestError) throw requestErrorToFailure(err);
    throw err;
  });
}

function hubSpotCall<T>(call: () => Promise<T>): Promise<T> {
  return call().catch((err: unknown) => {
    if (err instanceof HubSpotError) throw hubSpotErrorToFailure(err);
    throw err;
  });
}

/**
 * Call conversions go to an enabled UPLOAD_CALLS action: an action of another type or status by the same name is
 * not a candidate (Google would refuse every row), several candidates are ambiguous and need the config's map.
 */
function pick(name: string, customerId: string, found: ConversionActionInfo[]): ResolvedName {
  const usable = found.filter((a) => a.status === 'ENABLED' && a.type === 'UPLOAD_CALLS');
  if (usable.length === 1) return { resourceName: (usable[0] as ConversionActionInfo).resourceName };
  if (usable.length > 1) {
    return {
      problem: `${usable.length} call conversion actions of account ${customerId} are named "${name}": name the one to use in calls.conversionActions`,
    };
  }
  const other = found[0];
  if (other) {
    return {
      problem: `the conversion action "${name}" of account ${customerId} is ${other.status === 'ENABLED' ? `of type ${other.type}, not an import of calls (UPLOAD_CALLS)` : other.status.toLowerCase()}`,
    };
  }
  return { problem: `account ${customerId} has no conversion action named "${name}"` };
}

function dealValue(call: HubSpotCall, amounts: Map<string, number | undefined>, config: CallsConfig): number {
  const rule = config.hubspot?.value ?? { type: 'deal_amount', default: 0 };
  if (rule.type === 'custom') return rule.amount;
  for (const id of call.dealIds) {
    const amount = amounts.get(id);
    if (amount !== undefined && Number.isFinite(amount) && amount >= 0) return amount;
  }
  return rule.default;
}

export function createCallActivities(deps: CallActivityDeps) {
  const now = deps.now ?? Date.now;
  let dispositionCache: { at: number; labels: Map<string, string> } | undefined;
  const dispositionLabels = async (): Promise<Map<string, string>> => {
    if (dispositionCache && now() - dispositionCache.at < 10 * 60_000) return dispositionCache.labels;
    const list = await hubSpotCall(() => deps.hubspot.dispositions());
    dispositionCache = { at: now(), labels: new Map(list.map((d) => [d.id, d.label])) };
    return dispositionCache.labels;
  };

  return {
    /** Each conversion name → its conversion action: the config's map first, else one lookup per name. */
    async resolveCallConversionActions(input: {
      customerId: string;
      loginCustomerId?: string;
      names: string[];
    }): Promise<Record<string, ResolvedName>> {
      const configured = deps.config?.conversionActions ?? {};
      const out: Record<string, ResolvedName> = {};
      const lookup: string[] = [];
      for (const name of input.names) {
        const action = Object.hasOwn(configured, name) ? configured[name] : undefined;
        if (action) out[name] = { resourceName: action };
        else lookup.push(name);
      }
      if (lookup.length > 0) {
        const found = await googleAdsCall(deps.circuits, input.customerId, () =>
          deps.googleAds.findConversionActions(input.customerId, input.loginCustomerId, lookup),
        );
        for (const name of lookup) out[name] = pick(name, input.customerId, found.get(name) ?? []);
      }
      return out;
    },

    /**
     * One UploadCallConversions row per call, through the batcher (which packs up to 2,000 a request), and each
     * row's outcome by its inner error code. A request that failed as a whole fails the activity (Temporal
     * retries it); when only some of the rows' requests failed, those rows come back to be retried on a timer.
     * Heartbeats while it waits; a cancelled attempt withdraws its rows still queued (see awaitBatched).
     */
    async uploadCallConversions(input: {
      customerId: string;
      loginCustomerId?: string;
      /** Conversion name → resource name. */
      actions: Record<string, string>;
      rows: CallImportRow[];
    }): Promise<UploadOutcome[]> {
      // Every row's request failed: the activity fails with the first error (an outage of the account's
      // credentials opens its circuit); Temporal or the part tries again.
      const settled = await googleAdsCall(deps.circuits, input.customerId, async () => {
        const all = await awaitBatched(
          (options) =>
            Promise.allSettled(
              input.rows.map((r) =>
                deps.googleAds.uploadCall(
                  {
                    customerId: input.customerId,
                    ...(input.loginCustomerId ? { loginCustomerId: input.loginCustomerId } : {}),
                    conversionAction: input.actions[r.conversionName] ?? '',
                    callerId: r.callerId,
                    callStartDateTime: r.callStartDateTime,
                    conversionDateTime: r.conversionDateTime,
                    ...(r.conversionValue !== undefined ? { conversionValue: r.conversionValue } : {}),
                    currencyCode: r.currencyCode,
                  },
                  options,
                ),
              ),
            ),
          deps.heartbeatIntervalMs,
        );
        const failures = all.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
        if (failures.length === all.length && failures.length > 0) throw failures[0];
        return all;
      });
      return settled.map((s): UploadOutcome => {
        if (s.status === 'fulfilled') {
          try {
            return rowOutcome(s.value);
          } catch {
            // A transient error of one row: only that row is tried again, so the others keep their outcome
            // (a retry of the whole activity would count the uploaded ones as "already recorded").
            return { outcome: 'RETRY_LATER', code: 'row.transient', delayMs: PARTIAL_REQUEST_RETRY_MS };
          }
        }
        const err = s.reason as unknown;
        if (!(err instanceof GoogleAdsRequestError)) throw err;
        if (err.kind === 'invalid') return { outcome: 'PERMANENT', code: 'request.invalid', message: err.message };
        return {
          outcome: 'RETRY_LATER',
          code: `request.${err.kind}`,
          delayMs: Math.max(PARTIAL_REQUEST_RETRY_MS, err.retryDelayMs ?? 0),
        };
      });
    },

    /** Where the next pull starts: the overlap before the last completed pull's watermark, else 30 days back. */
    async callPullStart(): Promise<{ since: number; seen: Record<string, number> }> {
      const last = await deps.lastPull();
      if (last) return { since: last.until - CALLS_PULL_OVERLAP_MS, seen: last.recent ?? {} };
      return { since: now() - CALLS_FIRST_PULL_LOOKBACK_MS, seen: {} };
    },

    /**
     * Reads inbound calls modified after `since` (from `cursor`) until `maxRows` rows, maps each outcome to a
     * conversion name and the value rule, and validates them as the file's rows are: number, times, currency.
     */
    async readHubSpotCallPage(input: {
      since: number;
      cursor?: string;
      firstRow: number;
      maxRows: number;
      /** Calls the previous pull read (id → hs_lastmodifieddate): skipped while unchanged. */
      seen?: Record<string, number>;
    }): Promise<CallPullPage> {
      const config = requireConfig(deps.config);
      const outcomes = config.hubspot?.outcomes ?? {};
      const labels = await dispositionLabels();
      const items: CallImportItem[] = [];
      let cursor = input.cursor;
      let skipped = 0;
      let alreadyRead = 0;
      let read = 0;
      const modified = new Map<string, number>();
      let watermark = input.since;
      let pages = 0;
      let bytes = 0;
      while (
        (pages === 0 || cursor !== undefined) &&
        items.length < input.maxRows &&
        bytes < CALL_PART_MAX_BYTES - PAGE_BYTES_RESERVE &&
        pages < MAX_HUBSPOT_PAGES_PER_ACTIVITY
      ) {
        pages += 1;
        const page = await hubSpotCall(() =>
          deps.hubspot.modifiedInboundCalls({
            since: input.since,
            ...(cursor !== undefined ? { cursor } : {}),
            limit: Math.min(HUBSPOT_PAGE, input.maxRows - items.length),
          }),
        );
        cursor = page.cursor;
        read += page.calls.length;
        const mapped = page.calls.flatMap((call) => {
          watermark = Math.max(watermark, call.lastModifiedMs);
          modified.set(call.id, call.lastModifiedMs);
          const seenAt = input.seen && Object.hasOwn(input.seen, call.id) ? input.seen[call.id] : undefined;
          if (seenAt === call.lastModifiedMs) {
            alreadyRead += 1;
            return [];
          }
          const label = call.dispositionId ? labels.get(call.dispositionId) : undefined;
          const name = label !== undefined && Object.hasOwn(outcomes, label) ? outcomes[label] : undefined;
          if (call.direction !== 'INBOUND' || !name) {
            skipped += 1;
            return [];
          }
          return [{ call, name }];
        });
        const dealIds = [...new Set(mapped.flatMap((m) => m.call.dealIds))];
        const amounts =
          config.hubspot?.value.type === 'deal_amount' && dealIds.length > 0
            ? await hubSpotCall(() => deps.hubspot.dealAmounts(dealIds))
            : new Map<string, number | undefined>();
        for (const { call, name } of mapped) {
          const row = input.firstRow + items.length;
          const start = call.timestampMs;
          // The conversion happened when the call ended; Google wants it strictly after the call's start.
          const end = start === undefined ? undefined : start + Math.max(1000, call.durationMs ?? 0);
          const raw: RawCallRow = {
            row,
            fields: {
              "Caller's Phone Number": call.fromNumber ?? '',
              'Call Start Time': start === undefined ? '' : formatGoogleAdsTime(start, config.zone),
              'Conversion Name': name,
              'Conversion Time': end === undefined ? '' : formatGoogleAdsTime(end, config.zone),
              'Conversion Value': String(dealValue(call, amounts, config)),
              'Conversion Currency': config.defaultCurrency,
            },
          };
          const result = validateCallRow(raw, {
            zone: config.zone,
            region: config.country,
            defaultCurrency: config.defaultCurrency,
            now: now(),
          });
          const item: CallImportItem = result.ok
            ? { valid: { ...result.row, hubspotCallId: call.id } }
            : { invalid: { ...result.invalid, hubspotCallId: call.id } };
          bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
          items.push(item);
        }
      }
      return {
        rows: items.flatMap((i) => ('valid' in i ? [i.valid] : [])),
        invalid: items.flatMap((i) => ('invalid' in i ? [i.invalid] : [])),
        skipped,
        alreadyRead,
        read,
        recent: Object.fromEntries([...modified].filter(([, at]) => at >= watermark - CALLS_PULL_OVERLAP_MS)),
        digest: digestCallRows(items),
        ...(cursor !== undefined ? { cursor } : {}),
        watermark,
      };
    },

    /** Which of an import's parts have closed: a part that ends without its last signal is settled by its import. */
    closedCallImportParts(input: { workflowIds: string[] }): Promise<string[]> {
      return deps.closedWorkflows(input.workflowIds);
    },

    /** The import id of a pull's rows (keyed like the api's, so the same calls pulled twice import once). */
    callImportKey(input: { customerId: string; digests: string[] }): Promise<string> {
      return Promise.resolve(callImportId(input.digests, input.customerId, deps.payloadKey));
    },
  };
}

export type CallActivities = ReturnType<typeof createCallActivities>;
