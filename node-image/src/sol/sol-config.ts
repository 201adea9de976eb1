/**
 * SOL configuration parameters: IPMI v2.0 sections 26.2–26.3, table 26-5; reference 7.17.
 * Data lengths are the ones ipmitool 1.8.19 checks (`sol info` rejects any other length).
 *
 * #  name                                  len  layout
 * 0  set in progress                        1   bits 1:0: 00 set complete, 01 set in progress, 10 commit write
 * 1  SOL enable                             1   bit 0
 * 2  SOL authentication                     1   bit 7 force encryption, bit 6 force authentication,
 *                                                bits 3:0 minimum privilege (1 callback … 5 OEM)
 * 3  character accumulate interval / send   2   byte 1 interval in 5 ms units (1-based),
 *    threshold                                   byte 2 send threshold in characters
 * 4  SOL retry                              2   byte 1 bits 2:0 retry count, byte 2 interval in 10 ms
 *                                                units (0 = retries back-to-back)
 * 5  SOL non-volatile bit rate              1   bits 3:0: 0 serial setting, 6 9600, 7 19.2k, 8 38.4k,
 * 6  SOL volatile bit rate                  1                 9 57.6k, 10 115.2k
 * 7  SOL payload channel                    1   read-only: the LAN channel SOL runs on
 * 8  SOL payload port                       2   u16le, read-only: the agent's IPMI UDP port
 *
 * Parameters 1–5 persist in the StateStore document "sol.json". Set-in-progress and the volatile bit
 * rate do not: after a BMC restart the volatile rate starts as the non-volatile one (that is what
 * "volatile" means in table 26-5).
 */
import { StateStore, readJson, writeJson } from '../state/state-store';

export const SolParameter = {
  SetInProgress: 0,
  SolEnable: 1,
  SolAuthentication: 2,
  CharacterAccumulateIntervalAndSendThreshold: 3,
  SolRetry: 4,
  SolNonVolatileBitRate: 5,
  SolVolatileBitRate: 6,
  SolPayloadChannel: 7,
  SolPayloadPort: 8,
} as const;

/** Exact data length of each supported parameter (what ipmitool checks). */
export const SOL_PARAMETER_DATA_LENGTH: Readonly<Record<number, number>> = {
  [SolParameter.SetInProgress]: 1,
  [SolParameter.SolEnable]: 1,
  [SolParameter.SolAuthentication]: 1,
  [SolParameter.CharacterAccumulateIntervalAndSendThreshold]: 2,
  [SolParameter.SolRetry]: 2,
  [SolParameter.SolNonVolatileBitRate]: 1,
  [SolParameter.SolVolatileBitRate]: 1,
  [SolParameter.SolPayloadChannel]: 1,
  [SolParameter.SolPayloadPort]: 2,
};

const READ_ONLY_PARAMETERS: ReadonlySet<number> = new Set([SolParameter.SolPayloadChannel, SolParameter.SolPayloadPort]);

/** Parameter 0 values (bits 1:0). */
export const SetInProgress = {
  SetComplete: 0x00,
  SetInProgress: 0x01,
  CommitWrite: 0x02,
} as const;

/** Parameters 5 and 6, bits 3:0. */
export const SolBitRate = {
  UseSerialSetting: 0x00,
  Rate9600: 0x06,
  Rate19200: 0x07,
  Rate38400: 0x08,
  Rate57600: 0x09,
  Rate115200: 0x0a,
} as const;
const VALID_BIT_RATES: ReadonlySet<number> = new Set(Object.values(SolBitRate));

