/**
 * A node container published the way people publish a BMC by hand, `-p 127.0.0.1:X:623/udp` (the
 * agent on its default port inside), driven through X only. Without IPMI_SOL_PORT, ipmitool refuses
 * SOL because the BMC names 623 in Activate Payload; with IPMI_SOL_PORT=X, `ipmitool sol activate`
 * and FreeIPMI's `ipmiconsole` both carry the guest's serial console, typed text included.
 */
import { ipmitoolArgs } from '../support/tools';
import { TerminalSession } from '../support/ipmitool-runner';
import {
  checkPrerequisites, DEFAULT_IPMI_PORT, describeE2eWith, E2eFleet, GUEST_PROMPT, randomWord, STEP_TIMEOUT_MS, withNodeLogs,
  type SolConsole,
} from './node-container';

/** Types a command into the guest's shell and waits for its output: the word alone on a line. */
async function echoThrough(sol: SolConsole, what: string): Promise<void> {
  const word = randomWord('solport');
  const typed = sol.mark();
  sol.run(`echo ${word}`);
  await sol.expect(new RegExp(`\\n${word}\\r?\\n`), `${what}: output of the typed command`, { from: typed });
}

describeE2eWith(['ipmiconsole'])('node container on a remapped port (X:623/udp): SOL with IPMI_SOL_PORT', () => {
  const fleet = new E2eFleet('solport');

  beforeAll(() => checkPrerequisites());
  afterAll(() => fleet.cleanup());

  it('without IPMI_SOL_PORT, ipmitool refuses SOL through X: the BMC names the port it listens on', async () => {
    const node = await fleet.start({ remapped: { solPort: false } });
    await withNodeLogs(node, async () => {
      expect(await node.powerState()).toBe('off'); // everything but SOL works through X
      const terminal = new TerminalSession(['ipmitool', ...ipmitoolArgs(node.port, ['sol', 'activate'])]);
      try {
        expect(await terminal.waitFor('BMC requests SOL session on different port', STEP_TIMEOUT_MS)).toBe(true);
        expect(await terminal.waitForExit(STEP_TIMEOUT_MS)).not.toBeNull();
        expect(terminal.output()).not.toContain('SOL Session operational');
      } finally {
        await terminal.kill();
      }
    });
  });

  it('with IPMI_SOL_PORT=X, ipmitool sol activate and ipmiconsole through X reach the guest, typed text included', async () => {
    const node = await fleet.start({ remapped: { solPort: true } });
    await withNodeLogs(node, async () => {
      // Published as a user does it: container port 623, host port X; the agent was told X.
      expect(JSON.parse(await node.inspect('{{json .HostConfig.PortBindings}}'))).toEqual({
        [`${DEFAULT_IPMI_PORT}/udp`]: [{ HostIp: '127.0.0.1', HostPort: String(node.port) }],
      });
      expect(await node.inspect('{{json .Config.Env}}')).toContain(`"IPMI_SOL_PORT=${node.port}"`);
      expect(await node.logs()).toMatch(new RegExp(`"msg":"BMC listening".*"port":${DEFAULT_IPMI_PORT},"solPort":${node.port}`));

      const ipmitool = await node.sol();
      const boot = ipmitool.mark();
      expect(await node.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
      const ready = await ipmitool.ready('boot from CD-ROM', boot);
      expect(ready).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
      await ipmitool.expect(GUEST_PROMPT, 'guest shell prompt', { from: ready.end });
      await echoThrough(ipmitool, 'ipmitool sol activate');
      expect(await ipmitool.quit('~.')).toEqual({ code: 0, signal: null });
      expect(ipmitool.text()).toContain('[terminated ipmitool]');

      const ipmiconsole = await node.ipmiconsole();
      await echoThrough(ipmiconsole, 'ipmiconsole');
      expect(await ipmiconsole.quit('&.')).toEqual({ code: 0, signal: null });

      // Each client activated SOL once and deactivated it itself.
      const logs = await node.logs();
      expect(logs.match(/"msg":"SOL activated"/g)).toHaveLength(2);
      expect(logs.match(/"msg":"SOL deactivated","reason":"by its session"/g)).toHaveLength(2);
      expect(logs).not.toMatch(/"level":"warn".*IPMI_SOL_PORT/);
    });
  });
});
