/**
 * `bmcfleet export metal3|ironic|maas`: the fleet, or a selection of it, as what Metal3, Ironic and
 * MAAS enrol, to stdout (for a pipe into `kubectl apply -f -`) or to a file. JSON comes out indented.
 * The output holds BMC passwords; a file is written readable by its owner only.
 */
import { Argument, type Command, Option } from 'commander';
import { EXPORT_DRIVERS, type ExportDriver } from '../exports/bmc-address';
import type { ExportQuery } from '../exports/export-client';
import { EXPORT_FORMATS, type ExportFormat } from '../exports/exports.paths';
import { MACHINES, type MachineKind } from '../nodes/node.model';
import { CliUsageError } from './cli-options';
import type { FleetApi } from './fleet-api';

export interface ExportCommandOptions {
  readonly driver?: ExportDriver;
  readonly name?: string;
  readonly names?: string;
  readonly machine?: MachineKind;
  readonly namespace?: string;
  readonly online?: boolean;
  readonly host?: string;
  readonly output?: string;
}

export interface ExportCommandDeps {
  readonly api: () => FleetApi;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Writes a file only its owner can read. */
  readonly writeSecretFile: (path: string, data: string) => Promise<void>;
}

/** The options as the API's query; a --names list without a name is a usage error. */
export function exportQuery(options: ExportCommandOptions): ExportQuery {
  const names = options.names?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names !== undefined && names.length === 0) throw new CliUsageError('--names needs at least one node name, e.g. --names node1,node2');
  return {
    ...(options.driver === undefined ? {} : { driver: options.driver }),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(names === undefined ? {} : { names }),
    ...(options.machine === undefined ? {} : { machine: options.machine }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.online === undefined ? {} : { online: options.online }),
    ...(options.host === undefined ? {} : { host: options.host }),
  };
}

/** The API's answer as written out: YAML as it is, JSON indented. */
export function exportText(format: ExportFormat, body: string): string {
  if (format === 'metal3') return body;
  return `${JSON.stringify(JSON.parse(body) as unknown, null, 2)}\n`;
}

export function registerExportCommand(program: Command, deps: ExportCommandDeps): void {
  program.command('export')
    .description('the fleet as Metal3 BareMetalHosts + Secrets (YAML), an Ironic resources file or MAAS machines (JSON); holds BMC passwords')
    .addArgument(new Argument('<format>', 'what to write').choices(EXPORT_FORMATS))
    .addOption(new Option('--driver <driver>', 'how the BMCs are driven (default: ipmi)').choices(EXPORT_DRIVERS))
    .option('--name <prefix>', 'only nodes whose name starts with this')
    .option('--names <names>', 'only these nodes, separated by commas')
    .addOption(new Option('--machine <kind>', 'only nodes of this machine kind').choices(MACHINES))
    .option('--namespace <ns>', 'metal3: the namespace of every object (default: kubectl\'s)')
    .option('--online', 'metal3: spec.online true (default false)')
    .option('--host <address>', 'the address provisioning systems reach the BMCs at (default: the orchestrator\'s PUBLISH_ADDRESS)')
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
    .action(async (format: ExportFormat, options: ExportCommandOptions) => {
      const text = exportText(format, await deps.api().export(format, exportQuery(options)));
      if (options.output === undefined) return deps.out(text);
      await deps.writeSecretFile(options.output, text);
      deps.err(`${format} export written to ${options.output}\n`);
    });
}
