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
  readonly vnc: Endpoint | null;
  readonly redfish?: Endpoint | null;
  readonly redfishPort?: number | null;
  readonly bmcReachable: boolean | null;
  /** The host the node runs on, as its runtime names it (null until placed). */
  readonly host?: string | null;
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

/** Longest wait before the page opens the event stream again itself. */
const REOPEN_MAX_MS = 10_000;

/**
 * The fleet's event stream; calls back on every message, and with the connection's state. The
 * browser reconnects by itself after most network errors; when it gives up (readyState CLOSED:
 * Firefox does so for an interrupted stream, every browser for a refused one), the page asks whether
 * it is still logged in and either goes to the log-in page or opens the stream again, waiting 1 s,
 * 2 s, … up to 10 s between tries. Each new stream starts with a snapshot, so nothing is missed.
 */
export function watchFleet(onMessage: (message: FleetMessage) => void, onLive: (live: boolean) => void): () => void {
  let source: EventSource | null = null;
  let stopped = false;
  let reopenMs = 1_000;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const open = (): void => {
    const current = new EventSource('/api/v1/events');
    source = current;
    current.onopen = () => {
      reopenMs = 1_000;
      onLive(true);
    };
    current.onerror = () => {
      onLive(false);
      if (current.readyState !== EventSource.CLOSED || stopped) return;
      void api('GET', '/session')
        .then((state) => (state as { authenticated: boolean }).authenticated)
        .catch(() => true)
        .then((authenticated) => {
          if (!authenticated) return goToLogin();
          if (stopped) return;
          timer = setTimeout(open, reopenMs);
          reopenMs = Math.min(REOPEN_MAX_MS, reopenMs * 2);
        });
    };
    current.onmessage = (event: MessageEvent<string>) => onMessage(JSON.parse(event.data) as FleetMessage);
  };
  open();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    source?.close();
  };
}
