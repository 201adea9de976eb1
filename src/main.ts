/**
 * Orchestrator entry point: bootstrap only. Validates the environment (printing every bad variable
 * and exiting 1 when something is wrong, including a non-loopback BIND_ADDRESS without API_TOKEN),
 * builds the app, enables shutdown hooks and listens on BIND_ADDRESS:PORT, then starts the fleet
 * Redfish endpoint on BIND_ADDRESS:FLEET_REDFISH_PORT (unless it is `none`).
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import { createApp, OPENAPI_PATH } from './app.factory';
import { AppConfig } from './config/app-config';
import { ConfigValidationError } from './config/env.schema';
import { loadAppConfig } from './config/load-app-config';
import { FleetRedfishServer } from './fleet-redfish/fleet-redfish.server';
import { NodeRuntime } from './runtime/node-runtime';

function readConfigOrExit(): AppConfig | null {
  try {
    return loadAppConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`bmcfleet: refusing to start, ${error.message}\n`);
      process.exitCode = 1;
      return null;
    }
    throw error;
  }
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

async function bootstrap(): Promise<void> {
  const config = readConfigOrExit();
  if (config === null) {
    return;
  }
  const app = await createApp(config, { isTerminal: process.stdout.isTTY === true });
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.bindAddress);
  const url = urlOf(app.getHttpServer().address() as AddressInfo);
  const logger = new Logger('Bootstrap');
  logger.log(`listening on ${url} (OpenAPI at ${url}/${OPENAPI_PATH})`);
  await app.get(FleetRedfishServer).listen();
  // Make ready what nodes need now (Docker: build the node image if missing, progress in the log),
  // rather than in the first create.
  app.get(NodeRuntime).prepare().catch((error: unknown) => {
    logger.warn(`node image ${config.nodeImage} not available yet: ${error instanceof Error ? error.message : String(error)}`);
  });
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`bmcfleet: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
