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
import { virtualMediaRoutes } from './resources/virtual-media';
import { systemInventoryRoutes } from './resources/system-inventory';
import { biosRoutes } from './resources/bios';
import { chassisSensorRoutes } from './resources/chassis-sensors';
import { networkProtocolRoutes } from './resources/network-protocol';

export interface RedfishServiceDeps {
  readonly core: BmcCore;
  readonly random: (n: number) => Buffer;
  readonly log: Logger;
}

export class RedfishService {
  readonly sessions: SessionTable;
  readonly routes: readonly Route[];
  private readonly router: RedfishRouter;

  constructor(deps: RedfishServiceDeps) {
    this.sessions = new SessionTable(deps.random);
    this.routes = [
      ...serviceRootRoutes(deps.core),
      ...sessionRoutes(deps.core.accounts, this.sessions),
      ...accountRoutes(deps.core.accounts),
      ...systemRoutes(deps.core),
      ...systemInventoryRoutes(deps.core),
      ...biosRoutes(deps.core),
      ...managerRoutes(deps.core),
      ...networkProtocolRoutes(deps.core),
      ...chassisRoutes(deps.core),
      ...virtualMediaRoutes(deps.core),
      ...chassisSensorRoutes(deps.core),
    ];
    this.router = new RedfishRouter(this.routes, createAuthenticator(deps.core.accounts, this.sessions, deps.log));
  }

  handle(req: RedfishRequest, now: number): Promise<RedfishResponse> {
    return this.router.handle(req, now);
  }
}
