/**
 * The agent makes /dev/net/tun itself (node-image/src/network/tun-device.ts) in a node container
 * given no device, as a Docker Swarm task is: with CAP_MKNOD and NET_ADMIN the node appears as
 * c 10:200 and a tap device can be made on it; without CAP_MKNOD the agent says what is missing and
 * still answers IPMI. Containers carry the run label and go in afterAll; waits are bounded.
 */
import { randomBytes } from 'node:crypto';
import { freeUdpPort } from '../support/agent-process';
import { pollUntil } from '../support/ipmitool-runner';
import { checkPrerequisites, describeE2e, docker, dockerOk, E2eFleet, NODE_IMAGE, TEST_LABEL } from './node-container';

const LOG_WAIT_MS = 30_000;

describeE2e('node container without --device /dev/net/tun (as a swarm task)', () => {
  const fleet = new E2eFleet('tun');

  beforeAll(async () => {
    await checkPrerequisites();
  });

  afterAll(async () => {
    await fleet.cleanup();
  });

  /** Starts a QEMU node with one VM network and no device; returns its container name once the BMC listens. */
  async function startWithoutDevice(caps: string[]): Promise<string> {
    const name = `bmcfleet-e2e-tun-${process.pid}-${randomBytes(3).toString('hex')}`;
    const port = await freeUdpPort();
    await dockerOk([
      'run', '-d', '--name', name, '--label', TEST_LABEL, '--label', fleet.runLabel,
      '--cap-drop', 'ALL', ...caps.flatMap((c) => ['--cap-add', c]),
      '-e', 'MACHINE=qemu', '-e', 'ENABLE_KVM=false', '-e', 'VNC_PORT=none', '-e', `IPMI_PORT=${port}`,
      '-e', 'VM_NETWORKS=eth0', '-e', 'POWER_ON_AT_START=false',
      NODE_IMAGE,
    ]);
    const listening = await pollUntil(async () => {
      const r = await docker(['logs', name]);
      return r.stdout + r.stderr;
    }, (logs) => logs.includes('"BMC listening"'), { attempts: 150, timeoutMs: LOG_WAIT_MS, intervalMs: 200 });
    if (!listening.includes('"BMC listening"')) throw new Error(`${name}: the agent did not listen:\n${listening}`);
    return name;
  }

  it('with CAP_MKNOD and NET_ADMIN: the agent creates c 10:200 and a tap can be made on it', async () => {
    const name = await startWithoutDevice(['NET_ADMIN', 'MKNOD']);
    const logs = await docker(['logs', name]);
    expect(logs.stdout + logs.stderr).toContain('/dev/net/tun created (c 10:200)');
    // stat prints major:minor in hex: 10 = a, 200 = c8.
    expect((await dockerOk(['exec', name, 'stat', '-c', '%F %t:%T', '/dev/net/tun'])).trim()).toBe('character special file a:c8');
    await dockerOk(['exec', name, 'ip', 'tuntap', 'add', 'dev', 'tap-check', 'mode', 'tap']);
    expect(await dockerOk(['exec', name, 'ip', '-o', 'link', 'show', 'tap-check'])).toContain('tap-check');
  });

  it('without CAP_MKNOD: the agent names what is missing and its BMC still starts', async () => {
    const name = await startWithoutDevice(['NET_ADMIN']);
    const logs = await docker(['logs', name]);
    const warning = (logs.stdout + logs.stderr).split('\n').find((l) => l.includes('/dev/net/tun is missing'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 'warn' });
    expect(warning).toContain('CAP_MKNOD');
    expect((await docker(['exec', name, 'test', '-e', '/dev/net/tun'])).status).not.toBe(0);
  });
});
