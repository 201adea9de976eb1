/**
 * The `bmcfleet` command line (commander): nodes ls|show|create|create-batch|rm|power|vnc|console|faults, containerlab
 * topology and export metal3|ironic|maas, over the orchestrator's HTTP API. Everything outside (HTTP, terminal, files, SOL) comes in
 * through CliDeps, so specs run the real argument parsing against stubs. runCli() maps failures to
 * exit codes: 0 success, 1 the orchestrator or the BMC said no (its message is printed), 2 usage.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { IpmiClientError } from '../../node-image/src/client/ipmi-client';
import { SolConsoleError } from '../../node-image/src/client/sol-console';
import { ContainerlabError } from '../containerlab/containerlab.error';
import { BOOT_MODES, KVM_MODES, MACHINES } from '../nodes/node.model';
import {
  CliUsageError,
  Connection,
  createNodeRequest,
  CreateCommandOptions,
  DEFAULT_ORCHESTRATOR_URL,
  ENV_IPMI_PASSWORD,
  ENV_TOKEN,
  ENV_URL,
  Environment,
  checkNodeName,
  parsePowerCommand,
  POWER_COMMANDS,
  resolveConnection,
  topologyQuery,
  TopologyCommandOptions,
} from './cli-options';
import { OpenConsole, OpenSerialConsole, runConsole } from './console-command';
import { registerFaultCommands } from './faults-command';
import { registerExportCommand } from './export-command';
import { registerBatchCommand, registerListCommand } from './fleet-list-commands';
import { FleetApi, FleetApiError, OrchestratorUnreachableError, TOPOLOGY_MODES } from './fleet-api';
import { formatJson, formatNodeDetails, formatPowerResult } from './node-format';
import { PromptCancelledError, Terminal } from './terminal';

export const CLI_NAME = 'bmcfleet';
export const FAILURE_EXIT_CODE = 1;
export const USAGE_EXIT_CODE = 2;

export interface CliDeps {
  readonly env: Environment;
  readonly terminal: Terminal;
  readonly api: (connection: Connection) => FleetApi;
  readonly openConsole: OpenConsole;
  readonly openSerialConsole: OpenSerialConsole;
  readonly writeFile: (path: string, data: string | Buffer) => Promise<void>;
  /** Writes a file readable by its owner only (exports hold BMC passwords). */
  readonly writeSecretFile: (path: string, data: string) => Promise<void>;
}

interface GlobalOptions {
  readonly url?: string;
  readonly token?: string;
}

