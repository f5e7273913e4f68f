// The Pendo emulator's fault vocabulary: the type, its zod schema (PUT /_sandbox/fault and `relay sandbox fault`
// validate with it) and a line on each. No server code, so the CLI can load it cheaply.
import { z } from 'zod';

export type PendoEmulatorFault =
  | { type: 'busy'; times?: number }
  | { type: 'rate-limit'; times?: number; retryAfterSeconds?: number }
  | { type: 'server-error'; status?: 500 | 502 | 503; times?: number }
  /** The integration key refused (revoked, or read-only: 403), as a key an operator must replace. */
  | { type: 'auth'; status?: 401 | 403; times?: number };

export const pendoFaultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('busy'), times: z.number().int().positive().optional() }),
  z.object({
    type: z.literal('rate-limit'),
    times: z.number().int().positive().optional(),
    retryAfterSeconds: z.number().int().positive().optional(),
  }),
  z.object({
    type: z.literal('server-error'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
    times: z.number().int().positive().optional(),
  }),
  z.object({
    type: z.literal('auth'),
    status: z.union([z.literal(401), z.literal(403)]).optional(),
    times: z.number().int().positive().optional(),
  }),
]);

export const PENDO_FAULTS: Record<PendoEmulatorFault['type'], string> = {
  busy: 'metadata writes answer 409, another update in progress (transient)',
  'rate-limit': 'metadata writes answer 429 (retryAfterSeconds=N adds Retry-After)',
  'server-error': 'metadata writes answer HTTP 500 (status=502|503)',
  auth: 'the integration key is refused: 401 (status=403: read-only key)',
};
