/**
 * What a farm BMC reports as its own LAN settings (Get LAN Configuration Parameters, `ipmitool lan
 * print`): the address it listens on and a MAC of its own, never the host's interfaces. Built when
 * asked: a farm holds one of these per BMC.
 */
import type { Ipv4Settings, NetworkInfo } from '../network/network-info';
import { macOf, parseIpv4 } from './address-plan';

export class FarmNetworkInfo implements NetworkInfo {
  constructor(private readonly address: string, private readonly farmTag: number, private readonly index: number) {}

  ipv4(): Ipv4Settings {
    const loopback = (parseIpv4(this.address) ?? 0) >>> 24 === 127;
    return { interfaceName: loopback ? 'lo' : 'farm', address: this.address, netmask: loopback ? '255.0.0.0' : '255.255.0.0', mac: macOf(this.farmTag, this.index) };
  }
}
