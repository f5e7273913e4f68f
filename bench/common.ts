// Shared by every benchmark: a result shape that always carries its baseline, so a figure is never
// printed without the same-run number that gives it meaning.

export interface BenchResult {
  name: string;
  unit: string;
  subject: string;
  /** One rate per measured round, in round order; round i of both sides ran back to back. */
  subjectRates: number[];
  baseline: string;
  baselineRates: number[];
  /** How to read subject ÷ baseline for this benchmark. */
  reading: (ratio: number) => string;
  /** Setup and per-round detail, printed under the table. */
  notes: string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

export function formatRange(values: readonly number[]): string {
  return `${formatRate(Math.min(...values))}–${formatRate(Math.max(...values))}`;
}

/** Deterministic PRNG (mulberry32): the same users and conversions every run, so runs are comparable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
