// `relay calls import|report|pull`: call conversion imports through the api (RELAY_API_URL, RELAY_API_KEY).
// The file is read here and posted as it is; nothing is written to disk except what the operator redirects.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CallImportAnswer, CallImportReport, RowIssue } from '../api/calls-routes';
import { CALL_COLUMNS, csvLine } from '../domain/calls/csv';
import type { CallImportCounts, FailedCallRow } from '../domain/calls/types';
import { countsLine } from '../workflows/call-import';
import { apiCall, ApiCallError, type ApiTarget } from './api-client';

type Err = NodeJS.WritableStream & { isTTY?: boolean };

const fmt = (n: number) => n.toLocaleString('en-US');
const SHOWN_ROWS = 50;

function issueLines(issues: RowIssue[], total = issues.length): string[] {
  const lines = issues.slice(0, SHOWN_ROWS).map((i) => `  row ${i.row}: ${i.field} ${i.message}`);
  if (total > SHOWN_ROWS) lines.push(`  … and ${fmt(total - SHOWN_ROWS)} more`);
  return lines;
}

function bar(c: CallImportCounts, width = 30): string {
  const settled = c.rows - c.pending;
  const filled = c.rows > 0 ? Math.round((settled / c.rows) * width) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function summaryLines(report: CallImportReport): string[] {
  const c = report.counts;
  const lines = [`${report.importId}  ${report.state}${report.finishedAt ? `  finished ${report.finishedAt}` : ''}`];
  if (c) {
    lines.push(
      `  rows ${fmt(c.rows)}: uploaded ${fmt(c.uploaded)}, already recorded ${fmt(c.alreadyRecorded)}, ` +
        `rejected ${fmt(c.rejected)}, invalid ${fmt(c.invalid)}` +
        `${c.validated ? `, validated only (dry run) ${fmt(c.validated)}` : ''}${c.pending ? `, pending ${fmt(c.pending)}` : ''}`,
    );
  }
  if (report.nextAttemptAt) lines.push(`  next retry of too-recent rows at ${report.nextAttemptAt}`);
  if (report.error) lines.push(`  ${report.error}`);
  if (report.failedTotal > 0) {
    lines.push(`  rows not imported:`);
    for (const f of report.failed.slice(0, SHOWN_ROWS)) lines.push(`    row ${f.row}: ${f.code}: ${f.reason}`);
    if (report.failedTotal > SHOWN_ROWS) lines.push(`    … and ${fmt(report.failedTotal - SHOWN_ROWS)} more`);
    lines.push(`  to fix and re-import them: relay calls report ${report.importId} --failed > failed.csv`);
  }
  return lines;
}

const reportPath = (id: string, all: boolean) =>
  `/v1/google-ads/calls/imports/${encodeURIComponent(id)}${all ? '?failed=true' : ''}`;

export async function runCallsImport(
  api: ApiTarget,
  opts: { file: string; wait: boolean; pollMs?: number },
  out: NodeJS.WritableStream,
  err: Err,
): Promise<number> {
  let data: string;
  try {
    data = await readFile(opts.file, 'utf8');
  } catch (e) {
    err.write(`cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return 2;
  }
  const type = extname(opts.file).toLowerCase() === '.json' ? 'application/json' : 'text/csv';
  const { status, body } = await apiCall<
    CallImportAnswer & { error?: string; issues?: RowIssue[]; issuesTotal?: number }
  >(api, 'POST', '/v1/google-ads/calls', { body: { type, data }, accept: [400] });
  if (status === 400) {
    err.write(
      `${opts.file}: ${body.error ?? 'refused'}\n${issueLines(body.issues ?? [], body.issuesTotal).join('\n')}\n`,
    );
    return 1;
  }
  const verb =
    body.status === 'started'
      ? 'started'
      : body.status === 'importing'
        ? 'is already importing'
        : 'was imported before';
  out.write(
    `import ${body.importId} ${verb}: ${fmt(body.rows)} rows, ${fmt(body.valid)} valid, ${fmt(body.invalid)} invalid (never sent)\n`,
  );
  if (body.issues.length > 0)
    out.write(`${issueLines(body.issues, body.invalid > 0 ? body.issues.length : 0).join('\n')}\n`);
  if (!opts.wait) {
    out.write(`report: relay calls report ${body.importId}\n`);
    return 0;
  }
  return followImport(api, body.importId, opts.pollMs, out, err);
}

/** Shows the import's progress (a bar on a terminal) until it ends, then its summary; 0 only if nothing was refused. */
async function followImport(
  api: ApiTarget,
  importId: string,
  pollMs: number | undefined,
  out: NodeJS.WritableStream,
  err: Err,
): Promise<number> {
  let last = '';
  for (;;) {
    const { body: report } = await apiCall<CallImportReport>(api, 'GET', reportPath(importId, false));
    if (!report.running) {
      if (err.isTTY) err.write('\r\x1b[2K');
      out.write(`${summaryLines(report).join('\n')}\n`);
      return report.state === 'COMPLETED' ? 0 : 1;
    }
    const line = report.counts ? `${bar(report.counts)} ${countsLine(report.counts)}` : report.state;
    if (err.isTTY) err.write(`\r\x1b[2K${line.slice(0, 160)}`);
    else if (line !== last) err.write(`${line}\n`);
    last = line;
    await delay(pollMs ?? 1000);
  }
}

/** The failed rows in the template's format, a Reason column added (the import ignores it). */
export function failedRowsCsv(report: CallImportReport): string {
  const head = report.timeZone ? csvLine([`Parameters:TimeZone=${report.timeZone}`]) : '';
  const rows = report.failed.map((f: FailedCallRow) =>
    csvLine([...CALL_COLUMNS.map((c) => f.fields[c]), `${f.code}: ${f.reason}`]),
  );
  return `${head}${csvLine([...CALL_COLUMNS, 'Reason'])}${rows.join('')}`;
}

export async function runCallsReport(
  api: ApiTarget,
  opts: { importId: string; failed: boolean; json: boolean },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const { body } = await apiCall<CallImportReport>(api, 'GET', reportPath(opts.importId, opts.failed));
  if (opts.json) out.write(`${JSON.stringify(body, null, 2)}\n`);
  else if (opts.failed) out.write(failedRowsCsv(body));
  else out.write(`${summaryLines(body).join('\n')}\n`);
  if (body.partsUnreadable) {
    // An incomplete list must not pass for the whole one.
    err.write(`the refused rows of ${body.partsUnreadable.join(', ')} could not be read now; run the command again\n`);
    return 1;
  }
  return 0;
}

interface PullView {
  workflowId: string;
  state: string;
  since?: number;
  until?: number;
  read?: number;
  rows?: number;
  invalid?: number;
  skipped?: number;
  alreadyRead?: number;
  importId?: string;
  alreadyImported?: boolean;
  more?: boolean;
  error?: string;
}

function pullLines(p: PullView): string[] {
  if (p.error || p.read === undefined) return [`${p.workflowId}  ${p.state}${p.error ? `: ${p.error}` : ''}`];
  const iso = (ms?: number) => (ms === undefined ? '?' : new Date(ms).toISOString());
  const lines = [
    `${p.workflowId}  ${p.state}: HubSpot calls modified ${iso(p.since)} → ${iso(p.until)}`,
    `  read ${fmt(p.read)}: ${fmt((p.rows ?? 0) + (p.invalid ?? 0))} to import (${fmt(p.invalid ?? 0)} invalid), ` +
      `${fmt(p.skipped ?? 0)} with an outcome mapped to no conversion, ${fmt(p.alreadyRead ?? 0)} read by the last pull`,
  ];
  if (p.importId) lines.push(`  ${p.alreadyImported ? 'imported before as' : 'import'} ${p.importId}`);
  if (p.more) lines.push('  more calls are waiting: the next run goes on from here');
  return lines;
}

export async function runCallsPull(
  api: ApiTarget,
  opts: { wait: boolean; json: boolean; pollMs?: number },
  out: NodeJS.WritableStream,
  err: Err,
): Promise<number> {
  const { status, body } = await apiCall<{ status: string; workflowId: string }>(
    api,
    'POST',
    '/v1/google-ads/calls/pull',
    {
      accept: [409],
    },
  );
  if (!opts.json)
    out.write(status === 409 ? `a pull is already running: ${body.workflowId}\n` : `started ${body.workflowId}\n`);
  if (!opts.wait) {
    if (opts.json) out.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  for (;;) {
    const { body: pull } = await apiCall<PullView>(
      api,
      'GET',
      `/v1/google-ads/calls/pulls/${encodeURIComponent(body.workflowId)}`,
    );
    if (pull.state === 'RUNNING') {
      await delay(opts.pollMs ?? 1000);
      continue;
    }
    if (opts.json) {
      out.write(`${JSON.stringify(pull, null, 2)}\n`);
      return pull.state === 'COMPLETED' ? 0 : 1;
    }
    out.write(`${pullLines(pull).join('\n')}\n`);
    if (pull.state !== 'COMPLETED') return 1;
    // The pull hands its rows to an import that runs on: follow it to its end too.
    return pull.importId && !pull.alreadyImported ? followImport(api, pull.importId, opts.pollMs, out, err) : 0;
  }
}

export { ApiCallError };