const SOL_ENABLE_BIT = 0x01;
const FORCE_ENCRYPTION_BIT = 0x80;
const FORCE_AUTHENTICATION_BIT = 0x40;
const PRIVILEGE_MASK = 0x0f;
/** Bits 5:4 of parameter 2 are reserved. */
const AUTHENTICATION_RESERVED_MASK = 0x30;
const RETRY_COUNT_MASK = 0x07;
/** Lowest and highest privilege the spec allows for parameter 2 (callback … OEM). */
const MIN_SOL_PRIVILEGE = 0x1;
const MAX_SOL_PRIVILEGE = 0x5;
const ACCUMULATE_INTERVAL_UNIT_MS = 5;
const RETRY_INTERVAL_UNIT_MS = 10;

/**
 * A client that dies between "set in progress" and "set complete" must not lock parameter 0
 * for ever (it would answer 0x81 to everyone after it); the claim lapses after this long.
 */
export const SET_IN_PROGRESS_TIMEOUT_MS = 60_000;

export const SOL_CONFIG_DOCUMENT = 'sol.json';
const SOL_CONFIG_VERSION = 1;

/** The writable, persisted parameters in the spec's units. */
export interface SolSettings {
  readonly enabled: boolean;
  readonly forceEncryption: boolean;
  readonly forceAuthentication: boolean;
  /** Minimum privilege to activate SOL (Privilege.*). */
  readonly privilegeLevel: number;
  /** Character accumulate interval, 5 ms units, 1..255. */
  readonly characterAccumulateInterval: number;
  /** Character send threshold, characters, 0..255. */
  readonly characterSendThreshold: number;
  /** Retries after the first transmission, 0..7. */
  readonly retryCount: number;
  /** Retry interval, 10 ms units, 0..255. */
  readonly retryInterval: number;
  readonly nonVolatileBitRate: number;
  readonly volatileBitRate: number;
}

/**
 * Defaults: a 5 ms character accumulate interval (a console's first byte and every echo go out at
 * once; while a packet awaits its ACK, output still gathers into the next one), 96 characters,
 * 7 retries × 500 ms, 115.2k, as `sol info` shows them.
 */
export const DEFAULT_SOL_SETTINGS: SolSettings = {
  enabled: true,
  forceEncryption: false,
  forceAuthentication: false,
  privilegeLevel: 0x2,
  characterAccumulateInterval: 1,
  characterSendThreshold: 96,
  retryCount: 7,
  retryInterval: 50,
  nonVolatileBitRate: SolBitRate.Rate115200,
  volatileBitRate: SolBitRate.Rate115200,
};

/** What a SolChannel takes from the configuration, in milliseconds and characters. */
export interface SolTiming {
  readonly retryCount: number;
  readonly retryIntervalMs: number;
  readonly characterAccumulateIntervalMs: number;
  readonly characterSendThreshold: number;
}

export type SolParameterReadResult =
  | { readonly ok: true; readonly data: Buffer }
  | { readonly ok: false; readonly error: 'unsupported' };

export type SolParameterWriteError =
  /** No such parameter. */
  | 'unsupported'
  /** Parameters 7 and 8. */
  | 'read-only'
  /** Data length differs from SOL_PARAMETER_DATA_LENGTH. */
  | 'length'
  /** A value or reserved bit the spec does not allow. */
  | 'invalid'
  /** "Set in progress" while another set is already in progress. */
  | 'set-in-progress';

export type SolParameterWriteResult = { readonly ok: true } | { readonly ok: false; readonly error: SolParameterWriteError };

export interface SolConfigDeps {
  readonly store: StateStore;
  /** Parameter 8, the port Activate Payload names for SOL: IPMI_SOL_PORT, else the port the agent listens on. */
  readonly payloadPort: () => number;
  /** The LAN channel SOL runs on: parameter 7 (default 1). */
  readonly payloadChannel?: number;
}

const DEFAULT_PAYLOAD_CHANNEL = 1;

export class SolConfig {
  readonly payloadChannel: number;
  private current: SolSettings;
  private setInProgressSince: number | undefined;

  constructor(private readonly deps: SolConfigDeps) {
    this.payloadChannel = deps.payloadChannel ?? DEFAULT_PAYLOAD_CHANNEL;
    this.current = loadSettings(deps.store);
  }

