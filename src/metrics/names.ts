// The names of the relay's own Prometheus metrics: one list, used where they are defined (src/metrics/relay.ts)
// and by what reads them (the Grafana dashboard in deploy/, its test). Labels never carry personal data: flows,
// vendors, codes, reasons and account ids only.
export const RELAY_METRICS = {
  /** Counter {source}: events and captures that reached the api (cm360, hubspot_webhook, hubspot_form, calls). */
  eventsReceived: 'relay_events_received_total',
  /** Counter {source, reason}: events the api refused (signature, invalid, unavailable). */
  eventsRejected: 'relay_events_rejected_total',
  /** Counter {flow, outcome}: workflow starts by flow (started, duplicate, failed). */
  workflowsStarted: 'relay_workflows_started_total',
  /** Counter {vendor, outcome, code}: rows a vendor answered (uploaded, already_done, retry, failed). */
  rows: 'relay_rows_total',
  /** Histogram {vendor}: rows per request sent to a vendor (batch fill). */
  batchRows: 'relay_batch_rows',
  /** Histogram {vendor, outcome}: how long a vendor took to answer a request, in seconds. */
  vendorRequestSeconds: 'relay_vendor_request_seconds',
  /** Histogram {vendor}: how long a request waited for the vendor's rate limit (its quota share), in seconds. */
  quotaWaitSeconds: 'relay_quota_wait_seconds',
  /** Gauge {account, type}: 1 while a credentials circuit is open. */
  circuitOpen: 'relay_circuit_open',
  /** Gauge {account, type}: when an open circuit lets its next call through (Unix seconds). */
  circuitRetryAt: 'relay_circuit_retry_at_seconds',
  /** Gauge {account, type}: consecutive outage failures of an open circuit. */
  circuitFailures: 'relay_circuit_consecutive_failures',
  /** Counter {account, type}: times a circuit opened. */
  circuitOpened: 'relay_circuit_opened_total',
} as const;

export type RelayMetricName = (typeof RELAY_METRICS)[keyof typeof RELAY_METRICS];
