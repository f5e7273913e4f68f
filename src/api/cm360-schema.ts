// The capture body of POST /v1/cm360/conversions, validated at the edge.
import { z } from 'zod';
import { MAX_USER_IDENTIFIERS } from '../domain/cm360/types';
import { canonicalInteger, integerIdProblem } from '../domain/ids';
import { plainIdentitySchema } from '../domain/identifiers/schema';
import { hasInvisibleCharacters, isWellFormed } from '../domain/text';
import { idSchema } from './validation';

/** 64-bit integers (times, quantities) arrive as JSON numbers, exact bigints, or numeric strings. */
const int64 = (what: string) =>
  z
    .union([z.string(), z.number(), z.bigint()], { error: `${what} must be an integer (number or numeric string)` })
    .transform((v, ctx) => {
      if (typeof v === 'number' && !Number.isInteger(v)) {
        ctx.addIssue({ code: 'custom', message: `${what} must be an integer, not a decimal` });
        return z.NEVER;
      }
      const t = typeof v === 'string' ? v.trim() : v.toString();
      const problem = integerIdProblem(t);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
        return z.NEVER;
      }
      return canonicalInteger(t);
    });

/** Text CM360 stores as sent: well-formed, without control characters. */
const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .trim()
    .min(1, `${what} is required`)
    .max(max, `${what} must be at most ${max} characters`)
    .refine((s) => isWellFormed(s) && !hasInvisibleCharacters(s), {
      message: `${what} holds half a surrogate pair or control characters`,
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
    matchId: text('matchId', 256),
    // Part of the workflow id: read exactly (a 20-digit number too), never a decimal.
    ordinal: idSchema('ordinal'),
    timestampMicros: int64('timestampMicros'),
    floodlightActivityId: idSchema('floodlightActivityId', { integer: true }),
    floodlightConfigurationId: idSchema('floodlightConfigurationId', { integer: true }),
    quantity: int64('quantity'),
    value: z.union([z.number(), z.bigint(), z.string()], { error: 'value must be a number' }).transform((v, ctx) => {
      const n = typeof v !== 'string' ? Number(v) : /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
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
