import { Listeners } from '../../machine/events';
import type { MachineEvents } from '../../machine/machine-control';
import { MemoryStateStore } from '../../state/state-store';
import {
  CHASSIS_DOCUMENT,
  ChassisState,
  followMachinePower,
  LastPowerEvent,
  RestartCause,
} from './chassis-state';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

const make = (store = new MemoryStateStore()) => ({ sut: new ChassisState({ store }), store });

describe('ChassisState', () => {
  describe('identify', () => {
    it('is off until asked, then timed until its expiry', () => {
      const { sut } = make();
      expect(sut.identifyState(T0)).toBe('off');
      sut.identify(15, T0);
      expect(sut.identifyState(T0 + 14_999)).toBe('timed');
      expect(sut.identifyState(T0 + 15_000)).toBe('off');
    });

    it('0 seconds turns it off; force keeps it on indefinitely', () => {
      const { sut } = make();
      sut.identifyForce();
      expect(sut.identifyState(T0 + 1e9)).toBe('forced');
      sut.identify(0, T0);
      expect(sut.identifyState(T0)).toBe('off');
    });

    it('is volatile', () => {
      const { sut, store } = make();
      sut.identifyForce();
      expect(make(store).sut.identifyState(T0)).toBe('off');
    });
  });

  describe('power restore policy', () => {
    it('defaults to always-off (the machine starts powered off) and persists', () => {
      const { sut, store } = make();
      expect(sut.restorePolicy).toBe('always-off');
      expect(sut.powerOnAtStart()).toBeUndefined();
      sut.setRestorePolicy('always-on');
      const { sut: again } = make(store);
      expect(again.restorePolicy).toBe('always-on');
      expect(again.powerOnAtStart()).toBe(RestartCause.AlwaysRestorePolicy);
    });

    it('"previous" powers on at start only if the machine was on when the BMC went away', () => {
      const { sut, store } = make();
      sut.setRestorePolicy('previous');
      expect(make(store).sut.powerOnAtStart()).toBeUndefined();
      sut.powerChanged('on', 'command', T0);
      expect(make(store).sut.powerOnAtStart()).toBe(RestartCause.RestorePreviousPolicy);
      sut.powerChanged('off', 'command', T0 + MIN);
      expect(make(store).sut.powerOnAtStart()).toBeUndefined();
    });
  });

  describe('power events', () => {
    it('a power-on by command sets "last power event: command" and restart cause "chassis control"', () => {
      const { sut } = make();
      sut.powerChanged('on', 'command', T0);
      expect(sut.lastPowerEvent()).toBe(LastPowerEvent.PowerOnByCommand);
      expect(sut.restartCause()).toEqual({ cause: RestartCause.ChassisControl, channel: 0 });
      sut.recordRestart(RestartCause.ChassisControl, 1);
      expect(sut.restartCause()).toEqual({ cause: RestartCause.ChassisControl, channel: 1 });
    });

    it('a power-on at start follows the policy; other power-ons have an unknown cause', () => {
      const { sut } = make();
      sut.setRestorePolicy('always-on');
      sut.powerChanged('on', 'start', T0);
      expect(sut.restartCause().cause).toBe(RestartCause.AlwaysRestorePolicy);
      expect(sut.lastPowerEvent()).toBe(0);
      sut.powerChanged('off', 'guest', T0 + 1);
      sut.powerChanged('on', 'guest', T0 + 2);
      expect(sut.restartCause().cause).toBe(RestartCause.Unknown);
    });

    it('a failure power-off adds the power fault bit and keeps the command bit', () => {
      const { sut } = make();
      sut.powerChanged('on', 'command', T0);
      sut.powerChanged('off', 'failure', T0 + 1);
      expect(sut.lastPowerEvent()).toBe(LastPowerEvent.PowerOnByCommand | LastPowerEvent.PowerFault);
      sut.powerChanged('on', 'command', T0 + 2);
      expect(sut.lastPowerEvent()).toBe(LastPowerEvent.PowerOnByCommand);
    });

    it('a BMC restart while the machine was on reports AC failed', () => {
      const { sut, store } = make();
      sut.powerChanged('on', 'command', T0);
      expect(make(store).sut.lastPowerEvent()).toBe(LastPowerEvent.PowerOnByCommand | LastPowerEvent.AcFailed);
    });

    it('remembers the restart cause across a BMC restart', () => {
      const { sut, store } = make();
      sut.recordRestart(RestartCause.ChassisControl, 1);
      expect(make(store).sut.restartCause()).toEqual({ cause: RestartCause.ChassisControl, channel: 1 });
    });

    it('power control fault is a plain flag', () => {
      const { sut } = make();
      expect(sut.powerControlFault).toBe(false);
      sut.powerControlFault = true;
      expect(sut.powerControlFault).toBe(true);
    });
  });

  describe('power-on hours', () => {
    it('adds up the time between on and off events, including the running interval', () => {
      const { sut } = make();
      expect(sut.powerOnMinutes(T0)).toBe(0);
      sut.powerChanged('on', 'command', T0);
      expect(sut.powerOnMinutes(T0 + 90 * 1000)).toBe(1);
      sut.powerChanged('off', 'command', T0 + 10 * MIN);
      expect(sut.powerOnMinutes(T0 + 1000 * MIN)).toBe(10);
      sut.powerChanged('on', 'command', T0 + 20 * MIN);
      // a repeated 'on' does not restart the interval
      sut.powerChanged('on', 'command', T0 + 25 * MIN);
      sut.powerChanged('off', 'command', T0 + 30 * MIN);
      expect(sut.powerOnMinutes(T0 + 40 * MIN)).toBe(20);
      expect(sut.pohCounter(T0 + 40 * MIN)).toBe(20);
    });

    it('an off without a preceding on adds nothing', () => {
      const { sut } = make();
      sut.powerChanged('off', 'command', T0 + MIN);
      expect(sut.powerOnMinutes(T0 + 2 * MIN)).toBe(0);
    });

    it('persists completed intervals and checkpoints, not the running one', () => {
      const { sut, store } = make();
      sut.powerChanged('on', 'command', T0);
      sut.powerChanged('off', 'command', T0 + 5 * MIN);
      sut.powerChanged('on', 'command', T0 + 6 * MIN);
      expect(make(store).sut.powerOnMinutes(T0 + 60 * MIN)).toBe(5);
      sut.checkpoint(T0 + 9 * MIN);
      expect(make(store).sut.powerOnMinutes(T0 + 60 * MIN)).toBe(8);
      // the checkpoint does not double count
      expect(sut.powerOnMinutes(T0 + 10 * MIN)).toBe(9);
    });

    it('the counter wraps at 32 bits', () => {
      const store = new MemoryStateStore();
      store.write(CHASSIS_DOCUMENT, Buffer.from(JSON.stringify({ version: 1, powerOnMs: (2 ** 32 + 3) * MIN })));
      expect(make(store).sut.pohCounter(T0)).toBe(3);
    });
  });

  it('starts from defaults when the document is unreadable or holds nonsense', () => {
    const store = new MemoryStateStore();
    store.write(CHASSIS_DOCUMENT, Buffer.from('nope'));
    expect(make(store).sut.restorePolicy).toBe('always-off');
    store.write(CHASSIS_DOCUMENT, Buffer.from(JSON.stringify({ version: 1, restorePolicy: 'sometimes', powerOnMs: -5, lastPowerEvent: 300 })));
    const { sut } = make(store);
    expect(sut.restorePolicy).toBe('always-off');
    expect(sut.powerOnMinutes(T0)).toBe(0);
    expect(sut.lastPowerEvent()).toBe(0);
  });

  it('followMachinePower feeds power events with the clock and unsubscribes', () => {
    const { sut } = make();
    const events = new Listeners<MachineEvents>();
    let now = T0;
    const stop = followMachinePower(events, sut, () => now);
    events.emit('power', 'on', 'command');
    now = T0 + 3 * MIN;
    events.emit('power', 'off', 'command');
    expect(sut.powerOnMinutes(now)).toBe(3);
    stop();
    events.emit('power', 'on', 'command');
    expect(sut.powerOnMinutes(now + 10 * MIN)).toBe(3);
  });
});
