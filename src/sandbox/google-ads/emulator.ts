// A local stand-in for the Google Ads API v25 conversion upload services (and the sliver of
// GoogleAdsService that finds conversion actions by name), built from the official protos that
// google-ads-node ships, so the real google-ads-api library talks to it over real gRPC. It models
// what the relay depends on: partial failures reported per row the way Google reports them, the
// validations a wrong mapping would trip, de-duplication by order id and by call, and request-level
// failures with and without a GoogleAdsFailure trailer. It is not a model of attribution.
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Enum, Root, type INamespace, type Type } from 'protobufjs';
import Fastify from 'fastify';
import { z } from 'zod';
import { GOOGLE_ADS_MAX_ROWS_PER_REQUEST, GOOGLE_ADS_MAX_USER_IDENTIFIERS } from '../../domain/google-ads/types';
import { faultDurationSchema } from '../shared/fault-switch';
import {
  googleAdsFaultSchema,
  type GoogleAdsEmulatorMethod,
  type GoogleAdsErrorSpec,
  type GoogleAdsFault,
  type GoogleAdsRowFaultKey,
} from './faults';

const V = 'google.ads.googleads.v25';
const CLICK_SERVICE = `${V}.services.ConversionUploadService`;
const ADJUSTMENT_SERVICE = `${V}.services.ConversionAdjustmentUploadService`;
const GOOGLE_ADS_SERVICE = `${V}.services.GoogleAdsService`;
/** The trailer google-ads-api decodes into a GoogleAdsFailure (its `service.js` FAILURE_KEY). */
export const GOOGLE_ADS_FAILURE_TRAILER = `${V}.errors.googleadsfailure-bin`;
const FAILURE_TYPE_URL = `type.googleapis.com/${V}.errors.GoogleAdsFailure`;

/** Call conversion actions of the demo account (name → id): type UPLOAD_CALLS, status ENABLED. */
export const DEMO_CALL_CONVERSION_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  'Sales call': '6512349874',
  'Qualified lead call': '6512349875',
});

/** A removed call conversion action of the demo account, still found by name as Google finds it. */
export const DEMO_REMOVED_CALL_CONVERSION_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  'Old sales call': '6512349800',
});

export interface RecordedGoogleAdsRequest {
  method: GoogleAdsEmulatorMethod;
  /** The decoded request: snake_case fields as in the proto, enums by name, int64 as strings, unset fields absent. */
  body: Record<string, unknown>;
  /** String metadata as received (`developer-token`, `login-customer-id`, ...), without `authorization`. */
  metadata: Record<string, string>;
  at: number;
  /** The gRPC status answered (0 = OK). */
  status: number;
  /** Indexes of rows reported in partial_failure_error. */
  failedRows: number[];
}

/** The decoded fields of a ClickConversion the emulator looks at. */
export interface DecodedClickConversion {
  conversion_action?: string;
  conversion_date_time?: string;
  conversion_value?: number;
  currency_code?: string;
  order_id?: string;
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  user_identifiers?: DecodedUserIdentifier[];
  consent?: { ad_user_data?: string; ad_personalization?: string };
  [field: string]: unknown;
}

export interface DecodedUserIdentifier {
  hashed_email?: string;
  hashed_phone_number?: string;
  address_info?: Record<string, string | undefined>;
  [field: string]: unknown;
}

export interface DecodedCallConversion {
  caller_id?: string;
  call_start_date_time?: string;
  conversion_action?: string;
  conversion_date_time?: string;
  conversion_value?: number;
  currency_code?: string;
  [field: string]: unknown;
}

export interface DecodedConversionAdjustment {
  conversion_action?: string;
  adjustment_type?: string;
  order_id?: string;
  gclid_date_time_pair?: { gclid?: string; conversion_date_time?: string };
  user_agent?: string;
  restatement_value?: { adjusted_value?: number; currency_code?: string };
  user_identifiers?: DecodedUserIdentifier[];
  [field: string]: unknown;
}

export interface UploadedConversion<T> {
  customerId: string;
  jobId: string;
  conversion: T;
}

export interface GoogleAdsEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, any other developer-token is refused with authentication_error.DEVELOPER_TOKEN_INVALID. */
  developerToken?: string;
  /**
   * Conversion actions that exist (resource names or bare ids). When set, others get
   * NO_CONVERSION_ACTION_FOUND; when not, every well-formed resource name exists.
   */
  conversionActions?: string[];
  /**
   * Conversion actions GoogleAdsService finds by name (name → action id), all UPLOAD_CALLS and
   * ENABLED. Default: DEMO_CALL_CONVERSION_ACTIONS plus the removed DEMO_REMOVED_CALL_CONVERSION_ACTIONS.
   * UploadCallConversions accepts their ids even when `conversionActions` leaves them out.
   */
  conversionActionNames?: Record<string, string>;
  /**
   * Port of the HTTP control API (PUT/GET/DELETE /_sandbox/fault, GET /_sandbox/uploaded), which gRPC cannot
   * carry for a shell: 0 (default) picks a free port, `false` starts none.
   */
  controlPort?: number | false;
  now?: () => number;
}

export interface GoogleAdsEmulator {
  host: string;
  port: number;
  /** `http://host:port` of the HTTP control API, unless it was switched off. */
  controlUrl: string | undefined;
  /** Every request, oldest first. */
  requests: RecordedGoogleAdsRequest[];
  /** What was accepted (never validate_only requests), oldest first. */
  uploaded(): {
    clicks: UploadedConversion<DecodedClickConversion>[];
    calls: UploadedConversion<DecodedCallConversion>[];
    enhancements: UploadedConversion<DecodedConversionAdjustment>[];
  };
  /**
   * Adds a fault. A row fault replaces an earlier one for the same order id or caller id; a
   * request-level fault replaces the earlier request-level fault. `undefined` clears every fault.
   */
  setFault(fault: GoogleAdsFault | undefined, opts?: { forMs?: number }): void;
  clearFaults(): void;
  /** The faults armed now, with the uses and time left. */
  faults(): GoogleAdsFaultsState;
  close(): Promise<void>;
}

export interface GoogleAdsFaultsState {
  /** The request-level fault, if any (its `times` is the uses left). */
  request: (Exclude<GoogleAdsFault, { type: 'row' }> & { expiresAt?: number }) | null;
  rows: (Extract<GoogleAdsFault, { type: 'row' }> & { expiresAt?: number })[];
}

interface Protos {
  clickService: grpc.ServiceDefinition;
  adjustmentService: grpc.ServiceDefinition;
  googleAdsService: grpc.ServiceDefinition;
  failure: Type;
  errorCode: Type;
}

