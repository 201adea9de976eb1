/**
 * Where a node's published ports answer: its host's address as the runtime reports it
 * (RuntimeHost.address: a swarm host's advertised address or its io.bmcfleet.address label), or
 * PUBLISH_ADDRESS where the runtime publishes on the address it is given (a plain Docker engine). The
 * API's node view, the BMC targets of the reconciler, the power watch and the consoles, containerlab
 * labels and exports all read it here.
 *
 * The runtime's hosts are asked at most every REFRESH_MS; a host once seen keeps its address when it
 * leaves the runtime's list (its nodes are still shown where they were). While the runtime does not
 * answer, the last answer (or PUBLISH_ADDRESS, before any) is used: reading the fleet never waits on
 * an engine for longer than FIRST_ANSWER_WAIT_MS.
 */
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { messageOf } from '../common/errors/message-of';
import { NodeRuntime } from '../runtime/node-runtime';

/** How old the hosts' addresses may get before the runtime is asked again (ms). */
export const REFRESH_MS = 10_000;
/** How long a reader waits for the runtime's first answer before using PUBLISH_ADDRESS (ms). */
export const FIRST_ANSWER_WAIT_MS = 3_000;

/** A node's address from its host's name (null: not placed yet). */
export type AddressOf = (host: string | null) => string;

@Injectable()
export class HostAddresses {
  private readonly logger = new Logger('HostAddresses');
  /** Host name → its address; null: PUBLISH_ADDRESS. */
  private readonly known = new Map<string, string | null>();
  private fetchedAt = 0;
  private answered = false;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly runtime: NodeRuntime,
  ) {}

  /** The lookup for one answer (a list, a view, a BMC call): fresh within REFRESH_MS. */
  async resolver(): Promise<AddressOf> {
    if (Date.now() - this.fetchedAt > REFRESH_MS) {
      const refresh = this.refresh();
      // A stale answer serves while a new one comes; before the first, wait for it (bounded).
      if (!this.answered) await Promise.race([refresh, new Promise((resolve) => setTimeout(resolve, FIRST_ANSWER_WAIT_MS).unref())]);
    }
    return (host) => this.addressOf(host);
  }

  /** One node's address (its row's host). */
  async of(host: string | null): Promise<string> {
    return (await this.resolver())(host);
  }

  private addressOf(host: string | null): string {
    return (host === null ? null : this.known.get(host)) ?? this.config.publishAddress;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.runtime
      .hosts()
      .then((hosts) => {
        for (const host of hosts) this.known.set(host.name, host.address);
        this.answered = true;
      })
      .catch((error: unknown) => this.logger.debug(`hosts' addresses not refreshed: ${messageOf(error)}`))
      .finally(() => {
        // Failed or not, ask again only after REFRESH_MS: a runtime that does not answer is not asked on every read.
        this.fetchedAt = Date.now();
        this.refreshing = null;
      });
    return this.refreshing;
  }
}
