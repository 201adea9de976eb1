/**
 * The fault control channel: HTTP/1.1 on a Unix socket in the BMC's state directory (default
 * `$BMC_STATE_DIR/faults.sock`, BMC_FAULTS_SOCKET to move it, `none` to turn it off). It never
 * goes through IPMI or Redfish, so no rule can cut it off; access is the socket file's (mode 0600,
 * the agent's user: in a node, whoever may `docker exec` into it). The orchestrator reaches it
 * with `docker exec <node> node /opt/bmcfleet/agent/faults/fault-ctl.js ...` (faults/fault-ctl.ts).
 *   GET    /faults        → 200 { rules: [...], totals: { action: count } }
 *   POST   /faults        → 201 the rule with its id, or 400 { error } naming the field
 *   DELETE /faults[/id]   → 200 { removed: n }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Logger } from '../util/logger';
import type { BmcFaults } from './bmc-faults';
import { FaultRuleError, parseFaultRule } from './fault-rules';
import type { FaultRuleState } from './fault-engine';

const MAX_BODY = 16 * 1024;

export interface FaultControl { readonly path: string; close(): Promise<void> }

export function ruleView(r: FaultRuleState): Record<string, unknown> {
  return { id: r.id, match: r.match, action: r.action, when: r.when, addedAt: new Date(r.addedAt).toISOString(), matches: r.matches, applied: r.applied };
}

export function faultsView(faults: BmcFaults): Record<string, unknown> {
  return { rules: faults.engine.list().map(ruleView), totals: Object.fromEntries(faults.engine.totals) };
}

export async function startFaultControl(path: string, faults: BmcFaults, clock: () => number, log: Logger): Promise<FaultControl> {
  if (existsSync(path)) unlinkSync(path);
  const server: Server = createServer((req, res) => { void serve(req, res, faults, clock, log); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  chmodSync(path, 0o600);
  log.info('fault control listening', { socket: path });
  return {
    path,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, faults: BmcFaults, clock: () => number, log: Logger): Promise<void> {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const url = (req.url ?? '/').split('?')[0]!;
  const m = /^\/faults(?:\/(f\d+))?\/?$/.exec(url);
  if (!m) return send(404, { error: `no such resource: ${url} (use /faults)` });
  try {
    if (req.method === 'GET' && !m[1]) return send(200, faultsView(faults));
    if (req.method === 'DELETE') {
      const removed = faults.engine.clear(m[1]);
      if (m[1] && removed === 0) return send(404, { error: `no fault rule ${m[1]}` });
      log.info('fault rules removed', { rule: m[1] ?? 'all', removed });
      return send(200, { removed });
    }
    if (req.method === 'POST' && !m[1]) {
      const text = await readBody(req);
      let body: unknown;
      try { body = JSON.parse(text); } catch { return send(400, { error: 'the body must be JSON: { match, action, when? }' }); }
      const rule = faults.engine.add(parseFaultRule(body), clock());
      log.info('fault rule added', { rule: rule.id, protocol: rule.match.protocol, action: rule.action.kind });
      return send(201, ruleView(rule));
    }
    return send(405, { error: `${req.method ?? ''} is not allowed on ${url}` });
  } catch (err) {
    if (err instanceof FaultRuleError || err instanceof RangeError) return send(400, { error: err.message });
    log.error('fault control request failed', { error: String(err) });
    return send(500, { error: 'internal error' });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new FaultRuleError(`the body is larger than ${MAX_BODY} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
