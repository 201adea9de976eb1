/**
 * VM_NETWORKS end to end, in the real Docker engine (TCG): node containers plugged into Docker
 * networks with `docker network connect` (as containerlab plugs interfaces after the start), driven
 * only through IPMI and SOL.
 *
 * 1. PXE: a dnsmasq container (pxe-server/, DHCP + TFTP with the test guest's tftp/ root) on the
 *    node's VM network; `chassis bootdev pxe` and `power on` boot the guest over the network, in BIOS
 *    mode and (VM_BOOT_MODE=uefi, `options=efiboot`: the override's boot type is honoured) in UEFI
 *    mode, through the VM's NIC on eth1 (its MAC derived from node and interface, as the server's DHCP
 *    log shows).
 * 2. Two nodes on one VM network: their guests (booted from the CD, addresses typed over SOL) ping each
 *    other over eth1; then a second network is connected to both running containers (eth2), the
 *    agents hot-add a NIC to the running VMs, and the guests ping each other over it, without any
 *    restart of container or VM.
 *
 * support-network.ts explains the choice of networks (why the PXE network is not --internal, and why
 * its name starts with "vmlan-"). Every container and network carries the run label and goes in
 * afterAll, also after a failure; every wait is bounded, no duration is asserted.
 */
import { vmNicMac } from '../../src/machine/vm-networks';
import {
  checkPrerequisites, describeE2e, E2eFleet, GUEST_PROMPT, type NodeContainer, READY_MARKER, type SolConsole, withNodeLogs,
} from './node-container';
import {
  agentLogLines, buildPxeImage, guestMac, guestPing, guestRun, HOST, NetworkLab, type PxeServer, type VmLan,
} from './support-network';

const NET_MARKER = /BMCFLEET-GUEST-NET iface=eth0 addr=(\S+)/;
const BOOT_MS = 150_000;
const HOT_PLUG_MS = 60_000;

/** The name the agent derives MACs from: NODE_NAME is not set, so the container's host name. */
async function nodeName(node: NodeContainer): Promise<string> {
  return node.inspect('{{.Config.Hostname}}');
}

function errorLines(logs: string): Array<Record<string, unknown>> {
  return agentLogLines(logs).filter((l) => l['level'] === 'error');
}

