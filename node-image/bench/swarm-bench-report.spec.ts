import { serviceSpecOf } from '../../src/runtime/swarm/service-spec';
import { benchNodeSpec, cliCreateArgs } from './swarm-bench';
import { renderSwarm, replaceSwarmSection, roundMs, SWARM_SECTION_TITLE, swarmRatio, type SwarmRound } from './swarm-bench-report';

const round = (side: 'runtime' | 'cli', last: number, failures: string[] = []): SwarmRound => ({ side, readyMs: [last / 2, last], createdMs: [last / 4], failures });

describe('Swarm bench report', () => {
  it('a round lasts until its last node is ready; a round with a failure has no time', () => {
    expect(roundMs(round('cli', 20_000))).toBe(20_000);
    expect(roundMs(round('cli', 20_000, ['n1: its BMC did not answer in time']))).toBeNaN();
  });

  it('takes the medians per side and the ratio within each pair of rounds', () => {
    const r = swarmRatio([round('runtime', 30_000), round('cli', 20_000), round('cli', 25_000), round('runtime', 25_000), round('runtime', 20_000), round('cli', 20_000)]);
    expect([r.runtimeMs, r.cliMs]).toEqual([25_000, 20_000]);
    expect(r.ratio).toBe(1.25);
    expect(r.perPair).toEqual([1.5, 1, 1]);
  });

  it('renders the verdict and replaces only its own section', () => {
    const section = renderSwarm({ rounds: [round('runtime', 27_000), round('cli', 20_000)], image: 'img', engine: '20.10', hosts: 3 }, { date: 'd', machine: 'm', seconds: 1 });
    expect(section).toContain('ratio 1.35×');
    expect(section).toContain('**not met**');
    const doc = `# B\n\n## A\n\na\n\n${SWARM_SECTION_TITLE}\n\nold\n\n## Reproduce\n\nr\n`;
    const out = replaceSwarmSection(doc, section);
    expect(out).not.toContain('old');
    expect(out.indexOf('## A')).toBeLessThan(out.indexOf(SWARM_SECTION_TITLE));
    expect(out.indexOf(SWARM_SECTION_TITLE)).toBeLessThan(out.indexOf('## Reproduce'));
    expect(renderSwarm({ skipped: 'no Docker', rounds: [] }, { date: 'd', machine: 'm', seconds: 1 })).toContain('Not measured: no Docker');
  });
});

describe('the CLI side of the Swarm bench', () => {
  it('types the service the runtime makes: same image, environment, capabilities, volume, ports, health check, limits, placement', () => {
    const spec = benchNodeSpec('f-r1', 3, 'bmcfleet/node:latest');
    const service = serviceSpecOf(spec, 'fleet-1', 'NODEID', 'f-nodes') as unknown as {
      TaskTemplate: { ContainerSpec: { Env: string[]; CapabilityAdd: string[]; Mounts: { Source: string; Target: string }[] }; Placement: { Constraints: string[] }; Resources: { Limits: { MemoryBytes: number; Pids: number } } };
      EndpointSpec: { Ports: { TargetPort: number; PublishedPort: number; Protocol: string }[] };
    };
    const args = cliCreateArgs(spec, 'fleet-1', 'NODEID', 'f-nodes');
    const values = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
    const c = service.TaskTemplate.ContainerSpec;
    expect(values('--env').sort()).toEqual([...c.Env].sort());
    expect(values('--cap-add').sort()).toEqual([...c.CapabilityAdd].sort());
    expect(values('--cap-drop')).toEqual(['ALL']);
    expect(values('--mount')[0]).toContain(`source=${c.Mounts[0]!.Source},target=${c.Mounts[0]!.Target}`);
    expect(values('--constraint')).toEqual(service.TaskTemplate.Placement.Constraints);
    expect(values('--limit-memory')).toEqual([String(service.TaskTemplate.Resources.Limits.MemoryBytes)]);
    expect(values('--limit-pids')).toEqual([String(service.TaskTemplate.Resources.Limits.Pids)]);
    expect(values('--publish')).toEqual(service.EndpointSpec.Ports.map((p) => `mode=host,target=${p.TargetPort},published=${p.PublishedPort},protocol=${p.Protocol}`));
    expect(values('--health-start-period')).toEqual(['60s']);
    expect(args[args.length - 1]).toBe('bmcfleet/node:latest');
  });
});
