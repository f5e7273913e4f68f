// Campaign Manager 360 (DFA Reporting API v5) conversion shapes, as sent on the wire.
// Pure types and constants: safe to import from workflow code.

import type { HashedAddress } from '../identifiers/types';

/** addressInfo of a CM360 userIdentifier: names and street are SHA-256 hex, the rest plain. */
export type Cm360AddressInfo = HashedAddress;

/** One CM360 user identifier; exactly one of the three fields is set. */
export interface Cm360UserIdentifier {
  hashedEmail?: string;
  hashedPhoneNumber?: string;
  addressInfo?: Cm360AddressInfo;
}

/**
 * A captured Floodlight conversion, ready for conversions.batchupdate. 64-bit integers travel as
 * decimal strings (as the API's JSON does) so no precision is lost.
 */
export interface Cm360Conversion {
  matchId: string;
  ordinal: string;
  timestampMicros: string;
  floodlightActivityId: string;
  floodlightConfigurationId: string;
  quantity: string;
  value: number;
  userIdentifiers: Cm360UserIdentifier[];
}

/** ConversionError.code values documented for v5. */
export const CM360_ERROR_CODES = ['INVALID_ARGUMENT', 'INTERNAL', 'PERMISSION_DENIED', 'NOT_FOUND'] as const;
export type Cm360ErrorCode = (typeof CM360_ERROR_CODES)[number];

export interface Cm360ConversionError {
  /** One of CM360_ERROR_CODES, or whatever else the API sends. */
  code: string;
  message: string;
}

/** The outcome of one row of a batchupdate request. */
export type Cm360RowResult = { ok: true } | { ok: false; errors: Cm360ConversionError[] };

export const CM360_API_VERSION = 'v5';
export const CM360_DEFAULT_API_ROOT = 'https://dfareporting.googleapis.com';
export const CM360_SCOPE = 'https://www.googleapis.com/auth/ddmconversions';
/** conversions.batchinsert / batchupdate accept at most this many conversions a request. */
export const CM360_MAX_CONVERSIONS_PER_REQUEST = 1000;
/** A conversion carries at most this many userIdentifiers. */
export const MAX_USER_IDENTIFIERS = 5;

/** The business key of a Floodlight conversion: what makes two captures the same conversion. */
export function cm360ConversionKey(
  c: Pick<Cm360Conversion, 'floodlightConfigurationId' | 'floodlightActivityId' | 'ordinal'>,
): string {
  return `${c.floodlightConfigurationId}-${c.floodlightActivityId}-${c.ordinal}`;
}