let protos: Protos | undefined;

/**
 * Both loads read the same official protos.json (google-ads-node's, the one the library itself
 * uses): proto-loader for the gRPC service definitions, protobufjs for encoding GoogleAdsFailure,
 * which no service method carries and proto-loader therefore gives no serializer for.
 */
function loadProtos(): Protos {
  if (protos) return protos;
  const fromLibrary = createRequire(require.resolve('google-ads-api'));
  const json = fromLibrary('google-ads-node/build/protos/protos.json') as INamespace;
  const definition = protoLoader.fromJSON(json, {
    longs: String,
    enums: String,
    defaults: false,
    oneofs: false,
  });
  const root = Root.fromJSON(json);
  protos = {
    clickService: definition[CLICK_SERVICE] as grpc.ServiceDefinition,
    adjustmentService: definition[ADJUSTMENT_SERVICE] as grpc.ServiceDefinition,
    googleAdsService: definition[GOOGLE_ADS_SERVICE] as grpc.ServiceDefinition,
    failure: root.lookupType(`${V}.errors.GoogleAdsFailure`),
    errorCode: root.lookupType(`${V}.errors.ErrorCode`),
  };
  return protos;
}

function checkErrorSpec(p: Protos, spec: GoogleAdsErrorSpec): void {
  const field = p.errorCode.fields[spec.category];
  if (!field) throw new RangeError(`${spec.category} is not a Google Ads error_code category`);
  const type = field.resolve().resolvedType;
  if (!(type instanceof Enum) || type.values[spec.name] === undefined) {
    throw new RangeError(`${spec.name} is not a value of ${spec.category}`);
  }
}

interface PathElement {
  field_name: string;
  index?: number;
}

interface EmittedError {
  category: string;
  name: string;
  message: string;
  path?: PathElement[];
  retryDelayMs?: number;
}

function encodeFailure(p: Protos, errors: EmittedError[], requestId: string): Buffer {
  const message = p.failure.fromObject({
    request_id: requestId,
    errors: errors.map((e) => ({
      error_code: { [e.category]: e.name },
      message: e.message,
      ...(e.path ? { location: { field_path_elements: e.path } } : {}),
      ...(e.retryDelayMs !== undefined
        ? {
            details: {
              quota_error_details: {
                rate_scope: 'ACCOUNT',
                rate_name: 'Requests per account',
                retry_delay: {
                  seconds: Math.floor(e.retryDelayMs / 1000),
                  nanos: Math.round((e.retryDelayMs % 1000) * 1e6),
                },
              },
            },
          }
        : {}),
    })),
  });
  return Buffer.from(p.failure.encode(message).finish());
}

const HASH = /^[0-9a-f]{64}$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;
const CONVERSION_ACTION = /^customers\/(\d+)\/conversionActions\/(\d+)$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** `undefined` for a valid `yyyy-mm-dd hh:mm:ss+|-hh:mm`, else the DateError name. */
function dateTimeProblem(text: string): string | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET';
  const [y, mo, d, h, mi, s, oh, om] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m[i]));
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 0) - 1, d ?? 0));
  // Date.UTC rolls 2026-02-31 over into March; a real date reads back unchanged.
  const valid =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() + 1 === mo &&
    date.getUTCDate() === d &&
    (h ?? 99) < 24 &&
    (mi ?? 99) < 60 &&
    (s ?? 99) < 60 &&
    (oh ?? 99) <= 14 &&
    (om ?? 99) < 60;
  return valid ? undefined : 'INVALID_FIELD_VALUES_IN_DATE_TIME';
}

type RowErr = Omit<EmittedError, 'path'> & { sub?: PathElement[] };

const rowErr = (category: string, name: string, message: string, ...sub: PathElement[]): RowErr => ({
  category,
  name,
  message,
  sub,
});

function identifierErrors(
  ids: unknown,
  category: 'conversion_upload_error' | 'conversion_adjustment_upload_error',
  allowAddress: boolean,
): RowErr[] {
  if (!Array.isArray(ids)) return [];
  const out: RowErr[] = [];
  if (ids.length > GOOGLE_ADS_MAX_USER_IDENTIFIERS) {
    out.push(
      rowErr(
        'collection_size_error',
        'TOO_MANY',
        `Too many user identifiers: at most ${GOOGLE_ADS_MAX_USER_IDENTIFIERS} are allowed.`,
        { field_name: 'user_identifiers' },
      ),
    );
  }
  ids.forEach((id: unknown, index) => {
    const at = (field: string): PathElement[] => [{ field_name: 'user_identifiers', index }, { field_name: field }];
    if (!isObject(id)) return;
    if (id.address_info !== undefined && !allowAddress) {
      out.push(
        rowErr(
          category,
          'UNSUPPORTED_USER_IDENTIFIER',
          'Only hashed email and phone number are supported.',
          ...at('address_info'),
        ),
      );
      return;
    }
    const hashes: [string, unknown][] = [
      ['hashed_email', id.hashed_email],
      ['hashed_phone_number', id.hashed_phone_number],
    ];
    if (isObject(id.address_info)) {
      for (const f of ['hashed_first_name', 'hashed_last_name', 'hashed_street_address']) {
        hashes.push([`address_info.${f}`, id.address_info[f]]);
      }
    }
    if (!hashes.some(([, v]) => v !== undefined) && id.address_info === undefined) {
      out.push(
        rowErr(
          category,
          'UNSUPPORTED_USER_IDENTIFIER',
          'The user identifier carries no supported field.',
          ...at('identifier'),
        ),
      );
    }
    for (const [field, v] of hashes) {
      if (v !== undefined && !(typeof v === 'string' && HASH.test(v))) {
        out.push(
          rowErr(
            category,
            'INVALID_USER_IDENTIFIER',
            'The user identifier is not a SHA-256 hash in lowercase hex.',
            ...at(field),
          ),
        );
      }
    }
  });
  return out;
}

/** customer_id/action id of a well-formed resource name, or the row error. */
function conversionActionErrors(
  action: unknown,
  known: Set<string> | undefined,
  category: 'conversion_upload_error' | 'conversion_adjustment_upload_error',
): RowErr[] {
  const name = str(action);
  if (!name)
    return [
      rowErr('field_error', 'REQUIRED', 'The required field was not present.', { field_name: 'conversion_action' }),
    ];
  const m = CONVERSION_ACTION.exec(name);
  if (!m) {
    return [
      rowErr('request_error', 'RESOURCE_NAME_MALFORMED', 'Resource name is malformed.', {
        field_name: 'conversion_action',
      }),
    ];
  }
  // Google validates only the action id and ignores the customer id in the resource name.
  if (known && !known.has(m[2] as string)) {
    return [
      rowErr(category, 'NO_CONVERSION_ACTION_FOUND', 'The conversion action cannot be found.', {
        field_name: 'conversion_action',
      }),
    ];
  }
  return [];
}

