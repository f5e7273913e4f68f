// The credential circuits as Prometheus metrics, read from the process's OutageCircuits when scraped: which
// accounts are parked now, since how many failures, and how often each opened. Account labels are the circuits'
// keys (`google-ads:<customer id>`, `cm360:<profile id>`, `hubspot`, `pendo`): ids, never a credential.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { OutageCircuits } from '../clients/shared/circuit';
import { RELAY_METRICS } from './names';

export function registerCircuitMetrics(registry: Registry, circuits: OutageCircuits, now = Date.now): void {
  new Gauge({
    name: RELAY_METRICS.circuitOpen,
    help: 'Accounts whose credentials circuit is open (1): their work is parked as WAITING_FOR_CREDENTIALS until the retry time',
    labelNames: ['account', 'type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { account, state } of circuits.openAccounts(now())) this.set({ account, type: state.type }, 1);
    },
  });
  new Gauge({
    name: RELAY_METRICS.circuitRetryAt,
    help: 'When an open circuit lets its next call through (Unix time, seconds)',
    labelNames: ['account', 'type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { account, state } of circuits.openAccounts(now())) {
        this.set({ account, type: state.type }, Math.round(state.openUntilMs / 1000));
      }
    },
  });
  new Gauge({
    name: RELAY_METRICS.circuitFailures,
    help: 'Consecutive outage failures of an open circuit (its wait doubles with each, 5 minutes to 4 hours)',
    labelNames: ['account', 'type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { account, state } of circuits.openAccounts(now())) {
        this.set({ account, type: state.type }, state.failures);
      }
    },
  });
  const opened = new Counter({
    name: RELAY_METRICS.circuitOpened,
    help: 'Times a credentials or configuration outage opened (or re-opened) an account’s circuit',
    labelNames: ['account', 'type'] as const,
    registers: [registry],
  });
  circuits.onOpen((account, state) => opened.inc({ account, type: state.type }));
}
