// Temporal Cloud's billable Actions of one workflow execution, counted from its history (docs.temporal.io/cloud/actions).
// Used by the benchmarks and the tests that hold each flow to its action budget.
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface BillableActions {
  total: number;
  /** Actions by kind: start, timer, activity (one per attempt), upsert, signal, child, update, … */
  byKind: Record<string, number>;
}

/**
 * What a history shows of its billed Actions: the start, each activity attempt, each timer, each upsert, each
 * signal received or sent, each child (2: intent and start), each accepted update, each marker of local
 * activities (at most one per workflow task) and a continue-as-new's new run. Heartbeats that reach the server and
 * queries are billed too but leave no event; `TemporalChangeVersion` (patched) is free, and is not an upsert here.
 */
export function countBillableActions(events: HistoryEvent[]): BillableActions {
  const byKind: Record<string, number> = {};
  const add = (kind: string, n = 1) => {
    byKind[kind] = (byKind[kind] ?? 0) + n;
  };
  const localActivityTasks = new Set<string>();
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        add('start');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        // One per attempt: a retried activity is started again.
        add('activity');
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        add('timer');
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
        const keys = Object.keys(fields);
        // patched() writes TemporalChangeVersion alone, which is not billed.
        if (keys.length > 0 && keys.every((k) => k === 'TemporalChangeVersion')) break;
        add('upsert');
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
      case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        add('signal');
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add('child', 2);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update');
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
          localActivityTasks.add(String(e.markerRecordedEventAttributes.workflowTaskCompletedEventId ?? ''));
        }
        break;
      default:
        break;
    }
  }
  if (localActivityTasks.size > 0) add('localActivities', localActivityTasks.size);
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { total, byKind };
}
