import { renderSimFleet, replaceSimFleetSection, SIM_FLEET_TITLE, type SimFleetResult } from './sim-fleet-report';

const summary = (median: number, p99: number) => ({ count: 10, min: median, median, p90: p99, p99, max: p99, mean: median });
const db = { nodes: 0, leases: 0, notRunning: 0, leaseMismatches: 0, duplicatePorts: 0 };
const sweep = (on: number, attempted: number) => ({ attempted, on, off: attempted - on, ms: 1_000, failures: [], failed: 0 });

function result(): SimFleetResult {
  return {
    nodes: 2_000, batchSize: 1_000, portRange: '20000-23099', errors: [], load: [1.5, 3.2], seconds: 300,
    create: { batchMs: [4_000, 3_000], totalMs: 7_000, answered: 2_000, withAddresses: 2_000, distinctIpmiPorts: 2_000, orchestratorCpuMs: 3_000, farms: 1 },
    pages: [{ query: 'limit=100', pages: 20, items: 2_000, expected: 2_000, distinct: 2_000, summary: summary(10, 30) }],
    power: { apiMs: 20_000, apiFailures: 0, firstApiFailure: undefined, orchestratorCpuMs: 8_000, sweep: sweep(2_000, 2_000), reconcileMs: 300, reconcileErrors: 0, listedOn: 2_000 },
    farmKill: { farm: 'farm-1', bmcs: 2_000, onBefore: 1_990, onAgain: 1_990, reconcileMs: 2_000, repairs: ['restarted'], reconcileErrors: 0, sweep: sweep(2_000, 2_000), userSample: 10, userLogins: 10 },
    orchestratorKill: { killAfterMs: 2_000, answeredBeforeKill: null, restartMs: 2_500, reconcileMs: 900, reconcileErrors: 0, batch: 1_000, late: 0, rows: 2_000, farmBmcs: 2_000, duplicateBmcs: 0, strayBmcs: 0, missingBmcs: 0, db: { ...db, nodes: 2_000, leases: 4_000 } },
    remove: { deleted: 2_000, apiMs: 30_000, apiFailures: 0, firstApiFailure: undefined, orchestratorCpuMs: 9_000, rowsListed: 0, db, farmBmcsLeft: 0, probed: 50, probedAnswering: 0 },
  };
}

describe('renderSimFleet', () => {
  it('says every target is met when every count is right', () => {
    const text = renderSimFleet(result(), 'on a test machine');
    expect(text.startsWith(`${SIM_FLEET_TITLE}\n\nMeasured on a test machine.`)).toBe(true);
    expect(text).not.toContain('not met');
    expect(text.match(/ — met\./g)).toHaveLength(6);
    expect(text).toContain('| Create: 2 batches of 1,000 | 7000 ms in all (286/s); a batch median 3000 ms, slowest 4000 ms');
  });

  it('flags what failed: a half-kept batch, a BMC twice, a slow page, a lease left behind', () => {
    const r = result();
    const text = renderSimFleet({
      ...r,
      pages: [{ ...r.pages![0]!, summary: summary(10, 80) }],
      orchestratorKill: { ...r.orchestratorKill!, late: 400, duplicateBmcs: 1 },
      remove: { ...r.remove!, db: { ...db, leases: 2 } },
      errors: ['farm killed: no farm answered'],
    }, 'now');
    expect(text.match(/\*\*not met\*\*/g)).toHaveLength(3);
    expect(text).toContain('400 of the batch of 1,000 kept');
    expect(text).toContain('- Failed: farm killed: no farm answered');
  });

  it('says why it was skipped', () => {
    expect(renderSimFleet({ skipped: 'no Docker engine answers' }, 'now')).toContain('Skipped: no Docker engine answers.');
  });
});

describe('replaceSimFleetSection', () => {
  const section = `${SIM_FLEET_TITLE}\n\nnew figures\n`;

  it('inserts the section before "## Reproduce" the first time', () => {
    expect(replaceSimFleetSection('# Benchmarks\n\n## Farm: x\n\nfarm\n\n## Reproduce\n\nsteps\n', section))
      .toBe(`# Benchmarks\n\n## Farm: x\n\nfarm\n\n${SIM_FLEET_TITLE}\n\nnew figures\n\n## Reproduce\n\nsteps\n`);
  });

  it('replaces an earlier section and keeps every other one', () => {
    const doc = `# Benchmarks\n\n## Farm: x\n\nfarm\n\n## Sim fleet: older title\n\nold figures\n\n## Reproduce\n\nsteps\n`;
    const out = replaceSimFleetSection(doc, section);
    expect(out).not.toContain('old');
    expect(out).toBe(`# Benchmarks\n\n## Farm: x\n\nfarm\n\n${SIM_FLEET_TITLE}\n\nnew figures\n\n## Reproduce\n\nsteps\n`);
  });
});
