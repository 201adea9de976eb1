import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COMMAND_NOTES,
  COMMAND_REFERENCE_PATH,
  commandKey,
  RAKP_STATUS_USE,
  REGENERATE_COMMAND,
  registeredCommands,
  renderCommandReference,
  SESSION_LAYER_COMMANDS,
} from './command-catalog';
import { BmcAgent } from './bmc-agent';
import type { Dispatcher } from './dispatcher';
import type { CommandDefinition } from './commands/command-types';
import { MemoryStateStore } from '../state/state-store';
import { SimMachine } from '../machine/sim-machine';
import { DEFAULT_SUITE_IDS, suiteById } from '../protocol/crypto/cipher-suites';
import { RakpStatus } from '../protocol/errors';
import { silentLogger } from '../util/logger';

const REPO_ROOT = join(__dirname, '..', '..', '..');

const summary = (defs: readonly CommandDefinition[]): string[] =>
  defs.map((d) => `${commandKey(d.netFn, d.cmd)} ${d.name} privilege=${d.privilege}${d.sessionless ? ' sessionless' : ''}`);

describe('command catalog', () => {
  const defs = registeredCommands();

  it('lists the very dispatch table a running agent uses', async () => {
    // The agent's dispatcher is not part of its public surface; the cast reaches it for this one check.
    const agent = await BmcAgent.start({
      address: '127.0.0.1',
      port: 0,
      adminUser: 'admin',
      adminPassword: 'password',
      cipherSuites: DEFAULT_SUITE_IDS.map((id) => suiteById(id)!),
      ipmi15: true,
      nodeName: 'catalog-spec',
      store: new MemoryStateStore(),
      network: { ipv4: () => ({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' }) },
      createMachine: ({ boot }) => new SimMachine({ boot, nodeName: 'catalog-spec' }),
      powerOnAtStart: false,
      log: silentLogger,
    });
    try {
      const live = (agent.engine as unknown as { deps: { dispatcher: Dispatcher } }).deps.dispatcher.definitions();
      expect(summary(defs)).toEqual(summary(live));
    } finally {
      await agent.stop();
    }
  });

  it('annotates every registered command with a spec section, and nothing else', () => {
    const registered = defs.map((d) => commandKey(d.netFn, d.cmd));
    const missing = registered.filter((k) => !COMMAND_NOTES[k]);
    const stale = Object.keys(COMMAND_NOTES).filter((k) => !registered.includes(k));
    if (missing.length || stale.length) {
      throw new Error(`COMMAND_NOTES in node-image/src/bmc/command-catalog.ts is out of step with the dispatch table: `
        + `annotate ${missing.join(', ') || 'nothing'}; remove ${stale.join(', ') || 'nothing'}; then run ${REGENERATE_COMMAND}`);
    }
    for (const k of registered) expect(COMMAND_NOTES[k]!.spec).toMatch(/^\d{2}\.\d{1,2}[ab]?(\.\d+)?(, tables? [\d\- ,]+)?$/);
  });

  it('keeps the session-layer commands out of the dispatch table', () => {
    const registered = new Set(defs.map((d) => commandKey(d.netFn, d.cmd)));
    for (const c of SESSION_LAYER_COMMANDS) expect(registered.has(commandKey(c.netFn, c.cmd))).toBe(false);
  });

  it('says for every RMCP+ status code when it is sent', () => {
    for (const code of Object.values(RakpStatus)) expect(RAKP_STATUS_USE[code]).toBeDefined();
  });

  it('renders a row per command and per cipher suite', () => {
    const text = renderCommandReference(defs);
    for (const d of defs) expect(text).toContain(`| ${d.name} |`);
    expect(text).toContain('| 17 | RAKP-HMAC-SHA256 | HMAC-SHA256-128 | AES-CBC-128 | on |');
    expect(text).not.toMatch(/^\| 0 \|/m);
    expect(text).not.toContain('not annotated');
  });

  it(`${COMMAND_REFERENCE_PATH} is up to date`, () => {
    const onDisk = readFileSync(join(REPO_ROOT, COMMAND_REFERENCE_PATH), 'utf8');
    const fresh = renderCommandReference(defs);
    if (onDisk !== fresh) {
      throw new Error(`${COMMAND_REFERENCE_PATH} does not match the dispatch table; regenerate it with: ${REGENERATE_COMMAND}`);
    }
  });
});
