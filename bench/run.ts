// `npm run bench [-- name ...]`: runs the benchmarks one after another (never in parallel: on a
// 2-core machine they would measure each other) and prints each against its same-run baseline.
import os from 'node:os';
import { runApiCaptureBench, runCm360BurstBench, runLifecycleBurstBench } from './burst';
import { runCallImportBench } from './call-import';
import { runCm360BatcherBench } from './cm360-batcher';
import { formatRange, formatRate, median, nowMs, type BenchResult } from './common';
import { runGoogleAdsBatcherBench } from './google-ads-batcher';
import { runIdentifiersBench } from './identifiers';
import { runPendoImportBench } from './pendo-import';

const BENCHMARKS: Record<string, () => BenchResult | Promise<BenchResult>> = {
  identifiers: runIdentifiersBench,
  'cm360-batcher': runCm360BatcherBench,
  'google-ads-batcher': runGoogleAdsBatcherBench,
  'pendo-import': runPendoImportBench,
  'call-import': runCallImportBench,
  'cm360-burst': runCm360BurstBench,
  'lifecycle-burst': runLifecycleBurstBench,
  'api-capture': runApiCaptureBench,
};
/** Minutes long, with a Temporal dev server (and most with child processes): run only when named. */
const NAMED_ONLY = new Set(['pendo-import', 'call-import', 'cm360-burst', 'lifecycle-burst', 'api-capture']);

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  // Text columns left, figures right, so magnitudes line up.
  return rows
    .map((r) => r.map((cell, col) => (col < 2 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))))
    .map((r) => r.join('  ').trimEnd())
    .join('\n');
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const names = requested.length > 0 ? requested : Object.keys(BENCHMARKS).filter((n) => !NAMED_ONLY.has(n));

  console.log(
    `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model.trim() ?? 'unknown'}), ` +
      `${os.platform()} ${os.arch()}, ${new Date().toISOString()}`,
  );
  const started = nowMs();
  const results: BenchResult[] = [];
  for (const name of names) {
    const run = BENCHMARKS[name];
    if (!run) continue;
    process.stdout.write(`running ${name} ... `);
    const t = nowMs();
    results.push(await run());
    console.log(`${((nowMs() - t) / 1000).toFixed(1)} s`);
  }

  const summaries = results.map((r) => {
    const subject = median(r.subjectRates);
    const baseline = median(r.baselineRates);
    // Round i of both sides ran back to back, so their quotient cancels most of the drift between rounds.
    const paired = r.subjectRates.map((s, i) => s / (r.baselineRates[i] ?? Number.NaN));
    return { r, subject, baseline, ratio: subject / baseline, paired };
  });

  console.log();
  console.log(
    table([
      ['benchmark', 'unit', 'subject (median)', 'baseline (median)', 'subject ÷ baseline'],
      ...summaries.map(({ r, subject, baseline, ratio }) => [
        r.name,
        r.unit,
        formatRate(subject),
        formatRate(baseline),
        ratio.toFixed(3),
      ]),
    ]),
  );
  for (const { r, ratio, paired } of summaries) {
    console.log();
    console.log(`${r.name}: ${r.reading(ratio)}`);
    console.log(`  subject:  ${r.subject}; rounds ${formatRange(r.subjectRates)} ${r.unit}`);
    console.log(`  baseline: ${r.baseline}; rounds ${formatRange(r.baselineRates)} ${r.unit}`);
    console.log(
      `  per-round ratio: median ${median(paired).toFixed(3)}, ` +
        `range ${Math.min(...paired).toFixed(3)}–${Math.max(...paired).toFixed(3)}`,
    );
    for (const note of r.notes) console.log(`  ${note}`);
  }
  console.log();
  console.log(`total ${((nowMs() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
