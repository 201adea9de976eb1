/** Media for nodes: IsoLibrary (the abstract class is the DI token) on the file system under ISO_DIR. */
import { Module } from '@nestjs/common';
import { FsIsoLibrary } from './fs-iso-library';
import { IsoLibrary } from './iso-library';

@Module({
  providers: [{ provide: IsoLibrary, useClass: FsIsoLibrary }],
  exports: [IsoLibrary],
})
export class MediaModule {}
