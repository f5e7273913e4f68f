// One circuit per vendor account, shared by every activity of the process: after an outage failure (credentials,
// configuration) the account is "open" until its backoff ends, and every row for it fails at once with the same
// retry time instead of each trying the vendor. The first call after that time is the probe: its success closes
// the circuit, its failure opens it again for the next, longer wait.
import { outageDelayMs } from '../../domain/outage';

export interface CircuitState {
  /** Epoch ms until which calls fail without trying. */
  openUntilMs: number;
  /** Consecutive outage failures. */
  failures: number;
  /** The failure type that opened it, e.g. Cm360AuthError. */
  type: string;
  /** What the last failure said (no secrets: the clients' messages are redacted). */
  message: string;
}

// Times are the caller's: an activity passes the time Temporal scheduled its attempt, so the circuit and the
// workflow's timers read one clock (the test server's skipped time too).
export class OutageCircuits {
  private readonly circuits = new Map<string, CircuitState>();
  private readonly listeners: ((account: string, state: CircuitState) => void)[] = [];

  /** Called each time an outage opens (or re-opens) a circuit: for metrics. */
  onOpen(listener: (account: string, state: CircuitState) => void): void {
    this.listeners.push(listener);
  }

  /** The open circuit of the account, or undefined when a call may be tried. */
  open(account: string, now: number): CircuitState | undefined {
    const c = this.circuits.get(account);
    return c && c.openUntilMs > now ? c : undefined;
  }

  /** Records an outage failure: opens (or re-opens, for longer) the account's circuit. */
  failed(account: string, type: string, message: string, now: number): CircuitState {
    const previous = this.circuits.get(account);
    // A failure while already open (a call that started before the circuit opened) does not lengthen the wait.
    if (previous && previous.openUntilMs > now) return previous;
    const failures = (previous?.failures ?? 0) + 1;
    const state = { openUntilMs: now + outageDelayMs(failures), failures, type, message };
    this.circuits.set(account, state);
    for (const listener of this.listeners) listener(account, state);
    return state;
  }

  /** A call of the account went through: the circuit closes. */
  succeeded(account: string): void {
    this.circuits.delete(account);
  }

  /** Every account whose circuit is open now (for health and metrics). */
  openAccounts(now: number): { account: string; state: CircuitState }[] {
    return [...this.circuits.entries()]
      .filter(([, s]) => s.openUntilMs > now)
      .map(([account, state]) => ({ account, state }));
  }
}
