/**
 * Virtual media in protocol-neutral terms: two slots, `Cd` and `UsbStick`, each holding at most one
 * image given by an http:// or https:// URL. Redfish VirtualMedia (DSP0268 VirtualMedia v1_6_5) is a
 * view of it; the machine's media drives carry it out (the medium is streamed from the URL, never
 * copied first).
 *
 * Rules:
 * - Only http and https URLs without credentials; `TransferProtocolType`, when given, must agree
 *   with the URL's scheme. Media by URL are read-only: WriteProtected false is refused.
 * - Before a medium is attached, its URL is probed (ImageProbe, with a time limit): an image that
 *   cannot be read leaves the slot as it was and the error names the reason.
 * - A change returns once the machine has the medium (attached while it runs, recorded for its next
 *   start while it is off). Changes run one at a time; `settled()` resolves when none is under way,
 *   which is what a power-on waits for.
 * - The slots are kept in BMC_STATE_DIR (`virtual-media.json`) and handed to the machine again when
 *   the BMC starts (`restore()`), so media stay inserted across BMC and machine restarts.
 * - Every committed change is told to the listeners (`onChange`), e.g. an event service.
 * - `VerifyCertificate` (a setting of the slot, false by default, kept across ejects): when true, an
 *   https image server's certificate must be trusted before the medium is attached: by one of the
 *   slot's own certificates (media-certificates.ts) when it has any, else by the system's CA store;
 *   an untrusted one leaves the slot as it was. With the system store the machine's reads check it
 *   too (QEMU's curl driver, sslverify); QEMU's driver cannot take other CAs, so with the slot's own
 *   certificates the check is the BMC's, before it hands the URL over. When false, nothing is checked.
 */
import type { MediaDriveId, MediaDrives, RemoteMedium } from '../machine/media-drives';
import { MachineError } from '../machine/machine-control';
import { readJson, writeJson, type StateStore } from '../state/state-store';
import type { Logger } from '../util/logger';
import {
  CertificateTextError, MAX_CERTIFICATES_PER_SLOT, parseCertificateText,
  type MediaCertificate, type MediaCertificateType,
} from './media-certificates';
import { silentLogger } from '../util/logger';

export const MEDIA_SLOTS = ['Cd', 'UsbStick'] as const;
export type MediaSlotId = (typeof MEDIA_SLOTS)[number];
export const TRANSFER_PROTOCOLS = ['HTTP', 'HTTPS'] as const;
export type TransferProtocol = (typeof TRANSFER_PROTOCOLS)[number];

const DRIVE_OF: Readonly<Record<MediaSlotId, MediaDriveId>> = { Cd: 'cd', UsbStick: 'usb' };
const STATE_DOC = 'virtual-media.json';
export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

export interface MediaSlotState {
  readonly slot: MediaSlotId;
  /** The image's URL; undefined when the slot is empty. */
  readonly image: string | undefined;
  /** Whether the image is visible to the host (attached to the machine's drive). */
  readonly inserted: boolean;
  readonly writeProtected: boolean;
  readonly transferProtocolType: TransferProtocol | undefined;
  /** Whether an https image server's certificate is verified at insert. */
  readonly verifyCertificate: boolean;
}

/** Whether a slot's image reaches the machine (Redfish ConnectedVia URI). */
export const isConnected = (s: MediaSlotState): boolean => s.image !== undefined && s.inserted;

/** A change of one slot; absent fields stay as they are. `image: null` empties the slot. */
export interface MediaChange {
  readonly image?: string | null;
  readonly inserted?: boolean;
  readonly writeProtected?: boolean;
  readonly transferProtocolType?: TransferProtocol;
  readonly verifyCertificate?: boolean;
}

export type VirtualMediaErrorCode =
  | 'bad-url' | 'scheme-not-supported' | 'protocol-mismatch' | 'read-only' | 'in-use'
  | 'unreachable' | 'untrusted' | 'image-refused' | 'no-drives' | 'machine-failed'
  | 'bad-certificate' | 'too-many-certificates';

export class VirtualMediaError extends Error {
  constructor(readonly code: VirtualMediaErrorCode, message: string) {
    super(message);
    this.name = 'VirtualMediaError';
  }
}

