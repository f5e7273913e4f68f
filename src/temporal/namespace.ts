// The namespace's retention: how long Temporal keeps a closed workflow's history, which for call imports holds
// caller numbers (encrypted). The source document promises debugging data for 90 days after the upload and no
// longer, so wherever the product creates or configures the namespace it sets exactly that.
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';

export const RELAY_RETENTION_DAYS = 90;
const DAY_S = 86_400;

/** The namespace's retention in days, as the server reports it. */
export async function namespaceRetentionDays(connection: Connection, namespace: string): Promise<number> {
  const d = await connection.workflowService.describeNamespace({ namespace });
  return Number(d.config?.workflowExecutionRetentionTtl?.seconds ?? 0) / DAY_S;
}

/** Sets the retention when it differs; 'updated' or 'unchanged'. */
export async function ensureNamespaceRetention(
  connection: Connection,
  namespace: string,
  days = RELAY_RETENTION_DAYS,
): Promise<'updated' | 'unchanged'> {
  if ((await namespaceRetentionDays(connection, namespace)) === days) return 'unchanged';
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(days * DAY_S * 1000) },
  });
  return 'updated';
}
