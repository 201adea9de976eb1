/**
 * IPMI_SOL_PORT in an in-process agent on loopback UDP (BmcAgent, the real SolManager and engine),
 * driven by the project's own SOL console: the port Activate Payload and SOL configuration parameter 8
 * name, SOL through a mapped port (a UDP relay standing for Docker's `-p X:623/udp`), and the second
 * listener on the SOL port, which answers from that port.
 */
import { createSocket } from 'node:dgram';
import { BmcAgent } from './bmc-agent';
import { IpmiClient } from '../client/ipmi-client';
import { SolConsole } from '../client/sol-console';
import { suiteById } from '../protocol/crypto/cipher-suites';
import { NetFn, TransportCmd } from '../protocol/netfn';
import { MemoryStateStore } from '../state/state-store';
import { createLogger } from '../util/logger';
import { EchoMachine, Relay, until } from '../test-support/loopback-bmc';

/** Get SOL Configuration Parameters, channel 1, parameter 8 (SOL payload port), set 0, block 0. */
const GET_SOL_PAYLOAD_PORT = Buffer.from([0x01, 0x08, 0x00, 0x00]);

/** A UDP port free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('BmcAgent with a SOL port (IPMI_SOL_PORT)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  let machine: EchoMachine;
  let logLines: string[];

  const startAgent = async (solPort: number | undefined): Promise<BmcAgent> => {
    logLines = [];
    const agent = await BmcAgent.start({
      address: '127.0.0.1',
      port: 0,
      ...(solPort === undefined ? {} : { solPort }),
      adminUser: 'admin',
      adminPassword: 'password',
      cipherSuites: [suiteById(3)!, suiteById(17)!],
      ipmi15: false,
      nodeName: 'sol-port-spec',
      store: new MemoryStateStore(),
      network: { ipv4: () => ({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' }) },
      createMachine: () => machine,
      powerOnAtStart: false,
      log: createLogger({ debug: false, write: (line) => logLines.push(line) }),
      tickMs: 20,
    });
    cleanups.push(() => agent.stop());
    return agent;
  };

  const openConsole = async (port: number, onData: (d: Buffer) => void = () => {}): Promise<SolConsole> => {
    const c = await SolConsole.open({ host: '127.0.0.1', port, user: 'admin', password: 'password', onData, timeoutMs: 500, retries: 2 });
    cleanups.unshift(() => c.close());
    return c;
  };

  const solPayloadPortParameter = async (port: number): Promise<number> => {
    const admin = await IpmiClient.connect({ host: '127.0.0.1', port, user: 'admin', password: 'password' });
    try {
      const data = await admin.requestOk(NetFn.Transport, TransportCmd.GetSolConfigParameters, GET_SOL_PAYLOAD_PORT, 'Get SOL Configuration Parameters');
      return data.readUInt16LE(1); // after the parameter revision byte
    } finally {
      await admin.close();
    }
  };

  /** Output, keystrokes and their echo through a console: the SOL payload flows both ways. */
  const expectSolFlows = async (c: SolConsole, out: () => string): Promise<void> => {
    machine.emit(Buffer.from('firmware banner\r\n', 'latin1'));
    await until(() => out().includes('firmware banner\r\n'), 'console output');
    expect(c.write('echo hi\r')).toBe(true);
    await until(() => out().includes('<echo hi\r>'), 'the echo of the keystrokes');
  };

  beforeEach(() => {
    machine = new EchoMachine();
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('without it, Activate Payload and parameter 8 name the port the agent listens on', async () => {
    const agent = await startAgent(undefined);
    const c = await openConsole(agent.port);
    expect(c.activation?.port).toBe(agent.port);
    expect(await solPayloadPortParameter(agent.port)).toBe(agent.port);
  });

  it('through a mapped port (a relay holding the port on this host), SOL names and works on the mapped port', async () => {
    const relay = await Relay.bind();
    cleanups.push(() => relay.close());
    const agent = await startAgent(relay.port);
    await relay.forwardTo(agent.port);

    // One client at a time: the relay answers whoever sent last.
    expect(await solPayloadPortParameter(relay.port)).toBe(relay.port);
    let out = '';
    const c = await openConsole(relay.port, (d) => { out += d.toString('latin1'); });
    expect(c.activation?.port).toBe(relay.port);
    await expectSolFlows(c, () => out);

    // The relay holds the port here, so the agent could not listen on it too: said once, not fatal.
    const warnings = logLines.filter((l) => l.includes('"level":"warn"') && l.includes('IPMI_SOL_PORT'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ solPort: relay.port, address: '127.0.0.1' });
    expect(logLines.find((l) => l.includes('"msg":"BMC listening"'))).toContain(`"solPort":${relay.port}`);
  });

  it('listens on a free SOL port too: a console that talks to it is answered from it', async () => {
    const solPort = await freePort();
    const agent = await startAgent(solPort);
    expect(agent.port).not.toBe(solPort);
    expect(logLines.filter((l) => l.includes('"level":"warn"'))).toEqual([]);

    // Through the IPMI port: the SOL port is named.
    const first = await openConsole(agent.port);
    expect(first.activation?.port).toBe(solPort);
    await first.close();

    // Straight to the SOL port (the client's socket is connected: replies from any other port would
    // never reach it), as FreeIPMI's ipmiconsole does when it follows the reported port from 623.
    let out = '';
    const c = await openConsole(solPort, (d) => { out += d.toString('latin1'); });
    expect(c.activation?.port).toBe(solPort);
    await expectSolFlows(c, () => out);
    expect(await c.close()).toEqual({ kind: 'closed' });
    expect(agent.sol.activeSessionId).toBeNull();
  });

  it('stops listening on both ports', async () => {
    const solPort = await freePort();
    const agent = await startAgent(solPort);
    const ipmiPort = agent.port;
    await cleanups.pop()!();
    for (const port of [ipmiPort, solPort]) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(port, '127.0.0.1', () => resolve()); });
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
