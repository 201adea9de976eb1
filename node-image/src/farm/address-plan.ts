/**
 * Where each BMC of a farm listens: FARM_ADDRESSES=A puts BMC i at address A+i, port 623 (each its
 * own loopback address on one host, or its own IP on a lab network); FARM_PORTS=P puts every BMC on
 * one address (IPMI_ADDRESS) at port P+i. Pure IPv4 arithmetic; every mistake is reported with the
 * rule it breaks.
 */
export type AddressMode = 'addresses' | 'ports';

export interface AddressPlan {
  readonly mode: AddressMode;
  readonly count: number;
  /** Address mode: the first BMC's address; port mode: the one address of all. */
  readonly firstAddress: string;
  /** Address mode: every BMC's port (623); port mode: the first BMC's port. */
  readonly firstPort: number;
}

export interface BmcEndpoint {
  readonly index: number;
  readonly address: string;
  readonly port: number;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** The address `offset` after `address`; throws past 255.255.255.255. */
export function addIpv4(address: string, offset: number): string {
  const base = parseIpv4(address);
  if (base === undefined) throw new Error(`"${address}" is not an IPv4 address`);
  const value = base + offset;
  if (value > 0xffffffff) throw new Error(`${address} + ${offset} is past 255.255.255.255`);
  return formatIpv4(value);
}

export function endpointOf(plan: AddressPlan, index: number): BmcEndpoint {
  if (!Number.isInteger(index) || index < 0 || index >= plan.count) throw new Error(`BMC index ${index} is outside the farm (0 to ${plan.count - 1})`);
  return plan.mode === 'addresses'
    ? { index, address: addIpv4(plan.firstAddress, index), port: plan.firstPort }
    : { index, address: plan.firstAddress, port: plan.firstPort + index };
}

/**
 * Checks a plan: in address mode the last address must exist and, when the first is loopback, stay
 * in 127.0.0.0/8 (all of it is local on Linux); in port mode the last port must be ≤ 65535.
 * Returns the problems found (empty: the plan is usable).
 */
export function checkPlan(plan: AddressPlan): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(plan.count) || plan.count < 1) problems.push(`FARM_BMCS must be a whole number ≥ 1, not ${plan.count}`);
  const first = parseIpv4(plan.firstAddress);
  if (first === undefined) {
    problems.push(`${plan.mode === 'addresses' ? 'FARM_ADDRESSES' : 'IPMI_ADDRESS'}="${plan.firstAddress}" must be an IPv4 address`);
    return problems;
  }
  if (plan.mode === 'addresses') {
    if (first === 0) problems.push('FARM_ADDRESSES must be a real address, not 0.0.0.0 (each BMC listens on its own address)');
    const last = first + plan.count - 1;
    if (last > 0xffffffff) problems.push(`FARM_ADDRESSES=${plan.firstAddress} with FARM_BMCS=${plan.count} runs past 255.255.255.255`);
    else if (first >>> 24 === 127 && last >>> 24 !== 127) {
      problems.push(`FARM_ADDRESSES=${plan.firstAddress} with FARM_BMCS=${plan.count} leaves 127.0.0.0/8 (the last BMC would be ${formatIpv4(last)}); start lower, e.g. 127.1.0.1`);
    }
  } else if (plan.firstPort + plan.count - 1 > 65535) {
    problems.push(`FARM_PORTS=${plan.firstPort} with FARM_BMCS=${plan.count} needs ports up to ${plan.firstPort + plan.count - 1}, past 65535`);
  }
  return problems;
}

/**
 * A stable MAC for BMC `index`: locally administered, unicast (02:…), the farm's 16-bit tag, then
 * the index in 24 bits, so every BMC of a farm and of farms with different tags has its own.
 */
export function macOf(farmTag: number, index: number): string {
  if (index < 0 || index > 0xffffff) throw new Error(`BMC index ${index} does not fit a MAC (0 to 16777215)`);
  const bytes = [0x02, (farmTag >> 8) & 0xff, farmTag & 0xff, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
