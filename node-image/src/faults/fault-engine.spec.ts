import { FaultEngine, pathMatches, seededPrng } from './fault-engine';
import { MemoryStateStore } from '../state/state-store';
import { BmcFaults, FAULT_RULES_DOCUMENT, hasSavedFaultRules } from './bmc-faults';
import { FaultRuleError, parseFaultRule } from './fault-rules';

const chassisStatus = { protocol: 'ipmi', stage: 'command', netFn: 0x00, cmd: 0x01 } as const;
const datagram = { protocol: 'ipmi', stage: 'datagram' } as const;

describe('parseFaultRule', () => {
  it('accepts hex strings and numbers for IPMI fields', () => {
    const r = parseFaultRule({ match: { protocol: 'ipmi', netFn: '0x00', cmd: 1 }, action: { kind: 'completion-code', code: '0xC0' }, when: { maxTimes: 2 } });
    expect(r).toEqual({ match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2 } });
  });
  it.each([
    [{ match: { protocol: 'snmp' }, action: { kind: 'drop' } }, 'match.protocol must be one of ipmi, redfish, sol, power'],
    [{ match: { protocol: 'ipmi', netFn: 64 }, action: { kind: 'drop' } }, 'match.netFn must be an integer from 0 to 63'],
    [{ match: { protocol: 'redfish', netFn: 0 }, action: { kind: 'drop' } }, 'match.netFn and match.cmd apply to protocol ipmi only'],
    [{ match: { protocol: 'redfish' }, action: { kind: 'drop' } }, 'action.kind must be one of delay, http-status, stop-answering, bmc-reboot, session-expiry for protocol redfish'],
    [{ match: { protocol: 'ipmi' }, action: { kind: 'delay' } }, 'action.ms must be an integer from 1 to 86400000'],
    [{ match: { protocol: 'ipmi' }, action: { kind: 'drop', ms: 3 } }, 'action.ms is not a known field (allowed: kind)'],
    [{ match: { protocol: 'ipmi' }, action: { kind: 'drop' }, when: { probability: 0 } }, 'when.probability must be a number greater than 0 and at most 1'],
    [{ match: { protocol: 'redfish', path: 'Systems' }, action: { kind: 'delay', ms: 5 } }, 'match.path must be a path starting with /'],
    [[], 'rule must be an object'],
  ])('refuses %j: %s', (body, message) => {
    expect(() => parseFaultRule(body)).toThrow(FaultRuleError);
    expect(() => parseFaultRule(body)).toThrow(message);
  });
});