/** Waits (bounded) until the agent logged a line matching `pred`; throws with the log otherwise. */
async function waitForAgentLog(node: NodeContainer, pred: (l: Record<string, unknown>) => boolean, what: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = await node.logs();
    const hit = agentLogLines(logs).find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`${node.name}: ${what}: not logged within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describeE2e('node containers on VM networks: PXE from a DHCP/TFTP container, two guests over L2, a NIC plugged while the VM runs', () => {
  const fleet = new E2eFleet('net');
  const lab = new NetworkLab(fleet.runLabel);

  beforeAll(async () => {
    await checkPrerequisites();
    await buildPxeImage();
  });
  afterAll(async () => {
    await fleet.cleanup();
    await lab.cleanup();
  });

  describe('PXE', () => {
    let lan: VmLan;
    let pxe: PxeServer;

    beforeAll(async () => {
      lan = await lab.createLan('pxe', { internal: false });
      pxe = await lab.startPxeServer(lan);
    });

    for (const firmware of ['bios', 'uefi'] as const) {
      it(`${firmware.toUpperCase()}: chassis bootdev pxe${firmware === 'uefi' ? ' options=efiboot' : ''} + power on boots the guest from the PXE server on the node's VM network (eth1)`, async () => {
        const node = await fleet.start({ env: { VM_NETWORKS: 'eth1', VM_BOOT_MODE: firmware } });
        await withNodeLogs(node, async () => {
          expect(await lab.connect(node, lan)).toBe('eth1');
          const sol = await node.sol();

          // The override's BIOS boot type is honoured: a UEFI boot asks for it (as Ironic does for UEFI nodes).
          const bootdev = firmware === 'uefi' ? ['chassis', 'bootdev', 'pxe', 'options=efiboot'] : ['chassis', 'bootdev', 'pxe'];
          expect(await node.ipmiOk(bootdev)).toContain('Set Boot Device to pxe');
          const from = sol.mark();
          expect(await node.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
          const ready = await sol.ready('PXE boot', from);
          expect(ready).toMatchObject({ firmware, bootdev: 'pxe' });

          // The guest's own DHCP (udhcpc) gets its lease from the same server.
          const net = await sol.expect(NET_MARKER, 'the guest configures eth0 by DHCP', { from: ready.end, timeoutMs: 60_000 });
          const address = net[1]!.replace(/\/24$/, '');
          const host = Number(address.split('.')[3]);
          expect(address.startsWith(`${lan.prefix}.`)).toBe(true);
          expect(host).toBeGreaterThanOrEqual(HOST.dhcpFirst);
          expect(host).toBeLessThanOrEqual(HOST.dhcpLast);

          // The server saw the VM's NIC, with the MAC derived from node and interface, and sent it the iPXE script.
          const mac = vmNicMac(await nodeName(node), 'eth1');
          const served = await pxe.logs();
          expect(served).toContain(`DHCPACK(eth0) ${address} ${mac}`);
          expect(served).toContain(`sent /tftp/boot.ipxe to ${address}`);
          expect(served).toContain(`sent /tftp/vmlinuz to ${address}`);
          // Frees the CPU for the next boot.
          await node.remove();
        });
      });
    }
  });

  it('two nodes reach each other over L2 on eth1, and over eth2 connected while their VMs run (hot-added NIC)', async () => {
    const lan1 = await lab.createLan('l2a', { internal: true });
    const lan2 = await lab.createLan('l2b', { internal: true });
    // eth2 is plugged after power-on: the power-on waits only a second for it.
    const env = { VM_NETWORKS: 'eth1,eth2', VM_NETWORKS_WAIT: '1', VM_BOOT: 'd' };
    const a = await fleet.start({ env });
    const b = await fleet.start({ env });
    const nodes = [a, b] as const;
    const names = new Map<NodeContainer, string>();
    for (const n of nodes) names.set(n, await nodeName(n));

    await withNodeLogs(a, () => withNodeLogs(b, async () => {
      for (const n of nodes) expect(await lab.connect(n, lan1)).toBe('eth1');
      const sols = new Map<NodeContainer, SolConsole>();
      for (const n of nodes) sols.set(n, await n.sol());
      const solA = sols.get(a)!;
      const solB = sols.get(b)!;

      for (const n of nodes) expect(await n.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
      for (const n of nodes) {
        const sol = sols.get(n)!;
        const ready = await sol.ready(`${n.name}: boot from CD-ROM`, 0);
        expect(ready).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
        // No DHCP server on this network: the guest's attempt ends (addr=none) before eth0 is configured by hand.
        await sol.expect(NET_MARKER, `${n.name}: the guest's DHCP attempt on eth0`, { from: ready.end, timeoutMs: BOOT_MS });
        await sol.expect(GUEST_PROMPT, `${n.name}: guest shell prompt`, { from: ready.end });
      }
      // The VMs started without eth2, and the agents said so.
      for (const n of nodes) {
        const warn = agentLogLines(await n.logs()).find((l) => l['level'] === 'warn' && Array.isArray(l['missing']));
        expect(warn).toMatchObject({ missing: ['eth2'] });
      }

      // eth1 → the guest's eth0, with the MAC derived from node and interface.
      for (const n of nodes) expect(await guestMac(sols.get(n)!, 'eth0')).toBe(vmNicMac(names.get(n)!, 'eth1'));
      await guestRun(solA, `ip addr add ${lan1.cidr(HOST.guestA)} dev eth0 && ip link set eth0 up && echo ETH0-$((1+0))-UP`, /ETH0-1-UP/, 'address on A eth0');
      await guestRun(solB, `ip addr add ${lan1.cidr(HOST.guestB)} dev eth0 && ip link set eth0 up && echo ETH0-$((2+0))-UP`, /ETH0-2-UP/, 'address on B eth0');
      expect(await guestPing(solA, lan1.address(HOST.guestB), 'A pings B over eth1')).toBe('OK');

      // A second network plugged into both running containers: eth2, hot-added into each VM.
      for (const n of nodes) expect(await lab.connect(n, lan2)).toBe('eth2');
      for (const n of nodes) {
        await waitForAgentLog(n, (l) => l['msg'] === 'VM_NETWORKS interface appeared: NIC hot-plugged into the VM' && l['interface'] === 'eth2',
          'the hot-plug of eth2', HOT_PLUG_MS);
      }
      for (const [n, host, step] of [[a, HOST.guestA, 3], [b, HOST.guestB, 4]] as const) {
        const sol = sols.get(n)!;
        // The guest names the new NIC eth1 once its driver has probed it.
        await guestRun(sol, `i=0; while [ ! -e /sys/class/net/eth1 ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; echo NICS-$((${step}+0))-$(ls /sys/class/net | tr "\\n" " ")`,
          new RegExp(`NICS-${step}-.*eth1`), `${n.name}: the hot-added NIC in the guest`, 45_000);
        expect(await guestMac(sol, 'eth1')).toBe(vmNicMac(names.get(n)!, 'eth2'));
        await guestRun(sol, `ip addr add ${lan2.cidr(host)} dev eth1 && ip link set eth1 up && echo ETH1-$((${step}+0))-UP`, new RegExp(`ETH1-${step}-UP`), `${n.name}: address on eth1`);
      }
      expect(await guestPing(solA, lan2.address(HOST.guestB), 'A pings B over the hot-added NIC')).toBe('OK');
      expect(await guestPing(solB, lan1.address(HOST.guestA), 'B pings A over eth1 again')).toBe('OK');

      // Neither node restarted: one boot seen on each SOL session, the containers never restarted, no error logged.
      for (const n of nodes) {
        expect(sols.get(n)!.count(READY_MARKER)).toBe(1);
        expect(await n.inspect('{{.RestartCount}} {{.State.Running}}')).toBe('0 true');
        expect(errorLines(await n.logs())).toEqual([]);
      }
    }));
  });
});
