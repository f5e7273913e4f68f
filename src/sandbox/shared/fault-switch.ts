// The fault switch every HTTP sandbox emulator has: one injected fault at a time, optionally for a number of
// uses or for a while, set from tests in-process or from a shell (`relay sandbox fault`) through
// PUT/DELETE/GET /_sandbox/fault.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

/** How long a fault set over HTTP lasts: `forMs` beside the fault's own fields (`times` counts uses). */
export const faultDurationSchema = z.object({ forMs: z.number().int().positive().optional() });

export interface FaultState<F> {
  fault: F | null;
  /** Uses left, when the fault was set with `times`. */
  remaining: number | null;
  /** Epoch ms when the fault clears itself, when it was set with `forMs`. */
  expiresAt: number | null;
}

export class FaultSwitch<F extends { type: string }> {
  private fault: F | undefined;
  // `times` counts down on a private copy so the caller's object is never mutated.
  private remaining: number | undefined;
  private expiresAt: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  get current(): F | undefined {
    if (this.expiresAt !== undefined && this.now() >= this.expiresAt) this.set(undefined);
    return this.fault;
  }

  set(fault: F | undefined, opts: { forMs?: number } = {}): void {
    this.fault = fault ? { ...fault } : undefined;
    const times = fault && 'times' in fault ? fault.times : undefined;
    this.remaining = typeof times === 'number' ? times : undefined;
    this.expiresAt = fault && opts.forMs !== undefined ? this.now() + opts.forMs : undefined;
  }

  /** Uses up one occurrence of the current fault; clears it after the last one. */
  spend(): void {
    if (this.remaining === undefined) return;
    this.remaining -= 1;
    if (this.remaining <= 0) this.set(undefined);
  }

  state(): FaultState<F> {
    const fault = this.current;
    return { fault: fault ?? null, remaining: this.remaining ?? null, expiresAt: this.expiresAt ?? null };
  }

  /**
   * PUT a fault (JSON, optionally with `forMs`; `null` or no body clears it), DELETE it, GET it with the uses and
   * time left. A body the emulator's fault schema refuses is a 400 naming the problem. Unauthenticated.
   */
  registerRoutes(app: FastifyInstance, schema: z.ZodType<F>): void {
    app.put('/_sandbox/fault', (req, reply) => {
      if (req.body === null || req.body === undefined) {
        this.set(undefined);
        return reply.code(204).send();
      }
      const parsed = schema.safeParse(req.body);
      const duration = faultDurationSchema.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
      if (!duration.success) return reply.code(400).send({ error: z.prettifyError(duration.error) });
      this.set(parsed.data, duration.data);
      return reply.code(204).send();
    });
    app.delete('/_sandbox/fault', (_req, reply) => {
      this.set(undefined);
      return reply.code(204).send();
    });
    app.get('/_sandbox/fault', () => this.state());
  }
}
