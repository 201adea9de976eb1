/**
 * The event bus and the hooks that feed it: boot options (IPMI parameter 5 writes, Redfish writes,
 * a boot consuming "once") and the event log (entries this BMC logs and IPMI Add SEL Entry).
 */
import { MemoryStateStore } from '../state/state-store';
import { BootOptions } from '../bmc/chassis/boot-options';
import { SystemEventLog } from '../bmc/sel/system-event-log';
import { BootOverrideRecord } from './boot-override';
import { BmcEvents, bootOverrideChanges, type BmcDomainEvent } from './bmc-events';
import { EventLog } from './event-log';

const T0 = 1_700_000_000_000;

describe('BmcEvents', () => {
  it('calls listeners in order, synchronously, until they are removed', () => {
    const bus = new BmcEvents();
    const seen: string[] = [];
    const offA = bus.on((e) => seen.push(`a:${e.kind}`));
    bus.on((e) => seen.push(`b:${e.kind}`));
    bus.publish({ kind: 'power', state: 'on', cause: 'command', at: T0 });
    offA();
    bus.mediaChanged({ slot: 'Cd', image: 'http://192.0.2.9/x.iso', inserted: true, at: T0 });
    expect(seen).toEqual(['a:power', 'b:power', 'b:media']);
    expect(bus.listenerCount).toBe(1);
  });

  it('a throwing listener does not stop the others and is reported', () => {
    const errors: string[] = [];
    const bus = new BmcEvents((err, e) => errors.push(`${e.kind}: ${(err as Error).message}`));
    const seen: BmcDomainEvent[] = [];
    bus.on(() => { throw new Error('boom'); });
    bus.on((e) => seen.push(e));
    bus.mediaChanged({ slot: 'UsbStick', image: null, inserted: false, at: T0 });
    expect(errors).toEqual(['media: boom']);
    expect(seen).toEqual([{ kind: 'media', slot: 'UsbStick', image: null, inserted: false, at: T0 }]);
  });
});

describe('boot override changes from either protocol reach the bus once each', () => {
  function setup() {
    const store = new MemoryStateStore();
    const boot = new BootOptions({ store, clock: () => T0 });
    const record = new BootOverrideRecord({ boot, store });
    const seen: string[] = [];
    boot.onChange(bootOverrideChanges(() => record.get(T0), (o) => seen.push(`${o.target}/${o.enabled}/${o.mode}`)));
    return { boot, record, seen };
  }

  it('an IPMI Set of parameter 5, a Redfish write, the same write again, and a boot consuming Once', () => {
    const { boot, record, seen } = setup();
    expect(boot.write(5, false, Buffer.from('a004000000', 'hex'), T0)).toEqual({ ok: true }); // pxe, once, EFI
    record.set({ target: 'uefi-http', enabled: 'once' }, T0);
    record.set({ target: 'uefi-http', enabled: 'once' }, T0);
    boot.takeNextBoot();
    expect(seen).toEqual(['pxe/once/uefi', 'uefi-http/once/uefi', 'none/disabled/uefi']);
  });

  it('writes of other parameters publish nothing', () => {
    const { boot, seen } = setup();
    boot.write(3, false, Buffer.from([0x01]), T0);
    expect(seen).toEqual([]);
  });
});

describe('EventLog.onAdded', () => {
  it('reports entries this BMC logs and records added through IPMI, with their assigned IDs', () => {
    const store = new MemoryStateStore();
    const sel = new SystemEventLog(store);
    const log = new EventLog(sel);
    const seen: Array<[number, string | undefined]> = [];
    const off = log.onAdded((e) => seen.push([e.id, e.event]));
    log.record('power-on', T0);
    sel.add(Buffer.from('0000020000000020000401ff6f01ffff', 'hex'), T0);
    off();
    log.record('power-off', T0);
    expect(seen).toEqual([[1, 'power-on'], [2, undefined]]);
  });
});
