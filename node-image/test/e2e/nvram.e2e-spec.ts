/**
 * UEFI NVRAM belongs to the node, not to its container: a UEFI variable written from inside the guest
 * is still there after the container is removed and a new one is created on the same /vm. The variable
 * store (OVMF_VARS.fd) lives beside the disk on /vm.
 *
 * The guest writes the variable through efivarfs (a variant of the test guest's ISO that carries the
 * module, see efivars-guest.ts): 4 bytes of attributes (non-volatile, boot service and runtime
 * access) followed by a random value, written in one write(2) as efivarfs requires.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEfivarsGuestIso, EFIVARS_GUEST_TOOLS, EFIVARS_MODULE_IN_GUEST } from './efivars-guest';
import {
  checkPrerequisites, describeE2eWith, E2eFleet, GUEST_PROMPT, type NodeContainer, randomWord, sha256File, type SolConsole, withNodeLogs,
} from './node-container';

/** A vendor GUID of the project's tests (any GUID will do; random, fixed here). */
const VENDOR_GUID = '6f3c4a1e-7d2b-4c59-9e1a-2b8d5c0f4e17';
const VARIABLE_NAME = 'BmcfleetE2e';
const EFIVARS = '/sys/firmware/efi/efivars';
const VARIABLE_FILE = `${EFIVARS}/${VARIABLE_NAME}-${VENDOR_GUID}`;

describeE2eWith(EFIVARS_GUEST_TOOLS)('node container: UEFI NVRAM survives re-creating the container on the same /vm', () => {
  const fleet = new E2eFleet('nvram');
  let isoDir: string;

  beforeAll(async () => {
    await checkPrerequisites();
    isoDir = fleet.tempDir('iso');
    await buildEfivarsGuestIso(isoDir);
  });
  afterAll(() => fleet.cleanup());

  /** Powers on, waits for the UEFI guest's shell, loads efivarfs and mounts it. */
  async function bootAndMountEfivars(node: NodeContainer, sol: SolConsole): Promise<void> {
    const from = sol.mark();
    await node.ipmiOk(['power', 'on']);
    const ready = await sol.ready('UEFI boot from CD-ROM', from);
    expect(ready).toMatchObject({ firmware: 'uefi', bootdev: 'cdrom' });
    await sol.expect(GUEST_PROMPT, 'guest shell prompt', { from: ready.end });
    const typed = sol.mark();
    // $((...)) makes the word appear only in the command's output, not in the echoed command line.
    sol.run(`insmod ${EFIVARS_MODULE_IN_GUEST} && mount -t efivarfs efivarfs ${EFIVARS} && echo EFIVARS-$((40+2))`);
    await sol.expect('EFIVARS-42', 'efivarfs mounted in the guest', { from: typed });
  }

  it('a variable written by the guest is read back by the guest of a new container on the same /vm', async () => {
    const vmDir = fleet.tempDir('vm');
    const value = randomWord('nvram');
    const env = { VM_BOOT_MODE: 'uefi' };
    const varsFile = join(vmDir, 'OVMF_VARS.fd');

    const first = await fleet.start({ vmDir, isoDir, env });
    await withNodeLogs(first, async () => {
      const sol = await first.sol();
      await bootAndMountEfivars(first, sol);
      const typed = sol.mark();
      sol.run(`printf '\\007\\000\\000\\000%s' ${value} >/tmp/var && dd if=/tmp/var of=${VARIABLE_FILE} bs=4096 conv=notrunc 2>/dev/null && echo WRITTEN-$(wc -c <${VARIABLE_FILE})`);
      await sol.expect(`WRITTEN-${4 + value.length}`, 'the variable written through efivarfs', { from: typed });
      await first.ipmiOk(['power', 'off']);
      expect(await first.waitForPower('off')).toBe('off');
    });
    await first.remove();

    // The store is on /vm beside the disk, and holds the variable (name in UCS-2, data as written).
    expect(existsSync(join(vmDir, 'disk.qcow2'))).toBe(true);
    expect(existsSync(varsFile)).toBe(true);
    const store = readFileSync(varsFile);
    expect(store.includes(Buffer.from(VARIABLE_NAME, 'utf16le'))).toBe(true);
    expect(store.includes(Buffer.from(value, 'latin1'))).toBe(true);
    const storeHash = sha256File(varsFile);

    const second = await fleet.start({ vmDir, isoDir, env });
    await withNodeLogs(second, async () => {
      // The new container's agent uses the node's store as it is (no fresh copy of the template).
      expect(sha256File(varsFile)).toBe(storeHash);
      const sol = await second.sol();
      await bootAndMountEfivars(second, sol);
      const typed = sol.mark();
      sol.run(`tail -c +5 ${VARIABLE_FILE}; echo`);
      await sol.expect(new RegExp(`\\n${value}\\r?\\n`), 'the variable read back in the new container', { from: typed });
    });
  });
});
