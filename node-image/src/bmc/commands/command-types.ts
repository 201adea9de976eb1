/**
 * The contract between the session layer and command handlers. A handler sees the request data
 * (after the command byte, before the checksum) and returns a completion code plus response data
 * (after the completion code). Handlers get their collaborators through their family's factory
 * (e.g. chassisCommands({ machine, ... })), never through globals.
 */

/** What a handler may know about the session a request arrived in. */
export interface SessionView {
  /** BMC-side session id; 0 for requests outside any session. */
  readonly id: number;
  /** 1-based handle assigned at activation; 0 outside a session. */
  readonly handle: number;
  readonly protocol: 'none' | 'ipmi15' | 'rmcpplus';
  /** Current operating privilege level (Privilege.*); Privilege.None outside a session. */
  readonly privilege: number;
  /** User id (1-based); 0 outside a session. */
  readonly userId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export interface CommandContext {
  readonly session: SessionView;
  /** Milliseconds since the epoch, from the shell's clock. */
  readonly now: number;
}

export interface CommandResult {
  readonly cc: number;
  readonly data?: Buffer;
  /** Runs after the response has been sent (e.g. a cold reset must answer first). */
  readonly after?: () => void | Promise<void>;
}

export type CommandHandler = (data: Buffer, ctx: CommandContext) => CommandResult | Promise<CommandResult>;

export interface CommandDefinition {
  readonly netFn: number;
  readonly cmd: number;
  /** The spec's name, for logs and docs/commands.md. */
  readonly name: string;
  /** Lowest session privilege allowed to run it (Privilege.*). */
  readonly privilege: number;
  /** True for the few commands answered outside a session (spec table G-1 "session-less"). */
  readonly sessionless?: boolean;
  readonly handler: CommandHandler;
}

/** Shorthand results. */
export const ok = (data?: Buffer): CommandResult => (data ? { cc: 0, data } : { cc: 0 });
export const fail = (cc: number): CommandResult => ({ cc });

/** Channel number 0x0E in a request means "the channel this request arrived on" (spec table 6-1). */
export const CURRENT_CHANNEL = 0x0e;

/** True when a request's channel number (already masked to bits 3:0) names the LAN channel. */
export const isThisChannel = (channelNumber: number, lanChannel: number): boolean =>
  channelNumber === lanChannel || channelNumber === CURRENT_CHANNEL;
