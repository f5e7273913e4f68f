// JSON bodies as the sender wrote them. `JSON.parse` rounds integers beyond 2^53 to the nearest double, so two
// different 19-digit ids arrive as one; here an integer that a double cannot hold exactly becomes a bigint, and
// the schema of each field decides (ids take it exactly, amounts refuse it). Bytes that are not UTF-8 and
// duplicate keys are refused instead of being read as something else.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse } from 'lossless-json';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body that is not what it says it is: answered 400 by the api's error handler. */
export class BodyError extends Error {
  readonly statusCode = 400;
}

function numberOf(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

/** The body's text, refusing bytes that are not UTF-8 (they would otherwise become U+FFFD without a word). */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new BodyError('the body is not valid UTF-8');
  }
}

/** JSON with exact integers (bigint beyond 2^53); a syntax error or a repeated key is a BodyError. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return parse(text, null, numberOf);
  } catch (err) {
    throw new BodyError(`body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Reads `application/json` bodies of this scope with parseJson; `keepRaw` keeps the exact text (signatures). */
export function registerJsonBodies(
  scope: FastifyInstance,
  opts: { keepRaw?: (request: FastifyRequest, text: string) => void } = {},
): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const text = decodeUtf8(body as Buffer);
      opts.keepRaw?.(request, text);
      done(null, parseJson(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
