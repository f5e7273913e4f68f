// The credential circuits as Prometheus metrics, read from the process's OutageCircuits when scraped: which
// accounts are parked now, since how many failures, and how often each opened. Account labels are the circuits'
// keys (`google-ads:<customer id>`, `cm360:<profile id>`, `hubspot`, `pendo`): ids, never a credential.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitState, OutageCircuits } from '../clients/shared/circuit';
import { RELAY_METRICS } from './names';

export function registerCircuitMetrics(registry: Registry, circuits: OutageCircuits, now = Date.now): void {
  /** A gauge of every open circuit, read from the circuits at each scrape. */
  const openGauge = (name: string, help: string, valueOf: (state: CircuitState) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['account', 'type'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const { account, state } of circuits.openAccounts(now())) {
          this.set({ account, type: state.type }, valueOf(state));
        }
      },
    });
  openGauge(
    RELAY_METRICS.circuitOpen,
    'Accounts whose credentials circuit is open (1): their work is parked as WAITING_FOR_CREDENTIALS until the retry time',
    () => 1,
  );
  openGauge(
    RELAY_METRICS.circuitRetryAt,
    'When an open circuit lets its next call through (Unix time, seconds)',
    (state) => Math.round(state.openUntilMs / 1000),
  );
  openGauge(
    RELAY_METRICS.circuitFailures,
    'Consecutive outage failures of an open circuit (its wait doubles with each, 5 minutes to 4 hours)',
    (state) => state.failures,
  );
  const opened = new Counter({
    name: RELAY_METRICS.circuitOpened,
    help: 'Times a credentials or configuration outage opened (or re-opened) an account’s circuit',
    labelNames: ['account', 'type'] as const,
    registers: [registry],
  });
  circuits.onOpen((account, state) => opened.inc({ account, type: state.type }));
}
