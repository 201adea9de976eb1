/**
 * Builds the Nest application the same way for `npm start` and for integration tests:
 * logger, browser and body checks, the web UI's pages, the /api/v1 prefix and the OpenAPI document. Listening is left
 * to the caller.
 */
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { installHttpHardening } from './common/http/http-hardening';
import { createLogger } from './common/logging/create-logger';
import { AppConfig } from './config/app-config';
import { installWebUi } from './web-ui/web-ui.middleware';

/** Prefix of the fleet API (design.md section 3). */
export const API_PREFIX = 'api/v1';
/** Routes that stay at the root: probes and scrapers expect them there. */
export const UNPREFIXED_ROUTES = ['healthz', 'metrics'];
/** Swagger UI; the JSON document is served at `${OPENAPI_PATH}-json`. */
export const OPENAPI_PATH = 'api/docs';

export interface CreateAppOptions {
  /** Whether stdout is a terminal (colours in text logs). */
  readonly isTerminal?: boolean;
}

export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: createLogger(config.log, options.isTerminal ?? false),
    // JSON only, parsed after the browser checks (installHttpHardening): never a form body.
    bodyParser: false,
  });
  installHttpHardening(app, config.http);
  installWebUi(app);
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('bmcfleet orchestrator')
      .setDescription('Creates, powers and removes simulated bare-metal nodes with real BMCs.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup(OPENAPI_PATH, app, document);
  return app;
}
