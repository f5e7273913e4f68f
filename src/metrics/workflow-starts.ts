// Counts the api's workflow starts by flow and outcome, as a Temporal client interceptor: every start of every
// route passes through it, so no route can forget to count. The flow is the start's RelayFlow search attribute
// (e.g. cm360-enhancement), else the workflow type.
import { WorkflowExecutionAlreadyStartedError, type WorkflowClientInterceptor } from '@temporalio/client';
import { TypedSearchAttributes, type SearchAttributePair } from '@temporalio/common';
import { RelayFlow } from '../workflows/search-attributes';
import type { RelayMetrics } from './relay';

function flowOf(workflowType: string, attributes: SearchAttributePair[] | TypedSearchAttributes | undefined): string {
  const typed = Array.isArray(attributes) ? new TypedSearchAttributes(attributes) : attributes;
  return typed?.get(RelayFlow) ?? workflowType;
}

export function workflowStartMetrics(metrics: RelayMetrics): WorkflowClientInterceptor {
  return {
    async start(input, next) {
      const flow = flowOf(input.workflowType, input.options.typedSearchAttributes);
      try {
        const runId = await next(input);
        metrics.workflowsStarted.inc({ flow, outcome: 'started' });
        return runId;
      } catch (err) {
        const outcome = err instanceof WorkflowExecutionAlreadyStartedError ? 'duplicate' : 'failed';
        metrics.workflowsStarted.inc({ flow, outcome });
        throw err;
      }
    },
  };
}