function dateErrors(value: unknown, ...path: PathElement[]): RowErr[] {
  const text = str(value);
  if (!text) return [rowErr('field_error', 'REQUIRED', 'The required field was not present.', ...path)];
  const problem = dateTimeProblem(text);
  return problem
    ? [rowErr('date_error', problem, 'The date time must look like yyyy-mm-dd hh:mm:ss+|-hh:mm.', ...path)]
    : [];
}

const actionId = (resourceName: unknown) => CONVERSION_ACTION.exec(str(resourceName) ?? '')?.[2] ?? '';

/** Milliseconds since the epoch of a valid `yyyy-mm-dd hh:mm:ss+|-hh:mm`. */
function dateTimeMs(text: string): number {
  const m = DATE_TIME.exec(text);
  const [y, mo, d, h, mi, s, oh, om] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m?.[i] ?? 0));
  const offsetMs = ((oh ?? 0) * 60 + (om ?? 0)) * 60_000 * (m?.[7] === '-' ? -1 : 1);
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0) - offsetMs;
}

/**
 * The caller's number as Google reads it, or undefined when it cannot: E.164 (+16502531234),
 * international with separators (+64 3-331 6005), or a US national number (6502531234).
 */
function callerNumber(text: string): string | undefined {
  if (/^\+[\d\s().-]+$/.test(text)) {
    const digits = text.replace(/\D/g, '');
    return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : undefined;
  }
  return /^[2-9]\d{9}$/.test(text) ? `+1${text}` : undefined;
}

function callErrors(c: DecodedCallConversion): RowErr[] {
  const errs: RowErr[] = [];
  const caller = str(c.caller_id);
  if (!caller) {
    errs.push(rowErr('field_error', 'REQUIRED', 'The required field was not present.', { field_name: 'caller_id' }));
  } else if (!callerNumber(caller)) {
    errs.push(
      rowErr(
        'conversion_upload_error',
        'UNPARSEABLE_CALLERS_PHONE_NUMBER',
        'The caller ID cannot be parsed: use E.164, an international number or a US national number.',
        { field_name: 'caller_id' },
      ),
    );
  }
  const startErrors = dateErrors(c.call_start_date_time, { field_name: 'call_start_date_time' });
  const conversionErrors = dateErrors(c.conversion_date_time, { field_name: 'conversion_date_time' });
  errs.push(...startErrors, ...conversionErrors);
  if (
    startErrors.length === 0 &&
    conversionErrors.length === 0 &&
    dateTimeMs(c.conversion_date_time as string) < dateTimeMs(c.call_start_date_time as string)
  ) {
    errs.push(
      rowErr('conversion_upload_error', 'CONVERSION_PRECEDES_CALL', 'The conversion date time precedes the call.', {
        field_name: 'conversion_date_time',
      }),
    );
  }
  const value = c.conversion_value;
  if (typeof value === 'number' && !(value >= 0 && value < Infinity)) {
    errs.push(
      rowErr('range_error', value === Infinity ? 'TOO_HIGH' : 'TOO_LOW', 'The conversion value is out of range.', {
        field_name: 'conversion_value',
      }),
    );
  }
  const currency = str(c.currency_code);
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
    errs.push(
      rowErr('currency_code_error', 'UNSUPPORTED', 'The currency code is not supported.', {
        field_name: 'currency_code',
      }),
    );
  }
  return errs;
}

/** A conversion action GoogleAdsService can find. */
interface EmulatedConversionAction {
  id: string;
  name: string;
  type: 'UPLOAD_CALLS';
  status: 'ENABLED' | 'REMOVED';
}

/** The fields of conversion_action a query may select; resource_name comes back whether selected or not. */
const CONVERSION_ACTION_FIELDS = ['resource_name', 'id', 'name', 'type', 'status'] as const;
type ConversionActionField = (typeof CONVERSION_ACTION_FIELDS)[number];

interface ParsedQuery {
  fields: ConversionActionField[];
  /** Exact names to match; undefined for no WHERE clause. */
  names?: string[];
  limit?: number;
}

class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Token = { kind: 'word' | 'string' | 'number' | 'symbol'; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'" || ch === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        const c = query[j];
        if (c === undefined) throw new QueryError('STRING_NOT_TERMINATED', 'A string literal is not terminated.');
        if (c === '\n' || c === '\r') {
          throw new QueryError('PROHIBITED_NEWLINE_IN_STRING', 'A string literal cannot contain a newline.');
        }
        if (c === ch) break;
        if (c === '\\') {
          const next = query[j + 1];
          if (next !== "'" && next !== '"' && next !== '\\') {
            throw new QueryError('BAD_ESCAPE_SEQUENCE', 'A string literal has an invalid escape sequence.');
          }
          text += next;
          j += 2;
        } else {
          text += c;
          j++;
        }
      }
      tokens.push({ kind: 'string', text });
      i = j + 1;
    } else {
      const m = /^(?:[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?|!=|>=|<=|[=<>(),])/.exec(query.slice(i));
      if (!m) throw new QueryError('BAD_SYMBOL', `Unexpected character at position ${i}.`);
      const text = m[0];
      tokens.push({ kind: /^[A-Za-z_]/.test(text) ? 'word' : /^-?\d/.test(text) ? 'number' : 'symbol', text });
      i += text.length;
    }
  }
  return tokens;
}

/**
 * Just the GAQL the relay sends: SELECT conversion_action fields FROM conversion_action, optionally
 * WHERE conversion_action.name = '…' or IN ('…', …), optionally LIMIT n. Valid GAQL beyond that is
 * answered with QUERY_ERROR rather than a guess; broken GAQL with the code Google gives it.
 */
