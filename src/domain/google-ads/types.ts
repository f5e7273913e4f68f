// Google Ads API (v25) conversion upload shapes as the relay uses them: plain data, snake_case where it
// mirrors the proto, safe to import from workflow code. The client maps these onto google-ads-api classes.

export interface GoogleAdsAddressInfo {
  hashed_first_name?: string;
  hashed_last_name?: string;
  hashed_street_address?: string;
  city?: string;
  state?: string;
  postal_code?: string;
  country_code?: string;
}

/** One UserIdentifier; exactly one field is set. address_info only for ConversionAdjustmentUploadService. */
export interface GoogleAdsUserIdentifier {
  hashed_email?: string;
  hashed_phone_number?: string;
  address_info?: GoogleAdsAddressInfo;
}

export type GoogleAdsConsentStatus = 'GRANTED' | 'DENIED' | 'UNSPECIFIED';

/** A ClickConversion for ConversionUploadService.UploadClickConversions (Enhanced Conversions for Leads). */
export interface ClickConversionRow {
  /** Digits only, no dashes. */
  customerId: string;
  /** Manager account the request is made through, digits only. */
  loginCustomerId?: string;
  /** Resource name `customers/{customerId}/conversionActions/{id}`. */
  conversionAction: string;
  /** `yyyy-mm-dd hh:mm:ss+|-hh:mm`. */
  conversionDateTime: string;
  conversionValue?: number;
  currencyCode?: string;
  orderId: string;
  /** At most one of gclid, gbraid, wbraid. */
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  /** hashed_email / hashed_phone_number only (address_info is not accepted here). */
  userIdentifiers: GoogleAdsUserIdentifier[];
  adUserDataConsent?: GoogleAdsConsentStatus;
}

/** A ConversionAdjustment of type ENHANCEMENT (enhanced conversions for web). */
export interface EnhancementAdjustmentRow {
  customerId: string;
  loginCustomerId?: string;
  conversionAction: string;
  orderId: string;
  /** gclid_date_time_pair.conversion_date_time, `yyyy-mm-dd hh:mm:ss+|-hh:mm`. */
  conversionDateTime?: string;
  gclid?: string;
  userAgent?: string;
  restatement?: { adjustedValue: number; currencyCode?: string };
  /** One to five of hashed_email, hashed_phone_number, address_info. */
  userIdentifiers: GoogleAdsUserIdentifier[];
}

/**
 * A CallConversion for ConversionUploadService.UploadCallConversions (Flow C). The caller id is personal data
 * that Google needs in plain E.164: a row lives only in encrypted payloads, never in ids, attributes or logs.
 */
export interface CallConversionRow {
  customerId: string;
  loginCustomerId?: string;
  /** Resource name `customers/{customerId}/conversionActions/{id}`. */
  conversionAction: string;
  /** E.164 with the leading +, e.g. `+16502531234`. */
  callerId: string;
  /** `yyyy-mm-dd hh:mm:ss+|-hh:mm`. */
  callStartDateTime: string;
  /** `yyyy-mm-dd hh:mm:ss+|-hh:mm`, after the call start. */
  conversionDateTime: string;
  conversionValue?: number;
  /** ISO 4217. */
  currencyCode?: string;
}

/** A conversion action found by name through GoogleAdsService. */
export interface ConversionActionInfo {
  resourceName: string;
  id: string;
  name: string;
  /** ConversionActionType name, e.g. `UPLOAD_CALLS`. */
  type: string;
  /** ConversionActionStatus name, e.g. `ENABLED`. */
  status: string;
}

/** One inner GoogleAdsError of a row, decoded from partial_failure_error or a request failure. */
export interface GoogleAdsRowError {
  /** The error_code oneof field, e.g. `conversion_upload_error`, `quota_error`, `internal_error`. */
  category: string;
  /** The enum name inside it, e.g. `TOO_RECENT_EVENT`. */
  name: string;
  message: string;
  /** quota_error_details.retry_delay, when Google sends one. */
  retryDelayMs?: number;
}

/** `validateOnly`: Google checked the row in a dry run (validate_only) and stored nothing. */
export type GoogleAdsRowResult = { ok: true; validateOnly?: true } | { ok: false; errors: GoogleAdsRowError[] };

/** Rows per UploadClickConversions / UploadCallConversions / UploadConversionAdjustments request. */
export const GOOGLE_ADS_MAX_ROWS_PER_REQUEST = 2000;
export const GOOGLE_ADS_MAX_USER_IDENTIFIERS = 5;