/** Collects a repeatable option (--network a --network b). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function buildProgram(deps: CliDeps, setExitCode: (code: number) => void): Command {
  const out = (text: string): void => { deps.terminal.stdout.write(text); };
  const program = new Command(CLI_NAME)
    .description('Manage a bmcfleet orchestrator: simulated bare-metal nodes with real BMCs.')
    .addOption(new Option('--url <url>', `orchestrator URL (default: $${ENV_URL} or ${DEFAULT_ORCHESTRATOR_URL})`))
    .addOption(new Option('--token <token>', `API token, sent as a bearer token (default: $${ENV_TOKEN})`))
    .configureOutput({ writeOut: (s) => deps.terminal.stdout.write(s), writeErr: (s) => deps.terminal.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError(`(run "${CLI_NAME} --help" for usage)`);
  const api = (): FleetApi => deps.api(resolveConnection(program.opts<GlobalOptions>(), deps.env));

  const nodes = program.command('nodes').description('list, create, remove, power and reach nodes');

  registerListCommand(nodes, { api, out, err: (text) => { deps.terminal.stderr.write(text); } });

  nodes.command('show').argument('<name>')
    .description('show one node')
    .option('--json', 'print the API\'s JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const node = await api().getNode(checkNodeName(name));
      out(o.json ? formatJson(node) : formatNodeDetails(node));
    });

  nodes.command('create').argument('<name>', 'node name: a lower-case DNS label')
    .description('create a node (its VM starts powered off unless --power-on)')
    .option('--memory <MiB>', 'memory of the VM in MiB')
    .option('--cpus <n>', 'vCPUs')
    .option('--disk <GiB>', 'size of the disk created for the node, in GiB')
    .option('--cdrom <path>', 'ISO in the orchestrator\'s ISO_DIR (a name or a path relative to it) attached as CD-ROM')
    .addOption(new Option('--boot-mode <mode>', 'firmware').choices(BOOT_MODES))
    .option('--boot-menu-timeout <ms>', 'how long the firmware boot menu waits (0: no menu)')
    .addOption(new Option('--machine <kind>', 'qemu: a VM; sim: a simulated server without a VM').choices(MACHINES))
    .option('--network <name>', 'Docker network bridged into the VM (repeatable)', collect)
    .option('--lab-interface <if>', 'interface plugged in later, e.g. by containerlab (repeatable)', collect)
    .option('--ipmi-user <user>', 'the BMC\'s administrator')
    .option('--ipmi-password <password>', 'the BMC administrator\'s password (generated when not given)')
    .option('--power-on', 'power the VM on when the node starts')
    .option('--keep-bmc-users', 'on a kept disk, keep the BMC\'s users instead of resetting them to --ipmi-user/--ipmi-password')
    .addOption(new Option('--enable-kvm <mode>', 'use /dev/kvm').choices(KVM_MODES))
    .option('--host <host>', 'the host to place the node on (RUNTIME=swarm: a swarm node\'s name or id); default: the host with the fewest nodes')
    .option('--json', 'print the API\'s JSON')
    .action(async (name: string, o: CreateCommandOptions & { json?: boolean }) => {
      const created = await api().createNode(createNodeRequest(name, o));
      if (o.json) return out(formatJson(created));
      out(formatNodeDetails(created));
      if (created.generatedIpmiPassword) out(`ipmi password: ${created.generatedIpmiPassword} (generated; shown only now)\n`);
    });

  registerBatchCommand(nodes, { api, out, err: (text) => { deps.terminal.stderr.write(text); } });

  nodes.command('rm').argument('<name>')
    .description('remove a node (its disk stays unless --purge)')
    .option('--purge', 'also delete the node\'s disk')
    .action(async (name: string, o: { purge?: boolean }) => {
      await api().deleteNode(checkNodeName(name), o.purge === true);
      out(`node ${name} removed${o.purge ? ', disk deleted' : ''}\n`);
    });

  nodes.command('power').argument('<name>')
    .addArgument(new Argument('<command>', 'a power action, or status').choices(POWER_COMMANDS))
    .description('power a node through its BMC, or read its power state')
    .action(async (name: string, commandText: string) => {
      const command = parsePowerCommand(commandText);
      const client = api();
      const result = command === 'status' ? await client.powerStatus(checkNodeName(name)) : await client.power(checkNodeName(name), command);
      out(formatPowerResult(name, result));
    });

  nodes.command('vnc').argument('<name>')
    .description('the node\'s VNC console: address and password')
    .option('--json', 'print the API\'s JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const vnc = await api().vnc(checkNodeName(name));
      if (o.json) return out(formatJson(vnc));
      out(`vnc://${vnc.host}:${vnc.port}\n`);
      out(vnc.password === null ? 'password: none yet (the node predates VNC passwords; its next re-create sets one)\n' : `password: ${vnc.password}\n`);
    });

  nodes.command('console').argument('<name>')
    .description('the node\'s serial console through the orchestrator, shared with other viewers (~. ends it)')
    .option('--sol', 'use IPMI Serial-over-LAN on the node\'s IPMI port instead (one session per BMC; needs the password)')
    .option('--password <password>', `with --sol: the BMC password (default: $${ENV_IPMI_PASSWORD}, else asked)`)
    .action(async (name: string, o: { sol?: boolean; password?: string }) => {
      const connection = resolveConnection(program.opts<GlobalOptions>(), deps.env);
      setExitCode(await runConsole(
        { api: api(), terminal: deps.terminal, openConsole: deps.openConsole, openSerialConsole: deps.openSerialConsole, env: deps.env },
        checkNodeName(name),
        { sol: o.sol === true, password: o.password, connection },
      ));
    });

  nodes.command('screenshot').argument('<name>')
    .description('the node\'s screen as PNG, taken by its BMC')
    .requiredOption('-o, --output <file>', 'write the PNG to this file')
    .option('--width <pixels>', 'shrink to this width (16-4096)')
    .action(async (name: string, o: { output: string; width?: string }) => {
      const width = o.width === undefined ? undefined : parseScreenshotWidth(o.width);
      const png = await api().screenshot(checkNodeName(name), width);
      await deps.writeFile(o.output, png);
      deps.terminal.stderr.write(`screenshot of ${name} written to ${o.output} (${png.length} bytes)\n`);
    });

  registerFaultCommands(nodes, api, out);

  const containerlab = program.command('containerlab').description('hand nodes to containerlab');
  containerlab.command('topology')
    .description('print a containerlab topology (YAML) of the fleet\'s nodes')
    .option('--nodes <names>', 'only these nodes, separated by commas')
    .addOption(new Option('--mode <mode>', 'how nodes appear in the lab (default: ext-container)').choices(TOPOLOGY_MODES))
    .option('--name <lab>', 'lab name (default: the fleet name)')
    .option('--links <spec>', 'links, e.g. "node1:eth1,switch:eth1;node2:eth1,switch:eth2"')
    .option('-o, --output <file>', 'write the YAML to this file instead of stdout')
    .action(async (o: TopologyCommandOptions & { output?: string }) => {
      const yaml = await api().topology(topologyQuery(o));
      if (o.output === undefined) return out(yaml);
      await deps.writeFile(o.output, yaml);
      deps.terminal.stderr.write(`topology written to ${o.output}\n`);
    });

  registerExportCommand(program, {
    api,
    out,
    err: (text) => { deps.terminal.stderr.write(text); },
    writeSecretFile: deps.writeSecretFile,
  });

  return program;
}

/** --width: an integer from 16 to 4096. */
export function parseScreenshotWidth(text: string): number {
  const width = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(width >= 16 && width <= 4096)) throw new CliUsageError(`--width must be an integer from 16 to 4096 (got "${text}")`);
  return width;
}

/** Parses and runs one command line (without the node and script names); resolves with the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(deps, (code) => { exitCode = code; });
  const fail = (message: string, code: number): number => {
    deps.terminal.stderr.write(`${CLI_NAME}: ${message}\n`);
    return code;
  };
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander printed its message already; help and version are successes.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      return err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    }
    // ContainerlabError here is a malformed --links text, refused before any request.
    if (err instanceof CliUsageError || err instanceof ContainerlabError) return fail(`error: ${err.message}`, USAGE_EXIT_CODE);
    if (err instanceof PromptCancelledError) return fail('cancelled', FAILURE_EXIT_CODE);
    if (err instanceof FleetApiError || err instanceof OrchestratorUnreachableError || err instanceof IpmiClientError || err instanceof SolConsoleError) {
      return fail(`error: ${err.message}`, FAILURE_EXIT_CODE);
    }
    return fail(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, FAILURE_EXIT_CODE);
  }
}
