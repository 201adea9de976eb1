/**
 * IPMI boot override on a real node container (SeaBIOS by default, TCG): `chassis bootdev cdrom` for
 * the next boot only, `options=persistent` for every boot, `options=efiboot` for one boot with OVMF on
 * a BIOS node; `chassis bootparam get 5` reads back what was set.
 *
 * The node keeps its defaults: VM_BOOT=c (an empty disk, which the agent creates) and the test guest in
 * the CD-ROM drive. Which device the firmware tried first is read from SeaBIOS's "Booting from ..."
 * lines on SOL. Like a real BIOS, SeaBIOS falls through to the next device of the boot order when the
 * first one does not boot, so a default boot shows "Booting from Hard Disk..." and "Boot failed: not a
 * bootable disk", and then boots the CD anyway (the guest's marker then follows too); a boot forced to
 * the CD-ROM tries the CD first.
 */
import {
  checkPrerequisites, describeE2e, E2eFleet, type NodeContainer, type SolConsole, withNodeLogs,
} from './node-container';

/** The devices SeaBIOS tried, in order, in `text` ("Booting from Hard Disk..." → "Hard Disk"). */
function seabiosAttempts(text: string): string[] {
  return [...text.matchAll(/Booting from ([^\r\n]*?)\.\.\./g)].map((m) => m[1]!);
}

describeE2e('node container: IPMI boot override (once, persistent, EFI)', () => {
  const fleet = new E2eFleet('bootdev');

  beforeAll(() => checkPrerequisites());
  afterAll(() => fleet.cleanup());

  /** Runs a power action and waits for the guest's marker; returns it and the devices SeaBIOS tried. */
  async function boot(node: NodeContainer, sol: SolConsole, action: 'on' | 'cycle' | 'reset', what: string): Promise<{ firmware: string; bootdev: string; attempts: string[]; text: string }> {
    const from = sol.mark();
    await node.ipmiOk(['power', action]);
    const ready = await sol.ready(what, from);
    const text = sol.text(from).slice(0, ready.end - from);
    return { firmware: ready.firmware, bootdev: ready.bootdev, attempts: seabiosAttempts(text), text };
  }

  it('bootdev cdrom boots the CD once, then the default; persistent keeps it; efiboot boots OVMF once on a BIOS node', async () => {
    const node = await fleet.start();
    await withNodeLogs(node, async () => {
      const sol = await node.sol();

      // Once: the CD first for the next boot only.
      expect(await node.ipmiOk(['chassis', 'bootdev', 'cdrom'])).toContain('Set Boot Device to cdrom');
      let param = await node.bootParam5();
      expect(param).toContain('Boot parameter data: 8014000000');
      expect(param).toContain('Options apply to only next boot');
      expect(param).toContain('Boot Device Selector : Force Boot from CD/DVD');
      expect(param).toContain('BIOS PC Compatible (legacy) boot');

      const once = await boot(node, sol, 'on', 'power on with bootdev cdrom (once)');
      expect(once).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
      expect(once.attempts[0]).toBe('DVD/CD');
      expect(once.attempts).not.toContain('Hard Disk');
      // The override was used up: the boot flags are no longer valid.
      expect(await node.bootParam5()).toContain('Boot Flag Invalid');

      const after = await boot(node, sol, 'cycle', 'power cycle after the once override');
      expect(after.firmware).toBe('bios');
      expect(after.attempts[0]).toBe('Hard Disk');
      expect(after.text).toContain('Boot failed: not a bootable disk');

      // Persistent: the CD first at every boot, power cycle and reset alike.
      expect(await node.ipmiOk(['chassis', 'bootdev', 'cdrom', 'options=persistent'])).toContain('Set Boot Device to cdrom');
      param = await node.bootParam5();
      expect(param).toContain('Boot parameter data: c014000000');
      expect(param).toContain('Options apply to all future boots');
      expect(param).toContain('Boot Device Selector : Force Boot from CD/DVD');

      const first = await boot(node, sol, 'cycle', 'power cycle with bootdev cdrom persistent');
      expect(first).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
      expect(first.attempts).toEqual(['DVD/CD']);
      const second = await boot(node, sol, 'reset', 'power reset with bootdev cdrom persistent');
      expect(second).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
      expect(second.attempts).toEqual(['DVD/CD']);
      param = await node.bootParam5();
      expect(param).toContain('Boot parameter data: c014000000');
      expect(param).toContain('Options apply to all future boots');

      // EFI boot on a BIOS node, once: OVMF for the next boot, SeaBIOS again after it.
      expect(await node.ipmiOk(['chassis', 'bootdev', 'cdrom', 'options=efiboot'])).toContain('Set Boot Device to cdrom');
      param = await node.bootParam5();
      expect(param).toContain('Boot parameter data: a014000000');
      expect(param).toContain('Options apply to only next boot');
      expect(param).toContain('BIOS EFI boot');
      const efi = await boot(node, sol, 'cycle', 'power cycle with bootdev cdrom efiboot');
      expect(efi).toMatchObject({ firmware: 'uefi', bootdev: 'cdrom' });
      const back = await boot(node, sol, 'cycle', 'power cycle after the EFI override');
      expect(back.firmware).toBe('bios');
      expect(back.attempts[0]).toBe('Hard Disk');

      expect(sol.hasExited).toBe(false);
    });
  });
});
