// The client's gRPC retries, bounded by the call's deadline. The SDK's retry interceptor backs off up to 5 s
// between attempts whatever the deadline, so a start against an unreachable Temporal answered 15 s into a 10 s
// budget. Here a retry is made only when it can begin before the deadline; otherwise the last error stands.
import type { Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

function deadlineMs(deadline: unknown): number {
  if (deadline instanceof Date) return deadline.getTime();
  if (typeof deadline === 'number') return deadline;
  return Number.POSITIVE_INFINITY;
}

/** The SDK's default retry policy, with no attempt scheduled at or after the call's deadline. */
export function deadlineBoundRetryInterceptor(): Interceptor {
  const base = defaultGrpcRetryOptions();
  return (options, nextCall) => {
    const until = deadlineMs(options.deadline);
    let delay = 0;
    return makeGrpcRetryInterceptor({
      retryableDecider: (attempt, status) => {
        if (!base.retryableDecider(attempt, status)) return false;
        delay = base.delayFunction(attempt, status);
        return Date.now() + delay < until;
      },
      delayFunction: () => delay,
    })(options, nextCall);
  };
}
