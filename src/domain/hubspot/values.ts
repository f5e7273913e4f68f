// How HubSpot writes property values on the wire: every value is a string, numbers and dates included. Pure:
// shared by the CRM client (deal values, stage dates) and the Pendo translation.

/** HubSpot number properties arrive as strings; an empty or unreadable one is absent, not 0. */
export function hubSpotNumber(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * HubSpot date/datetime property values are ISO 8601 strings or epoch milliseconds (as a string), depending
 * on how the value was written; both become ISO 8601 (UTC). Anything else is absent.
 */
export function hubSpotDateToIso(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  // Only ISO-shaped text goes to Date.parse, which would otherwise guess at strings like "March 7".
  let ms = NaN;
  if (/^-?\d+$/.test(trimmed)) ms = Number(trimmed);
  else if (ISO_DATE.test(trimmed)) {
    // HubSpot's clock is UTC; a time written without a zone must not be read in the worker's local zone.
    const iso = trimmed.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    ms = Date.parse(iso.includes('T') && !/(?:Z|[+-]\d{2}:\d{2})$/.test(iso) ? `${iso}Z` : iso);
  }
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
}
