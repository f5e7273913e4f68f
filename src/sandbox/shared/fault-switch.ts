// The fault switch every HTTP sandbox emulator has: one injected fault at a time, optionally for a number of
// uses, set from tests in-process or from a shell through PUT/DELETE/GET /_sandbox/fault.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

export class FaultSwitch<F extends { type: string }> {
  private fault: F | undefined;
  // `times` counts down on a private copy so the caller's object is never mutated.
  private remaining: number | undefined;

  get current(): F | undefined {
    return this.fault;
  }

  set(fault: F | undefined): void {
    this.fault = fault ? { ...fault } : undefined;
    const times = fault && 'times' in fault ? fault.times : undefined;
    this.remaining = typeof times === 'number' ? times : undefined;
  }

  /** Uses up one occurrence of the current fault; clears it after the last one. */
  spend(): void {
    if (this.remaining === undefined) return;
    this.remaining -= 1;
    if (this.remaining <= 0) this.set(undefined);
  }

  /** PUT a fault (JSON; `null` or no body clears it), DELETE it, GET it with the uses left. Unauthenticated. */
  registerRoutes(app: FastifyInstance, schema: z.ZodType<F>): void {
    app.put('/_sandbox/fault', (req, reply) => {
      if (req.body === null || req.body === undefined) {
        this.set(undefined);
        return reply.code(204).send();
      }
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
      this.set(parsed.data);
      return reply.code(204).send();
    });
    app.delete('/_sandbox/fault', (_req, reply) => {
      this.set(undefined);
      return reply.code(204).send();
    });
    app.get('/_sandbox/fault', () => ({ fault: this.fault ?? null, remaining: this.remaining ?? null }));
  }
}
