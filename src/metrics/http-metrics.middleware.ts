/**
 * Times every HTTP request under the API prefix and on the unprefixed routes (/healthz, /metrics),
 * including those a guard refuses or no route matches, and records it by
 * method, route template and status code. The route template keeps the label set small: `/api/v1/
 * nodes/:name`, never one series per node name (nor per scanner probing random URLs).
 */
import { Injectable, NestMiddleware } from '@nestjs/common';
import { FleetMetrics } from './fleet-metrics.service';

/** What this middleware reads of Express's request and response (no @types/express here). */
interface TimedRequest {
  readonly method: string;
  readonly baseUrl: string;
  /** Set by Express once a route matched. */
  readonly route?: unknown;
}
interface TimedResponse {
  readonly statusCode: number;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/** Route label of requests no route matched (404s, probes of random paths). */
export const UNMATCHED_ROUTE = 'unmatched';

const NANOSECONDS_PER_SECOND = 1e9;

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: FleetMetrics) {}

  use(request: TimedRequest, response: TimedResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    // 'close' also fires when the client goes away before the answer is written; count each once.
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_SECOND;
      this.metrics.recordHttpRequest(request.method, routeTemplate(request), response.statusCode, seconds);
    };
    response.once('finish', record);
    response.once('close', record);
    next();
  }
}

/**
 * The catch-all route Nest's not-found handler answers on, in a router mounted at the global prefix
 * (@nestjs/platform-express ExpressAdapter.setNotFoundHandler).
 */
const NOT_FOUND_HANDLER_ROUTE = '*path';

/**
 * Express sets request.route when a route matched: its path is the template, relative to the router
 * mounted at request.baseUrl. Nest's own 404 route is no match.
 */
export function routeTemplate(request: Pick<TimedRequest, 'route' | 'baseUrl'>): string {
  const route = request.route;
  if (typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string' && route.path !== NOT_FOUND_HANDLER_ROUTE) {
    return `${request.baseUrl}${route.path}`;
  }
  return UNMATCHED_ROUTE;
}
