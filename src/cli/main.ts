#!/usr/bin/env node
/**
 * Entry point of the `bmcfleet` CLI (compiled to dist/src/cli/main.js, which the package's "bin"
 * names): wires the real HTTP client, terminal, files and SOL console into runCli and sets the exit
 * code. `node dist/src/cli/main.js nodes ls` runs it without installing.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { SolConsole } from '../../node-image/src/client/sol-console';
import { CliDeps, runCli } from './cli-program';
import { HttpFleetApi } from './http-fleet-api';
import { ProcessTerminal } from './terminal';
import { openWebSocketConsole } from './ws-console';

export function processDeps(): CliDeps {
  return {
    env: process.env,
    terminal: new ProcessTerminal(),
    api: (connection) => new HttpFleetApi(connection),
    openConsole: (target) => SolConsole.open(target),
    openSerialConsole: (target) => openWebSocketConsole(target),
    writeFile: (path, data) => (typeof data === 'string' ? writeFile(path, data, 'utf8') : writeFile(path, data)),
    writeSecretFile: async (path, data) => {
      await writeFile(path, data, { encoding: 'utf8', mode: 0o600 });
      // mode applies only to a file writeFile creates: an existing one is narrowed too.
      await chmod(path, 0o600);
    },
  };
}

/** Runs the CLI with these arguments (process.argv without node and the script). */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return runCli(argv, processDeps());
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
