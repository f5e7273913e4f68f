// What normalization costs on top of hashing: hashIdentity + toCm360UserIdentifiers over a mixed set
// of generated users, against bare SHA-256 of the very strings the relay ends up hashing for them.
import { createHash } from 'node:crypto';
import { toCm360UserIdentifiers } from '../src/domain/cm360/identifiers';
import { hashIdentity, type HashIdentityOptions, type PlainIdentity } from '../src/domain/identifiers';
import { nowMs, seededRandom, type BenchResult } from './common';

const USERS = 5_000;
const WARMUP_PASSES = 3;
const ROUNDS = 9;
/** Each round repeats the user set until it lasts about this long, so timer resolution does not matter. */
const ROUND_TARGET_MS = 250;
const MAX_PASSES_PER_ROUND = 200;
// The api's configuration in the README example; numbers without +country and without countryCode need it.
const OPTS: HashIdentityOptions = { defaultRegion: 'US' };

const FIRST = ['Jane', 'John', 'José', 'Zoë', 'Mary-Ann', 'Li', 'Ahmed', 'Sophie', 'Øyvind', 'Priya', 'Chris'];
const LAST = ['Doe', 'Smith', 'Müller', "O'Brien", 'García', 'Nguyen', 'van der Berg', 'Kowalski', 'Tanaka', 'Dubois'];
const OTHER_DOMAINS = ['example.com', 'yahoo.com', 'outlook.com', 'company.co.uk', 'web.de', 'icloud.com'];
const US_AREA = ['650', '212', '415', '312', '617', '206', '303', '512', '404', '702'];
const STREETS = ['Amphitheatre Pkwy', 'Main St', 'Oak Avenue', 'Market Street', 'Elm Rd', 'Sunset Blvd'];
const PLACES = [
  ['Mountain View', 'CA', '94043'],
  ['New York', 'NY', '10011'],
  ['Chicago', 'IL', '60601'],
  ['Seattle', 'WA', '98101'],
  ['Austin', 'TX', '78701'],
] as const;

export function generateUsers(count: number, seed = 42): PlainIdentity[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  // CRM data arrives in every casing and with stray whitespace; normalization has to undo both.
  const messy = (s: string) => {
    const r = rnd();
    if (r < 0.15) return s.toUpperCase();
    if (r < 0.25) return `  ${s} `;
    return s;
  };
  // US exchanges start 2-9 and avoid N11 and 555, so libphonenumber sees mostly valid numbers, as in real data.
  const exchange = () => {
    for (;;) {
      const e = `${2 + Math.floor(rnd() * 8)}${digits(2)}`;
      if (e !== '555' && !e.endsWith('11')) return e;
    }
  };

  return Array.from({ length: count }, (_, i) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const user: PlainIdentity = {};

    const e = rnd();
    const ascii = `${first}.${last}`.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    const local = ascii.replace(/[^A-Za-z.]/g, '') + String(i % 97);
    if (e < 0.4) user.email = messy(`${local}@${rnd() < 0.8 ? 'gmail.com' : 'googlemail.com'}`);
    else if (e < 0.5) user.email = messy(`${local}+news@gmail.com`);
    else if (e < 0.95) user.email = messy(`${local.toLowerCase()}@${pick(OTHER_DOMAINS)}`);

    const p = rnd();
    const [area, ex, line] = [pick(US_AREA), exchange(), digits(4)];
    if (p < 0.35) user.phone = `+1 (${area}) ${ex}-${line}`;
    else if (p < 0.5) user.phone = `(${area}) ${ex}-${line}`;
    else if (p < 0.65) user.phone = `${area}.${ex}.${line}`;
    else if (p < 0.7) user.phone = `+44 20 7946 0${digits(3)}`;
    else if (p < 0.75) user.phone = `+49 30 ${digits(8)}`;
    else if (p < 0.8) user.phone = `+33 1 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`;

    if (rnd() < 0.8) {
      user.firstName = messy(first);
      user.lastName = messy(last);
    }
    if (rnd() < 0.6) {
      const [city, state, postalCode] = pick(PLACES);
      user.streetAddress = messy(`${1 + Math.floor(rnd() * 9999)} ${pick(STREETS)}`);
      user.city = city;
      user.state = state;
      user.postalCode = postalCode;
    }
    const c = rnd();
    if (c < 0.5) user.countryCode = 'US';
    else if (c < 0.6) user.countryCode = ' us ';
    return user;
  });
}

