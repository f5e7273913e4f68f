// The Google Ads emulator's fault vocabulary: the type, its zod schema (its HTTP control port and `relay sandbox
// fault` validate with it) and a line on each. No gRPC or proto code, so the CLI can load it cheaply.
import { z } from 'zod';

export type GoogleAdsEmulatorMethod =
  'UploadClickConversions' | 'UploadCallConversions' | 'UploadConversionAdjustments' | 'Search' | 'SearchStream';

/** An error_code the emulator should answer with, e.g. `{ category: 'conversion_upload_error', name: 'TOO_RECENT_EVENT' }`. */
export interface GoogleAdsErrorSpec {
  /** The ErrorCode oneof field. */
  category: string;
  /** A value of that field's enum. */
  name: string;
  message?: string;
  /** Sent as details.quota_error_details.retry_delay. */
  retryDelayMs?: number;
}

/** Which rows a row fault hits: click and adjustment rows by order id, call rows by caller id. */
export type GoogleAdsRowFaultKey =
  { orderId: string; callerId?: undefined } | { callerId: string; orderId?: undefined };

export type GoogleAdsFault =
  /** Rows with this order id or caller id fail with the given error (before de-duplication, after validation). */
  | ({ type: 'row'; times?: number; method?: GoogleAdsEmulatorMethod } & GoogleAdsRowFaultKey & GoogleAdsErrorSpec)
  /** Whole requests fail with a bare UNAVAILABLE status, as a load balancer would answer. */
  | { type: 'unavailable'; times?: number; method?: GoogleAdsEmulatorMethod }
  /** Whole requests fail with INTERNAL and internal_error.INTERNAL_ERROR in the failure trailer. */
  | { type: 'internal'; times?: number; method?: GoogleAdsEmulatorMethod }
  /** Whole requests fail with RESOURCE_EXHAUSTED and a quota_error (with retry_delay) in the trailer. */
  | {
      type: 'quota';
      name?: 'RESOURCE_EXHAUSTED' | 'RESOURCE_TEMPORARILY_EXHAUSTED';
      retryDelayMs?: number;
      times?: number;
      method?: GoogleAdsEmulatorMethod;
    }
  /**
   * The credentials refused: UNAUTHENTICATED with authentication_error.OAUTH_TOKEN_INVALID (default), or
   * PERMISSION_DENIED with authorization_error.USER_PERMISSION_DENIED.
   */
  | { type: 'auth'; status?: 'UNAUTHENTICATED' | 'PERMISSION_DENIED'; times?: number; method?: GoogleAdsEmulatorMethod }
  /** Anything else at request level: a gRPC status, with a GoogleAdsFailure trailer when `error` is given. */
  | { type: 'request'; code: number; error?: GoogleAdsErrorSpec; times?: number; method?: GoogleAdsEmulatorMethod };

const timesSchema = z.number().int().positive().optional();
const methodSchema = z
  .enum(['UploadClickConversions', 'UploadCallConversions', 'UploadConversionAdjustments', 'Search', 'SearchStream'])
  .optional();
const errorSpecSchema = z.object({
  category: z.string().min(1),
  name: z.string().min(1),
  message: z.string().optional(),
  retryDelayMs: z.number().int().nonnegative().optional(),
});

const schema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('row'),
      times: timesSchema,
      method: methodSchema,
      orderId: z.string().min(1).optional(),
      callerId: z.string().min(1).optional(),
      ...errorSpecSchema.shape,
    })
    .refine((f) => (f.orderId === undefined) !== (f.callerId === undefined), {
      message: 'a row fault needs exactly one of orderId and callerId',
    }),
  z.object({ type: z.literal('unavailable'), times: timesSchema, method: methodSchema }),
  z.object({ type: z.literal('internal'), times: timesSchema, method: methodSchema }),
  z.object({
    type: z.literal('quota'),
    name: z.enum(['RESOURCE_EXHAUSTED', 'RESOURCE_TEMPORARILY_EXHAUSTED']).optional(),
    retryDelayMs: z.number().int().nonnegative().optional(),
    times: timesSchema,
    method: methodSchema,
  }),
  z.object({
    type: z.literal('auth'),
    status: z.enum(['UNAUTHENTICATED', 'PERMISSION_DENIED']).optional(),
    times: timesSchema,
    method: methodSchema,
  }),
  z.object({
    type: z.literal('request'),
    code: z.number().int().min(1).max(16),
    error: errorSpecSchema.optional(),
    times: timesSchema,
    method: methodSchema,
  }),
]);

/** Validated with the row fault's either-or, so the parsed value is a GoogleAdsFault. */
export const googleAdsFaultSchema = schema as unknown as z.ZodType<GoogleAdsFault>;

export const GOOGLE_ADS_FAULTS: Record<GoogleAdsFault['type'], string> = {
  unavailable: 'requests fail with a bare gRPC UNAVAILABLE, as a load balancer answers (method=NAME: one method only)',
  internal: 'requests fail INTERNAL with internal_error.INTERNAL_ERROR',
  quota: 'requests fail RESOURCE_EXHAUSTED with quota_error and a retry delay (retryDelayMs=N)',
  auth: 'credentials refused: UNAUTHENTICATED OAUTH_TOKEN_INVALID (status=PERMISSION_DENIED: USER_PERMISSION_DENIED)',
  request: 'requests fail with gRPC status code=N (JSON form for an error trailer)',
  row: 'rows of orderId=ID (or callerId=NUMBER) fail with category=… name=…, e.g. conversion_upload_error TOO_RECENT_EVENT',
};
