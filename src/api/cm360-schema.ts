// The capture body of POST /v1/cm360/conversions, validated at the edge.
import { z } from 'zod';
import { MAX_USER_IDENTIFIERS } from '../domain/cm360/types';
import { plainIdentitySchema } from '../domain/identifiers/schema';

/** 64-bit integers arrive as JSON numbers or numeric strings, as the CM360 API accepts them. */
const int64 = (what: string) =>
  z
    .union([z.string(), z.number()], { error: `${what} must be an integer (number or numeric string)` })
    .transform((v, ctx) => {
      if (typeof v === 'number') {
        if (!Number.isInteger(v) || v < 0) {
          ctx.addIssue({ code: 'custom', message: `${what} must be a non-negative integer` });
        } else if (!Number.isSafeInteger(v)) {
          ctx.addIssue({
            code: 'custom',
            message: `${what} is larger than 2^53 and loses precision as a JSON number; send it as a string`,
          });
        }
        return String(v);
      }
      const t = v.trim();
      if (!/^\d{1,19}$/.test(t) || BigInt(t) > 2n ** 63n - 1n) {
        ctx.addIssue({ code: 'custom', message: `${what} must be a non-negative 64-bit integer` });
      }
      return t;
    });

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 hash (64 hex characters)')
  .transform((s) => s.toLowerCase());

const plain = z.string().max(1024, 'must be at most 1024 characters');

const addressInfoSchema = z.strictObject({
  hashedFirstName: sha256.optional(),
  hashedLastName: sha256.optional(),
  hashedStreetAddress: sha256.optional(),
  city: plain.optional(),
  state: plain.optional(),
  postalCode: plain.optional(),
  countryCode: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'countryCode must be exactly two letters')
    .transform((s) => s.toUpperCase())
    .optional(),
});

const userIdentifierSchema = z
  .strictObject({
    hashedEmail: sha256.optional(),
    hashedPhoneNumber: sha256.optional(),
    addressInfo: addressInfoSchema.optional(),
  })
  .refine((u) => [u.hashedEmail, u.hashedPhoneNumber, u.addressInfo].filter((v) => v !== undefined).length === 1, {
    message: 'each user identifier sets exactly one of hashedEmail, hashedPhoneNumber, addressInfo',
  });

export const cm360CaptureSchema = z
  .strictObject({
    matchId: z.string().trim().min(1, 'matchId is required').max(256),
    ordinal: z.union([z.string(), z.number().transform(String)]).pipe(z.string().trim().min(1).max(256)),
    timestampMicros: int64('timestampMicros'),
    floodlightActivityId: int64('floodlightActivityId'),
    floodlightConfigurationId: int64('floodlightConfigurationId'),
    quantity: int64('quantity'),
    value: z.union([z.number(), z.string()], { error: 'value must be a number' }).transform((v, ctx) => {
      const n = typeof v === 'number' ? v : /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: 'value must be a finite number' });
      return n;
    }),
    user: plainIdentitySchema.optional(),
    userIdentifiers: z
      .array(userIdentifierSchema)
      .min(1, 'userIdentifiers must not be empty')
      .max(MAX_USER_IDENTIFIERS, `at most ${MAX_USER_IDENTIFIERS} user identifiers`)
      .optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.user === undefined) === (c.userIdentifiers === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['user'],
        message: 'give exactly one of user (plaintext) or userIdentifiers (hashed)',
      });
    }
  });

export type Cm360Capture = z.output<typeof cm360CaptureSchema>;

export const MAX_CAPTURES_PER_REQUEST = 1000;
