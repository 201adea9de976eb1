/**
 * The fleet Redfish endpoint's HTTPS listener (FLEET_REDFISH_PORT on BIND_ADDRESS): the agent's own
 * HTTPS transport (node-image/src/redfish/https-server.ts: TLS 1.2+, never plain HTTP, 1 MiB bodies,
 * Redfish headers) in front of FleetRedfishService, with the fleet's own certificate: a self-signed
 * EC P-256 one made at first start and kept in DATA_DIR/fleet-redfish (fleet-redfish-tls.ts).
 * Started by main.ts after the API listens (like the API, tests start it only when they need it).
 */
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { startRedfishServer, type RunningRedfishServer } from '../../node-image/src/redfish/https-server';
import type { Logger as AgentLogger } from '../../node-image/src/util/logger';
import { FleetRedfishService } from './fleet-redfish.service';
import { loadFleetTls } from './fleet-redfish-tls';

function nestLogger(logger: Logger): AgentLogger {
  const text = (msg: string, fields?: Record<string, unknown>): string => (fields === undefined ? msg : `${msg} ${JSON.stringify(fields)}`);
  return {
    debug: (msg, fields) => logger.debug(text(msg, fields)),
    info: (msg, fields) => logger.log(text(msg, fields)),
    warn: (msg, fields) => logger.warn(text(msg, fields)),
    error: (msg, fields) => logger.error(text(msg, fields)),
  };
}

@Injectable()
export class FleetRedfishServer implements BeforeApplicationShutdown {
  private readonly logger = new Logger('FleetRedfish');
  private running: RunningRedfishServer | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly service: FleetRedfishService,
  ) {}

  /** The bound port, or null when not listening. */
  get port(): number | null {
    return this.running?.port ?? null;
  }

  /** PEM of the endpoint's certificate (what clients verify against). */
  certificatePem = '';

  /** Listens on BIND_ADDRESS:FLEET_REDFISH_PORT; nothing with FLEET_REDFISH_PORT=none. */
  async listen(): Promise<number | null> {
    const settings = this.config.fleetRedfish;
    if (settings === null || this.running !== null) return this.port;
    const tls = await loadFleetTls(this.config);
    this.certificatePem = tls.cert;
    this.running = await startRedfishServer({
      address: this.config.http.bindAddress,
      port: settings.port,
      tls,
      handle: (req, now) => this.service.handle(req, now),
      clock: () => Date.now(),
      log: nestLogger(this.logger),
    });
    this.logger.log(`fleet Redfish endpoint listening on https://${this.config.http.bindAddress.includes(':') ? `[${this.config.http.bindAddress}]` : this.config.http.bindAddress}:${this.running.port}/redfish/v1 (certificate ${tls.source}, ${tls.certFile})`);
    return this.running.port;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const running = this.running;
    this.running = null;
    await running?.close();
  }
}
