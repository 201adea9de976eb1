/**
 * `npm run farm` (and the node image's farm entry): many simulated BMCs in one farm. Reads the
 * configuration (farm-config.ts), then either hosts every BMC in this process or, when they do not
 * fit one process (file descriptors) or FARM_WORKERS asks for more, supervises worker processes
 * that each host a slice (farm-workers.ts). Exits non-zero with every configuration problem listed;
 * stops cleanly, state flushed, on SIGTERM/SIGINT.
 */
import { loadFarmConfig, type FarmConfig } from './farm-config';
import { batchedStderr, createLogger } from '../util/logger';
import { runFarm } from './farm-runner';

/**
 * Many long-lived small Buffers (GUIDs, names, keys) from Node's shared 64 KiB slabs keep whole
 * slabs alive; in a farm that is most of the memory they hold. Each gets its own allocation instead.
 */
Buffer.poolSize = 0;

function main(): void {
  let config: FarmConfig;
  try {
    config = loadFarmConfig(process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const log = createLogger({ debug: config.agent.debug, component: 'farm', write: batchedStderr() });
  runFarm(config, log).catch((err: unknown) => {
    process.stderr.write(`farm failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

main();
