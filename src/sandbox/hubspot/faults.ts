// The HubSpot emulator's fault vocabulary: the type, its zod schema (PUT /_sandbox/fault and `relay sandbox fault`
// validate with it) and a line on each. No server code, so the CLI can load it cheaply.
import { z } from 'zod';

export type HubSpotEmulatorFault =
  /** Requests fail with 429 and HubSpot's body for the policy (default TEN_SECONDLY_ROLLING). */
  | { type: 'rate-limit'; policy?: 'TEN_SECONDLY_ROLLING' | 'DAILY'; times?: number }
  /** Requests fail with HTTP 5xx. */
  | { type: 'server-error'; status?: 500 | 502 | 503 | 504; times?: number }
  /** The access token refused: 401 INVALID_AUTHENTICATION (default), or 403 MISSING_SCOPES. */
  | { type: 'auth'; status?: 401 | 403; times?: number };

const timesSchema = z.number().int().positive().optional();

export const hubSpotFaultSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('rate-limit'),
    policy: z.enum(['TEN_SECONDLY_ROLLING', 'DAILY']).optional(),
    times: timesSchema,
  }),
  z.object({
    type: z.literal('server-error'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
    times: timesSchema,
  }),
  z.object({
    type: z.literal('auth'),
    status: z.union([z.literal(401), z.literal(403)]).optional(),
    times: timesSchema,
  }),
]);

export const HUBSPOT_FAULTS: Record<HubSpotEmulatorFault['type'], string> = {
  'rate-limit': 'CRM requests answer 429 TEN_SECONDLY_ROLLING (policy=DAILY: the daily limit)',
  'server-error': 'CRM requests answer HTTP 500 (status=502|503|504)',
  auth: 'the access token is refused: 401 INVALID_AUTHENTICATION (status=403: MISSING_SCOPES)',
};
