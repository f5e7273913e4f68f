// A local stand-in for Pendo's metadata API (Engage REST v1) with the wire format public clients use: the
// bulk value endpoint `POST /api/v1/metadata/{visitor|account}/custom/value` answering total / updated /
// failed / missing / errors (unknown ids are missing and never created, unless `?create=true`), the schema
// endpoint, the integration-key check (401), and switchable 409 (another write running), 429, 5xx and a refused
// key (401/403).
// Assumed where Pendo's documentation is silent: a field not yet in the schema is created with the type of
// its first value; a value of the wrong type for an existing field fails that record, with an error naming
// the field. A read-back route lets tests check what was written, value by value.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { z } from 'zod';
import { FaultSwitch } from '../shared/fault-switch';
import { pendoFaultSchema, type PendoEmulatorFault } from './faults';

export type PendoKind = 'visitor' | 'account';
export type PendoFieldType = 'string' | 'boolean' | 'float' | 'time';
type Value = string | number | boolean;

/** Ids `${prefix}0` … `${prefix}${count - 1}` exist without being stored; their writes are only counted. */
export interface PendoSyntheticIds {
  prefix: string;
  count: number;
}

export interface PendoEmulatorOptions {
  port?: number;
  host?: string;
  /** Only this key is accepted (header x-pendo-integration-key); default: any non-empty key. */
  integrationKey?: string;
  /** Seed the demo visitors and accounts the HubSpot emulator's demo records map to. */
  seedDemo?: { visitors: readonly string[]; accounts: readonly string[] };
}

export interface PendoWriteRecord {
  kind: PendoKind;
  records: number;
  at: number;
  status: number;
}

export interface PendoEmulator {
  baseUrl: string;
  /** Existing visitors or accounts (writes to others are `missing`). */
  addIds(kind: PendoKind, ids: readonly string[]): void;
  setSynthetic(kind: PendoKind, ids: PendoSyntheticIds | undefined): void;
  /** Declares a custom field, as an admin does in Settings > Data Mappings. */
  defineField(kind: PendoKind, name: string, type: PendoFieldType): void;
  /** The custom values of a stored visitor or account, or undefined when it does not exist. */
  valuesOf(kind: PendoKind, id: string): Record<string, Value> | undefined;
  /** Every bulk write, oldest first (counts only). */
  writes: PendoWriteRecord[];
  /** Records updated per kind, synthetic ones included. */
  updated: Record<PendoKind, number>;
  setFault(fault?: PendoEmulatorFault): void;
  /** Clears ids, values, fields, writes and counts. */
  reset(): void;
  close(): Promise<void>;
}

const valueSchema = z.union([z.string(), z.number(), z.boolean()]);
const recordSchema = (idField: string) =>
  z.object({
    [idField]: z.union([z.string(), z.number()]).transform(String),
    values: z.record(z.string(), valueSchema),
  });

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function typeOfValue(v: Value): PendoFieldType {
  return typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'float' : 'string';
}

/** Whether a JSON value can be stored in a field of `type` (time takes epoch milliseconds or an ISO date). */
function fits(type: PendoFieldType, v: Value): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'time':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && !Number.isNaN(Date.parse(v)));
  }
}

