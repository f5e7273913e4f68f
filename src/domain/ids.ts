// The ids a workflow is keyed on. Temporal refuses a workflow id over 1,000 bytes, and an id that two inputs
// share collapses them into one workflow: each part is checked here, numeric parts take one spelling, and
// free text is escaped wherever another part follows it. Pure: workflow code builds its ids with these.
import { hasInvisibleCharacters, isWellFormed, utf8Length } from './text';

/** Temporal's default limit on a workflow id (limit.maxIDLength). */
export const TEMPORAL_MAX_ID_BYTES = 1000;
/** Any one part of an id: a few of them always fit under Temporal's limit. */
export const MAX_ID_PART_BYTES = 200;
/** The largest int64: CM360's and HubSpot's numeric ids fit in it. */
const MAX_INT64 = 2n ** 63n - 1n;

/** What is wrong with a text as part of an id, or undefined when it may be one. */
export function idPartProblem(text: string): string | undefined {
  if (text === '') return 'must not be empty';
  if (!isWellFormed(text)) return 'holds half of a surrogate pair, which has no UTF-8 form';
  if (hasInvisibleCharacters(text)) return 'holds control or invisible characters';
  const bytes = utf8Length(text);
  if (bytes > MAX_ID_PART_BYTES) return `is ${bytes} bytes in UTF-8; an id part may have at most ${MAX_ID_PART_BYTES}`;
  return undefined;
}

/** What is wrong with a decimal integer id (digits only, at most int64), or undefined. */
export function integerIdProblem(digits: string): string | undefined {
  if (!/^\d{1,19}$/.test(digits) || BigInt(digits) > MAX_INT64) return 'must be a non-negative 64-bit integer';
  return undefined;
}

/** One spelling per number: "099999" and "99999" are the same id. */
export function canonicalInteger(digits: string): string {
  return BigInt(digits).toString();
}

/** Escapes `%` and `-` so a free-text part cannot run into the part after it. */
export function escapeIdPart(text: string): string {
  return text.replace(/%/g, '%25').replace(/-/g, '%2D');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A HubSpot form id as a key: GUIDs compare without regard to case (HubSpot's are UUIDs, fixed length, so they
 * need no escaping); anything else is lowercased and escaped.
 */
export function formIdKey(formId: string): string {
  const t = formId.trim().toLowerCase();
  return UUID.test(t) ? t : escapeIdPart(t);
}
