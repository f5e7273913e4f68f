// `relay pendo sync|status|preview`: the Pendo import through the api (RELAY_API_URL, RELAY_API_KEY), so
// the command needs no Temporal, HubSpot or Pendo credentials of its own. `relay pendo schedule apply` is in
// main.ts: it talks to Temporal directly.
import { setTimeout as delay } from 'node:timers/promises';
import type { PreviewLevel } from '../activities/pendo';
import type { PendoStatusView, RunView, SyncAnswer } from '../api/pendo-routes';
import { invalidValueCount, type LevelCounts } from '../domain/pendo/types';
import { levelLine } from '../workflows/pendo-import';
import { apiCall, type ApiTarget } from './api-client';

export { ApiCallError, type ApiTarget } from './api-client';

const call = <T>(api: ApiTarget, method: string, path: string) => apiCall<T>(api, method, path, { accept: [409] });

const TERMINAL = new Set(['COMPLETED', 'COMPLETED_WITH_FAILURES', 'SKIPPED', 'FAILED', 'TERMINATED', 'CANCELLED']);

const fmt = (n: number) => n.toLocaleString('en-US');

function countsLine(c: LevelCounts): string {
  return [
    `read ${fmt(c.read)}`,
    `updated ${fmt(c.updated)}`,
    `not in Pendo ${fmt(c.missing)}`,
    `failed ${fmt(c.failed)}`,
    `conflicting ids ${fmt(c.conflicts)}`,
    `without id ${fmt(c.emptyId)}`,
    `no values ${fmt(c.noValues)}`,
    `values left out ${fmt(invalidValueCount(c))}`,
  ].join(', ');
}

function runLines(run: RunView): string[] {
  const when = run.finishedAt ? `${run.startedAt ?? '?'} → ${run.finishedAt}` : `since ${run.startedAt ?? '?'}`;
  const lines = [`${run.workflowId}  ${run.state}  ${when}`];
  for (const l of run.levels ?? []) {
    lines.push(`    ${l.level.padEnd(8)} ${countsLine(l.counts)}`);
    const invalid = Object.entries(l.counts.invalidValues).map(([name, n]) => `${name} ${fmt(n)}`);
    if (invalid.length > 0) lines.push(`             values left out by property: ${invalid.join(', ')}`);
    for (const s of l.skipped) lines.push(`             skipped property ${s.name}: ${s.detail}`);
    if (l.samples.conflicts.total > 0) {
      lines.push(
        `             conflicting HubSpot records: ${l.samples.conflicts.ids.join(', ')}${l.samples.conflicts.total > l.samples.conflicts.ids.length ? ', …' : ''}`,
      );
    }
    if (l.error) lines.push(`             failed: ${l.error.reason}: ${l.error.detail}`);
  }
  if (run.error) lines.push(`    ${run.error}`);
  return lines;
}

/** Exit status of a finished run: 0 only for a clean completion. */
const exitOf = (run: RunView) => (run.state === 'COMPLETED' ? 0 : 1);

export async function runPendoSync(
  api: ApiTarget,
  opts: { wait: boolean; pollMs?: number },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<number> {
  const { status, body } = await call<SyncAnswer>(api, 'POST', '/v1/pendo/sync');
  out.write(
    status === 409
      ? `an import is already running: ${body.workflowId}${opts.wait ? ' (waiting for it)' : ''}\n`
      : `started ${body.workflowId}\n`,
  );
  if (!opts.wait) return 0;
  let last = '';
  for (;;) {
    const { body: run } = await call<RunView>(api, 'GET', `/v1/pendo/runs/${encodeURIComponent(body.workflowId)}`);
    if (!run.running || TERMINAL.has(run.state)) {
      if (err.isTTY) err.write('\r\x1b[2K');
      out.write(`${runLines(run).join('\n')}\n`);
      return exitOf(run);
    }
    const line = `${run.state} ${(run.levels ?? []).map(levelLine).join('; ')}`;
    if (err.isTTY) err.write(`\r\x1b[2K${line.slice(0, 200)}`);
    else if (line !== last) err.write(`${line}\n`);
    last = line;
    await delay(opts.pollMs ?? 1000);
  }
}

export async function runPendoStatus(
  api: ApiTarget,
  opts: { json: boolean },
  out: NodeJS.WritableStream,
): Promise<number> {
  const { body } = await call<PendoStatusView>(api, 'GET', '/v1/pendo/status');
  if (opts.json) {
    out.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  const lines = [`Pendo import — subscription time zone ${body.timeZone}, nightly window ${body.window}`];
  const s = body.schedule;
  if (!s) lines.push('  schedule     none yet (the worker creates it at start; or: relay pendo schedule apply)');
  else if (s.paused) lines.push(`  schedule     ${s.id} is paused${s.note ? ` (${s.note})` : ''}`);
  else
    lines.push(
      `  next start   ${s.nextStart ?? 'none planned'}  (schedule ${s.id}, jitter included; ${s.nextStartUtc ?? ''})`,
    );
  if (body.running) lines.push(`  running      ${runLines(body.running).join('\n')}`);
  else lines.push('  running      nothing');
  if (body.lastRun) lines.push(`  last run     ${runLines(body.lastRun).join('\n')}`);
  else lines.push('  last run     none yet');
  out.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function runPendoPreview(
  api: ApiTarget,
  opts: { level?: string; limit?: number; json: boolean },
  out: NodeJS.WritableStream,
): Promise<number> {
  const query = new URLSearchParams();
  if (opts.level) query.set('level', opts.level);
  if (opts.limit !== undefined) query.set('limit', String(opts.limit));
  const { body } = await call<{ levels: PreviewLevel[] }>(
    api,
    'GET',
    `/v1/pendo/preview${query.size ? `?${query.toString()}` : ''}`,
  );
  if (opts.json) {
    out.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  let warnings = 0;
  for (const level of body.levels) {
    out.write(
      `\n${level.level} metadata ← HubSpot ${level.level === 'visitor' ? 'contacts' : 'companies'}.${level.idProperty}\n`,
    );
    if (level.error) out.write(`  cannot import: ${level.error}\n`);
    const rows = [['PROPERTY', 'HUBSPOT TYPE', 'PENDO TYPE', 'IN PENDO', 'NOTE']];
    for (const f of level.fields) {
      if (f.warning) warnings += 1;
      rows.push([
        f.name,
        f.hubspotType ? `${f.hubspotType}/${f.fieldType ?? ''}` : '-',
        f.pendoType ?? 'not imported',
        f.pendoSchemaType ?? (f.pendoType ? 'no field yet' : '-'),
        f.skipped ?? f.warning ?? '',
      ]);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of rows)
      out.write(
        `  ${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    out.write(`  sample of ${level.sample.length} record(s), exactly as they would be sent:\n`);
    for (const s of level.sample) {
      const extra = s.invalid ? `  (left out, not valid: ${s.invalid.join(', ')})` : '';
      out.write(
        `    ${s.hubspotRecordId}: ${s.payload ? JSON.stringify(s.payload) : `skipped, ${s.skipped}`}${extra}\n`,
      );
    }
  }
  out.write(`\nNothing was written.${warnings ? ` ${warnings} warning(s) above.` : ''}\n`);
  return 0;
}