/** The outcome of reading an image URL's headers. */
export type ProbeResult =
  | { readonly ok: true; readonly sizeBytes: number | undefined }
  /**
   * unreachable: no HTTP answer (DNS, connection, TLS, time limit); untrusted: the server's
   * certificate failed verification; refused: an answer that says no.
   */
  | { readonly ok: false; readonly reason: 'unreachable' | 'untrusted' | 'refused'; readonly message: string };

/** How the probe treats an https server's certificate. */
export type ProbeTls =
  | { readonly verify: false }
  /** ca: the PEM certificates to trust instead of the system's CA store (undefined: the store). */
  | { readonly verify: true; readonly ca: readonly string[] | undefined };

/** Checks that an image can be read by byte ranges (the adapter: media/http-image-probe.ts). */
export interface ImageProbe {
  probe(url: URL, timeoutMs: number, tls: ProbeTls): Promise<ProbeResult>;
}

export interface MediaEvent {
  readonly kind: 'inserted' | 'ejected' | 'changed';
  readonly state: MediaSlotState;
}

export interface VirtualMediaDeps {
  readonly store: StateStore;
  /** The machine's drives; without them nothing can be inserted. */
  readonly drives: MediaDrives | undefined;
  readonly probe: ImageProbe;
  readonly probeTimeoutMs?: number;
  readonly log?: Logger;
}

/**
 * The URL of an image, checked: absolute, http or https, no credentials, and in agreement with the
 * TransferProtocolType when one is given. Pure.
 */
export function parseImageUrl(image: string, protocol?: TransferProtocol): { url: URL; protocol: TransferProtocol } {
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    throw new VirtualMediaError('bad-url', `'${image}' is not an absolute URL (expected http:// or https://)`);
  }
  const scheme = url.protocol.slice(0, -1).toUpperCase();
  if (scheme !== 'HTTP' && scheme !== 'HTTPS') {
    throw new VirtualMediaError('scheme-not-supported', `the scheme '${url.protocol}' is not supported: images are read by http:// or https:// only`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new VirtualMediaError('bad-url', 'credentials inside the image URL are not accepted');
  }
  if (url.hostname === '') throw new VirtualMediaError('bad-url', `'${image}' names no host`);
  if (protocol !== undefined && protocol !== scheme) {
    throw new VirtualMediaError('protocol-mismatch', `TransferProtocolType ${protocol} does not match the URL's scheme ${url.protocol}`);
  }
  return { url, protocol: scheme };
}

const empty = (slot: MediaSlotId, verifyCertificate: boolean): MediaSlotState => ({ slot, image: undefined, inserted: false, writeProtected: true, transferProtocolType: undefined, verifyCertificate });

interface StoredSlots {
  readonly slots: Partial<Record<MediaSlotId, { image?: string; inserted?: boolean; writeProtected?: boolean; transferProtocolType?: TransferProtocol }>>;
  /** Settings of every slot, with or without an image. */
  readonly settings?: Partial<Record<MediaSlotId, { verifyCertificate?: boolean; certificates?: MediaCertificate[] }>>;
}

