/**
 * The BMC's event bus, protocol-neutral: what changed, in domain terms. Power transitions (whoever
 * caused them: a command, the guest, a failure), boot-override changes (written through IPMI or
 * Redfish, or consumed by a boot), entries added to the event log, and virtual media changes.
 * Front ends (the Redfish EventService) subscribe and translate; the bus knows no protocol.
 *
 * Pure and synchronous: publish() calls every listener in order before it returns, with no timers
 * and no I/O. A listener that throws does not stop the others; its error goes to `onListenerError`.
 */
import type { PowerChangeCause, PowerState } from '../machine/machine-control';
import type { BootOverride } from './boot-override';
import type { EventLogEntry } from './event-log';

/** The machine's power changed to `state`. */
export interface PowerEvent {
  readonly kind: 'power';
  readonly state: PowerState;
  readonly cause: PowerChangeCause;
  readonly at: number;
}

/** The boot override (IPMI parameter 5, Redfish `Boot`) now reads `override`. */
export interface BootOverrideEvent {
  readonly kind: 'boot-override';
  readonly override: BootOverride;
  readonly at: number;
}

/** An entry was added to the event log (the IPMI SEL). */
export interface EventLogEntryEvent {
  readonly kind: 'event-log-entry';
  readonly entry: EventLogEntry;
  readonly at: number;
}

/**
 * A virtual media slot changed: a medium inserted (`image` its URL) or ejected (`image` null,
 * `inserted` false). `slot` is the slot's name as the front ends know it (e.g. "Cd", "UsbStick").
 */
export interface MediaEvent {
  readonly kind: 'media';
  readonly slot: string;
  readonly image: string | null;
  readonly inserted: boolean;
  readonly at: number;
}

export type BmcDomainEvent = PowerEvent | BootOverrideEvent | EventLogEntryEvent | MediaEvent;
export type BmcEventListener = (event: BmcDomainEvent) => void;

export class BmcEvents {
  private listeners: BmcEventListener[] = [];

  constructor(private readonly onListenerError: (err: unknown, event: BmcDomainEvent) => void = () => {}) {}

  /** Adds a listener; the returned function removes it. */
  on(listener: BmcEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  publish(event: BmcDomainEvent): void {
    // A listener added or removed while publishing takes effect from the next event.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }

  /** The hook the virtual media code calls when a slot's medium changes. */
  mediaChanged(change: Omit<MediaEvent, 'kind'>): void {
    this.publish({ kind: 'media', ...change });
  }
}

/**
 * Publishes the boot override only when its domain view changed (IPMI writes parameter 5 and the
 * parameters around it in several commands; a Redfish PATCH may write the same value again).
 */
export function bootOverrideChanges(read: () => BootOverride, publish: (override: BootOverride) => void): () => void {
  let last = JSON.stringify(read());
  return () => {
    const now = read();
    const text = JSON.stringify(now);
    if (text === last) return;
    last = text;
    publish(now);
  };
}

/** What the bus follows: the machine's power, the boot options, the event log. */
export interface EventSources {
  readonly machine: { on(event: 'power', listener: (state: PowerState, cause: PowerChangeCause) => void): () => void };
  readonly boot: { onChange(listener: () => void): () => void };
  readonly bootOverride: { get(now: number): BootOverride };
  readonly eventLog: { onAdded(listener: (entry: EventLogEntry) => void): () => void };
  readonly clock: () => number;
}

/** Publishes on `events` every change of `sources` until the returned function is called. */
export function publishChanges(events: BmcEvents, s: EventSources): () => void {
  const stops = [
    s.machine.on('power', (state, cause) => events.publish({ kind: 'power', state, cause, at: s.clock() })),
    s.boot.onChange(bootOverrideChanges(() => s.bootOverride.get(s.clock()), (override) => events.publish({ kind: 'boot-override', override, at: s.clock() }))),
    s.eventLog.onAdded((entry) => events.publish({ kind: 'event-log-entry', entry, at: s.clock() })),
  ];
  return () => { for (const stop of stops) stop(); };
}
