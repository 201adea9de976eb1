import { silentLogger } from '../util/logger';
import type { AddressPlan } from './address-plan';
import { LabInterface, LabNetworkError, type IpCommand } from './lab-interface';

/** `ip` as seen through its adapter: one interface whose addresses follow the batches it is given. */
function fakeIp(opts: { failAddAfter?: number } = {}): { ip: IpCommand; addresses: Set<string>; calls: string[] } {
  const addresses = new Set<string>();
  const calls: string[] = [];
  const ip: IpCommand = async (args, input) => {
    calls.push(args.join(' '));
    if (args.includes('route')) return '[{"dst":"default","gateway":"10.20.30.1","flags":[]}]';
    if (args.includes('addr')) {
      const info = [{ family: 'inet', local: '10.20.30.2', prefixlen: 24 }, ...[...addresses].map((a) => ({ family: 'inet', local: a, prefixlen: 24, secondary: true }))];
      return JSON.stringify([{ ifname: 'eth0', addr_info: info }]);
    }
    let added = 0;
    for (const line of (input ?? '').trim().split('\n')) {
      const [, verb, cidr] = line.split(' ');
      if (verb === 'add') {
        if (opts.failAddAfter !== undefined && added++ >= opts.failAddAfter) throw new LabNetworkError(`ip -batch -: Command failed -:${added}`);
        addresses.add(cidr!.split('/')[0]!);
      } else addresses.delete(cidr!.split('/')[0]!);
    }
    return '';
  };
  return { ip, addresses, calls };
}

const plan: AddressPlan = { mode: 'addresses', count: 10, firstAddress: '10.20.30.130', firstPort: 623 };
const WITH_NET_ADMIN = () => 'CapEff:\t00000000a80435fb\n';

describe('LabInterface', () => {
  it('adds the missing addresses in one batch and removes them all at release', async () => {
    const f = fakeIp();
    f.addresses.add('10.20.30.131');
    const claimed = await new LabInterface('eth0', f.ip, WITH_NET_ADMIN).claim(plan, silentLogger);
    expect(claimed.added).toBe(9);
    expect(claimed.lan).toEqual({ interfaceName: 'eth0', prefixLength: 24, netmask: '255.255.255.0', gateway: '10.20.30.1' });
    expect(f.addresses.size).toBe(10);
    expect(f.calls.filter((c) => c === '-batch -')).toHaveLength(1);
    expect(await claimed.release()).toBe(10);
    expect(f.addresses.size).toBe(0);
  });

  it('changes nothing without NET_ADMIN, and takes back what a failed batch added', async () => {
    const f = fakeIp();
    await expect(new LabInterface('eth0', f.ip, () => 'CapEff:\t00000000a80425fb\n').claim(plan, silentLogger)).rejects.toThrow(/needs the NET_ADMIN capability/);
    expect(f.calls.some((c) => c.startsWith('-batch'))).toBe(false);
    const failing = fakeIp({ failAddAfter: 4 });
    await expect(new LabInterface('eth0', failing.ip, WITH_NET_ADMIN).claim(plan, silentLogger)).rejects.toThrow(/Command failed/);
    expect(failing.addresses.size).toBe(0);
  });

  it('names a missing interface', async () => {
    const ip: IpCommand = async () => { throw new LabNetworkError('ip -j -4 addr show dev eth7: ip -j failed (exit code 1): Device "eth7" does not exist.'); };
    await expect(new LabInterface('eth7', ip, WITH_NET_ADMIN).claim(plan, silentLogger)).rejects.toThrow(/FARM_INTERFACE=eth7: there is no such network interface here/);
  });
});
