// What reached the api and what it refused, counted once per response for the routes that take events: a route
// that answers item by item notes its counts on the request (noteEvents); any other answer counts as one event,
// refused when its status says so.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RelayMetrics } from '../metrics/relay';
import { CALLS_ROUTE } from './calls-routes';

/** Events of one request, as the route judged them. */
export interface EventsNote {
  received: number;
  /** Reason → how many (invalid, unavailable, …). */
  rejected: Record<string, number>;
}

declare module 'fastify' {
  interface FastifyRequest {
    relayEvents?: EventsNote;
  }
}

const SOURCES: Record<string, string> = {
  'POST /v1/cm360/conversions': 'cm360',
  'POST /webhooks/hubspot': 'hubspot_webhook',
  'POST /webhooks/hubspot/forms': 'hubspot_form',
  [`POST ${CALLS_ROUTE}`]: 'calls',
};

/** A route's own count of the events in its request. */
export function noteEvents(request: FastifyRequest, note: EventsNote): void {
  request.relayEvents = note;
}

function reasonOf(status: number, source: string): string {
  if (status === 401) return source.startsWith('hubspot') ? 'signature' : 'unauthorized';
  if (status === 400 || status === 422) return 'invalid';
  if (status === 413) return 'too_large';
  if (status === 503) return 'unavailable';
  return `http_${status}`;
}

export function registerEventMetrics(app: FastifyInstance, metrics: RelayMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const source = SOURCES[`${request.method} ${request.routeOptions.url ?? ''}`];
    if (source) {
      const note = request.relayEvents;
      if (note) {
        metrics.eventsReceived.inc({ source }, note.received);
        for (const [reason, n] of Object.entries(note.rejected)) {
          if (n > 0) metrics.eventsRejected.inc({ source, reason }, n);
        }
      } else {
        metrics.eventsReceived.inc({ source });
        if (reply.statusCode >= 400) metrics.eventsRejected.inc({ source, reason: reasonOf(reply.statusCode, source) });
      }
    }
    done();
  });
}
