/**
 * Wires the browser rules (browser-request.ts) and the JSON body limits (json-body-shape.ts) in
 * front of every route, in this order: refuse a foreign Host/Origin or a non-JSON body, then parse
 * JSON only (no urlencoded parser: an HTML form's body is never read), then refuse bodies nested too
 * deep or carrying prototype keys. createApp calls it, so `npm start` and the tests get the same.
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { HttpConfig } from '../../config/app-config';
import { browserPolicyOf, checkBrowserRequest } from './browser-request';
import { jsonBodyProblem } from './json-body-shape';

/** What these middlewares read of Express's request and write to its response (no @types/express here). */
interface HardenedRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}
interface HardenedResponse {
  status(code: number): HardenedResponse;
  json(body: unknown): unknown;
}
type Next = () => void;

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 403: 'Forbidden', 415: 'Unsupported Media Type', 421: 'Misdirected Request' };

function header(request: HardenedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hasBody(request: HardenedRequest): boolean {
  const length = header(request, 'content-length');
  return header(request, 'transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
}

/** Answers as Nest's own exceptions do: { statusCode, message, error }. */
function refuse(response: HardenedResponse, status: number, message: string): void {
  response.status(status).json({ statusCode: status, message, error: REASONS[status] ?? 'Error' });
}

export function installHttpHardening(app: NestExpressApplication, http: HttpConfig): void {
  const policy = browserPolicyOf(http);
  app.use((request: HardenedRequest, response: HardenedResponse, next: Next) => {
    const verdict = checkBrowserRequest(
      {
        method: request.method,
        host: header(request, 'host'),
        origin: header(request, 'origin'),
        contentType: header(request, 'content-type'),
        hasBody: hasBody(request),
      },
      policy,
    );
    if (verdict.ok) next();
    else refuse(response, verdict.status, verdict.message);
  });
  app.useBodyParser('json');
  app.use((request: HardenedRequest, response: HardenedResponse, next: Next) => {
    const problem = request.body === undefined ? null : jsonBodyProblem(request.body);
    if (problem === null) next();
    else refuse(response, 400, problem);
  });
}