/** The plaintext values the relay hashes for this user: what bare hashing has to hash to do the same work. */
function hashedInputs(user: PlainIdentity): string[] {
  const { identity } = hashIdentity(user, OPTS);
  const out: string[] = [];
  if (identity.hashedEmail !== undefined && user.email !== undefined) out.push(user.email);
  if (identity.hashedPhoneNumber !== undefined && user.phone !== undefined) out.push(user.phone);
  const a = identity.address;
  if (a?.hashedFirstName !== undefined && user.firstName !== undefined) out.push(user.firstName);
  if (a?.hashedLastName !== undefined && user.lastName !== undefined) out.push(user.lastName);
  if (a?.hashedStreetAddress !== undefined && user.streetAddress !== undefined) out.push(user.streetAddress);
  return out;
}

// Results feed this so neither loop can be optimised away.
let sink = 0;

function subjectPass(users: readonly PlainIdentity[]): void {
  for (const user of users) {
    const { identity } = hashIdentity(user, OPTS);
    sink += toCm360UserIdentifiers(identity).length;
  }
}

function baselinePass(strings: readonly string[]): void {
  for (const s of strings) sink += createHash('sha256').update(s, 'utf8').digest('hex').length;
}

function passesFor(pass: () => void): number {
  for (let i = 0; i < WARMUP_PASSES; i++) pass();
  const start = nowMs();
  pass();
  const ms = Math.max(nowMs() - start, 0.001);
  return Math.min(MAX_PASSES_PER_ROUND, Math.max(1, Math.ceil(ROUND_TARGET_MS / ms)));
}

/** Users per second for one round of `passes` passes. */
function round(pass: () => void, passes: number, users: number): number {
  const start = nowMs();
  for (let i = 0; i < passes; i++) pass();
  return (users * passes) / ((nowMs() - start) / 1000);
}

export function runIdentifiersBench(): BenchResult {
  const users = generateUsers(USERS);
  const perUser = users.map(hashedInputs);
  const strings = perUser.flat();
  let identifiers = 0;
  let dropped = 0;
  for (const user of users) {
    const result = hashIdentity(user, OPTS);
    identifiers += toCm360UserIdentifiers(result.identity).length;
    dropped += result.dropped.length;
  }

  const subject = () => subjectPass(users);
  const baseline = () => baselinePass(strings);
  const subjectPasses = passesFor(subject);
  const baselinePasses = passesFor(baseline);

  // Interleaved so that drift (turbo, other load, GC) hits both sides alike.
  const subjectRates: number[] = [];
  const baselineRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    subjectRates.push(round(subject, subjectPasses, users.length));
    baselineRates.push(round(baseline, baselinePasses, users.length));
  }
  if (sink === 0) throw new Error('nothing was hashed');

  return {
    name: 'identifiers',
    unit: 'users/s',
    subject: 'hashIdentity + toCm360UserIdentifiers',
    subjectRates,
    baseline: "bare createHash('sha256'), same strings",
    baselineRates,
    reading: (ratio) => `normalization + hashing costs ${(1 / ratio).toFixed(1)}× bare hashing`,
    notes: [
      `${users.length.toLocaleString('en-US')} generated users (seed 42): ${(strings.length / users.length).toFixed(2)} ` +
        `hashed strings, ${(identifiers / users.length).toFixed(2)} CM360 identifiers and ` +
        `${(dropped / users.length).toFixed(2)} dropped fields per user`,
      `${ROUNDS} interleaved rounds after ${WARMUP_PASSES} warm-up passes; ${subjectPasses} vs ${baselinePasses} ` +
        `passes over the set per round`,
    ],
  };
}
