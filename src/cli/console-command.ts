/**
 * `bmcfleet nodes console <name>`: the node's serial console through the orchestrator's WebSocket
 * (GET /api/v1/nodes/:name/console/serial): it shares the console with browsers and other viewers
 * and leaves IPMI SOL free for ipmitool. With --sol: Serial over LAN through the node's leased IPMI
 * port instead, like `ipmitool sol activate` (one session per BMC); the endpoint and user come from
 * GET /api/v1/nodes/:name, the password, which the API never returns, from --password,
 * BMCFLEET_IPMI_PASSWORD or a no-echo prompt.
 * The terminal goes raw for the session and is restored on every way out (~., end of input, a
 * signal, the BMC ending SOL, an error).
 */
import type { SolConsoleEnd } from '../../node-image/src/client/sol-console';
import { CliUsageError, ENV_IPMI_PASSWORD, Environment } from './cli-options';
import { ESCAPE_HELP, EscapeParser } from './console-escape';
import type { FleetApi } from './fleet-api';
import { formatEndpoint } from './node-format';
import type { Terminal, TerminalSignal } from './terminal';

/** What the console command needs of a SOL session (SolConsole has it). */
export interface ConsoleLink {
  write(data: Buffer): boolean;
  sendBreak(): boolean;
  close(): Promise<SolConsoleEnd>;
  readonly ended: Promise<SolConsoleEnd>;
}

export interface ConsoleTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly onData: (data: Buffer) => void;
}

export type OpenConsole = (target: ConsoleTarget) => Promise<ConsoleLink>;

export interface SerialConsoleTarget {
  readonly url: string;
  readonly token: string | null;
  readonly name: string;
  readonly onData: (data: Buffer) => void;
}

/** Opens the orchestrator's serial console WebSocket (ws-console.ts). */
export type OpenSerialConsole = (target: SerialConsoleTarget) => Promise<ConsoleLink>;

export interface ConsoleOptions {
  /** IPMI SOL instead of the orchestrator's WebSocket. */
  readonly sol: boolean;
  readonly password: string | undefined;
  /** The orchestrator (for the WebSocket). */
  readonly connection: { readonly url: string; readonly token: string | null };
}

/** Exit codes: 128 + the signal's number, as shells report them. */
const SIGNAL_EXIT_CODES: Readonly<Record<TerminalSignal, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
/** The BMC ended the console (someone took SOL over, or the BMC went silent). */
export const CONSOLE_ENDED_BY_BMC_EXIT_CODE = 1;

type Outcome =
  | { readonly kind: 'quit' }
  | { readonly kind: 'end-of-input' }
  | { readonly kind: 'signal'; readonly signal: TerminalSignal }
  | { readonly kind: 'ended'; readonly end: SolConsoleEnd };

export interface ConsoleDeps {
  readonly api: FleetApi;
  readonly terminal: Terminal;
  readonly openConsole: OpenConsole;
  readonly openSerialConsole: OpenSerialConsole;
  readonly env: Environment;
}

/** Runs the console until it ends; resolves with the process exit code. */
export async function runConsole(deps: ConsoleDeps, name: string, options: ConsoleOptions): Promise<number> {
  const { terminal } = deps;
  let link: ConsoleLink;
  if (options.sol) {
    const node = await deps.api.getNode(name);
    const password = await consolePassword(deps, node.ipmi.user, name, options.password);
    const where = formatEndpoint(node.ipmi);
    terminal.stderr.write(`[connecting to the console of ${name} (SOL) at ${where} as ${node.ipmi.user}]\n`);
    link = await deps.openConsole({ host: node.ipmi.host, port: node.ipmi.port, user: node.ipmi.user, password, onData: (d) => terminal.stdout.write(d) });
  } else {
    terminal.stderr.write(`[connecting to the serial console of ${name} through ${options.connection.url}]\n`);
    link = await deps.openSerialConsole({ ...options.connection, name, onData: (d) => terminal.stdout.write(d) });
  }
  terminal.stderr.write(`[console of ${name} is up: ~. ends it, ~? lists the escapes]\r\n`);

  const cleanups: Array<() => void> = [];
  let outcome: Outcome | undefined;
  try {
    terminal.enterRawMode();
    outcome = await new Promise<Outcome>((resolve) => {
      const parser = new EscapeParser();
      cleanups.push(terminal.onInput((chunk) => {
        if (chunk === null) return resolve({ kind: 'end-of-input' });
        for (const action of parser.feed(chunk)) {
          switch (action.kind) {
            case 'send': link.write(action.data); break;
            case 'break': if (!link.sendBreak()) terminal.stderr.write('\r\n[no serial break on this console: use --sol for one]\r\n'); break;
            case 'help': terminal.stderr.write(`\r\n${ESCAPE_HELP}\r\n`); break;
            case 'quit': resolve({ kind: 'quit' }); break;
          }
        }
      }));
      cleanups.push(terminal.onSignal((signal) => resolve({ kind: 'signal', signal })));
      void link.ended.then((end) => resolve({ kind: 'ended', end }));
    });
  } finally {
    for (const cleanup of cleanups.splice(0)) cleanup();
    terminal.restoreMode();
    // Deactivate Payload and Close Session, so the next console can attach at once.
    await link.close();
  }
  terminal.stderr.write(`\r\n${closingNotice(name, outcome)}\n`);
  switch (outcome.kind) {
    case 'quit':
    case 'end-of-input':
      return 0;
    case 'signal':
      return SIGNAL_EXIT_CODES[outcome.signal];
    case 'ended':
      return outcome.end.kind === 'closed' ? 0 : CONSOLE_ENDED_BY_BMC_EXIT_CODE;
  }
}

/** --password, then BMCFLEET_IPMI_PASSWORD, then a prompt when stdin is a terminal. */
async function consolePassword(deps: ConsoleDeps, user: string, name: string, option: string | undefined): Promise<string> {
  if (option !== undefined && option !== '') return option;
  const fromEnv = deps.env[ENV_IPMI_PASSWORD];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!deps.terminal.isInteractive) {
    throw new CliUsageError(`the BMC password of ${name} is needed (the API never returns it): give --password or set ${ENV_IPMI_PASSWORD}`);
  }
  return deps.terminal.promptHidden(`IPMI password for ${user} on ${name}: `);
}

function closingNotice(name: string, outcome: Outcome): string {
  switch (outcome.kind) {
    case 'quit': return `[console of ${name} closed]`;
    case 'end-of-input': return `[console of ${name} closed: end of input]`;
    case 'signal': return `[console of ${name} closed on ${outcome.signal}]`;
    case 'ended':
      return outcome.end.kind === 'closed' ? `[console of ${name} closed]` : `[console of ${name} ended: ${outcome.end.message}]`;
  }
}
