/**
 * A power-on while virtual media is still attaching waits for it (Ironic inserts, then powers on at
 * once): the first boot already has the medium. Real core pieces over the simulated machine.
 */
import { BootOptions } from '../bmc/chassis/boot-options';
import { ChassisState } from '../bmc/chassis/chassis-state';
import { SimMachine } from '../machine/sim-machine';
import { MemoryStateStore } from '../state/state-store';
import { BootOverrideRecord } from './boot-override';
import { PowerService } from './power-service';
import { VirtualMediaService, type ProbeResult } from './virtual-media';

const ISO = 'http://images.example/ramdisk.iso';

describe('power-on and virtual media', () => {
  it('waits for an insert under way; the first boot names the image', async () => {
    const store = new MemoryStateStore();
    const boot = new BootOptions({ store, clock: Date.now });
    const chassis = new ChassisState({ store });
    const machine = new SimMachine({ boot, nodeName: 'n1', powerDelayMs: 0, timing: { firmwareMs: 10_000 } });
    let serial = '';
    machine.on('serial', (d) => { serial += d.toString('latin1'); });
    let answerProbe!: (r: ProbeResult) => void;
    const media = new VirtualMediaService({ store, drives: machine.media, probe: { probe: () => new Promise((resolve) => { answerProbe = resolve; }) } });
    const power = new PowerService({ machine, boot, chassis, mediaSettled: () => media.settled() });
    try {
      expect(new BootOverrideRecord({ boot, store }).set({ target: 'cd', enabled: 'once' }, Date.now())).toEqual({ ok: true });
      const insert = media.insert('Cd', { image: ISO });
      const on = power.perform({ action: 'on', now: Date.now(), channel: 1, answerWithinMs: 10_000, actor: { protocol: 'redfish', user: 'admin', remote: 'test' } });
      await new Promise((r) => setTimeout(r, 50));
      expect(await machine.powerState()).toBe('off');
      answerProbe({ ok: true, sizeBytes: 1 });
      await insert;
      expect(await on).toEqual({ ok: true, before: 'off' });
      expect(await machine.powerState()).toBe('on');
      expect(serial).toContain(`Booting from DVD/CD (virtual media ${ISO})...`);
    } finally {
      await machine.close();
    }
  });
});
