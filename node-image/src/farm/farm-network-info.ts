/**
 * What a farm BMC reports as its own LAN settings (Get LAN Configuration Parameters, `ipmitool lan
 * print`): the address it listens on and a MAC of its own, never the host's interfaces.
 */
import type { Ipv4Settings, NetworkInfo } from '../network/network-info';
import { macOf, parseIpv4 } from './address-plan';

export class FarmNetworkInfo implements NetworkInfo {
  private readonly settings: Ipv4Settings;

  constructor(address: string, farmTag: number, index: number) {
    const loopback = (parseIpv4(address) ?? 0) >>> 24 === 127;
    this.settings = { interfaceName: loopback ? 'lo' : 'farm', address, netmask: loopback ? '255.0.0.0' : '255.255.0.0', mac: macOf(farmTag, index) };
  }

  ipv4(): Ipv4Settings { return this.settings; }
}
