/** Provides PrismaService on DATA_DIR, migrated and connected before any other provider runs. */
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PrismaService } from './prisma.service';

@Global()
@Module({
  providers: [{ provide: PrismaService, inject: [AppConfig], useFactory: (config: AppConfig) => PrismaService.open(config.dataDir) }],
  exports: [PrismaService],
})
export class DatabaseModule {}