export class VirtualMediaService {
  private readonly state = new Map<MediaSlotId, MediaSlotState>();
  private readonly certs = new Map<MediaSlotId, readonly MediaCertificate[]>();
  private readonly listeners = new Set<(event: MediaEvent) => void>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly deps: VirtualMediaDeps) {
    this.log = deps.log ?? silentLogger;
    const doc = readJson<StoredSlots>(deps.store, STATE_DOC);
    const stored = doc?.slots ?? {};
    for (const slot of MEDIA_SLOTS) {
      const s = stored[slot];
      const settings = doc?.settings?.[slot];
      const verifyCertificate = settings?.verifyCertificate === true;
      this.certs.set(slot, settings?.certificates ?? []);
      this.state.set(slot, s?.image === undefined ? empty(slot, verifyCertificate) : {
        slot, image: s.image, inserted: s.inserted ?? true, writeProtected: true,
        transferProtocolType: s.transferProtocolType, verifyCertificate,
      });
    }
  }

  slots(): MediaSlotState[] {
    return MEDIA_SLOTS.map((s) => this.state.get(s)!);
  }

  slot(id: MediaSlotId): MediaSlotState {
    return this.state.get(id)!;
  }

  /** The certificates `id` trusts for its image server when VerifyCertificate is true. */
  certificates(id: MediaSlotId): readonly MediaCertificate[] {
    return this.certs.get(id)!;
  }

  /** Adds a trusted certificate to the slot (Redfish POST to its Certificates collection). */
  addCertificate(id: MediaSlotId, text: string, type: MediaCertificateType): Promise<MediaCertificate> {
    return this.serially(async () => {
      const current = this.certificates(id);
      if (current.length >= MAX_CERTIFICATES_PER_SLOT) {
        throw new VirtualMediaError('too-many-certificates', `${id} already has ${MAX_CERTIFICATES_PER_SLOT} certificates, the most it keeps: delete one first`);
      }
      let pem: string;
      try {
        pem = parseCertificateText(text, type);
      } catch (err) {
        if (err instanceof CertificateTextError) throw new VirtualMediaError('bad-certificate', err.message);
        throw err;
      }
      const next = 1 + current.reduce((max, c) => Math.max(max, Number(c.id) || 0), 0);
      const cert: MediaCertificate = { id: String(next), type, pem };
      this.certs.set(id, [...current, cert]);
      this.persist();
      return cert;
    });
  }

  /** Removes one of the slot's certificates; false when it has none by that id. */
  removeCertificate(id: MediaSlotId, certId: string): Promise<boolean> {
    return this.serially(async () => {
      const current = this.certificates(id);
      const kept = current.filter((c) => c.id !== certId);
      if (kept.length === current.length) return false;
      this.certs.set(id, kept);
      this.persist();
      return true;
    });
  }

  /** Calls `listener` after every committed change; returns the function that stops it. */
  onChange(listener: (event: MediaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Resolves when no change is under way (a power-on waits for media still attaching). */
  async settled(): Promise<void> {
    for (;;) {
      const current = this.chain;
      await current.catch(() => undefined);
      if (current === this.chain) return;
    }
  }

  /** Hands the kept media to the machine (at BMC start; the machine attaches them when it starts). */
  restore(): Promise<void> {
    return this.serially(async () => {
      for (const s of this.slots()) {
        if (!isConnected(s) || !this.deps.drives) continue;
        await this.deps.drives.setMedium(DRIVE_OF[s.slot], this.medium(s)).catch((err: unknown) => {
          this.log.error('virtual media: could not hand a kept medium to the machine', { slot: s.slot, image: s.image, error: String(err) });
        });
      }
    });
  }

  /** InsertMedia: the slot must be empty. */
  insert(id: MediaSlotId, req: { image: string; inserted?: boolean; writeProtected?: boolean; transferProtocolType?: TransferProtocol }): Promise<MediaSlotState> {
    return this.serially(async () => {
      const current = this.slot(id);
      if (current.image !== undefined) {
        throw new VirtualMediaError('in-use', `${id} already holds ${current.image}: eject it first`);
      }
      return this.apply(id, { image: req.image, inserted: req.inserted ?? true, writeProtected: req.writeProtected ?? true, ...(req.transferProtocolType ? { transferProtocolType: req.transferProtocolType } : {}) });
    });
  }

  /** EjectMedia: empties the slot (nothing to do when it is empty). */
  eject(id: MediaSlotId): Promise<MediaSlotState> {
    return this.serially(() => this.apply(id, { image: null }));
  }

  /** A partial change (Redfish PATCH): a new Image replaces the old one. */
  update(id: MediaSlotId, change: MediaChange): Promise<MediaSlotState> {
    return this.serially(() => this.apply(id, change));
  }

  private async apply(id: MediaSlotId, change: MediaChange): Promise<MediaSlotState> {
    const prev = this.slot(id);
    if (change.writeProtected === false) {
      throw new VirtualMediaError('read-only', 'media by URL are read-only: WriteProtected must be true');
    }
    const verifyCertificate = change.verifyCertificate ?? prev.verifyCertificate;
    let next: MediaSlotState;
    if (change.image === null) {
      next = empty(id, verifyCertificate);
    } else {
      const image = change.image ?? prev.image;
      if (image === undefined) {
        if (change.inserted === true) throw new VirtualMediaError('bad-url', `${id} holds no image to insert: give Image`);
        if (verifyCertificate !== prev.verifyCertificate) this.commit({ ...prev, verifyCertificate });
        return this.slot(id);
      }
      const protocol = change.transferProtocolType ?? (change.image === undefined ? prev.transferProtocolType : undefined);
      const parsed = parseImageUrl(image, protocol);
      next = { slot: id, image, inserted: change.inserted ?? (change.image !== undefined ? true : prev.inserted), writeProtected: true, transferProtocolType: parsed.protocol, verifyCertificate };
    }
    // A new VerifyCertificate applies from the next attach on (the medium in use stays as it is).
    const attach = isConnected(next) && (!isConnected(prev) || next.image !== prev.image);
    const detach = isConnected(prev) && !isConnected(next);
    if (attach) {
      await this.checkReadable(next);
      await this.drive(id, this.medium(next));
    } else if (detach) {
      await this.drive(id, undefined);
    }
    this.commit(next);
    const kind: MediaEvent['kind'] = prev.image === undefined && next.image !== undefined ? 'inserted' : next.image === undefined ? 'ejected' : 'changed';
    if (prev.image !== next.image || prev.inserted !== next.inserted) {
      this.log.info(`virtual media ${kind}`, { slot: id, image: next.image ?? prev.image, inserted: next.inserted });
      for (const l of [...this.listeners]) {
        try { l({ kind, state: next }); } catch (err) { this.log.error('virtual media listener failed', { error: String(err) }); }
      }
    }
    return next;
  }

  private async checkReadable(s: MediaSlotState): Promise<void> {
    const own = this.certificates(s.slot);
    const tls: ProbeTls = s.verifyCertificate ? { verify: true, ca: own.length > 0 ? own.map((c) => c.pem) : undefined } : { verify: false };
    const result = await this.deps.probe.probe(new URL(s.image!), this.deps.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS, tls);
    if (!result.ok) throw new VirtualMediaError(result.reason === 'refused' ? 'image-refused' : result.reason, `${s.image!}: ${result.message}`);
  }

  /** What the machine is given for a connected slot: its URL, and whether its reads check TLS. */
  private medium(s: MediaSlotState): RemoteMedium {
    // With the slot's own certificates the BMC has checked them (the machine cannot take other CAs).
    return { url: s.image!, ...(s.verifyCertificate && this.certificates(s.slot).length === 0 ? { verifyTls: true } : {}) };
  }

  private async drive(id: MediaSlotId, medium: RemoteMedium | undefined): Promise<void> {
    const drives = this.deps.drives;
    if (!drives) {
      if (medium === undefined) return;
      throw new VirtualMediaError('no-drives', 'this machine has no virtual media drives');
    }
    try {
      await drives.setMedium(DRIVE_OF[id], medium);
    } catch (err) {
      if (!(err instanceof MachineError)) throw err;
      throw new VirtualMediaError('machine-failed', `the machine did not ${medium === undefined ? 'eject' : 'attach'} the ${id} medium: ${err.message}`);
    }
  }

  private commit(next: MediaSlotState): void {
    this.state.set(next.slot, next);
    this.persist();
  }

  private persist(): void {
    const slots: StoredSlots['slots'] = {};
    const settings: NonNullable<StoredSlots['settings']> = {};
    for (const s of this.slots()) {
      if (s.image !== undefined) slots[s.slot] = { image: s.image, inserted: s.inserted, writeProtected: s.writeProtected, ...(s.transferProtocolType ? { transferProtocolType: s.transferProtocolType } : {}) };
      const certificates = this.certificates(s.slot);
      if (s.verifyCertificate || certificates.length > 0) settings[s.slot] = { verifyCertificate: s.verifyCertificate, certificates: [...certificates] };
    }
    writeJson(this.deps.store, STATE_DOC, { slots, settings } satisfies StoredSlots);
  }

  /** Runs `task` after every change queued before it. */
  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
