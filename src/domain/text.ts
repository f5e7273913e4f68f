// Text as people and systems send it, before any rule reads it. Pure: safe to import from workflow code.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** False when the string holds half of a surrogate pair: it has no UTF-8 form, so it cannot be an id. */
export function isWellFormed(text: string): boolean {
  return !new RegExp(LONE_SURROGATE.source).test(text);
}

/** Has control (Cc) or format (Cf) characters: NUL, escapes, zero-width spaces, bidi overrides. */
export function hasInvisibleCharacters(text: string): boolean {
  return /[\p{Cc}\p{Cf}]/u.test(text);
}

/**
 * The text with what no one typed on purpose removed: control characters (NUL, escape…; tabs and line breaks
 * become spaces) and Unicode format characters (zero-width spaces and joiners, bidi overrides such as U+202E,
 * soft hyphens, the BOM). A lone surrogate half becomes U+FFFD, which no identifier rule accepts.
 */
export function visible(raw: string): string {
  return raw
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(/[\p{Cc}\p{Cf}]/gu, '');
}

/** Bytes of the string in UTF-8 (what Temporal's id length limit counts). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
