// Normalization rules for user-provided data, as Google's enhanced-conversions guides for Campaign Manager 360
// and Google Ads describe them. Google matches on SHA-256 of exactly these forms, so any drift here silently
// turns a matchable identifier into noise. Reasons are fixed sentences: they end up in logs, API responses
// and workflow history, none of which may carry the plaintext.
import { createHash } from 'node:crypto';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { visible } from '../text';
import type { PlainIdentity } from './types';

export type NormalizeResult = { ok: true; value: string } | { ok: false; reason: string };

export interface NormalizeOptions {
  /** Region (ISO-3166-1 alpha-2) for a phone number written without +country. */
  region?: string;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export function isSha256Hex(s: string): boolean {
  return SHA256_HEX.test(s);
}

/** The hash Google receives for a normalized value; a value that already is a hash is not hashed twice. */
export function hashNormalized(value: string): string {
  return isSha256Hex(value) ? value.toLowerCase() : sha256Hex(value);
}

function ok(value: string): NormalizeResult {
  return { ok: true, value };
}

function drop(reason: string): NormalizeResult {
  return { ok: false, reason };
}

// Google documents dot-insensitivity only for these two domains; applying it elsewhere would break matches.
const DOTLESS_LOCAL_PART_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

export function normalizeEmail(raw: string): NormalizeResult {
  const trimmed = visible(raw).trim();
  if (trimmed === '') return drop('email is empty');
  if (isSha256Hex(trimmed)) return ok(trimmed.toLowerCase());
  const email = trimmed.toLowerCase().replace(/\s+/g, '');
  if (email.includes('\uFFFD')) return drop('not an email address');
  const parts = email.split('@');
  if (parts.length !== 2) return drop('not an email address');
  const [local = '', domain = ''] = parts;
  if (local === '' || domain === '' || !domain.includes('.')) return drop('not an email address');
  const normalizedLocal = DOTLESS_LOCAL_PART_DOMAINS.has(domain) ? local.replace(/\./g, '') : local;
  // `+suffix` stays: Google documents only the dot rule, and guessing more would hash a different address.
  if (normalizedLocal === '') return drop('not an email address');
  return ok(`${normalizedLocal}@${domain}`);
}

// Separators people type in phone numbers; anything else (letters, extensions, `tel:`) is not a bare number.
const PHONE_CHARS = /^\+?[0-9\s\-.()/]+$/;
const MIN_E164_DIGITS = 7;
const MAX_E164_DIGITS = 15;
const PHONE_UNREADABLE = 'phone number could not be read as E.164';

export function normalizePhone(raw: string, opts: NormalizeOptions = {}): NormalizeResult {
  const trimmed = visible(raw).trim();
  if (trimmed === '') return drop('phone number is empty');
  if (isSha256Hex(trimmed)) return ok(trimmed.toLowerCase());
  if (!PHONE_CHARS.test(trimmed)) return drop('phone number contains characters other than digits and separators');

  if (trimmed.startsWith('+')) {
    // The library knows trunk prefixes such as "+44 (0)113 ..."; use it whenever it recognises the number.
    const parsed = parsePhoneNumberFromString(trimmed);
    if (parsed?.isValid()) return ok(parsed.number);
    // Metadata lags reality (and Google's own examples use numbers like +10000000001), so an explicit
    // country code is trusted and only the formatting is removed.
    const digits = trimmed.replace(/[^0-9]/g, '');
    if (digits.length < MIN_E164_DIGITS || digits.length > MAX_E164_DIGITS) return drop(PHONE_UNREADABLE);
    return ok(`+${digits}`);
  }

  const region = opts.region;
  if (region === undefined || region === '') {
    return drop('phone number has no country code and no region is configured');
  }
  if (!isSupportedCountry(region)) return drop(PHONE_UNREADABLE);
  // A possible number (the right length for the region) is formatted even where the metadata calls it invalid:
  // new ranges are handed out before the library knows them, and Google hashes whatever the user entered.
  const parsed = parsePhoneNumberFromString(trimmed, region);
  if (!parsed?.isPossible()) return drop(PHONE_UNREADABLE);
  return ok(parsed.number);
}

function lowercaseText(raw: string, emptyReason: string): NormalizeResult {
  const trimmed = visible(raw).trim();
  if (trimmed === '') return drop(emptyReason);
  return ok(trimmed.toLowerCase());
}

export function normalizeFirstName(raw: string): NormalizeResult {
  return lowercaseText(raw, 'first name is empty');
}

export function normalizeLastName(raw: string): NormalizeResult {
  return lowercaseText(raw, 'last name is empty');
}

export function normalizeStreetAddress(raw: string): NormalizeResult {
  return lowercaseText(raw, 'street address is empty');
}

function plainText(raw: string, emptyReason: string): NormalizeResult {
  const trimmed = visible(raw).trim();
  return trimmed === '' ? drop(emptyReason) : ok(trimmed);
}

export function normalizeCity(raw: string): NormalizeResult {
  return plainText(raw, 'city is empty');
}

export function normalizeState(raw: string): NormalizeResult {
  return plainText(raw, 'state is empty');
}

export function normalizePostalCode(raw: string): NormalizeResult {
  return plainText(raw, 'postal code is empty');
}

export function normalizeCountryCode(raw: string): NormalizeResult {
  const trimmed = visible(raw).trim();
  // Checked before uppercasing: 'ß'.toUpperCase() is 'SS', which would otherwise pass as a country.
  if (!/^[A-Za-z]{2}$/.test(trimmed)) return drop('countryCode must be exactly two letters');
  return ok(trimmed.toUpperCase());
}

/** The normalizer for a PlainIdentity field; only phone uses the options. */
export function normalizeIdentifier(
  kind: keyof PlainIdentity,
  raw: string,
  opts: NormalizeOptions = {},
): NormalizeResult {
  switch (kind) {
    case 'email':
      return normalizeEmail(raw);
    case 'phone':
      return normalizePhone(raw, opts);
    case 'firstName':
      return normalizeFirstName(raw);
    case 'lastName':
      return normalizeLastName(raw);
    case 'streetAddress':
      return normalizeStreetAddress(raw);
    case 'city':
      return normalizeCity(raw);
    case 'state':
      return normalizeState(raw);
    case 'postalCode':
      return normalizePostalCode(raw);
    case 'countryCode':
      return normalizeCountryCode(raw);
  }
}
