// Starting many workflows for one request: bounded concurrency, one deadline for all of them, and an outcome per
// item so a sender re-sends only what failed. Every start is idempotent by workflow id, so re-sending a
// `failed` item that did start after all is answered `duplicate`, never run twice.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import { setMaxListeners } from 'node:events';
import { status as GrpcStatus } from '@grpc/grpc-js';

export type StartOutcome =
  | { status: 'started' | 'duplicate' }
  /** Temporal did not start it in time, or could not be reached: send it again. */
  | { status: 'failed'; reason: string }
  /** Temporal refused the start itself as invalid (no retry will help). */
  | { status: 'invalid'; reason: string };

export interface StartAllOptions {
  temporal: Client;
  /** How many starts are in flight at once. */
  concurrency: number;
  /** The answer is due by then: starts still pending are reported `failed`, starts not begun are not begun. */
  timeoutMs: number;
  /** The request's whole budget, which the reason of a start cut short names (default `timeoutMs`). */
  answerWithinMs?: number;
}

/** What an answer is given to be written once the starts are settled (a tenth of a short budget). */
const ANSWER_MARGIN_MS = 250;

/**
 * The time left for the starts of a request that must be answered within `budgetMs` of its arrival, of which
 * `elapsedMs` went into reading, validating and hashing it: the answer is due on time, not `budgetMs` after the
 * starts began.
 */
export function startBudgetMs(budgetMs: number, elapsedMs: number): number {
  return Math.max(0, Math.floor(budgetMs - elapsedMs - Math.min(ANSWER_MARGIN_MS, budgetMs / 10)));
}

/** Starts each item with `start`, at most `concurrency` at a time, all within `timeoutMs`. */
export async function startAll<T>(
  items: readonly T[],
  opts: StartAllOptions,
  start: (item: T) => Promise<unknown>,
): Promise<StartOutcome[]> {
  const outcomes = new Array<StartOutcome | undefined>(items.length);
  const timeoutReason = `Temporal did not start it within ${opts.answerWithinMs ?? opts.timeoutMs} ms; send it again`;
  const abort = new AbortController();
  // Every in-flight start listens on the one signal, some more than once (the call and its retry interceptor).
  setMaxListeners(4 * opts.concurrency + 8, abort.signal);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve('expired');
    }, opts.timeoutMs);
  });
  const deadline = Date.now() + opts.timeoutMs;
  const connection = opts.temporal.connection;
  let next = 0;
  const lane = async () => {
    while (next < items.length && !abort.signal.aborted) {
      const i = next++;
      outcomes[i] = await Promise.race([
        start(items[i] as T).then(
          (): StartOutcome => ({ status: 'started' }),
          (err: unknown): StartOutcome => outcomeOfError(err, timeoutReason),
        ),
        expired.then((): StartOutcome => ({ status: 'failed', reason: timeoutReason })),
      ]);
    }
  };
  try {
    await connection.withAbortSignal(abort.signal, () =>
      connection.withDeadline(deadline, () =>
        Promise.all(Array.from({ length: Math.min(opts.concurrency, items.length) }, lane)),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
  // Array.from, not map: map skips the holes of the starts that never began, which would go unanswered.
  return Array.from(outcomes, (o): StartOutcome => o ?? { status: 'failed', reason: timeoutReason });
}

function outcomeOfError(err: unknown, timeoutReason: string): StartOutcome {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return { status: 'duplicate' };
  // The client wraps gRPC errors in a ServiceError whose cause is the gRPC error.
  const grpc = [err, (err as { cause?: unknown } | null)?.cause].find(isGrpcServiceError);
  if (grpc) {
    if (grpc.code === GrpcStatus.INVALID_ARGUMENT)
      return { status: 'invalid', reason: `Temporal refused it: ${grpc.details}` };
    if (grpc.code === GrpcStatus.DEADLINE_EXCEEDED || grpc.code === GrpcStatus.CANCELLED) {
      return { status: 'failed', reason: timeoutReason };
    }
    return { status: 'failed', reason: `Temporal is unavailable (${GrpcStatus[grpc.code]}); send it again` };
  }
  return { status: 'failed', reason: 'Temporal is unavailable; send it again' };
}
