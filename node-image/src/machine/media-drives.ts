/**
 * The machine's removable-media drives, as virtual media sees them: a CD drive and a USB stick
 * port, each holding at most one medium given by URL. The machine streams the medium from the URL
 * (it never copies it first) and keeps it across power cycles and restarts of its emulator: a
 * medium set while the machine is off is attached at its next start.
 */

export type MediaDriveId = 'cd' | 'usb';

export interface RemoteMedium {
  /** http:// or https:// URL of the image (checked by the caller). */
  readonly url: string;
  /** https: check the server's certificate against the system's CA store on every read. */
  readonly verifyTls?: boolean;
}

export interface MediaDrives {
  /**
   * Puts `medium` into `drive` (undefined: empties it). While the machine runs, resolves once the
   * medium is attached (or removed); while it is off, once it is recorded for the next start.
   * Rejects with MachineError when the machine refuses it; the drive then keeps what it had.
   */
  setMedium(drive: MediaDriveId, medium: RemoteMedium | undefined): Promise<void>;
  /** What each drive holds now. */
  media(): ReadonlyMap<MediaDriveId, RemoteMedium>;
}