export async function startPendoEmulator(opts: PendoEmulatorOptions = {}): Promise<PendoEmulator> {
  const ids: Record<PendoKind, Map<string, Record<string, Value>>> = { visitor: new Map(), account: new Map() };
  const fields: Record<PendoKind, Map<string, PendoFieldType>> = { visitor: new Map(), account: new Map() };
  const synthetic: Partial<Record<PendoKind, PendoSyntheticIds>> = {};
  const writes: PendoWriteRecord[] = [];
  const updated: Record<PendoKind, number> = { visitor: 0, account: 0 };
  const faults = new FaultSwitch<PendoEmulatorFault>();

  const isSynthetic = (kind: PendoKind, id: string) => {
    const s = synthetic[kind];
    if (!s || !id.startsWith(s.prefix)) return false;
    const rest = id.slice(s.prefix.length);
    return /^(0|[1-9]\d*)$/.test(rest) && Number(rest) < s.count;
  };

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  app.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status < 500 ? (err.message ?? 'bad request') : 'internal error' });
  });

  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    const key = req.headers['x-pendo-integration-key'];
    const given = Array.isArray(key) ? key[0] : key;
    if (!given || (opts.integrationKey !== undefined && given !== opts.integrationKey)) {
      return reply.code(401).send({ overall: 'unauthorized', error: 'invalid integration key' });
    }
    const fault = faults.current;
    if (!fault || req.method !== 'POST') return;
    faults.spend();
    if (fault.type === 'busy') return reply.code(409).send({ error: 'another metadata update is in progress' });
    if (fault.type === 'auth') {
      const status = fault.status ?? 401;
      return reply
        .code(status)
        .send(
          status === 401
            ? { overall: 'unauthorized', error: 'invalid integration key' }
            : { error: 'the integration key is read-only' },
        );
    }
    if (fault.type === 'rate-limit') {
      if (fault.retryAfterSeconds) void reply.header('retry-after', String(fault.retryAfterSeconds));
      return reply.code(429).send({ error: 'too many requests' });
    }
    return reply.code(fault.status ?? 500).send({ error: 'internal error', id: randomUUID() });
  });

  app.post<{ Params: { kind: string }; Querystring: { create?: string } }>(
    '/api/v1/metadata/:kind/custom/value',
    (req, reply) => {
      const kind = req.params.kind;
      if (kind !== 'visitor' && kind !== 'account') return reply.code(404).send({ error: `unknown kind ${kind}` });
      const idField = kind === 'visitor' ? 'visitorId' : 'accountId';
      const parsed = z.array(recordSchema(idField)).safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: 'body must be an array of {id, values}' });
      const create = req.query.create === 'true';
      const missing: string[] = [];
      const errors: { id: string; field: string; message: string }[] = [];
      let failed = 0;
      let done = 0;
      for (const record of parsed.data) {
        const id = record[idField] as string;
        const values = record.values as Record<string, Value>;
        const stored = ids[kind].get(id);
        const exists = stored !== undefined || isSynthetic(kind, id);
        if (!exists && !create) {
          missing.push(id);
          continue;
        }
        const problems = Object.entries(values).flatMap(([name, v]) => {
          if (!FIELD_NAME.test(name)) return [{ id, field: name, message: 'invalid field name' }];
          const type = fields[kind].get(name);
          return type === undefined || fits(type, v) ? [] : [{ id, field: name, message: `expected a ${type} value` }];
        });
        if (problems.length > 0) {
          failed += 1;
          errors.push(...problems);
          continue;
        }
        for (const [name, v] of Object.entries(values)) {
          if (!fields[kind].has(name)) fields[kind].set(name, typeOfValue(v));
        }
        if (stored) Object.assign(stored, values);
        else if (!isSynthetic(kind, id)) ids[kind].set(id, { ...values });
        done += 1;
      }
      updated[kind] += done;
      writes.push({ kind, records: parsed.data.length, at: Date.now(), status: 200 });
      return { total: parsed.data.length, updated: done, failed, missing, errors };
    },
  );

  app.get<{ Params: { kind: string } }>('/api/v1/metadata/schema/:kind', (req, reply) => {
    const kind = req.params.kind;
    if (kind !== 'visitor' && kind !== 'account') return reply.code(404).send({ error: `unknown kind ${kind}` });
    const custom = Object.fromEntries([...fields[kind]].map(([name, type]) => [name, { Type: type }]));
    return { auto: { id: { Type: 'string' } }, agent: {}, custom };
  });

  // Control API for tests and a shell: seed ids and fields, read values back, faults. Unauthenticated.
  const kindOf = (k: string): PendoKind | undefined => (k === 'visitor' || k === 'account' ? k : undefined);
  app.post<{ Params: { kind: string } }>('/_sandbox/:kind/ids', (req, reply) => {
    const kind = kindOf(req.params.kind);
    const parsed = z.array(z.string().min(1)).safeParse(req.body);
    if (!kind || !parsed.success) return reply.code(400).send({ error: 'POST /_sandbox/{visitor|account}/ids [ids]' });
    addIds(kind, parsed.data);
    return reply.code(204).send();
  });
  app.get<{ Params: { kind: string; id: string } }>('/_sandbox/:kind/values/:id', (req, reply) => {
    const kind = kindOf(req.params.kind);
    const values = kind ? ids[kind].get(req.params.id) : undefined;
    return values ? values : reply.code(404).send({ error: 'no such id' });
  });
  app.put<{ Params: { kind: string } }>('/_sandbox/:kind/synthetic', (req, reply) => {
    const kind = kindOf(req.params.kind);
    const parsed = z.object({ prefix: z.string(), count: z.number().int().nonnegative() }).safeParse(req.body);
    if (!kind || !parsed.success)
      return reply.code(400).send({ error: 'PUT /_sandbox/{visitor|account}/synthetic {prefix, count}' });
    synthetic[kind] = parsed.data;
    return reply.code(204).send();
  });
  app.get('/_sandbox/stats', () => ({ updated, writes: writes.length }));
  app.post('/_sandbox/reset', (_req, reply) => {
    reset();
    return reply.code(204).send();
  });
  faults.registerRoutes(app, pendoFaultSchema);

  function addIds(kind: PendoKind, list: readonly string[]) {
    for (const id of list) if (!ids[kind].has(id)) ids[kind].set(id, {});
  }
  function reset() {
    for (const kind of ['visitor', 'account'] as const) {
      ids[kind].clear();
      fields[kind].clear();
      delete synthetic[kind];
      updated[kind] = 0;
    }
    writes.length = 0;
    faults.set(undefined);
  }
  if (opts.seedDemo) {
    addIds('visitor', opts.seedDemo.visitors);
    addIds('account', opts.seedDemo.accounts);
  }

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    baseUrl: `http://${host}:${port}`,
    addIds,
    setSynthetic: (kind, s) => {
      if (s) synthetic[kind] = s;
      else delete synthetic[kind];
    },
    defineField: (kind, name, type) => void fields[kind].set(name, type),
    valuesOf: (kind, id) => {
      const v = ids[kind].get(id);
      return v ? { ...v } : undefined;
    },
    writes,
    updated,
    setFault: (fault) => faults.set(fault),
    reset,
    close: () => app.close(),
  };
}
