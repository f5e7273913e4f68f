// The plaintext identity as callers send it (api bodies, `relay identifiers hash` lines).
import { z } from 'zod';
import type { PlainIdentity } from './types';

const text = z.string().max(1024, 'must be at most 1024 characters');

export const plainIdentitySchema = z.strictObject({
  email: text.optional(),
  phone: text.optional(),
  firstName: text.optional(),
  lastName: text.optional(),
  streetAddress: text.optional(),
  city: text.optional(),
  state: text.optional(),
  postalCode: text.optional(),
  countryCode: text.optional(),
}) satisfies z.ZodType<PlainIdentity>;