  get settings(): SolSettings {
    return this.current;
  }

  /** The retry and accumulate settings a new SolChannel starts with. */
  timing(): SolTiming {
    const s = this.current;
    return {
      retryCount: s.retryCount,
      retryIntervalMs: s.retryInterval * RETRY_INTERVAL_UNIT_MS,
      characterAccumulateIntervalMs: s.characterAccumulateInterval * ACCUMULATE_INTERVAL_UNIT_MS,
      characterSendThreshold: s.characterSendThreshold,
    };
  }

  isSupported(parameter: number): boolean {
    return SOL_PARAMETER_DATA_LENGTH[parameter] !== undefined;
  }

  /** The parameter's data bytes (after the revision byte of the Get response). */
  readParameter(parameter: number, now: number): SolParameterReadResult {
    const s = this.current;
    switch (parameter) {
      case SolParameter.SetInProgress:
        return read(this.setInProgressActive(now) ? SetInProgress.SetInProgress : SetInProgress.SetComplete);
      case SolParameter.SolEnable:
        return read(s.enabled ? SOL_ENABLE_BIT : 0);
      case SolParameter.SolAuthentication:
        return read((s.forceEncryption ? FORCE_ENCRYPTION_BIT : 0) | (s.forceAuthentication ? FORCE_AUTHENTICATION_BIT : 0) | s.privilegeLevel);
      case SolParameter.CharacterAccumulateIntervalAndSendThreshold:
        return read(s.characterAccumulateInterval, s.characterSendThreshold);
      case SolParameter.SolRetry:
        return read(s.retryCount, s.retryInterval);
      case SolParameter.SolNonVolatileBitRate:
        return read(s.nonVolatileBitRate);
      case SolParameter.SolVolatileBitRate:
        return read(s.volatileBitRate);
      case SolParameter.SolPayloadChannel:
        return read(this.payloadChannel);
      case SolParameter.SolPayloadPort:
        return read(this.deps.payloadPort() & 0xff, this.deps.payloadPort() >> 8);
      default:
        return { ok: false, error: 'unsupported' };
    }
  }

  writeParameter(parameter: number, data: Buffer, now: number): SolParameterWriteResult {
    const length = SOL_PARAMETER_DATA_LENGTH[parameter];
    if (length === undefined) return failed('unsupported');
    if (READ_ONLY_PARAMETERS.has(parameter)) return failed('read-only');
    if (data.length !== length) return failed('length');
    const b1 = data[0]!;
    const b2 = data[1] ?? 0;
    const s = this.current;
    switch (parameter) {
      case SolParameter.SetInProgress:
        return this.writeSetInProgress(b1, now);
      case SolParameter.SolEnable:
        if ((b1 & ~SOL_ENABLE_BIT) !== 0) return failed('invalid');
        return this.apply({ ...s, enabled: b1 === SOL_ENABLE_BIT });
      case SolParameter.SolAuthentication: {
        const privilegeLevel = b1 & PRIVILEGE_MASK;
        if ((b1 & AUTHENTICATION_RESERVED_MASK) !== 0) return failed('invalid');
        if (privilegeLevel < MIN_SOL_PRIVILEGE || privilegeLevel > MAX_SOL_PRIVILEGE) return failed('invalid');
        return this.apply({
          ...s,
          forceEncryption: (b1 & FORCE_ENCRYPTION_BIT) !== 0,
          forceAuthentication: (b1 & FORCE_AUTHENTICATION_BIT) !== 0,
          privilegeLevel,
        });
      }
      case SolParameter.CharacterAccumulateIntervalAndSendThreshold:
        // The interval is 1-based (00h reserved); a threshold of 0 is accepted as FreeIPMI allows it.
        if (b1 === 0) return failed('invalid');
        return this.apply({ ...s, characterAccumulateInterval: b1, characterSendThreshold: b2 });
      case SolParameter.SolRetry:
        if ((b1 & ~RETRY_COUNT_MASK) !== 0) return failed('invalid');
        return this.apply({ ...s, retryCount: b1, retryInterval: b2 });
      case SolParameter.SolNonVolatileBitRate:
        if (!VALID_BIT_RATES.has(b1)) return failed('invalid');
        return this.apply({ ...s, nonVolatileBitRate: b1 });
      case SolParameter.SolVolatileBitRate:
        if (!VALID_BIT_RATES.has(b1)) return failed('invalid');
        return this.apply({ ...s, volatileBitRate: b1 });
      default:
        return failed('unsupported');
    }
  }

