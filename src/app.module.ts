/**
 * Root module: the validated config, the scheduler (registered here only, style habit 28), the
 * global validation pipe and API-token guard as providers (so tests get the same behaviour as
 * production, habit 23), and the feature modules.
 */
import { DynamicModule, Logger, Module, OnApplicationShutdown, ValidationPipe } from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ApiTokenGuard } from './common/auth/api-token.guard';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { HealthModule } from './health/health.module';
import { ContainerlabModule } from './containerlab/containerlab.module';
import { DatabaseModule } from './database/database.module';
import { DockerModule } from './docker/docker.module';
import { FleetRedfishModule } from './fleet-redfish/fleet-redfish.module';
import { EventsModule } from './events/events.module';
import { ExportsModule } from './exports/exports.module';
import { MetricsModule } from './metrics/metrics.module';
import { NodesModule } from './nodes/nodes.module';
import { ReconcilerModule } from './reconciler/reconciler.module';
import { WebUiModule } from './web-ui/web-ui.module';
import { ConsolesModule } from './consoles/consoles.module';

@Module({})
export class AppModule implements OnApplicationShutdown {
  private readonly logger = new Logger(AppModule.name);

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        DatabaseModule,
        DockerModule,
        MetricsModule,
        HealthModule,
        NodesModule,
        ContainerlabModule.register({ imports: [NodesModule] }),
        ReconcilerModule,
        EventsModule,
        WebUiModule,
        ConsolesModule,
        FleetRedfishModule,
        ExportsModule,
      ],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
        { provide: APP_GUARD, useClass: ApiTokenGuard },
      ],
    };
  }

  /** Runs after every module's own shutdown hooks (enableShutdownHooks in main.ts). */
  onApplicationShutdown(signal?: string): void {
    this.logger.log(signal === undefined ? 'stopped' : `stopped on ${signal}`);
  }
}