describe('FaultEngine', () => {
  it('answers busy twice, then lets the command through', () => {
    const e = new FaultEngine();
    e.add(parseFaultRule({ match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2 } }), 0);
    expect(e.decide(chassisStatus, 1)).toMatchObject({ kind: 'apply', action: { kind: 'completion-code', code: 0xc0 }, times: 1 });
    expect(e.decide(datagram, 1)).toBeNull();
    expect(e.decide({ ...chassisStatus, cmd: 2 }, 1)).toBeNull();
    expect(e.decide(chassisStatus, 2)).toMatchObject({ times: 2 });
    expect(e.decide(chassisStatus, 3)).toBeNull();
    expect(e.list()[0]).toMatchObject({ matches: 2, applied: 2 });
    expect(e.totals.get('completion-code')).toBe(2);
  });

  it('lets afterMatches requests through first and stops after durationMs', () => {
    const e = new FaultEngine();
    e.add(parseFaultRule({ match: { protocol: 'ipmi' }, action: { kind: 'drop' }, when: { afterMatches: 2, durationMs: 100 } }), 1000);
    expect([e.decide(datagram, 1000), e.decide(datagram, 1001)]).toEqual([null, null]);
    expect(e.decide(datagram, 1050)).toMatchObject({ action: { kind: 'drop' } });
    expect(e.decide(datagram, 1100)).toBeNull();
  });

  it('silences IPMI and SOL for the stop-answering window, then recovers', () => {
    const e = new FaultEngine();
    e.add(parseFaultRule({ match: { protocol: 'ipmi' }, action: { kind: 'stop-answering', ms: 8000 }, when: { maxTimes: 1 } }), 0);
    expect(e.decide(datagram, 10)).toMatchObject({ kind: 'apply', action: { kind: 'stop-answering' } });
    expect(e.decide(datagram, 5000)).toEqual({ kind: 'silent', until: 8010 });
    expect(e.decide({ protocol: 'sol' }, 5000)).toEqual({ kind: 'silent', until: 8010 });
    expect(e.decide({ protocol: 'redfish', method: 'GET', path: '/redfish/v1' }, 5000)).toBeNull();
    expect(e.decide(datagram, 8010)).toBeNull();
    expect(e.totals.get('silent')).toBe(2);
  });

  it('a BMC reboot silences every protocol; clearing all rules ends it', () => {
    const e = new FaultEngine();
    e.add(parseFaultRule({ match: { protocol: 'redfish' }, action: { kind: 'bmc-reboot', ms: 1000 } }), 0);
    expect(e.decide({ protocol: 'redfish', method: 'GET', path: '/redfish/v1' }, 0)).toMatchObject({ action: { kind: 'bmc-reboot' } });
    expect(e.decide(datagram, 1)).toMatchObject({ kind: 'silent' });
    expect(e.clear()).toBe(1);
    expect(e.decide(datagram, 2)).toBeNull();
  });

  it('session expiry acts on requests in a session only (IPMI at the command stage, Redfish with a token)', () => {
    const e = new FaultEngine();
    e.add(parseFaultRule({ match: { protocol: 'ipmi' }, action: { kind: 'session-expiry' }, when: { maxTimes: 1 } }), 0);
    e.add(parseFaultRule({ match: { protocol: 'redfish' }, action: { kind: 'session-expiry' } }), 0);
    expect(e.decide(datagram, 1)).toBeNull();
    expect(e.decide({ ...chassisStatus, inSession: false }, 1)).toBeNull();
    expect(e.decide({ ...chassisStatus, inSession: true }, 1)).toMatchObject({ kind: 'apply', ruleId: 'f1', action: { kind: 'session-expiry' } });
    expect(e.decide({ ...chassisStatus, inSession: true }, 2)).toBeNull();
    expect(e.decide({ protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/1' }, 3)).toBeNull();
    expect(e.decide({ protocol: 'redfish', method: 'GET', path: '/redfish/v1/Systems/1', inSession: true }, 3)).toMatchObject({ kind: 'apply', ruleId: 'f2' });
    expect(() => parseFaultRule({ match: { protocol: 'sol' }, action: { kind: 'session-expiry' } })).toThrow('action.kind must be one of drop, delay, duplicate, stop-answering, sol-deactivate for protocol sol');
  });

  it('matches Redfish method, path pattern and reset type', () => {
    const e = new FaultEngine();
    e.add(parseFaultRule({ match: { protocol: 'redfish', method: 'POST', path: '/redfish/v1/Systems/*/Actions/ComputerSystem.Reset', resetType: 'On' }, action: { kind: 'http-status', status: 409 } }), 0);
    const reset = { protocol: 'redfish', method: 'POST', path: '/redfish/v1/Systems/node1/Actions/ComputerSystem.Reset' } as const;
    expect(e.decide({ ...reset, resetType: 'ForceOff' }, 0)).toBeNull();
    expect(e.decide({ ...reset, method: 'GET', resetType: 'On' }, 0)).toBeNull();
    expect(e.decide({ ...reset, resetType: 'on' }, 0)).toMatchObject({ action: { kind: 'http-status', status: 409 } });
  });

  it('draws probabilities from the rule seed, the same way every time', () => {
    const run = (): boolean[] => {
      const e = new FaultEngine();
      e.add(parseFaultRule({ match: { protocol: 'sol' }, action: { kind: 'drop' }, when: { probability: 0.5, seed: 42 } }), 0);
      return Array.from({ length: 200 }, () => e.decide({ protocol: 'sol' }, 0) !== null);
    };
    const a = run();
    expect(run()).toEqual(a);
    const hits = a.filter(Boolean).length;
    expect(hits).toBeGreaterThan(70);
    expect(hits).toBeLessThan(130);
  });

  it('removes one rule by id and refuses more than the limit', () => {
    const e = new FaultEngine({ maxRules: 2 });
    const spec = parseFaultRule({ match: { protocol: 'power' }, action: { kind: 'power-stuck' } });
    const a = e.add(spec, 0);
    e.add(spec, 0);
    expect(() => e.add(spec, 0)).toThrow('at most 2 fault rules per BMC');
    expect(e.clear(a.id)).toBe(1);
    expect(e.clear('f999')).toBe(0);
    expect(e.list()).toHaveLength(1);
  });

  it('path patterns: * is one segment, a trailing ** any rest', () => {
    expect(pathMatches('/redfish/v1/Managers/*/VirtualMedia/*/Actions/**', '/redfish/v1/Managers/bmc/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia')).toBe(true);
    expect(pathMatches('/redfish/v1/Systems/*', '/redfish/v1/Systems/a/b')).toBe(false);
    expect(pathMatches('/redfish/v1/', '/redfish/v1')).toBe(true);
    expect(seededPrng(1)()).toBe(seededPrng(1)());
  });
});

describe('fault rules kept in the BMC state', () => {
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const busyTwice = parseFaultRule({ match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2, durationMs: 60_000 } });

  it('comes back with its ids, time added and counts; a spent rule stays spent', () => {
    const store = new MemoryStateStore();
    const first = new BmcFaults({ clock: () => 0, log: quiet });
    first.keepIn(store);
    first.engine.add(busyTwice, 1000);
    first.engine.add(parseFaultRule({ match: { protocol: 'sol' }, action: { kind: 'drop' } }), 1000);
    expect(first.engine.decide(chassisStatus, 1001)).toMatchObject({ ruleId: 'f1', times: 1 });
    expect(hasSavedFaultRules(store)).toBe(true);

    const second = new BmcFaults({ clock: () => 0, log: quiet });
    second.keepIn(store);
    expect(second.engine.list().map((r) => [r.id, r.addedAt, r.matches, r.applied])).toEqual([['f1', 1000, 1, 1], ['f2', 1000, 0, 0]]);
    expect(second.engine.decide(chassisStatus, 2000)).toMatchObject({ ruleId: 'f1', times: 2 });
    expect(second.engine.decide(chassisStatus, 2001)).toBeNull();
    expect(second.engine.add(busyTwice, 3000).id).toBe('f3');
    // durationMs counts from when the rule was added, not from the restart.
    const third = new BmcFaults({ clock: () => 0, log: quiet });
    third.keepIn(store);
    expect(third.engine.decide(chassisStatus, 61_000)).toMatchObject({ ruleId: 'f3', times: 1 });
    expect(third.engine.decide(chassisStatus, 63_001)).toBeNull();
  });

  it('leaves no document once every rule is removed', () => {
    const store = new MemoryStateStore();
    const faults = new BmcFaults({ clock: () => 0, log: quiet });
    faults.keepIn(store);
    faults.engine.add(busyTwice, 0);
    faults.engine.clear();
    expect(store.read(FAULT_RULES_DOCUMENT)).toBeUndefined();
    expect(hasSavedFaultRules(store)).toBe(false);
    const again = new BmcFaults({ clock: () => 0, log: quiet });
    again.keepIn(store);
    expect(again.engine.list()).toEqual([]);
  });
});