function parseQuery(query: string): ParsedQuery {
  const tokens = tokenize(query);
  let at = 0;
  const peek = () => tokens[at];
  const next = (): Token => {
    const t = tokens[at++];
    if (!t) throw new QueryError('UNEXPECTED_END_OF_QUERY', 'The query ended unexpectedly.');
    return t;
  };
  const isKeyword = (t: Token | undefined, word: string) => t?.kind === 'word' && t.text.toUpperCase() === word;
  const field = (t: Token): string => {
    if (t.kind !== 'word' || !/^[a-z]/.test(t.text)) {
      throw new QueryError('BAD_FIELD_NAME', `${t.text} is not a field name.`);
    }
    return t.text;
  };
  const unsupported = (what: string) =>
    new QueryError(
      'QUERY_ERROR',
      `The emulator does not support ${what}; it answers conversion action lookups by name.`,
    );

  if (!isKeyword(next(), 'SELECT')) throw new QueryError('EXPECTED_SELECT', 'The query must start with SELECT.');
  const selected: string[] = [field(next())];
  while (peek()?.text === ',') {
    at++;
    selected.push(field(next()));
  }
  if (!isKeyword(peek(), 'FROM')) throw new QueryError('EXPECTED_FROM', 'Expected FROM after the selected fields.');
  at++;
  const resource = next();
  if (resource.text !== 'conversion_action') {
    throw new QueryError(
      'BAD_RESOURCE_TYPE_IN_FROM_CLAUSE',
      `The emulator can query only conversion_action, not ${resource.text}.`,
    );
  }
  const fields = selected.map((f) => {
    const name = f.startsWith('conversion_action.') ? f.slice('conversion_action.'.length) : undefined;
    if (!name || !(CONVERSION_ACTION_FIELDS as readonly string[]).includes(name)) {
      throw new QueryError('UNRECOGNIZED_FIELD', `Unrecognized field in the query: '${f}'.`);
    }
    return name as ConversionActionField;
  });
  const parsed: ParsedQuery = { fields };
  if (isKeyword(peek(), 'WHERE')) {
    at++;
    const where = field(next());
    if (where !== 'conversion_action.name') throw unsupported(`conditions on ${where}`);
    const op = next();
    if (op.text === '=') {
      const value = next();
      if (value.kind !== 'string') throw new QueryError('EXPECTED_SINGLE_VALUE', 'Expected a string after =.');
      parsed.names = [value.text];
    } else if (isKeyword(op, 'IN')) {
      if (next().text !== '(') throw new QueryError('EXPECTED_LIST', 'Expected a list after IN.');
      const names: string[] = [];
      while (peek()?.text !== ')') {
        if (names.length > 0 && next().text !== ',') throw new QueryError('UNEXPECTED_INPUT', 'Expected , or ).');
        const value = next();
        if (value.kind !== 'string') throw new QueryError('INVALID_STRING_VALUE', 'Expected a string in the list.');
        names.push(value.text);
      }
      at++;
      if (names.length === 0) {
        throw new QueryError('PROHIBITED_EMPTY_LIST_IN_CONDITION', 'The list after IN must not be empty.');
      }
      parsed.names = names;
    } else if (['!=', '>', '>=', '<', '<='].includes(op.text) || op.kind === 'word') {
      throw unsupported(`the operator ${op.text}`);
    } else {
      throw new QueryError('BAD_OPERATOR', `${op.text} is not an operator.`);
    }
    if (isKeyword(peek(), 'AND')) throw unsupported('more than one condition');
  }
  if (isKeyword(peek(), 'ORDER')) throw unsupported('ORDER BY');
  if (isKeyword(peek(), 'LIMIT')) {
    at++;
    const limit = next();
    if (!/^[1-9]\d*$/.test(limit.text)) throw new QueryError('BAD_LIMIT_VALUE', 'LIMIT takes a positive integer.');
    parsed.limit = Number(limit.text);
  }
  const rest = peek();
  if (rest) throw new QueryError('UNEXPECTED_INPUT', `Unexpected input at '${rest.text}'.`);
  return parsed;
}

/** A GoogleAdsRow with the selected fields of one conversion action, and its resource_name as Google always sends. */
function actionRow(a: EmulatedConversionAction, customerId: string, fields: readonly ConversionActionField[]) {
  const all: Record<ConversionActionField, string> = {
    resource_name: `customers/${customerId}/conversionActions/${a.id}`,
    id: a.id,
    name: a.name,
    type: a.type,
    status: a.status,
  };
  const selected = Object.entries(all).filter(
    ([f]) => f === 'resource_name' || fields.includes(f as ConversionActionField),
  );
  return { conversion_action: Object.fromEntries(selected) };
}

function metadataOf(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) {
    if (k !== 'authorization' && typeof v === 'string') out[k] = v;
  }
  return out;
}

