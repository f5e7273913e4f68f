// Where work is queued. Pure: workflows import it.

/**
 * The task queue of the vendor uploads (CM360 batchupdate, Google Ads click, enhancement and call uploads) of
 * workflows that run on `workflowTaskQueue`. Uploads have their own queue so that the process(es) serving it can
 * hold thousands of rows waiting in one batcher (RELAY_UPLOAD_SLOTS), apart from the workflow queue's activity
 * slots, and so that the processes sharing a vendor's quota are the pollers of one queue (see
 * src/temporal/upload-share.ts).
 */
export function uploadTaskQueue(workflowTaskQueue: string): string {
  return `${workflowTaskQueue}-uploads`;
}
