// Codec endpoints for the Temporal Web UI and CLI (`--codec-endpoint`): they decrypt payloads for display.
// Enabled only where the operator asks for it (npm start does, for the local UI). Decrypting is reading
// personal data, so every call is authorized: `Authorization: Bearer <RELAY_CODEC_TOKEN or RELAY_API_KEY>`
// (the CLI's `--codec-auth`, or a UI that forwards a header), or the codec token as a path segment,
// `/codec/t/<token>/decode`, for a Web UI that can only be given an endpoint URL.
import type { PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PayloadDecodeError } from '../temporal/encryption-codec';
import { bearerMatches, secretMatches } from './auth';

export interface CodecRouteOptions {
  codec: PayloadCodec;
  corsOrigins: string[];
  /** Bearer tokens that may call the endpoints: the codec token, the api key. Empty refuses every call. */
  tokens: string[];
  /** The token that may also be given in the path (`/codec/t/<token>/…`); unset: header only. */
  pathToken?: string;
}

const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64');

// Proto-JSON leaves empty fields out, so a request without payloads may arrive as `{}`.
const payloadsSchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
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

/** The request's URL with a codec token in the path masked: for logs. */
export function redactCodecPath(url: string): string {
  return url.replace(/^\/codec\/t\/[^/?]+/, '/codec/t/***');
}

export function registerCodecRoutes(app: FastifyInstance, opts: CodecRouteOptions): void {
  const allowed = new Set(opts.corsOrigins);
  // The browser sends its own origin; the answer names it back only when it is one of ours.
  const cors = (origin: string | undefined) => ({
    ...(origin && allowed.has(origin) ? { 'access-control-allow-origin': origin } : {}),
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': 'X-Namespace, Content-Type, Authorization',
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  });

  const authorized = (request: FastifyRequest<{ Params: { token?: string } }>): boolean => {
    const { token } = request.params;
    if (token !== undefined) return opts.pathToken !== undefined && secretMatches(token, opts.pathToken);
    return opts.tokens.some((t) => bearerMatches(request.headers.authorization, t));
  };

  const handle =
    (op: 'encode' | 'decode') =>
    async (request: FastifyRequest<{ Params: { token?: string } }>, reply: FastifyReply) => {
      reply.headers(cors(request.headers.origin));
      if (!authorized(request)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'the codec needs authorization: Bearer <RELAY_CODEC_TOKEN or the api key>' });
      }
      const parsed = payloadsSchema.safeParse(request.body);
      if (!parsed.success) {
        return reply.code(400).send({ error: 'body must be {"payloads":[{metadata,data}]} with base64 values' });
      }
      const input = parsed.data.payloads.map(fromJson);
      try {
        const output = op === 'encode' ? await opts.codec.encode(input) : await opts.codec.decode(input);
        return await reply.send({ payloads: output.map(toJson) });
      } catch (err) {
        if (err instanceof PayloadDecodeError) return reply.code(422).send({ error: err.message });
        throw err;
      }
    };

  for (const op of ['encode', 'decode'] as const) {
    for (const path of [`/codec/${op}`, `/codec/t/:token/${op}`]) {
      app.options(path, (request, reply) => reply.headers(cors(request.headers.origin)).code(204).send());
      app.post(path, handle(op));
    }
  }
}
