/**
 * The containerlab hand-off: GET/POST /api/v1/containerlab/topology. The nodes come from a
 * ContainerlabNodeSource, which the importing application provides from the module it names:
 *
 *   ContainerlabModule.register({ imports: [NodesModule] })   // NodesModule exports ContainerlabNodeSource
 *
 * AppConfig (the fleet name, the default lab name) comes from the global AppConfigModule.
 */
import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { ContainerlabController } from './containerlab.controller';
import { ContainerlabService } from './containerlab.service';

export interface ContainerlabModuleOptions {
  /** Modules that export a ContainerlabNodeSource provider. */
  readonly imports: NonNullable<ModuleMetadata['imports']>;
}

@Module({})
export class ContainerlabModule {
  static register(options: ContainerlabModuleOptions): DynamicModule {
    return {
      module: ContainerlabModule,
      imports: [...options.imports],
      controllers: [ContainerlabController],
      providers: [ContainerlabService],
      exports: [ContainerlabService],
    };
  }
}
