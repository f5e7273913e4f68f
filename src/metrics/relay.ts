// The relay's own Prometheus metrics (prom-client), one registry per process: what reached the api and what it
// refused, the workflows it started, and each vendor request — rows per request, answer time, the wait for the
// quota — with every row's outcome. Names are in ./names.ts; labels hold flows, vendors, codes and reasons only.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { decideCm360Row } from '../domain/cm360/outcomes';
import type { Cm360RowResult } from '../domain/cm360/types';
import { classifyGoogleAdsError } from '../domain/google-ads/classify';
import type { GoogleAdsRowResult } from '../domain/google-ads/types';
import type { BatchObserver } from '../clients/shared/row-batcher';
import { RELAY_METRICS } from './names';

export type RowOutcome = { outcome: 'uploaded' | 'already_done' | 'retry' | 'failed'; code: string };

export type Vendor = 'cm360' | 'google_ads';

export class RelayMetrics {
  readonly registry: Registry;
  readonly eventsReceived: Counter<'source'>;
  readonly eventsRejected: Counter<'source' | 'reason'>;
  readonly workflowsStarted: Counter<'flow' | 'outcome'>;
  readonly rows: Counter<'vendor' | 'service' | 'outcome' | 'code'>;
  readonly batchRows: Histogram<'vendor' | 'service'>;
  readonly vendorRequestSeconds: Histogram<'vendor' | 'service' | 'outcome'>;
  readonly quotaWaitSeconds: Histogram<'vendor' | 'service'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.eventsReceived = new Counter({
      name: RELAY_METRICS.eventsReceived,
      help: 'Events and captures that reached the api, by source',
      labelNames: ['source'],
      registers,
    });
    this.eventsRejected = new Counter({
      name: RELAY_METRICS.eventsRejected,
      help: 'Events the api refused or could not start, by source and reason (signature, invalid, unavailable, …)',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.workflowsStarted = new Counter({
      name: RELAY_METRICS.workflowsStarted,
      help: 'Workflow starts by flow: started, duplicate (already running or done), failed',
      labelNames: ['flow', 'outcome'],
      registers,
    });
    this.rows = new Counter({
      name: RELAY_METRICS.rows,
      help: 'Rows a vendor answered, by outcome and code (request errors: outcome failed or retry, code request.<kind>)',
      labelNames: ['vendor', 'service', 'outcome', 'code'],
      registers,
    });
    this.batchRows = new Histogram({
      name: RELAY_METRICS.batchRows,
      help: 'Rows per request sent to a vendor (CM360 takes up to 1,000, Google Ads 2,000)',
      labelNames: ['vendor', 'service'],
      buckets: [1, 10, 50, 100, 250, 500, 750, 1000, 1500, 2000],
      registers,
    });
    this.vendorRequestSeconds = new Histogram({
      name: RELAY_METRICS.vendorRequestSeconds,
      help: 'How long a vendor took to answer a request, in seconds',
      labelNames: ['vendor', 'service', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.quotaWaitSeconds = new Histogram({
      name: RELAY_METRICS.quotaWaitSeconds,
      help: "How long a ready request waited for the vendor's rate limit (this process's share of the quota), in seconds",
      labelNames: ['vendor', 'service'],
      buckets: [0, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
  }

  /** The observer of one vendor service's batchers; `outcomeOf` reads a row's result. */
  batchObserver<Result>(vendor: Vendor, service: string, outcomeOf: (r: Result) => RowOutcome): BatchObserver<Result> {
    return {
      requestSent: ({ rows, quotaWaitMs, durationMs, results, error }) => {
        this.batchRows.observe({ vendor, service }, rows);
        this.quotaWaitSeconds.observe({ vendor, service }, quotaWaitMs / 1000);
        this.vendorRequestSeconds.observe({ vendor, service, outcome: error ? 'error' : 'ok' }, durationMs / 1000);
        if (error !== undefined) {
          const kind = (error as { kind?: unknown }).kind;
          const code = `request.${typeof kind === 'string' ? kind : 'error'}`;
          this.rows.inc({ vendor, service, outcome: kind === 'invalid' ? 'failed' : 'retry', code }, rows);
          return;
        }
        for (const r of results ?? []) this.rows.inc({ vendor, service, ...outcomeOf(r) });
      },
    };
  }
}

/** A CM360 batchupdate row, as the workflow will decide it (NOT_FOUND and INTERNAL are retried). */
export function cm360RowOutcome(r: Cm360RowResult): RowOutcome {
  const d = decideCm360Row(r);
  if (d.action === 'enhanced') return { outcome: 'uploaded', code: 'OK' };
  if (d.action === 'not-found') return { outcome: 'retry', code: 'NOT_FOUND' };
  return { outcome: d.action === 'retry' ? 'retry' : 'failed', code: d.failure };
}

/** A Google Ads row by its first error, as the activities classify it. */
export function googleAdsRowOutcome(r: GoogleAdsRowResult): RowOutcome {
  if (r.ok) return { outcome: 'uploaded', code: r.validateOnly ? 'VALIDATED' : 'OK' };
  const first = r.errors[0];
  if (!first) return { outcome: 'failed', code: 'unknown' };
  const code = `${first.category}.${first.name}`;
  const action = classifyGoogleAdsError(first).action;
  if (action === 'already-done') return { outcome: 'already_done', code };
  if (action === 'permanent') return { outcome: 'failed', code };
  return { outcome: 'retry', code };
}
