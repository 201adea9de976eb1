/**
 * A managed farm's control channel: HTTP/1.1 with JSON on a Unix socket in the farm's state
 * directory (`$BMC_STATE_DIR/farm.sock`, FARM_CONTROL_SOCKET to move it), mode 0600. Like a node's
 * fault control it never goes through IPMI or Redfish, so no fault rule can cut it off. The
 * orchestrator reaches it with `docker exec <farm> node /opt/bmcfleet/agent/farm/farm-ctl.js ...`.
 *   GET    /bmcs                      → 200 { bmcs: [{ nodeId, name, address, port, redfishPort, power }] }
 *   POST   /bmcs          { bmcs }    → 200 { added, present, failed }, 400 naming the bad field
 *   POST   /bmcs/remove   { bmcs: [{ name, nodeId }], purge? } → 200 { removed, absent }
 *   GET    /faults                    → 200 { bmcs: { <name>: { rules, totals } } }, every BMC with rules
 *   GET    /bmcs/<name>/faults        → 200 { rules, totals } (as a node's fault control)
 *   POST   /bmcs/<name>/faults        → 201 the rule, 400 naming the field
 *   DELETE /bmcs/<name>/faults[/<id>] → 200 { removed }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Logger } from '../util/logger';
import { faultsView, ruleView } from '../faults/fault-control';
import { FaultRuleError, parseFaultRule } from '../faults/fault-rules';
import { parseRosterBmc, RosterError } from './farm-roster';
import type { ManagedFarm } from './managed-farm';

/** Room for a few thousand BMCs per request. */
const MAX_BODY = 4 * 1024 * 1024;

export interface FarmControl { readonly path: string; close(): Promise<void> }

class BadRequest extends Error {}

export async function startFarmControl(path: string, farm: ManagedFarm, clock: () => number, log: Logger): Promise<FarmControl> {
  if (existsSync(path)) unlinkSync(path);
  const server: Server = createServer((req, res) => { void serve(req, res, farm, clock, log); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  chmodSync(path, 0o600);
  log.info('farm control listening', { socket: path });
  return {
    path,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

function list(body: unknown, field: string): unknown[] {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(value)) throw new BadRequest(`the body must be { "${field}": [ ... ] }`);
  return value;
}

async function serve(req: IncomingMessage, res: ServerResponse, farm: ManagedFarm, clock: () => number, log: Logger): Promise<void> {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const url = (req.url ?? '/').split('?')[0]!;
  try {
    if (url === '/bmcs' && req.method === 'GET') return send(200, { bmcs: await farm.list() });
    if (url === '/bmcs' && req.method === 'POST') {
      const bmcs = list(await readJson(req), 'bmcs').map((b, i) => parseRosterBmc(b, `bmcs[${i}]`));
      return send(200, await farm.add(bmcs));
    }
    if (url === '/bmcs/remove' && req.method === 'POST') {
      const body = await readJson(req);
      const purge = (body as { purge?: unknown }).purge ?? false;
      if (typeof purge !== 'boolean') throw new BadRequest('purge must be true or false');
      const bmcs = list(body, 'bmcs').map((b, i) => {
        const v = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>;
        if (typeof v.name !== 'string' || typeof v.nodeId !== 'string') throw new BadRequest(`bmcs[${i}] must be { name, nodeId } (strings)`);
        return { name: v.name, nodeId: v.nodeId };
      });
      return send(200, await farm.remove(bmcs, purge));
    }
    if (url === '/faults' && req.method === 'GET') {
      const all = farm.faultsOfAll();
      return send(200, { bmcs: Object.fromEntries(Object.entries(all).map(([name, faults]) => [name, faultsView(faults)])) });
    }
    const m = /^\/bmcs\/([a-z0-9-]{1,63})\/faults(?:\/(f\d+))?\/?$/.exec(url);
    if (!m) return send(404, { error: `no such resource: ${req.method ?? ''} ${url}` });
    const agent = await farm.agentOf(m[1]!);
    if (!agent) return send(404, { error: `the farm hosts no BMC named ${m[1]!}` });
    const faults = agent.faults;
    if (req.method === 'GET' && !m[2]) return send(200, faultsView(faults));
    if (req.method === 'DELETE') {
      const removed = faults.engine.clear(m[2]);
      if (m[2] && removed === 0) return send(404, { error: `no fault rule ${m[2]}` });
      await farm.flush();
      log.info('fault rules removed', { bmc: m[1], rule: m[2] ?? 'all', removed });
      return send(200, { removed });
    }
    if (req.method === 'POST' && !m[2]) {
      const rule = faults.engine.add(parseFaultRule(await readJson(req)), clock());
      await farm.flush();
      log.info('fault rule added', { bmc: m[1], rule: rule.id, protocol: rule.match.protocol, action: rule.action.kind });
      return send(201, ruleView(rule));
    }
    return send(405, { error: `${req.method ?? ''} is not allowed on ${url}` });
  } catch (err) {
    if (err instanceof BadRequest || err instanceof RosterError || err instanceof FaultRuleError || err instanceof RangeError) return send(400, { error: err.message });
    log.error('farm control request failed', { error: String(err) });
    return send(500, { error: 'internal error' });
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new BadRequest(`the body is larger than ${MAX_BODY} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('the body must be JSON');
  }
}
