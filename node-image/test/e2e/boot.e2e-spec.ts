/**
 * A node container (bmcfleet/node:latest, TCG) boots the test guest from its CD-ROM in BIOS (SeaBIOS)
 * and UEFI (OVMF) mode, driven only as a user drives a server: ipmitool power commands and `ipmitool
 * sol activate`, with the guest's serial markers read from SOL. The SOL session is opened before the
 * power-on and stays the same one through power cycle and power reset.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkPrerequisites, describeE2e, E2eFleet, GUEST_PROMPT, POWERDOWN_MARKER, randomWord, READY_MARKER, withNodeLogs,
} from './node-container';

describeE2e('node container: CD-ROM boot, SOL and power control', () => {
  const fleet = new E2eFleet('boot');

  beforeAll(() => checkPrerequisites());
  afterAll(() => fleet.cleanup());

  it('BIOS: power on boots the CD, a command typed on SOL runs in the guest, power soft makes the guest power off', async () => {
    const node = await fleet.start();
    await withNodeLogs(node, async () => {
      const sol = await node.sol();
      expect(await node.powerState()).toBe('off');

      const boot = sol.mark();
      expect(await node.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
      const ready = await sol.ready('boot from CD-ROM', boot);
      expect(ready).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
      await sol.expect(GUEST_PROMPT, 'guest shell prompt', { from: ready.end });
      expect(await node.powerState()).toBe('on');

      // The shell echoes the typed line ("echo WORD"); the word alone on a line is the command's output.
      const word = randomWord('e2e');
      const typed = sol.mark();
      sol.run(`echo ${word}`);
      await sol.expect(new RegExp(`\\n${word}\\r?\\n`), 'output of the typed command', { from: typed });

      const soft = sol.mark();
      expect(await node.ipmiOk(['power', 'soft'])).toContain('Chassis Power Control: Soft');
      await sol.expect(POWERDOWN_MARKER, 'the guest sees the ACPI power button', { from: soft, timeoutMs: 60_000 });
      expect(await node.waitForPower('off', 60_000)).toBe('off');
      expect(sol.hasExited).toBe(false);
    });
  });

  it('UEFI: power cycle and power reset while SOL is active boot the guest again, seen in the same SOL session', async () => {
    const node = await fleet.start({ env: { VM_BOOT_MODE: 'uefi' } });
    await withNodeLogs(node, async () => {
      const sol = await node.sol();

      let from = sol.mark();
      expect(await node.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
      expect(await sol.ready('first boot', from)).toMatchObject({ firmware: 'uefi', bootdev: 'cdrom' });

      from = sol.mark();
      expect(await node.ipmiOk(['power', 'cycle'])).toContain('Chassis Power Control: Cycle');
      expect(await sol.ready('boot after power cycle', from)).toMatchObject({ firmware: 'uefi', bootdev: 'cdrom' });

      from = sol.mark();
      expect(await node.ipmiOk(['power', 'reset'])).toContain('Chassis Power Control: Reset');
      expect(await sol.ready('boot after power reset', from)).toMatchObject({ firmware: 'uefi', bootdev: 'cdrom' });

      // One ipmitool session saw all three boots.
      expect(sol.hasExited).toBe(false);
      expect(sol.count(/\[SOL Session operational/)).toBe(1);
      expect(sol.count(READY_MARKER)).toBe(3);
      expect(await node.powerState()).toBe('on');
      // The UEFI variable store is the node's own, beside its disk on /vm.
      expect(existsSync(join(node.vmDir, 'OVMF_VARS.fd'))).toBe(true);
      expect(existsSync(join(node.vmDir, 'disk.qcow2'))).toBe(true);
    });
  });
});
