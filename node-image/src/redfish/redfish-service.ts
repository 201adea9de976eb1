/**
 * The Redfish service of one BMC, without a socket: the routes of every resource over the core,
 * the session table and the authenticator. `handle(request, now)` is all a transport needs.
 */
import type { BmcCore } from '../core/bmc-core';
import type { Logger } from '../util/logger';
import { createAuthenticator } from './authenticator';
import type { RedfishRequest, RedfishResponse } from './http-types';
import { RedfishRouter, type Route } from './router';
import { SessionTable } from './session-table';
import { accountRoutes } from './resources/accounts';
import { chassisRoutes, managerRoutes } from './resources/managers';
import { serviceRootRoutes } from './resources/service-root';
import { sessionRoutes } from './resources/sessions';
import { systemRoutes } from './resources/systems';
import { SERIAL_CONSOLE_LOG, serialConsoleLogRoutes } from './resources/serial-console-log';
import type { SerialHistory } from '../console/serial-history';
import { virtualMediaRoutes } from './resources/virtual-media';
import { systemInventoryRoutes } from './resources/system-inventory';
import { biosRoutes } from './resources/bios';
import { chassisSensorRoutes } from './resources/chassis-sensors';
import { networkProtocolRoutes } from './resources/network-protocol';
import { eventServiceRoutes } from './resources/event-service';
import { taskServiceRoutes } from './resources/task-service';
import { EventHub } from './events/event-hub';
import { httpEventPoster, type EventPoster } from './events/event-delivery';
import { taskRecord } from './events/event-records';
import { TaskTable } from './tasks/task-table';
import { P } from './resources/paths';
import { MemoryStateStore, type StateStore } from '../state/state-store';

export interface RedfishServiceDeps {
  readonly core: BmcCore;
  readonly random: (n: number) => Buffer;
  readonly log: Logger;
  /** Where event subscriptions and settings are kept (BMC_STATE_DIR); default: memory only. */
  readonly store?: StateStore;
  /** Outbound delivery of push events; default: HTTP(S) POSTs (events/event-delivery.ts). */
  readonly post?: EventPoster;
  /** REDFISH_EVENT_ALLOW_LOOPBACK: event destinations may be loopback addresses. */
  readonly allowEventLoopback?: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The host serial console's history: served as the Manager's SerialConsole log service. */
  readonly serialHistory?: SerialHistory;
}

export class RedfishService {
  readonly sessions: SessionTable;
  readonly routes: readonly Route[];
  readonly events: EventHub;
  readonly tasks: TaskTable;
  private readonly router: RedfishRouter;
  private detach: (() => void) | undefined;

  constructor(private readonly deps: RedfishServiceDeps) {
    this.sessions = new SessionTable(deps.random);
    const allowLoopback = deps.allowEventLoopback ?? false;
    this.events = new EventHub({
      store: deps.store ?? new MemoryStateStore(), log: deps.log, allowLoopback,
      post: deps.post ?? httpEventPoster({ allowLoopback }),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
    this.tasks = new TaskTable({
      clock: () => deps.core.clock(),
      onChange: (change, task) => this.events.publish([taskRecord(change === 'started' ? 'TaskStarted' : change === 'completed' ? 'TaskCompletedOK' : 'TaskAborted', task.id, `${P.tasks}/${task.id}`, deps.core.clock())]),
    });
    this.routes = [
      ...serviceRootRoutes(deps.core),
      ...sessionRoutes(deps.core.accounts, this.sessions),
      ...accountRoutes(deps.core.accounts),
      ...systemRoutes(deps.core, this.tasks),
      ...systemInventoryRoutes(deps.core),
      ...biosRoutes(deps.core),
      ...managerRoutes(deps.core, deps.serialHistory ? [SERIAL_CONSOLE_LOG.service] : []),
      ...(deps.serialHistory ? serialConsoleLogRoutes(deps.serialHistory) : []),
      ...networkProtocolRoutes(deps.core),
      ...chassisRoutes(deps.core),
      ...virtualMediaRoutes(deps.core),
      ...chassisSensorRoutes(deps.core),
      ...eventServiceRoutes(this.events, (p) => () => {
        const now = deps.core.clock();
        if (p.session) return this.sessions.get(p.session.id, now) !== undefined;
        const account = deps.core.accounts.get(p.userId, now);
        return account !== undefined && account.enabled && account.role !== undefined;
      }),
      ...taskServiceRoutes(this.tasks),
    ];
    this.router = new RedfishRouter(this.routes, createAuthenticator(deps.core.accounts, this.sessions, deps.log));
  }

  /** Starts following the core's events (power, boot override, event log, media). */
  start(): void {
    this.detach ??= this.events.attach(this.deps.core.events);
  }

  /** Stops following events, ends SSE streams and drops undelivered push events. */
  close(): void {
    this.detach?.();
    this.detach = undefined;
    this.events.close();
  }

  /**
   * Whether dropping this service now loses nothing a client holds: no session, no task (running or
   * still to be read), no event subscription, no event stream. A farm BMC that serves Redfish rests
   * only then.
   */
  restable(now: number): boolean {
    return this.sessions.list(now).length === 0 && this.tasks.list().length === 0
      && this.events.subscriptions.list().length === 0 && this.events.streamCount === 0;
  }

  handle(req: RedfishRequest, now: number): Promise<RedfishResponse> {
    return this.router.handle(req, now);
  }
}
