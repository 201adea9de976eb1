/**
 * The host ports a node leases (pure): what each kind is, which agent variable names it inside the
 * container, which range it comes from. Every place that handles leases reads this table, so a kind
 * is added in one place.
 */
import type { PortRange } from '../config/app-config';

export const LEASE_KINDS = ['ipmi', 'vnc', 'redfish'] as const;
export type LeaseKind = (typeof LEASE_KINDS)[number];

export interface LeaseKindInfo {
  /** How messages name it. */
  readonly title: string;
  readonly protocol: 'udp' | 'tcp';
  /** The agent variable holding the port it listens on inside the container (same port as outside). */
  readonly agentVariable: string;
  /** The orchestrator variable giving the range. */
  readonly rangeVariable: string;
}

export const LEASE_KIND_INFO: Readonly<Record<LeaseKind, LeaseKindInfo>> = {
  ipmi: { title: 'IPMI', protocol: 'udp', agentVariable: 'IPMI_PORT', rangeVariable: 'IPMI_PORT_RANGE' },
  vnc: { title: 'VNC', protocol: 'tcp', agentVariable: 'VNC_PORT', rangeVariable: 'VNC_PORT_RANGE' },
  redfish: { title: 'Redfish', protocol: 'tcp', agentVariable: 'REDFISH_PORT', rangeVariable: 'REDFISH_PORT_RANGE' },
};

export interface LeaseRanges {
  readonly ipmiPortRange: PortRange;
  readonly vncPortRange: PortRange;
  readonly redfishPortRange: PortRange;
}

export function isLeaseKind(kind: string): kind is LeaseKind {
  return LEASE_KINDS.some((known) => known === kind);
}

export function leaseRange(ranges: LeaseRanges, kind: LeaseKind): PortRange {
  switch (kind) {
    case 'ipmi':
      return ranges.ipmiPortRange;
    case 'vnc':
      return ranges.vncPortRange;
    case 'redfish':
      return ranges.redfishPortRange;
  }
}

/** "IPMI 16230/udp, VNC 15900/tcp, Redfish 17000/tcp" for event messages. */
export function leasesText(ports: Partial<Readonly<Record<LeaseKind, number>>>): string {
  return LEASE_KINDS.filter((kind) => ports[kind] !== undefined)
    .map((kind) => `${LEASE_KIND_INFO[kind].title} ${ports[kind]}/${LEASE_KIND_INFO[kind].protocol}`)
    .join(', ');
}
