// The `calls:` section of the RELAY_CONFIG file (Flow C): which Google Ads account the calls go into, how times
// without an offset are read, and (optionally) the regular pull from HubSpot's calls object. Pure: the file is
// read in src/config/conversion-events.ts, the schedule is applied in src/schedules/calls-hubspot-pull.ts.
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { conversionActionSchema, currencySchema, customerIdSchema } from '../conversion-events/definitions';
import { isIanaZone } from '../time-zones';
import { parseTimeZone, type CallTimeZone } from './times';

export type CallValueRule = { type: 'deal_amount'; default: number } | { type: 'custom'; amount: number };

export interface CallsHubSpotConfig {
  /** How often the pull runs. */
  everyMs: number;
  /** As written, e.g. `1h`. */
  every: string;
  /** HubSpot call outcome (disposition label) → conversion name. */
  outcomes: Record<string, string>;
  value: CallValueRule;
}

export interface CallsConfig {
  /** 10 digits. */
  customerId: string;
  loginCustomerId?: string;
  /** IANA zone for times written without an offset (the file's own TimeZone wins). */
  timeZone: string;
  zone: CallTimeZone;
  defaultCurrency: string;
  /** Region of numbers written without + (the account's country); Google also accepts US national numbers. */
  country: string;
  /** Conversion name → resource name `customers/{customerId}/conversionActions/{id}`. */
  conversionActions: Record<string, string>;
  hubspot?: CallsHubSpotConfig;
}

/** The shortest pull interval: HubSpot's search index itself lags a few seconds to minutes behind writes. */
export const MIN_PULL_INTERVAL_MS = 5 * 60_000;

const everySchema = z
  .string()
  .default('1h')
  .transform((v, ctx) => {
    try {
      const ms = msToNumber(v as Parameters<typeof msToNumber>[0]);
      if (Number.isFinite(ms) && ms >= MIN_PULL_INTERVAL_MS) return { ms, text: v };
    } catch {
      // reported below
    }
    ctx.addIssue({
      code: 'custom',
      message: `must be a duration of at least 5m, like "1h" or "30m": ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  });

const nameSchema = z.string().trim().min(1, { message: 'must not be empty' }).max(100);

const valueSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('deal_amount'), default: z.number().min(0) }),
  z.strictObject({ type: z.literal('custom'), amount: z.number().min(0) }),
]);

const hubspotSchema = z.strictObject({
  every: everySchema,
  outcomes: z
    .record(nameSchema, nameSchema)
    .refine((o) => Object.keys(o).length > 0, { message: 'map at least one call outcome to a conversion name' }),
  value: valueSchema.default({ type: 'deal_amount', default: 0 }),
});

export const callsConfigSchema = z
  .strictObject({
    customerId: customerIdSchema,
    loginCustomerId: customerIdSchema.optional(),
    timeZone: z.string().trim().refine(isIanaZone, { message: 'must be an IANA time zone such as America/New_York' }),
    defaultCurrency: currencySchema,
    country: z
      .string()
      .trim()
      .regex(/^[A-Za-z]{2}$/, { message: 'must be a two-letter region code such as US' })
      .transform((v) => v.toUpperCase())
      .default('US'),
    conversionActions: z.record(nameSchema, conversionActionSchema).default({}),
    hubspot: hubspotSchema.optional(),
  })
  .transform((c): CallsConfig => {
    const actions = Object.fromEntries(
      Object.entries(c.conversionActions).map(([name, action]) => [
        name,
        /^\d+$/.test(action) ? `customers/${c.customerId}/conversionActions/${action}` : action,
      ]),
    );
    return {
      customerId: c.customerId,
      ...(c.loginCustomerId ? { loginCustomerId: c.loginCustomerId } : {}),
      timeZone: c.timeZone,
      zone: parseTimeZone(c.timeZone) as CallTimeZone,
      defaultCurrency: c.defaultCurrency,
      country: c.country,
      conversionActions: actions,
      ...(c.hubspot
        ? {
            hubspot: {
              everyMs: c.hubspot.every.ms,
              every: c.hubspot.every.text,
              outcomes: c.hubspot.outcomes,
              value: c.hubspot.value,
            },
          }
        : {}),
    };
  });
