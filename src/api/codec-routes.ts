// Codec endpoints for the Temporal Web UI and CLI (`--codec-endpoint`): they decrypt payloads for display.
// Enabled only where the operator asks for it (npm start does, for the local UI).
import type { PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

// Proto-JSON leaves empty fields out, so a request without payloads may arrive as `{}`.
const payloadsSchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }))
    .default([]),
});

type JsonPayload = z.infer<typeof payloadsSchema>['payloads'][number];

const fromJson = (p: JsonPayload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function registerCodecRoutes(app: FastifyInstance, opts: { codec: PayloadCodec; corsOrigins: string[] }): void {
  const allowed = new Set(opts.corsOrigins);
  // The browser sends its own origin; the answer names it back only when it is one of ours.
  const cors = (origin: string | undefined) => ({
    ...(origin && allowed.has(origin) ? { 'access-control-allow-origin': origin } : {}),
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': 'X-Namespace, Content-Type, Authorization',
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  });
  for (const op of ['encode', 'decode'] as const) {
    app.options(`/codec/${op}`, (request, reply) => reply.headers(cors(request.headers.origin)).code(204).send());
    app.post(`/codec/${op}`, async (request, reply) => {
      reply.headers(cors(request.headers.origin));
      const parsed = payloadsSchema.safeParse(request.body);
      if (!parsed.success) return reply.code(400).send({ error: 'body must be {"payloads":[{metadata,data}]}' });
      const input = parsed.data.payloads.map(fromJson);
      const output = op === 'encode' ? await opts.codec.encode(input) : await opts.codec.decode(input);
      return reply.send({ payloads: output.map(toJson) });
    });
  }
}
