import { MemoryStateStore, readJson, writeJson } from '../state/state-store';
import {
  DEFAULT_SOL_SETTINGS,
  SET_IN_PROGRESS_TIMEOUT_MS,
  SOL_CONFIG_DOCUMENT,
  SOL_PARAMETER_DATA_LENGTH,
  SolConfig,
  SolParameter,
} from './sol-config';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function readHex(config: SolConfig, parameter: number, now = 0): string {
  const r = config.readParameter(parameter, now);
  if (!r.ok) throw new Error(`parameter ${parameter}: ${r.error}`);
  return r.data.toString('hex');
}

describe('SolConfig', () => {
  let store: MemoryStateStore;
  let sut: SolConfig;

  beforeEach(() => {
    store = new MemoryStateStore();
    sut = new SolConfig({ store, payloadPort: () => 9625 });
  });

  it('answers every parameter with the data of the test BMC capture (`sol info 1`, mini)', () => {
    // Vector 5 "sol info 1 (mini)": the bytes after the revision 0x11.
    expect(readHex(sut, 0)).toBe('00');
    expect(readHex(sut, 1)).toBe('01');
    expect(readHex(sut, 2)).toBe('02');
    expect(readHex(sut, 3)).toBe('0160');
    expect(readHex(sut, 4)).toBe('0732');
    expect(readHex(sut, 5)).toBe('0a');
    expect(readHex(sut, 6)).toBe('0a');
    expect(readHex(sut, 7)).toBe('01');
    expect(readHex(sut, 8)).toBe('9925');
  });

  it('returns exactly the data length ipmitool checks for each parameter', () => {
    for (const [param, length] of Object.entries(SOL_PARAMETER_DATA_LENGTH)) {
      const r = sut.readParameter(Number(param), 0);
      expect(r.ok && r.data.length).toBe(length);
    }
  });

  it.each([9, 0x10, 0xc0, 0xff])('reports parameter %i as unsupported', (param) => {
    expect(sut.readParameter(param, 0)).toEqual({ ok: false, error: 'unsupported' });
    expect(sut.writeParameter(param, Buffer.from([0]), 0)).toEqual({ ok: false, error: 'unsupported' });
    expect(sut.isSupported(param)).toBe(false);
  });

  it('reports the agent port and channel it was given, and refuses writes to them', () => {
    const other = new SolConfig({ store, payloadPort: () => 623, payloadChannel: 3 });
    expect(readHex(other, SolParameter.SolPayloadPort)).toBe('6f02');
    expect(readHex(other, SolParameter.SolPayloadChannel)).toBe('03');
    expect(other.writeParameter(SolParameter.SolPayloadPort, hex('6f 02'), 0)).toEqual({ ok: false, error: 'read-only' });
    expect(other.writeParameter(SolParameter.SolPayloadChannel, hex('01'), 0)).toEqual({ ok: false, error: 'read-only' });
    // Read-only wins over a wrong length.
    expect(other.writeParameter(SolParameter.SolPayloadPort, hex('6f'), 0)).toEqual({ ok: false, error: 'read-only' });
  });

  it.each([
    [SolParameter.SolEnable, '00', '00'],
    [SolParameter.SolAuthentication, 'c4', 'c4'],
    [SolParameter.SolAuthentication, '03', '03'],
    [SolParameter.CharacterAccumulateIntervalAndSendThreshold, '01 00', '0100'],
    [SolParameter.CharacterAccumulateIntervalAndSendThreshold, 'ff ff', 'ffff'],
    [SolParameter.SolRetry, '00 00', '0000'],
    [SolParameter.SolRetry, '03 64', '0364'],
    [SolParameter.SolNonVolatileBitRate, '06', '06'],
    [SolParameter.SolNonVolatileBitRate, '00', '00'],
    [SolParameter.SolVolatileBitRate, '09', '09'],
  ])('parameter %i accepts %s and reads it back', (param, data, back) => {
    expect(sut.writeParameter(param, hex(data), 0)).toEqual({ ok: true });
    expect(readHex(sut, param)).toBe(back);
  });

  it.each([
    [SolParameter.SolEnable, '02'],
    [SolParameter.SolEnable, '81'],
    [SolParameter.SolAuthentication, '00'],
    [SolParameter.SolAuthentication, '06'],
    [SolParameter.SolAuthentication, '12'],
    [SolParameter.SolAuthentication, '24'],
    [SolParameter.CharacterAccumulateIntervalAndSendThreshold, '00 10'],
    [SolParameter.SolRetry, '08 32'],
    [SolParameter.SolNonVolatileBitRate, '05'],
    [SolParameter.SolNonVolatileBitRate, '0b'],
    [SolParameter.SolVolatileBitRate, '1a'],
    [SolParameter.SetInProgress, '03'],
    [SolParameter.SetInProgress, '04'],
  ])('parameter %i refuses %s as invalid and keeps its value', (param, data) => {
    const before = sut.readParameter(param, 0);
    expect(sut.writeParameter(param, hex(data), 0)).toEqual({ ok: false, error: 'invalid' });
    expect(sut.readParameter(param, 0)).toEqual(before);
    expect(store.read(SOL_CONFIG_DOCUMENT)).toBeUndefined();
  });

  it.each([
    [SolParameter.SetInProgress, ''],
    [SolParameter.SolEnable, '01 00'],
    [SolParameter.CharacterAccumulateIntervalAndSendThreshold, '0c'],
    [SolParameter.SolRetry, '07 32 00'],
    [SolParameter.SolVolatileBitRate, ''],
  ])('parameter %i refuses data %p of the wrong length', (param, data) => {
    expect(sut.writeParameter(param, hex(data), 0)).toEqual({ ok: false, error: 'length' });
  });

  describe('set in progress', () => {
    it('claims, refuses a second claim with set-in-progress, and releases on set complete', () => {
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('01'), 1000)).toEqual({ ok: true });
      expect(readHex(sut, SolParameter.SetInProgress, 1001)).toBe('01');
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('01'), 1002)).toEqual({ ok: false, error: 'set-in-progress' });
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('02'), 1003)).toEqual({ ok: true });
      expect(readHex(sut, SolParameter.SetInProgress, 1004)).toBe('01');
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('00'), 1005)).toEqual({ ok: true });
      expect(readHex(sut, SolParameter.SetInProgress, 1006)).toBe('00');
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('01'), 1007)).toEqual({ ok: true });
    });

    it('follows ipmitool `sol set`: in progress, write, commit write, complete', () => {
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('01'), 0)).toEqual({ ok: true });
      expect(sut.writeParameter(SolParameter.SolRetry, hex('05 64'), 1)).toEqual({ ok: true });
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('02'), 2)).toEqual({ ok: true });
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('00'), 3)).toEqual({ ok: true });
      expect(sut.timing()).toMatchObject({ retryCount: 5, retryIntervalMs: 1000 });
    });

    it('lets a claim lapse after the timeout so a dead client cannot lock it', () => {
      sut.writeParameter(SolParameter.SetInProgress, hex('01'), 0);
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('01'), SET_IN_PROGRESS_TIMEOUT_MS - 1)).toEqual({ ok: false, error: 'set-in-progress' });
      expect(readHex(sut, SolParameter.SetInProgress, SET_IN_PROGRESS_TIMEOUT_MS)).toBe('00');
      expect(sut.writeParameter(SolParameter.SetInProgress, hex('01'), SET_IN_PROGRESS_TIMEOUT_MS)).toEqual({ ok: true });
    });

    it('is not persisted', () => {
      sut.writeParameter(SolParameter.SetInProgress, hex('01'), 0);
      expect(readHex(new SolConfig({ store, payloadPort: () => 9625 }), SolParameter.SetInProgress, 1)).toBe('00');
    });
  });

  describe('persistence', () => {
    it('writes sol.json on every accepted change and a new instance reads it back', () => {
      sut.writeParameter(SolParameter.SolEnable, hex('00'), 0);
      sut.writeParameter(SolParameter.SolAuthentication, hex('84'), 0);
      sut.writeParameter(SolParameter.CharacterAccumulateIntervalAndSendThreshold, hex('02 20'), 0);
      sut.writeParameter(SolParameter.SolRetry, hex('03 0a'), 0);
      sut.writeParameter(SolParameter.SolNonVolatileBitRate, hex('07'), 0);
      expect(readJson(store, SOL_CONFIG_DOCUMENT)).toMatchObject({ version: 1, enabled: false, retryCount: 3 });

      const again = new SolConfig({ store, payloadPort: () => 9625 });
      expect(again.settings).toEqual({
        enabled: false,
        forceEncryption: true,
        forceAuthentication: false,
        privilegeLevel: 4,
        characterAccumulateInterval: 2,
        characterSendThreshold: 0x20,
        retryCount: 3,
        retryInterval: 10,
        nonVolatileBitRate: 7,
        volatileBitRate: 7,
      });
    });

    it('starts the volatile bit rate from the non-volatile one after a restart', () => {
      sut.writeParameter(SolParameter.SolNonVolatileBitRate, hex('08'), 0);
      sut.writeParameter(SolParameter.SolVolatileBitRate, hex('06'), 0);
      expect(readHex(sut, SolParameter.SolVolatileBitRate)).toBe('06');
      expect(readHex(new SolConfig({ store, payloadPort: () => 9625 }), SolParameter.SolVolatileBitRate)).toBe('08');
    });

    it('falls back to defaults for a damaged document or out-of-range fields', () => {
      store.write(SOL_CONFIG_DOCUMENT, Buffer.from('{ not json'));
      expect(new SolConfig({ store, payloadPort: () => 1 }).settings).toEqual(DEFAULT_SOL_SETTINGS);
      writeJson(store, SOL_CONFIG_DOCUMENT, { enabled: 'yes', retryCount: 9, privilegeLevel: 0, characterAccumulateInterval: 0, nonVolatileBitRate: 3, retryInterval: 20 });
      expect(new SolConfig({ store, payloadPort: () => 1 }).settings).toEqual({ ...DEFAULT_SOL_SETTINGS, retryInterval: 20 });
      writeJson(store, SOL_CONFIG_DOCUMENT, [1, 2]);
      expect(new SolConfig({ store, payloadPort: () => 1 }).settings).toEqual({ ...DEFAULT_SOL_SETTINGS });
    });
  });

  it('converts to channel timing in milliseconds', () => {
    expect(sut.timing()).toEqual({ retryCount: 7, retryIntervalMs: 500, characterAccumulateIntervalMs: 5, characterSendThreshold: 96 });
  });
});
