/**
 * Command dispatch through a typed lookup table keyed by (netFn << 8) | cmd (IPMI v2.0 section 5.1).
 * Unknown commands answer 0xC1; a session below the command's privilege answers 0xD4; a handler
 * that reads past the request data answers 0xC7; any other failure answers 0xFF and is logged,
 * never propagated (one bad request must not take the agent down).
 */
import { CompletionCode, Privilege, ProtocolError, ProtocolErrorCode } from '../protocol/errors';
import type { CommandContext, CommandDefinition, CommandResult } from './commands/command-types';
import { MachineError } from '../machine/machine-control';

export interface DispatchLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

const key = (netFn: number, cmd: number): number => ((netFn & 0x3f) << 8) | (cmd & 0xff);

/**
 * Slot of each command key, shared by every dispatcher of the process: a dispatcher keeps only an
 * array of its definitions by slot, so thousands of BMCs in one process (a farm) share one hash table.
 */
const SLOTS = new Map<number, number>();

function slotOf(k: number): number {
  let slot = SLOTS.get(k);
  if (slot === undefined) { slot = SLOTS.size; SLOTS.set(k, slot); }
  return slot;
}

export class Dispatcher {
  private readonly table: Array<CommandDefinition | undefined> = [];

  constructor(private readonly log: DispatchLog) {}

  register(defs: readonly CommandDefinition[]): this {
    for (const d of defs) {
      const slot = slotOf(key(d.netFn, d.cmd));
      if (this.table[slot] !== undefined) throw new Error(`command registered twice: ${d.name} (netFn 0x${d.netFn.toString(16)} cmd 0x${d.cmd.toString(16)})`);
      while (this.table.length < slot) this.table.push(undefined);
      this.table[slot] = d;
    }
    return this;
  }

  lookup(netFn: number, cmd: number): CommandDefinition | undefined {
    const slot = SLOTS.get(key(netFn, cmd));
    return slot === undefined ? undefined : this.table[slot];
  }

  definitions(): CommandDefinition[] {
    return this.table.filter((d): d is CommandDefinition => d !== undefined).sort((a, b) => key(a.netFn, a.cmd) - key(b.netFn, b.cmd));
  }

  async dispatch(netFn: number, cmd: number, data: Buffer, ctx: CommandContext): Promise<CommandResult> {
    const def = this.lookup(netFn, cmd);
    if (!def) return { cc: CompletionCode.InvalidCommand };
    if (ctx.session.protocol === 'none' ? !def.sessionless : ctx.session.privilege < def.privilege) {
      return { cc: CompletionCode.InsufficientPrivilege };
    }
    try {
      return await def.handler(data, ctx);
    } catch (err) {
      if (err instanceof ProtocolError && err.code === ProtocolErrorCode.Truncated) return { cc: CompletionCode.RequestDataLengthInvalid };
      if (err instanceof MachineError) {
        return { cc: err.reason === 'busy' ? CompletionCode.NodeBusy : err.reason === 'unsupported' ? CompletionCode.InvalidDataField : CompletionCode.Unspecified };
      }
      this.log.warn('command handler failed', { command: def.name, error: err instanceof Error ? err.message : String(err) });
      return { cc: CompletionCode.Unspecified };
    }
  }
}

/** Sessionless commands are allowed outside a session; inside one they still need at least User. */
export const SESSIONLESS_PRIVILEGE = Privilege.Callback;
