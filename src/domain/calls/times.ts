// Times of call conversions: read in the forms Google's call-conversion template accepts, in the zone the file
// or the config names, and written as Google's API wants them (`yyyy-mm-dd HH:mm:ss+HH:mm`) with the offset the
// zone had at that instant, so a file spanning a daylight-saving change is right on both sides of it. Pure.
import { formatOffset, isIanaZone, offsetMinutesAt } from '../time-zones';

/** An IANA zone (follows daylight saving) or a fixed offset from UTC. */
export type CallTimeZone = { kind: 'iana'; name: string } | { kind: 'offset'; minutes: number; text: string };

const OFFSET = /^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$/;

/** `America/New_York`, `-0500`, `+05:30`, `UTC`: as the template's `Parameters:TimeZone=` or the config writes it. */
export function parseTimeZone(text: string): CallTimeZone | undefined {
  const t = text.trim();
  if (/^(UTC|GMT|Z)$/i.test(t)) return { kind: 'offset', minutes: 0, text: '+00:00' };
  const m = OFFSET.exec(t);
  if (m) {
    const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
    if (Number(m[3]) >= 60 || Math.abs(minutes) > 14 * 60) return undefined;
    return { kind: 'offset', minutes, text: formatOffset(minutes) };
  }
  return isIanaZone(t) ? { kind: 'iana', name: t } : undefined;
}

const QUARTER_HOUR_MS = 15 * 60_000;
const offsetCache = new Map<string, number>();

/**
 * The zone's offset at `ms`, cached per quarter hour: every offset change in the zone database falls on a
 * quarter hour, and Intl is slow enough (tens of µs a call) that 100,000 rows would block the api for seconds.
 */
function zoneOffset(ms: number, zone: string): number {
  const key = `${zone}@${Math.floor(ms / QUARTER_HOUR_MS)}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    if (offsetCache.size > 100_000) offsetCache.clear();
    offset = offsetMinutesAt(ms, zone);
    offsetCache.set(key, offset);
  }
  return offset;
}

/** The instant `ms` as Google's API wants it, on the clocks of `zone`. */
export function formatGoogleAdsTime(ms: number, zone: CallTimeZone): string {
  const minutes = zone.kind === 'iana' ? zoneOffset(ms, zone.name) : zone.minutes;
  const text = zone.kind === 'iana' ? formatOffset(minutes) : zone.text;
  const local = new Date(Math.floor(ms / 1000) * 1000 + minutes * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())} ` +
    `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${text}`
  );
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type TimeResult = { ok: true; ms: number; zone: CallTimeZone } | { ok: false; reason: string };

const DATE_ISO = String.raw`(\d{4})-(\d{1,2})-(\d{1,2})`;
const DATE_US = String.raw`(\d{1,2})/(\d{1,2})/(\d{4})`;
const CLOCK = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:\s*([AaPp])\.?[Mm]\.?)?`;
const SUFFIX = String.raw`(?:\s*(Z|[+-]\d{2}:?\d{2})|\s+([A-Za-z][A-Za-z0-9_+/-]*))?`;
const ISO_FORM = new RegExp(`^${DATE_ISO}[T ]${CLOCK}${SUFFIX}$`);
const US_FORM = new RegExp(`^${DATE_US}\\s+${CLOCK}${SUFFIX}$`);

export const ACCEPTED_TIME_FORMS =
  'yyyy-MM-dd HH:mm[:ss[.SSS]], yyyy-MM-ddTHH:mm[:ss[.SSS]] or MM/dd/yyyy HH:mm[:ss] [AM|PM], optionally followed by ' +
  'an offset (+0100, -05:00, Z) or a time zone name (America/New_York)';

function localOf(m: RegExpExecArray, us: boolean): LocalTime | string {
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [year, month, day] = us ? [c, a, b] : [a, b, c];
  let hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const meridiem = m[7]?.toUpperCase();
  if (meridiem) {
    if (hour < 1 || hour > 12) return 'has AM/PM with an hour outside 1–12';
    hour = (hour % 12) + (meridiem === 'P' ? 12 : 0);
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = date.getUTCFullYear() === year && date.getUTCMonth() + 1 === month && date.getUTCDate() === day;
  if (!real) return 'is not a calendar date';
  if (hour > 23 || minute > 59 || second > 59) return 'is not a time of day';
  return { year, month, day, hour, minute, second };
}

/**
 * The instant a wall-clock time names in `zone`. A time skipped by a spring-forward change names no instant
 * and is refused; a time repeated by a fall-back change names two, and the first (the summer-time one) is
 * taken, as java.time does.
 */
export function instantOf(local: LocalTime, zone: CallTimeZone): TimeResult {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  if (zone.kind === 'offset') return { ok: true, ms: asUtc - zone.minutes * 60_000, zone };
  const candidates = new Set<number>();
  for (const probe of [asUtc - 36 * 3_600_000, asUtc, asUtc + 36 * 3_600_000]) {
    const offset = zoneOffset(probe, zone.name);
    const ms = asUtc - offset * 60_000;
    if (zoneOffset(ms, zone.name) === offset) candidates.add(ms);
  }
  if (candidates.size === 0) {
    return { ok: false, reason: `does not exist in ${zone.name}: the clocks skipped it (daylight-saving change)` };
  }
  return { ok: true, ms: Math.min(...candidates), zone };
}

/** Reads one time of the template; `zone` applies when the value carries no offset or zone of its own. */
export function parseCallTime(text: string, zone: CallTimeZone): TimeResult {
  const t = text.trim();
  if (t === '') return { ok: false, reason: 'is empty' };
  const iso = ISO_FORM.exec(t);
  const m = iso ?? US_FORM.exec(t);
  if (!m) return { ok: false, reason: `is not a time Google accepts (${ACCEPTED_TIME_FORMS})` };
  const local = localOf(m, !iso);
  if (typeof local === 'string') return { ok: false, reason: local };
  const own = m[8] ?? m[9];
  let effective = zone;
  if (own !== undefined) {
    const parsed = parseTimeZone(own);
    if (!parsed) return { ok: false, reason: `names an unknown time zone "${own.slice(0, 40)}"` };
    effective = parsed;
  }
  return instantOf(local, effective);
}