  private setInProgressActive(now: number): boolean {
    if (this.setInProgressSince === undefined) return false;
    if (now - this.setInProgressSince >= SET_IN_PROGRESS_TIMEOUT_MS) this.setInProgressSince = undefined;
    return this.setInProgressSince !== undefined;
  }

  private writeSetInProgress(value: number, now: number): SolParameterWriteResult {
    switch (value) {
      case SetInProgress.SetComplete:
        this.setInProgressSince = undefined;
        return { ok: true };
      case SetInProgress.SetInProgress:
        if (this.setInProgressActive(now)) return failed('set-in-progress');
        this.setInProgressSince = now;
        return { ok: true };
      case SetInProgress.CommitWrite:
        // Every write is already applied and persisted; commit only confirms.
        return { ok: true };
      default:
        return failed('invalid');
    }
  }

  private apply(next: SolSettings): SolParameterWriteResult {
    this.current = next;
    const { volatileBitRate: _volatile, ...persistent } = next;
    writeJson(this.deps.store, SOL_CONFIG_DOCUMENT, { version: SOL_CONFIG_VERSION, ...persistent });
    return { ok: true };
  }
}

function read(...bytes: number[]): SolParameterReadResult {
  return { ok: true, data: Buffer.from(bytes) };
}

function failed(error: SolParameterWriteError): SolParameterWriteResult {
  return { ok: false, error };
}

function isByte(v: unknown, min = 0, max = 0xff): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Reads sol.json field by field; anything missing or out of range keeps its default. */
function loadSettings(store: StateStore): SolSettings {
  let raw: unknown;
  try {
    raw = readJson<unknown>(store, SOL_CONFIG_DOCUMENT);
  } catch {
    // A damaged document must not keep the BMC from starting; the next write replaces it.
    return DEFAULT_SOL_SETTINGS;
  }
  if (typeof raw !== 'object' || raw === null) return DEFAULT_SOL_SETTINGS;
  const doc = raw as Record<string, unknown>;
  const d = DEFAULT_SOL_SETTINGS;
  const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);
  const byte = (v: unknown, dflt: number, min?: number, max?: number): number => (isByte(v, min, max) ? v : dflt);
  const rate = (v: unknown, dflt: number): number => (isByte(v) && VALID_BIT_RATES.has(v) ? v : dflt);
  const nonVolatileBitRate = rate(doc['nonVolatileBitRate'], d.nonVolatileBitRate);
  return {
    enabled: bool(doc['enabled'], d.enabled),
    forceEncryption: bool(doc['forceEncryption'], d.forceEncryption),
    forceAuthentication: bool(doc['forceAuthentication'], d.forceAuthentication),
    privilegeLevel: byte(doc['privilegeLevel'], d.privilegeLevel, MIN_SOL_PRIVILEGE, MAX_SOL_PRIVILEGE),
    characterAccumulateInterval: byte(doc['characterAccumulateInterval'], d.characterAccumulateInterval, 1),
    characterSendThreshold: byte(doc['characterSendThreshold'], d.characterSendThreshold),
    retryCount: byte(doc['retryCount'], d.retryCount, 0, RETRY_COUNT_MASK),
    retryInterval: byte(doc['retryInterval'], d.retryInterval),
    nonVolatileBitRate,
    volatileBitRate: nonVolatileBitRate,
  };
}
