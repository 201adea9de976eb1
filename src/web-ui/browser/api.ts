/** Calls to the orchestrator's API from the page: same origin, the session cookie goes by itself. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The node view of GET /api/v1/nodes (src/nodes/node.model.ts NodeView), as far as the pages read it. */
export interface NodeView {
  readonly id: string;
  readonly name: string;
  readonly state: 'creating' | 'running' | 'deleting' | 'failed';
  readonly powerState: 'on' | 'off' | 'unknown';
  readonly machine: 'qemu' | 'sim';
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly diskSizeGiB: number;
  readonly cdrom: string | null;
  readonly bootMode: string;
  readonly ipmi: Endpoint & { readonly user: string };
  readonly vnc: Endpoint;
  readonly redfish?: Endpoint | null;
  readonly redfishPort?: number | null;
  readonly bmcReachable: boolean | null;
  readonly lastError: string | null;
}

export interface NodeEvent {
  readonly id?: number;
  readonly name?: string;
  readonly at: string;
  readonly type: string;
  readonly message: string;
}

export type FleetMessage =
  | { readonly kind: 'snapshot'; readonly nodes: readonly NodeView[] }
  | { readonly kind: 'node'; readonly node: NodeView }
  | { readonly kind: 'node-removed'; readonly name: string }
  | { readonly kind: 'node-event'; readonly event: NodeEvent & { readonly name: string } };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The API's messages: class-validator gives one per broken rule, each naming its field first. */
    readonly messages: readonly string[],
  ) {
    super(messages.join('; ') || `HTTP ${status}`);
  }
}

function goToLogin(): void {
  if (location.pathname !== '/login') location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/session')) goToLogin();
    const message = (parsed as { message?: unknown } | null)?.message;
    const messages = Array.isArray(message) ? message.map(String) : [typeof message === 'string' ? message : `HTTP ${response.status} ${response.statusText}`];
    throw new ApiError(response.status, messages);
  }
  return parsed as T;
}

export const nodePath = (name: string): string => `/nodes/${encodeURIComponent(name)}`;

/** ws: or wss: URL of a path of this origin. */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

/** The fleet's event stream; calls back on every message, and with the connection's state. */
export function watchFleet(onMessage: (message: FleetMessage) => void, onLive: (live: boolean) => void): () => void {
  const source = new EventSource('/api/v1/events');
  source.onopen = () => onLive(true);
  source.onerror = () => {
    onLive(false);
    // A stream refused for want of a login ends for good: find out, and go to the log-in page.
    if (source.readyState === EventSource.CLOSED) void api('GET', '/session').then((state) => (state as { authenticated: boolean }).authenticated || goToLogin());
  };
  source.onmessage = (event: MessageEvent<string>) => onMessage(JSON.parse(event.data) as FleetMessage);
  return () => source.close();
}
