/**
 * What a farm BMC reports as its own LAN settings (Get LAN Configuration Parameters, `ipmitool lan
 * print`): the address it listens on and a MAC of its own, never the host's interfaces; on a lab
 * network (FARM_INTERFACE) that network's netmask and default gateway too. Built when asked: a farm
 * holds one of these per BMC.
 */
import type { Ipv4Settings, NetworkInfo } from '../network/network-info';
import { macOf, parseIpv4 } from './address-plan';
import type { LabLan } from './lab-network';

export class FarmNetworkInfo implements NetworkInfo {
  constructor(private readonly address: string, private readonly farmTag: number, private readonly index: number, private readonly lan?: LabLan) {}

  ipv4(): Ipv4Settings {
    const mac = macOf(this.farmTag, this.index);
    if (this.lan) {
      const { interfaceName, netmask, gateway } = this.lan;
      return { interfaceName, address: this.address, netmask, mac, ...(gateway ? { gateway } : {}) };
    }
    const loopback = (parseIpv4(this.address) ?? 0) >>> 24 === 127;
    return { interfaceName: loopback ? 'lo' : 'farm', address: this.address, netmask: loopback ? '255.0.0.0' : '255.255.0.0', mac };
  }
}
