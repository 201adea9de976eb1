/**
 * GET /metrics of the real application (createApp, as `npm start` builds it) on a real SQLite file:
 * the text exposition format with its content type, no token needed, process metrics, HTTP latency
 * by route template (not raw URL) and status, node counts read from the database at scrape time, and
 * the reconciler and IPMI counters.
 */
import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { parseAppConfig } from '../../src/config/env.schema';
import { PrismaService } from '../../src/database/prisma.service';
import { FleetMetrics } from '../../src/metrics/fleet-metrics.service';
import { METRICS_CONTENT_TYPE } from '../../src/metrics/metrics.controller';

const TOKEN = 'metrics-test-token-0123456789';

/** One sample's value from the text exposition, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([key, value]) => found[key] === value) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

function nodeRow(name: string, state: string, powerState: string) {
  return {
    id: `id-${name}`,
    name,
    state,
    powerState,
    machine: 'sim',
    memoryMiB: 512,
    cpus: 1,
    diskSizeGiB: 1,
    bootMode: 'bios',
    bootMenuTimeoutMs: 0,
    enableKvm: 'false',
    powerOnAtStart: false,
    ipmiUser: 'admin',
    ipmiPassword: 'secret-password',
    runtimeRef: `metrics-test-${name}`,
  };
}

describe('GET /metrics', () => {
  let dataDir: string;
  let app: NestExpressApplication;
  let baseUrl: string;
  let prisma: PrismaService;
  let metrics: FleetMetrics;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bmcfleet-metrics-'));
    // RECONCILE_INTERVAL_S=0: no timer runs during the test.
    const config = parseAppConfig({ API_TOKEN: TOKEN, LOG_LEVEL: 'error', DATA_DIR: dataDir, RECONCILE_INTERVAL_S: '0' }, { cwd: process.cwd() });
    app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    prisma = app.get(PrismaService);
    metrics = app.get(FleetMetrics);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('answers without a token, in the text exposition format with its content type', async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
    expect(METRICS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toMatch(/^# HELP bmcfleet_http_request_duration_seconds /m);
    expect(text).toMatch(/^# TYPE bmcfleet_reconcile_runs_total counter$/m);
    expect(text).toMatch(/^# TYPE bmcfleet_nodes_by_state gauge$/m);
  });

  it('stays out of the /api/v1 prefix', async () => {
    const response = await fetch(`${baseUrl}/api/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
  });

  it("includes Node.js process metrics from its own registry", async () => {
    const text = await scrape();
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('times requests by method, route template and status code, refused and unmatched ones included', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const before = await scrape();
    // Nodes that do not exist: the route matched, the answer is 404.
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect((await fetch(`${baseUrl}/api/v1/nodes/${name}`, { headers })).status).toBe(404);
    }
    expect((await fetch(`${baseUrl}/api/v1/nodes`, { headers })).status).toBe(200);
    expect((await fetch(`${baseUrl}/api/v1/nodes/delta`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/api/v1/no-such-route/x`, { headers })).status).toBe(404);
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);

    const text = await scrape();
    const count = (labels: Record<string, string>): number => {
      const name = 'bmcfleet_http_request_duration_seconds_count';
      return (sample(text, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    };
    expect(count({ method: 'GET', route: '/api/v1/nodes/:name', status_code: '404' })).toBe(3);
    expect(count({ method: 'GET', route: '/api/v1/nodes', status_code: '200' })).toBe(1);
    expect(count({ method: 'GET', route: '/api/v1/nodes/:name', status_code: '401' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(count({ method: 'GET', route: '/healthz', status_code: '200' })).toBe(1);
    expect(text).not.toContain('alpha');
    expect(text).not.toContain('no-such-route');
    expect(text).not.toContain('*path');
    expect(sample(text, 'bmcfleet_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v1/nodes/:name', status_code: '404', le: '+Inf' })).toBe(3);
    // The scrape that took `before` is timed too.
    expect(count({ method: 'GET', route: '/metrics', status_code: '200' })).toBe(1);
  });

  it('counts nodes by lifecycle and power state from the database at scrape time', async () => {
    let text = await scrape();
    expect(sample(text, 'bmcfleet_nodes_by_state', { state: 'running' })).toBe(0);
    expect(sample(text, 'bmcfleet_nodes_by_power_state', { power_state: 'unknown' })).toBe(0);

    await prisma.node.createMany({
      data: [nodeRow('n1', 'running', 'on'), nodeRow('n2', 'running', 'off'), nodeRow('n3', 'running', 'on'), nodeRow('n4', 'failed', 'unknown'), nodeRow('n5', 'deleting', 'on')],
    });
    text = await scrape();
    expect(sample(text, 'bmcfleet_nodes_by_state', { state: 'running' })).toBe(3);
    expect(sample(text, 'bmcfleet_nodes_by_state', { state: 'failed' })).toBe(1);
    expect(sample(text, 'bmcfleet_nodes_by_state', { state: 'deleting' })).toBe(1);
    expect(sample(text, 'bmcfleet_nodes_by_state', { state: 'creating' })).toBe(0);
    expect(sample(text, 'bmcfleet_nodes_by_power_state', { power_state: 'on' })).toBe(3);
    expect(sample(text, 'bmcfleet_nodes_by_power_state', { power_state: 'off' })).toBe(1);
    expect(sample(text, 'bmcfleet_nodes_by_power_state', { power_state: 'unknown' })).toBe(1);

    await prisma.node.deleteMany({ where: { powerState: 'on' } });
    text = await scrape();
    expect(sample(text, 'bmcfleet_nodes_by_power_state', { power_state: 'on' })).toBe(0);
    expect(sample(text, 'bmcfleet_nodes_by_state', { state: 'running' })).toBe(1);
  });

  it('exposes reconcile runs, repairs, duration and IPMI errors as they are recorded', async () => {
    const before = await scrape();
    const value = (text: string, name: string, labels: Record<string, string> = {}): number => sample(text, name, labels) ?? 0;
    // Every kind has a series before its first repair.
    for (const kind of ['restarted', 'recreated', 'resumed', 'adopted', 'removed-orphan', 'lease-freed', 'finished-delete']) {
      expect(sample(before, 'bmcfleet_reconcile_repairs_total', { kind })).toBeDefined();
    }

    metrics.recordReconcile('ok', 0.2);
    metrics.recordReconcile('ok', 0.3);
    metrics.recordReconcile('error', 4);
    metrics.recordRepair('recreated');
    metrics.recordRepair('recreated');
    metrics.recordRepair('lease-freed');
    metrics.recordIpmiError('power-status', 'TIMEOUT');
    metrics.recordIpmiError('power-action', 'AUTH_FAILED');
    metrics.recordIpmiError('power-status', 'TIMEOUT');

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}): number => value(after, name, labels) - value(before, name, labels);
    expect(delta('bmcfleet_reconcile_runs_total', { outcome: 'ok' })).toBe(2);
    expect(delta('bmcfleet_reconcile_runs_total', { outcome: 'error' })).toBe(1);
    expect(delta('bmcfleet_reconcile_duration_seconds_count')).toBe(3);
    expect(delta('bmcfleet_reconcile_duration_seconds_sum')).toBeCloseTo(4.5, 6);
    expect(delta('bmcfleet_reconcile_duration_seconds_bucket', { le: '0.25' })).toBe(1);
    expect(delta('bmcfleet_reconcile_repairs_total', { kind: 'recreated' })).toBe(2);
    expect(delta('bmcfleet_reconcile_repairs_total', { kind: 'lease-freed' })).toBe(1);
    expect(delta('bmcfleet_reconcile_repairs_total', { kind: 'adopted' })).toBe(0);
    expect(delta('bmcfleet_ipmi_errors_total', { operation: 'power-status', code: 'TIMEOUT' })).toBe(2);
    expect(delta('bmcfleet_ipmi_errors_total', { operation: 'power-action', code: 'AUTH_FAILED' })).toBe(1);
  });
});