export async function startGoogleAdsEmulator(opts: GoogleAdsEmulatorOptions = {}): Promise<GoogleAdsEmulator> {
  const p = loadProtos();
  const now = opts.now ?? Date.now;
  const knownActions = opts.conversionActions
    ? new Set(opts.conversionActions.map((a) => CONVERSION_ACTION.exec(a)?.[2] ?? a))
    : undefined;
  const callActions = (names: Readonly<Record<string, string>>, status: EmulatedConversionAction['status']) =>
    Object.entries(names).map(([name, id]): EmulatedConversionAction => {
      if (!/^[1-9]\d*$/.test(id))
        throw new RangeError(`conversion action id of ${JSON.stringify(name)} must be digits`);
      return { id, name, type: 'UPLOAD_CALLS', status };
    });
  const namedActions = opts.conversionActionNames
    ? callActions(opts.conversionActionNames, 'ENABLED')
    : [
        ...callActions(DEMO_CALL_CONVERSION_ACTIONS, 'ENABLED'),
        ...callActions(DEMO_REMOVED_CALL_CONVERSION_ACTIONS, 'REMOVED'),
      ];
  const removedActions = new Set(namedActions.filter((a) => a.status === 'REMOVED').map((a) => a.id));
  // The call actions found by name exist for uploads too, whatever the allow-list says.
  const knownCallActions = knownActions
    ? new Set([...knownActions, ...namedActions.filter((a) => a.status === 'ENABLED').map((a) => a.id)])
    : undefined;
  const requests: RecordedGoogleAdsRequest[] = [];
  const clicks: UploadedConversion<DecodedClickConversion>[] = [];
  const calls: UploadedConversion<DecodedCallConversion>[] = [];
  const enhancements: UploadedConversion<DecodedConversionAdjustment>[] = [];
  /** Keys of accepted conversions: `actionId/orderId`, or `actionId/gclid/time` without an order id. */
  const clickKeys = new Set<string>();
  /** `actionId/caller number/conversion time` of accepted call conversions. */
  const callKeys = new Set<string>();
  const enhancementKeys = new Set<string>();
  // Faults are copied so `times` counts down without touching the caller's object. Keyed
  // `order:<id>` or `caller:<id>`, so an order id and a caller id can never collide.
  const rowFaults = new Map<string, Extract<GoogleAdsFault, { type: 'row' }> & { expiresAt?: number }>();
  const rowFaultKey = (f: GoogleAdsRowFaultKey) =>
    f.callerId !== undefined ? `caller:${f.callerId}` : `order:${f.orderId}`;
  let requestFault: (Exclude<GoogleAdsFault, { type: 'row' }> & { expiresAt?: number }) | undefined;
  const expired = (f: { expiresAt?: number }) => f.expiresAt !== undefined && now() >= f.expiresAt;
  const faultsState = (): GoogleAdsFaultsState => {
    if (requestFault && expired(requestFault)) requestFault = undefined;
    for (const [k, f] of rowFaults) if (expired(f)) rowFaults.delete(k);
    return { request: requestFault ? { ...requestFault } : null, rows: [...rowFaults.values()].map((f) => ({ ...f })) };
  };
  let nextJobId = 2n ** 31n;
  let nextRequestId = 1;

  const clearFaults = () => {
    rowFaults.clear();
    requestFault = undefined;
  };
  const setFault = (fault: GoogleAdsFault | undefined, o: { forMs?: number } = {}) => {
    if (!fault) return clearFaults();
    const expiresAt = o.forMs === undefined ? undefined : now() + o.forMs;
    if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
      throw new RangeError('times must be a positive integer');
    }
    if (fault.type === 'row') {
      if ((typeof fault.orderId === 'string') === (typeof fault.callerId === 'string')) {
        throw new RangeError('a row fault needs exactly one of orderId and callerId');
      }
      checkErrorSpec(p, fault);
      rowFaults.set(rowFaultKey(fault), { ...fault, ...(expiresAt === undefined ? {} : { expiresAt }) });
    } else {
      if (fault.type === 'request' && fault.error) checkErrorSpec(p, fault.error);
      requestFault = { ...fault, ...(expiresAt === undefined ? {} : { expiresAt }) };
    }
  };

  const takeRequestFault = (method: GoogleAdsEmulatorMethod) => {
    if (requestFault && expired(requestFault)) requestFault = undefined;
    const f = requestFault;
    if (!f || (f.method && f.method !== method)) return undefined;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) requestFault = undefined;
    }
    return f;
  };
  /** The injected error for this row's order id or caller id, if a row fault is armed for it (using up one of its times). */
  const takeRowFault = (
    method: GoogleAdsEmulatorMethod,
    key: { orderId: string | undefined } | { callerId: string | undefined },
  ): RowErr[] | undefined => {
    const id = 'orderId' in key ? key.orderId : key.callerId;
    const f = id === undefined ? undefined : rowFaults.get('orderId' in key ? `order:${id}` : `caller:${id}`);
    if (f && expired(f)) {
      rowFaults.delete(rowFaultKey(f));
      return undefined;
    }
    if (!f || (f.method && f.method !== method)) return undefined;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) rowFaults.delete(rowFaultKey(f));
    }
    const message = f.message ?? `${f.category}.${f.name} (injected by the emulator)`;
    return [{ ...rowErr(f.category, f.name, message), retryDelayMs: f.retryDelayMs }];
  };

  type Callback = grpc.sendUnaryData<Record<string, unknown>>;

  const failRequest = (
    record: RecordedGoogleAdsRequest,
    callback: Callback,
    code: grpc.status,
    errors: EmittedError[],
    details?: string,
  ) => {
    record.status = code;
    const metadata = new grpc.Metadata();
    if (errors.length > 0)
      metadata.set(GOOGLE_ADS_FAILURE_TRAILER, encodeFailure(p, errors, `emulator-${nextRequestId++}`));
    callback({ code, details: details ?? (errors.map((e) => e.message).join(' ') || 'Request failed.'), metadata });
  };

  /** Request-level checks shared by every method (faults, headers, customer id); true when answered with an error. */
  const rejectedRequest = (
    method: GoogleAdsEmulatorMethod,
    body: Record<string, unknown>,
    metadata: Record<string, string>,
    record: RecordedGoogleAdsRequest,
    callback: Callback,
  ): boolean => {
    const fault = takeRequestFault(method);
    if (fault) {
      switch (fault.type) {
        case 'unavailable':
          failRequest(record, callback, grpc.status.UNAVAILABLE, [], 'The service is currently unavailable.');
          return true;
        case 'internal':
          failRequest(record, callback, grpc.status.INTERNAL, [
            { category: 'internal_error', name: 'INTERNAL_ERROR', message: 'An internal error has occurred.' },
          ]);
          return true;
        case 'quota':
          failRequest(record, callback, grpc.status.RESOURCE_EXHAUSTED, [
            {
              category: 'quota_error',
              name: fault.name ?? 'RESOURCE_EXHAUSTED',
              message: 'Too many requests. Retry in the time given in the details.',
              retryDelayMs: fault.retryDelayMs,
            },
          ]);
          return true;
        case 'auth':
          if (fault.status === 'PERMISSION_DENIED') {
            failRequest(record, callback, grpc.status.PERMISSION_DENIED, [
              {
                category: 'authorization_error',
                name: 'USER_PERMISSION_DENIED',
                message: "User doesn't have permission to access customer.",
              },
            ]);
          } else {
            failRequest(record, callback, grpc.status.UNAUTHENTICATED, [
              {
                category: 'authentication_error',
                name: 'OAUTH_TOKEN_INVALID',
                message: 'Oauth token is invalid.',
              },
            ]);
          }
          return true;
        case 'request':
          failRequest(
            record,
            callback,
            fault.code,
            fault.error ? [{ ...fault.error, message: fault.error.message ?? `${fault.error.name}` }] : [],
            fault.error ? undefined : 'Request failed (emulator fault).',
          );
          return true;
      }
    }
    const token = metadata['developer-token'];
    if (!token) {
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, [
        {
          category: 'request_error',
          name: 'DEVELOPER_TOKEN_PARAMETER_MISSING',
          message: 'The developer-token parameter is required for all requests.',
        },
      ]);
      return true;
    }
    if (opts.developerToken !== undefined && token !== opts.developerToken) {
      failRequest(record, callback, grpc.status.UNAUTHENTICATED, [
        {
          category: 'authentication_error',
          name: 'DEVELOPER_TOKEN_INVALID',
          message: 'The developer token is not valid.',
        },
      ]);
      return true;
    }
    const login = metadata['login-customer-id'];
    if (login !== undefined && !/^\d+$/.test(login)) {
      failRequest(record, callback, grpc.status.UNAUTHENTICATED, [
        {
          category: 'header_error',
          name: 'INVALID_LOGIN_CUSTOMER_ID',
          message: 'The login customer ID could not be validated.',
        },
      ]);
      return true;
    }
    if (!/^\d+$/.test(str(body.customer_id) ?? '')) {
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, [
        {
          category: 'request_error',
          name: 'INVALID_CUSTOMER_ID',
          message: 'Customer ID is invalid.',
          path: [{ field_name: 'customer_id' }],
        },
      ]);
      return true;
    }
    return false;
  };

  /** Request-level checks shared by the upload methods; true when the request was answered with an error. */
  const rejectedUpFront = (
    method: GoogleAdsEmulatorMethod,
    body: Record<string, unknown>,
    metadata: Record<string, string>,
    rows: unknown[],
    listField: string,
    tooMany: [string, string],
    record: RecordedGoogleAdsRequest,
    callback: Callback,
  ): boolean => {
    if (rejectedRequest(method, body, metadata, record, callback)) return true;
    if (rows.length === 0) {
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, [
        {
          category: 'field_error',
          name: 'REQUIRED',
          message: 'The required field was not present.',
          path: [{ field_name: listField }],
        },
      ]);
      return true;
    }
    if (rows.length > GOOGLE_ADS_MAX_ROWS_PER_REQUEST) {
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, [
        {
          category: tooMany[0],
          name: tooMany[1],
          message: `Upload fewer than ${GOOGLE_ADS_MAX_ROWS_PER_REQUEST + 1} rows.`,
        },
      ]);
      return true;
    }
    const jobId = body.job_id;
    if (jobId !== undefined && !(typeof jobId === 'number' && jobId >= 1 && jobId < 2 ** 31)) {
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, [
        { category: tooMany[0], name: 'INVALID_JOB_ID', message: 'A job ID must be a positive integer below 2^31.' },
      ]);
      return true;
    }
    return false;
  };

  /**
   * Answers one upload: row errors go to partial_failure_error (or fail the request when
   * partial_failure is off, as Google does); accepted rows are stored unless validate_only.
   */
  const answerRows = <T>(
    body: Record<string, unknown>,
    rows: T[],
    listField: string,
    rowErrors: RowErr[][],
    store: (row: T, jobId: string) => void,
    result: (row: T) => Record<string, unknown>,
    record: RecordedGoogleAdsRequest,
    callback: Callback,
    /** UploadCallConversions has no job_id, in the request or the response. */
    hasJobId = true,
  ) => {
    const emitted: EmittedError[] = rowErrors.flatMap((errs, index) =>
      errs.map(({ sub, ...e }) => ({ ...e, path: [{ field_name: listField, index }, ...(sub ?? [])] })),
    );
    record.failedRows = rowErrors.flatMap((errs, i) => (errs.length > 0 ? [i] : []));
    if (emitted.length > 0 && body.partial_failure !== true) {
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, emitted);
      return;
    }
    const jobId = typeof body.job_id === 'number' ? String(body.job_id) : String(nextJobId++);
    const validateOnly = body.validate_only === true;
    if (!validateOnly) rows.forEach((row, i) => (rowErrors[i]?.length ? undefined : store(row, jobId)));
    record.status = grpc.status.OK;
    const where = (e: EmittedError) =>
      `, at ${e.path?.map((x) => (x.index === undefined ? x.field_name : `${x.field_name}[${x.index}]`)).join('.')}`;
    callback(null, {
      ...(emitted.length > 0
        ? {
            partial_failure_error: {
              code: grpc.status.INVALID_ARGUMENT,
              message: emitted.map((e) => `${e.message}${where(e)}`).join(', '),
              details: [
                { type_url: FAILURE_TYPE_URL, value: encodeFailure(p, emitted, `emulator-${nextRequestId++}`) },
              ],
            },
          }
        : {}),
      // Google returns no results for validate_only, and an empty message for each failed row.
      results: validateOnly ? [] : rows.map((row, i) => (rowErrors[i]?.length ? {} : result(row))),
      ...(hasJobId ? { job_id: jobId } : {}),
    });
  };

  const begin = (
    method: GoogleAdsEmulatorMethod,
    call: { request: Record<string, unknown>; metadata: grpc.Metadata },
  ) => {
    const body = call.request;
    const metadata = metadataOf(call.metadata);
    const record: RecordedGoogleAdsRequest = { method, body, metadata, at: now(), status: -1, failedRows: [] };
    requests.push(record);
    return { body, metadata, record };
  };

  const uploadClickConversions: grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>> = (
    call,
    callback,
  ) => {
    const method = 'UploadClickConversions';
    const { body, metadata, record } = begin(method, call);
    const rows = (Array.isArray(body.conversions) ? body.conversions : []) as DecodedClickConversion[];
    if (
      rejectedUpFront(
        method,
        body,
        metadata,
        rows,
        'conversions',
        ['conversion_upload_error', 'TOO_MANY_CONVERSIONS_IN_REQUEST'],
        record,
        callback,
      )
    ) {
      return;
    }
    const seen = new Set<string>();
    const keyOf = (c: DecodedClickConversion) =>
      c.order_id
        ? `${actionId(c.conversion_action)}/${c.order_id}`
        : `${actionId(c.conversion_action)}/${c.gclid ?? c.gbraid ?? c.wbraid ?? ''}/${c.conversion_date_time ?? ''}`;
    const rowErrors = rows.map((c): RowErr[] => {
      const errs: RowErr[] = [
        ...conversionActionErrors(c.conversion_action, knownActions, 'conversion_upload_error'),
        ...dateErrors(c.conversion_date_time, { field_name: 'conversion_date_time' }),
        ...identifierErrors(c.user_identifiers, 'conversion_upload_error', false),
      ];
      if (c.gbraid && c.wbraid) {
        errs.push(
          rowErr('conversion_upload_error', 'GBRAID_WBRAID_BOTH_SET', 'Use only one of gbraid and wbraid.', {
            field_name: 'wbraid',
          }),
        );
      }
      if (c.gclid && (c.gbraid || c.wbraid)) {
        errs.push(
          rowErr('field_error', 'VALUE_MUST_BE_UNSET', 'Only one click id may be set.', {
            field_name: c.gbraid ? 'gbraid' : 'wbraid',
          }),
        );
      }
      if (!c.gclid && !c.gbraid && !c.wbraid && !(Array.isArray(c.user_identifiers) && c.user_identifiers.length > 0)) {
        errs.push(
          rowErr('field_error', 'REQUIRED', 'A click id or a user identifier is required.', { field_name: 'gclid' }),
        );
      }
      if (errs.length > 0) return errs;
      const injected = takeRowFault(method, { orderId: c.order_id });
      if (injected) return injected;
      const key = keyOf(c);
      if (clickKeys.has(key)) {
        return c.order_id
          ? [
              rowErr('conversion_upload_error', 'ORDER_ID_ALREADY_IN_USE', 'The order ID was previously recorded.', {
                field_name: 'order_id',
              }),
            ]
          : [
              rowErr(
                'conversion_upload_error',
                'CLICK_CONVERSION_ALREADY_EXISTS',
                'A conversion with this click and time exists.',
              ),
            ];
      }
      if (seen.has(key)) {
        return c.order_id
          ? [
              rowErr('conversion_upload_error', 'DUPLICATE_ORDER_ID', 'The request has this order ID more than once.', {
                field_name: 'order_id',
              }),
            ]
          : [
              rowErr(
                'conversion_upload_error',
                'DUPLICATE_CLICK_CONVERSION_IN_REQUEST',
                'The request has this click and time more than once.',
              ),
            ];
      }
      seen.add(key);
      return [];
    });
    const customerId = String(body.customer_id);
    answerRows(
      body,
      rows,
      'conversions',
      rowErrors,
      (c, jobId) => {
        clickKeys.add(keyOf(c));
        clicks.push({ customerId, jobId, conversion: c });
      },
      (c) => ({
        ...(c.gclid ? { gclid: c.gclid } : {}),
        ...(c.gbraid ? { gbraid: c.gbraid } : {}),
        ...(c.wbraid ? { wbraid: c.wbraid } : {}),
        conversion_action: c.conversion_action,
        conversion_date_time: c.conversion_date_time,
        user_identifiers: c.user_identifiers ?? [],
      }),
      record,
      callback,
    );
  };

  const uploadCallConversions: grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>> = (
    call,
    callback,
  ) => {
    const method = 'UploadCallConversions';
    const { body, metadata, record } = begin(method, call);
    const rows = (Array.isArray(body.conversions) ? body.conversions : []) as DecodedCallConversion[];
    if (
      rejectedUpFront(
        method,
        body,
        metadata,
        rows,
        'conversions',
        ['conversion_upload_error', 'TOO_MANY_CONVERSIONS_IN_REQUEST'],
        record,
        callback,
      )
    ) {
      return;
    }
    const seen = new Set<string>();
    // Google matches the call by its number, however it was written.
    const keyOf = (c: DecodedCallConversion) =>
      `${actionId(c.conversion_action)}/${callerNumber(c.caller_id ?? '') ?? ''}/${c.conversion_date_time ?? ''}`;
    const rowErrors = rows.map((c): RowErr[] => {
      const errs: RowErr[] = [
        ...conversionActionErrors(c.conversion_action, knownCallActions, 'conversion_upload_error'),
        ...callErrors(c),
      ];
      if (errs.length === 0 && removedActions.has(actionId(c.conversion_action))) {
        errs.push(
          rowErr('conversion_upload_error', 'NO_CONVERSION_ACTION_FOUND', 'The conversion action cannot be found.', {
            field_name: 'conversion_action',
          }),
        );
      }
      if (errs.length > 0) return errs;
      const injected = takeRowFault(method, { callerId: c.caller_id });
      if (injected) return injected;
      const key = keyOf(c);
      if (callKeys.has(key)) {
        return [
          rowErr(
            'conversion_upload_error',
            'CALL_CONVERSION_ALREADY_EXISTS',
            'A conversion for this call and conversion time exists.',
          ),
        ];
      }
      if (seen.has(key)) {
        return [
          rowErr(
            'conversion_upload_error',
            'DUPLICATE_CALL_CONVERSION_IN_REQUEST',
            'The request has this call and conversion time more than once.',
          ),
        ];
      }
      seen.add(key);
      return [];
    });
    const customerId = String(body.customer_id);
    answerRows(
      body,
      rows,
      'conversions',
      rowErrors,
      (c, jobId) => {
        callKeys.add(keyOf(c));
        calls.push({ customerId, jobId, conversion: c });
      },
      (c) => ({
        caller_id: c.caller_id,
        call_start_date_time: c.call_start_date_time,
        conversion_action: c.conversion_action,
        conversion_date_time: c.conversion_date_time,
      }),
      record,
      callback,
      false,
    );
  };

  /** GoogleAdsService rows for a query, or the query_error it gets. */
  const searchRows = (
    body: Record<string, unknown>,
    record: RecordedGoogleAdsRequest,
    callback: Callback,
  ): { rows: Record<string, unknown>[]; paths: string[] } | undefined => {
    let query: ParsedQuery;
    try {
      query = parseQuery(typeof body.query === 'string' ? body.query : '');
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      failRequest(record, callback, grpc.status.INVALID_ARGUMENT, [
        { category: 'query_error', name: err.code, message: err.message },
      ]);
      return undefined;
    }
    const customerId = String(body.customer_id);
    const matching = namedActions.filter((a) => query.names === undefined || query.names.includes(a.name));
    const limited = query.limit === undefined ? matching : matching.slice(0, query.limit);
    const rows = body.validate_only === true ? [] : limited.map((a) => actionRow(a, customerId, query.fields));
    record.status = grpc.status.OK;
    return { rows, paths: query.fields.map((f) => `conversion_action.${f}`) };
  };

  const search: grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>> = (call, callback) => {
    const { body, metadata, record } = begin('Search', call);
    if (rejectedRequest('Search', body, metadata, record, callback)) return;
    const answer = searchRows(body, record, callback);
    if (!answer) return;
    callback(null, { results: answer.rows, field_mask: { paths: answer.paths }, next_page_token: '' });
  };

  const searchStream: grpc.handleServerStreamingCall<Record<string, unknown>, Record<string, unknown>> = (call) => {
    const { body, metadata, record } = begin('SearchStream', call);
    // The upload helpers answer through a unary callback; on a stream that is one message, or the error.
    const callback: Callback = (err, value) => {
      if (err) {
        call.emit('error', err);
        return;
      }
      if (value) call.write(value);
      call.end();
    };
    if (rejectedRequest('SearchStream', body, metadata, record, callback)) return;
    const answer = searchRows(body, record, callback);
    if (!answer) return;
    callback(null, {
      results: answer.rows,
      field_mask: { paths: answer.paths },
      request_id: `emulator-${nextRequestId++}`,
    });
  };

  const uploadConversionAdjustments: grpc.handleUnaryCall<Record<string, unknown>, Record<string, unknown>> = (
    call,
    callback,
  ) => {
    const method = 'UploadConversionAdjustments';
    const { body, metadata, record } = begin(method, call);
    const rows = (
      Array.isArray(body.conversion_adjustments) ? body.conversion_adjustments : []
    ) as DecodedConversionAdjustment[];
    if (
      rejectedUpFront(
        method,
        body,
        metadata,
        rows,
        'conversion_adjustments',
        ['conversion_adjustment_upload_error', 'TOO_MANY_ADJUSTMENTS_IN_REQUEST'],
        record,
        callback,
      )
    ) {
      return;
    }
    const category = 'conversion_adjustment_upload_error';
    const seen = new Set<string>();
    const keyOf = (a: DecodedConversionAdjustment) => `${actionId(a.conversion_action)}/${a.order_id ?? ''}`;
    const rowErrors = rows.map((a): RowErr[] => {
      const enhancement = a.adjustment_type === 'ENHANCEMENT';
      const errs: RowErr[] = [...conversionActionErrors(a.conversion_action, knownActions, category)];
      if (!a.adjustment_type || a.adjustment_type === 'UNSPECIFIED') {
        errs.push(
          rowErr('field_error', 'REQUIRED', 'The required field was not present.', { field_name: 'adjustment_type' }),
        );
      }
      const pairTime = a.gclid_date_time_pair?.conversion_date_time;
      if (pairTime !== undefined) {
        errs.push(
          ...dateErrors(pairTime, { field_name: 'gclid_date_time_pair' }, { field_name: 'conversion_date_time' }),
        );
      }
      if (enhancement) {
        if (!a.order_id) {
          errs.push(
            rowErr(category, 'MISSING_ORDER_ID_FOR_WEBPAGE', 'Adjustment for website conversion requires Order ID.', {
              field_name: 'order_id',
            }),
          );
        }
        errs.push(...identifierErrors(a.user_identifiers, category, true));
      } else {
        if (a.order_id && a.gclid_date_time_pair) {
          errs.push(
            rowErr(
              category,
              'GCLID_DATE_TIME_PAIR_AND_ORDER_ID_BOTH_SET',
              'Cannot set both gclid_date_time_pair and order_id.',
            ),
          );
        }
        if (Array.isArray(a.user_identifiers) && a.user_identifiers.length > 0) {
          errs.push(
            rowErr(category, 'UNSUPPORTED_USER_IDENTIFIER', 'User identifiers are accepted in enhancements only.', {
              field_name: 'user_identifiers',
            }),
          );
        }
      }
      if (errs.length > 0) return errs;
      const injected = takeRowFault(method, { orderId: a.order_id });
      if (injected) return injected;
      if (!enhancement) return [];
      const key = keyOf(a);
      if (enhancementKeys.has(key)) {
        return [
          rowErr(
            category,
            'CONVERSION_ALREADY_ENHANCED',
            'Conversion already has enhancements with the same Order ID.',
            { field_name: 'order_id' },
          ),
        ];
      }
      if (seen.has(key)) {
        return [
          rowErr(category, 'DUPLICATE_ENHANCEMENT_IN_REQUEST', 'The request enhances this conversion more than once.', {
            field_name: 'order_id',
          }),
        ];
      }
      seen.add(key);
      return [];
    });
    const customerId = String(body.customer_id);
    answerRows(
      body,
      rows,
      'conversion_adjustments',
      rowErrors,
      (a, jobId) => {
        if (a.adjustment_type === 'ENHANCEMENT') enhancementKeys.add(keyOf(a));
        enhancements.push({ customerId, jobId, conversion: a });
      },
      (a) => ({
        ...(a.gclid_date_time_pair ? { gclid_date_time_pair: a.gclid_date_time_pair } : {}),
        order_id: a.order_id ?? '',
        conversion_action: a.conversion_action,
        adjustment_type: a.adjustment_type,
      }),
      record,
      callback,
    );
  };

  const unimplemented: grpc.handleUnaryCall<unknown, unknown> = (_call, callback) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'The emulator does not implement GoogleAdsService.Mutate.' });

  const server = new grpc.Server();
  server.addService(p.clickService, {
    UploadClickConversions: uploadClickConversions,
    UploadCallConversions: uploadCallConversions,
  });
  server.addService(p.adjustmentService, { UploadConversionAdjustments: uploadConversionAdjustments });
  server.addService(p.googleAdsService, { Search: search, SearchStream: searchStream, Mutate: unimplemented });
  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );

  const control = opts.controlPort === false ? undefined : Fastify({ logger: false });
  let controlUrl: string | undefined;
  if (control) {
    control.put('/_sandbox/fault', (req, reply) => {
      if (req.body === null || req.body === undefined) {
        clearFaults();
        return reply.code(204).send();
      }
      const parsed = googleAdsFaultSchema.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
      const duration = faultDurationSchema.safeParse(req.body);
      if (!duration.success) return reply.code(400).send({ error: z.prettifyError(duration.error) });
      try {
        setFault(parsed.data, duration.data);
      } catch (err) {
        // An error_code the protos do not know, caught by the same check as in-process callers get.
        if (err instanceof RangeError) return reply.code(400).send({ error: err.message });
        throw err;
      }
      return reply.code(204).send();
    });
    control.delete('/_sandbox/fault', (_req, reply) => {
      clearFaults();
      return reply.code(204).send();
    });
    control.get('/_sandbox/fault', () => faultsState());
    control.get('/_sandbox/uploaded', () => ({
      clicks: clicks.length,
      calls: calls.length,
      enhancements: enhancements.length,
      requests: requests.length,
    }));
    try {
      await control.listen({ port: opts.controlPort || 0, host });
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
    const address = control.server.address();
    const controlPort = typeof address === 'object' && address ? address.port : opts.controlPort;
    controlUrl = `http://${host.includes(':') ? `[${host}]` : host}:${controlPort}`;
  }

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= Promise.all([
      control?.close(),
      new Promise<void>((resolve) => {
        // Clients keep their channels open; give calls in flight a moment, then cut the rest.
        const force = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
    ]).then(() => undefined);
    return closed;
  };

  return {
    host,
    port,
    requests,
    uploaded: () => ({ clicks: [...clicks], calls: [...calls], enhancements: [...enhancements] }),
    controlUrl,
    setFault,
    clearFaults,
    faults: faultsState,
    close,
  };
}
