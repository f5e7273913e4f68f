// The CM360 emulator's fault vocabulary: the type, its zod schema (PUT /_sandbox/fault and `relay sandbox fault`
// validate with it) and a line on each. No server code, so the CLI can load it cheaply.
import { z } from 'zod';

export type Cm360Fault =
  /** Whole requests fail with HTTP 5xx. */
  | { type: 'server-error'; status?: 500 | 503; times?: number }
  /** Whole requests fail with HTTP 403 and a usageLimits reason (default userRateLimitExceeded). */
  | { type: 'quota'; reason?: 'userRateLimitExceeded' | 'dailyLimitExceeded'; times?: number }
  /** Rows (of one Floodlight configuration, or all) fail with PERMISSION_DENIED. */
  | { type: 'permission-denied'; floodlightConfigurationId?: string }
  /** Rows fail with INTERNAL. */
  | { type: 'internal'; times?: number }
  /** The OAuth token refused: 401 UNAUTHENTICATED (default), or 403 insufficientPermissions (wrong scope or profile). */
  | { type: 'auth'; status?: 401 | 403; times?: number };

const idSchema = z.union([z.string().min(1), z.number()]).transform(String);
const timesSchema = z.number().int().positive().optional();

export const cm360FaultSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('server-error'),
    status: z.union([z.literal(500), z.literal(503)]).optional(),
    times: timesSchema,
  }),
  z.object({
    type: z.literal('quota'),
    reason: z.enum(['userRateLimitExceeded', 'dailyLimitExceeded']).optional(),
    times: timesSchema,
  }),
  z.object({ type: z.literal('permission-denied'), floodlightConfigurationId: idSchema.optional() }),
  z.object({ type: z.literal('internal'), times: timesSchema }),
  z.object({
    type: z.literal('auth'),
    status: z.union([z.literal(401), z.literal(403)]).optional(),
    times: timesSchema,
  }),
]);

export const CM360_FAULTS: Record<Cm360Fault['type'], string> = {
  'server-error': 'batchupdate/batchinsert answer HTTP 500 (status=503: UNAVAILABLE)',
  quota: 'HTTP 403 usageLimits userRateLimitExceeded (reason=dailyLimitExceeded: the daily cap)',
  'permission-denied':
    'rows fail PERMISSION_DENIED, enhanced-conversion terms not accepted (floodlightConfigurationId=ID)',
  internal: 'rows fail INTERNAL inside HTTP 200',
  auth: 'the access token is refused: HTTP 401 UNAUTHENTICATED (status=403: insufficientPermissions)',
};
