/**
 * The BMC's event log in domain terms. Events are recorded once, by kind; the IPMI SEL
 * (SystemEventLog, 16-byte records of IPMI v2.0 section 32) is their stored encoding, and the
 * Redfish SEL LogService reads the same entries back through `entries()`.
 */
import type { SystemEventLog } from '../bmc/sel/system-event-log';
import { decodeSelRecord } from '../bmc/sel/sel-record.codec';
import { BMC_EVENTS, POWER_EVENTS, type BmcEventKind, type PowerEventKind } from '../bmc/sel/sel-events';

export type BmcEvent = PowerEventKind | BmcEventKind;

/** What each event says, in words (the Redfish LogEntry Message). */
const EVENT_MESSAGE: Readonly<Record<BmcEvent, string>> = {
  'power-on': 'System powered on (S0/G0: working).',
  'power-off': 'System powered off.',
  'power-cycle': 'System power cycled.',
  'reset': 'System reset (hard reset).',
  'soft-off': 'Power button pressed (graceful shutdown requested).',
  'power-down-by-guest': 'Operating system powered the system off (S5/G2: soft-off).',
  'failure': 'Power control failure detected.',
  'bmc-restart': 'BMC started.',
  'clock-sync': 'BMC clock set.',
  'log-cleared': 'Event log cleared.',
};

export interface EventLogEntry {
  readonly id: number;
  /** Seconds since the epoch in SEL time; undefined for records without a timestamp. */
  readonly timestamp: number | undefined;
  /** The domain event, when the record is one this BMC logs itself. */
  readonly event: BmcEvent | undefined;
  readonly message: string;
  readonly sensorType: number | undefined;
  readonly sensorNumber: number | undefined;
  readonly eventType: number | undefined;
  readonly offset: number | undefined;
  readonly deassertion: boolean;
  /** The stored record (the IPMI SEL encoding), 16 bytes. */
  readonly raw: Buffer;
}

const SPECS = [
  ...Object.entries(POWER_EVENTS),
  ...Object.entries(BMC_EVENTS),
] as ReadonlyArray<[BmcEvent, { sensorType: number; sensorNumber: number; eventType: number; offset: number }]>;

export class EventLog {
  constructor(private readonly sel: SystemEventLog) {}

  get capacity(): number {
    return this.sel.capacity;
  }

  record(event: BmcEvent, now: number): void {
    if (event in POWER_EVENTS) this.sel.recordPowerEvent(event as PowerEventKind, now);
    else this.sel.recordBmcEvent(event as BmcEventKind, now);
  }

  /** Calls `listener` with each entry added from now on, whoever added it (this BMC, or IPMI Add SEL Entry). */
  onAdded(listener: (entry: EventLogEntry) => void): () => void {
    return this.sel.onAdd((raw) => listener(describe(raw)));
  }

  entries(): EventLogEntry[] {
    return this.sel.list().map((raw) => describe(raw));
  }

  clear(now: number): void {
    this.sel.clear(now);
  }
}

function describe(raw: Buffer): EventLogEntry {
  const r = decodeSelRecord(raw);
  if (r.kind === 'oem') {
    return { id: r.recordId, timestamp: undefined, event: undefined, message: `OEM record type 0x${r.recordType.toString(16)}.`, sensorType: undefined, sensorNumber: undefined, eventType: undefined, offset: undefined, deassertion: false, raw };
  }
  const offset = r.eventData[0] & 0x0f;
  const match = SPECS.find(([, s]) => s.sensorType === r.sensorType && s.sensorNumber === r.sensorNumber && s.eventType === r.eventType && s.offset === offset);
  const event = match?.[0];
  const message = event ? EVENT_MESSAGE[event] : `Sensor type 0x${r.sensorType.toString(16)} number 0x${r.sensorNumber.toString(16)} event offset ${offset}${r.deassertion ? ' deasserted' : ''}.`;
  return { id: r.recordId, timestamp: r.timestamp, event, message, sensorType: r.sensorType, sensorNumber: r.sensorNumber, eventType: r.eventType, offset, deassertion: r.deassertion, raw };
}
