/**
 * The media a node may get as its CD-ROM: regular files inside the operator's ISO directory
 * (ISO_DIR), nothing else. The abstract class is the DI token; FsIsoLibrary (fs-iso-library.ts) is
 * the only code that touches the file system for it.
 */

/** An ISO the API may attach: where it is, as a path relative to ISO_DIR without symbolic links. */
export interface AttachableIso {
  /** Relative to ISO_DIR, e.g. "debian-12.iso" or "debian/netinst.iso"; what the node row stores. */
  readonly path: string;
}

/** Why a `cdrom` value is refused; the message names `cdrom` and the rule (a 400 at the API). */
export class CdromRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CdromRejectedError';
  }
}

export abstract class IsoLibrary {
  /** ISO_DIR as configured (the path the Docker engine binds from). */
  abstract readonly directory: string;
  /**
   * Resolves a request's `cdrom` (a path relative to ISO_DIR, or an absolute path inside it) to a
   * regular, readable file inside ISO_DIR; throws CdromRejectedError otherwise.
   */
  abstract resolve(cdrom: string): Promise<AttachableIso>;
}
