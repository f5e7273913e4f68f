// The `pendo:` section of the RELAY_CONFIG file (Flow E), and the nightly schedule it implies. Pure: the
// file is read in src/config/conversion-events.ts, the schedule is applied in src/schedules/pendo-import.ts.
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { propertyNameSchema } from '../conversion-events/definitions';
import { isIanaZone } from '../time-zones';
import { PENDO_LEVELS, type PendoLevel, type PendoRegion } from './types';

export interface PendoWindow {
  /** Minutes after local midnight. */
  startMinute: number;
  /** Length in minutes; a window may run past midnight (`22:00-04:00`). */
  lengthMinutes: number;
  /** As written, e.g. `00:00-06:00`. */
  text: string;
}

export interface PendoLevelConfig {
  /** The HubSpot property whose value equals the Pendo id exactly. */
  idProperty: string;
  /** HubSpot properties imported as Pendo metadata fields of the same name. */
  properties: string[];
}

export interface PendoConfig {
  timeZone: string;
  window: PendoWindow;
  /** How far after the window's start the nightly run may begin (spreads load); inside the window. */
  jitterMs: number;
  region: PendoRegion;
  visitor?: PendoLevelConfig;
  account?: PendoLevelConfig;
}

export const DEFAULT_PENDO_WINDOW = '00:00-06:00';
/** Without `jitter:`, starts spread over the first half hour of the window (or its first half, if shorter). */
export const DEFAULT_PENDO_JITTER_MS = 30 * 60_000;

const MINUTE = 60_000;

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function parseWindow(text: string): PendoWindow | undefined {
  const [from, until, ...rest] = text.split('-').map((s) => s.trim());
  if (from === undefined || until === undefined || rest.length > 0) return undefined;
  const a = CLOCK.exec(from);
  const b = CLOCK.exec(until);
  if (!a || !b) return undefined;
  const start = Number(a[1]) * 60 + Number(a[2]);
  const end = Number(b[1]) * 60 + Number(b[2]);
  if (start === end) return undefined;
  return { startMinute: start, lengthMinutes: (end - start + 24 * 60) % (24 * 60), text: `${from}-${until}` };
}

const levelSchema = z.strictObject({
  idProperty: propertyNameSchema,
  properties: z
    .array(propertyNameSchema)
    .min(1, { message: 'choose at least one HubSpot property to import' })
    .superRefine((names, ctx) => {
      const seen = new Set<string>();
      names.forEach((name, i) => {
        if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i], message: `"${name}" is listed twice` });
        seen.add(name);
      });
    }),
});

export const pendoConfigSchema = z
  .strictObject({
    timeZone: z
      .string()
      .trim()
      .refine(isIanaZone, { message: 'must be an IANA time zone such as Asia/Tokyo or Europe/Oslo' }),
    window: z
      .string()
      .default(DEFAULT_PENDO_WINDOW)
      .transform((v, ctx) => {
        const w = parseWindow(v);
        if (w) return w;
        ctx.addIssue({ code: 'custom', message: 'must be a local time range like "00:00-06:00"' });
        return z.NEVER;
      }),
    jitter: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        try {
          const ms = msToNumber(v as Parameters<typeof msToNumber>[0]);
          if (Number.isFinite(ms) && ms >= 0) return ms;
        } catch {
          // reported below
        }
        ctx.addIssue({ code: 'custom', message: `not a duration like "30m": ${JSON.stringify(v)}` });
        return z.NEVER;
      }),
    region: z.enum(['us', 'eu', 'us1', 'jp', 'au'], { message: 'must be one of us, eu, us1, jp, au' }).default('us'),
    visitor: levelSchema.optional(),
    account: levelSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.visitor && !c.account) {
      ctx.addIssue({ code: 'custom', message: 'configure visitor, account or both', path: [] });
    }
    if (c.jitter !== undefined && c.jitter >= c.window.lengthMinutes * MINUTE) {
      ctx.addIssue({
        code: 'custom',
        path: ['jitter'],
        message: `must be shorter than the window ${c.window.text}, so every start lies inside it`,
      });
    }
  })
  .transform((c): PendoConfig => {
    const { jitter, visitor, account, ...rest } = c;
    const windowMs = c.window.lengthMinutes * MINUTE;
    return {
      ...rest,
      jitterMs: jitter ?? Math.min(DEFAULT_PENDO_JITTER_MS, Math.floor(windowMs / 2)),
      ...(visitor ? { visitor } : {}),
      ...(account ? { account } : {}),
    };
  });

export const configuredLevels = (c: PendoConfig): PendoLevel[] => PENDO_LEVELS.filter((l) => c[l] !== undefined);

/** The Temporal Schedule the config implies: a daily cron at the window's start in the zone, with jitter. */
export interface PendoScheduleSpec {
  cron: string;
  timezone: string;
  jitterMs: number;
  /** A start missed (server down) is still made while it would begin inside the window. */
  catchupWindowMs: number;
}

/** Temporal refuses a catch-up window below 10 seconds. */
const MIN_CATCHUP_MS = 10_000;

export function pendoScheduleSpec(c: PendoConfig): PendoScheduleSpec {
  const hour = Math.floor(c.window.startMinute / 60);
  const minute = c.window.startMinute % 60;
  const windowMs = c.window.lengthMinutes * MINUTE;
  return {
    cron: `${minute} ${hour} * * *`,
    timezone: c.timeZone,
    jitterMs: c.jitterMs,
    catchupWindowMs: Math.max(MIN_CATCHUP_MS, windowMs - c.jitterMs),
  };
}
