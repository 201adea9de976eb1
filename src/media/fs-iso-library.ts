/**
 * IsoLibrary on the orchestrator's file system. A `cdrom` is accepted only when, after realpath
 * (every symbolic link followed), it is still inside realpath(ISO_DIR), is a regular file (never a
 * directory, device, socket or FIFO) and opens read-only. The engine binds the same path on its host,
 * so ISO_DIR must be the same path for both (docs/security.md, "ISO_DIR").
 */
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { constants, Stats } from 'node:fs';
import { lstat, mkdir, open, realpath } from 'node:fs/promises';
import { relative } from 'node:path';
import { AppConfig } from '../config/app-config';
import { messageOf } from '../common/errors/message-of';
import { isInside, isoHostPath, parseCdromRequest } from './cdrom-path';
import { AttachableIso, CdromRejectedError, IsoLibrary } from './iso-library';

/** O_NOFOLLOW: the checked path has no link left; O_NONBLOCK: never wait on something that is not a file. */
const READ_ONLY_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

@Injectable()
export class FsIsoLibrary extends IsoLibrary implements OnModuleInit {
  private readonly logger = new Logger('Media');
  readonly directory: string;

  constructor(config: AppConfig) {
    super();
    this.directory = config.isoDir;
  }

  /** Creates ISO_DIR when it is missing, so operators find where ISOs go; a failure only warns. */
  async onModuleInit(): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o755 });
      this.logger.log(`ISOs a node may attach as cdrom: ${this.directory} (ISO_DIR)`);
    } catch (error) {
      this.logger.warn(`ISO_DIR ${this.directory} cannot be created (${messageOf(error)}); creates with a cdrom will be refused`);
    }
  }

  async resolve(cdrom: string): Promise<AttachableIso> {
    const request = parseCdromRequest(cdrom, this.directory);
    if (!request.ok) throw new CdromRejectedError(request.problem);
    const realDir = await this.realDirectory();
    let realFile: string;
    try {
      realFile = await realpath(isoHostPath(this.directory, request.relativePath));
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') {
        throw new CdromRejectedError(`cdrom ${cdrom}: no such file in ISO_DIR (${this.directory})`);
      }
      throw new CdromRejectedError(`cdrom ${cdrom} cannot be resolved: ${errorCode(error) ?? messageOf(error)}`);
    }
    if (!isInside(realDir, realFile)) {
      throw new CdromRejectedError(`cdrom ${cdrom} resolves to a path outside ISO_DIR (${this.directory}); symbolic links must stay inside it`);
    }
    await this.checkRegularReadable(cdrom, realFile);
    return { path: relative(realDir, realFile) };
  }

  private async realDirectory(): Promise<string> {
    try {
      return await realpath(this.directory);
    } catch (error) {
      throw new CdromRejectedError(`cdrom cannot be attached: ISO_DIR ${this.directory} is not usable (${errorCode(error) ?? messageOf(error)})`);
    }
  }

  /** lstat before open: a device is never opened (opening one can have effects of its own). */
  private async checkRegularReadable(cdrom: string, realFile: string): Promise<void> {
    const stats = await lstat(realFile);
    if (!stats.isFile()) throw new CdromRejectedError(`cdrom ${cdrom} is ${kindOf(stats)}, not a regular file`);
    let handle;
    try {
      handle = await open(realFile, READ_ONLY_FLAGS);
    } catch (error) {
      throw new CdromRejectedError(`cdrom ${cdrom} cannot be opened for reading (${errorCode(error) ?? messageOf(error)})`);
    }
    try {
      const opened = await handle.stat();
      if (!opened.isFile() || opened.ino !== stats.ino || opened.dev !== stats.dev) {
        throw new CdromRejectedError(`cdrom ${cdrom} changed while it was checked; try again`);
      }
    } finally {
      await handle.close();
    }
  }
}
