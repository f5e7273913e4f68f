// `relay stats [--since 24h] [--json]`: how the last day went, from Temporal's visibility alone — per flow, the
// workflows started since then by execution status (a count grouped by ExecutionStatus), and the ones that did
// not go the plain way by RelayStatus and RelayReason (the plain path writes neither: see src/workflows/progress.ts).
// Reads search attributes only: no payload, nothing personal.
import type { Client } from '@temporalio/client';
import { CALL_IMPORT_FLOW, CALL_IMPORT_PART_FLOW, CALLS_HUBSPOT_PULL_FLOW } from '../domain/calls/types';
import { CM360_ENHANCEMENT_FLOW } from '../workflows/cm360-enhancement';
import { FORM_ENHANCEMENT_FLOW } from '../workflows/form-enhancement';
import { FORM_POLL_FLOW } from '../workflows/hubspot-form-poll';
import { LIFECYCLE_CONVERSION_FLOW } from '../workflows/lifecycle-conversion';
import { PENDO_IMPORT_FLOW } from '../workflows/pendo-import';
import { RelayReason, RelayStatus } from '../workflows/search-attributes';

export const RELAY_FLOWS = [
  CM360_ENHANCEMENT_FLOW,
  LIFECYCLE_CONVERSION_FLOW,
  FORM_ENHANCEMENT_FLOW,
  FORM_POLL_FLOW,
  CALL_IMPORT_FLOW,
  CALL_IMPORT_PART_FLOW,
  CALLS_HUBSPOT_PULL_FLOW,
  PENDO_IMPORT_FLOW,
] as const;

/** At most this many non-plain workflows are read per flow for the RelayStatus/RelayReason breakdown. */
const MAX_LISTED = 10_000;

export interface FlowStats {
  flow: string;
  total: number;
  /** ExecutionStatus → count (Running, Completed, Failed, TimedOut, Terminated, Canceled, ContinuedAsNew). */
  byExecutionStatus: Record<string, number>;
  /** Completed without a RelayStatus: the plain success. */
  plain: number;
  /** "RelayStatus / RelayReason" → count, for the workflows that set one. */
  byRelayStatus: Record<string, number>;
  /** The breakdown stopped at MAX_LISTED. */
  truncated: boolean;
}

const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

export async function collectStats(client: Client, sinceMs: number): Promise<FlowStats[]> {
  const since = new Date(sinceMs).toISOString();
  const out: FlowStats[] = [];
  for (const flow of RELAY_FLOWS) {
    const base = `RelayFlow = ${quote(flow)} AND StartTime > ${quote(since)}`;
    const counted = await client.workflow.count(`${base} GROUP BY ExecutionStatus`);
    const byExecutionStatus: Record<string, number> = {};
    for (const g of counted.groups) byExecutionStatus[String(g.groupValues[0])] = g.count;
    const plain = counted.count
      ? (await client.workflow.count(`${base} AND ExecutionStatus = "Completed" AND RelayStatus IS NULL`)).count
      : 0;
    const byRelayStatus: Record<string, number> = {};
    let listed = 0;
    if (counted.count > plain) {
      for await (const w of client.workflow.list({ query: `${base} AND RelayStatus IS NOT NULL`, pageSize: 1000 })) {
        const status = w.typedSearchAttributes.get(RelayStatus) ?? '?';
        const reason = w.typedSearchAttributes.get(RelayReason);
        const key = reason ? `${status} / ${reason}` : status;
        byRelayStatus[key] = (byRelayStatus[key] ?? 0) + 1;
        if (++listed >= MAX_LISTED) break;
      }
    }
    out.push({ flow, total: counted.count, byExecutionStatus, plain, byRelayStatus, truncated: listed >= MAX_LISTED });
  }
  return out;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const COLUMNS = ['Running', 'Completed', 'Failed', 'TimedOut', 'Terminated', 'Canceled', 'ContinuedAsNew'] as const;

/** The table `relay stats` prints. */
export function statsTable(stats: FlowStats[], sinceLabel: string): string {
  const lines = [`workflows started in the last ${sinceLabel}, by flow (Temporal visibility)`, ''];
  const head = ['flow', 'started', 'plain ok', ...COLUMNS.map((c) => c.toLowerCase())];
  const rows = stats
    .filter((s) => s.total > 0)
    .map((s) => [s.flow, fmt(s.total), fmt(s.plain), ...COLUMNS.map((c) => fmt(s.byExecutionStatus[c] ?? 0))]);
  if (rows.length === 0) return `${lines[0]}\n\nnone\n`;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(line(head), ...rows.map(line));
  const attention = stats.filter((s) => Object.keys(s.byRelayStatus).length > 0);
  if (attention.length > 0) {
    lines.push('', 'not the plain way, by RelayStatus / RelayReason');
    for (const s of attention) {
      lines.push(`  ${s.flow}${s.truncated ? ` (first ${fmt(MAX_LISTED)})` : ''}`);
      const entries = Object.entries(s.byRelayStatus).sort((a, b) => b[1] - a[1]);
      for (const [key, n] of entries) lines.push(`    ${fmt(n).padStart(8)}  ${key}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
