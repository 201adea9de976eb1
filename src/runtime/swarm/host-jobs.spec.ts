import { LABELS } from '../../docker/docker-adapter';
import { jobOutcomeOf, REMOVE_VOLUME_SCRIPT, volumeRemovalJob } from './host-jobs';

describe('volumeRemovalJob', () => {
  const job = volumeRemovalJob({ jobName: 'f-n1-rmvol-1', image: 'bmcfleet/node:latest', fleetId: 'fleet-a', nodeId: 'n-1', volume: 'f-n1-vm', policy: 'purge', swarmNodeId: 'sw2' }) as any;

  it('is a one-off job pinned to the volume\'s host, labelled as the fleet\'s job (never listed as a node)', () => {
    expect(job.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    expect(job.TaskTemplate.Placement.Constraints).toEqual(['node.id==sw2']);
    expect(job.Labels).toEqual({ [LABELS.managed]: 'true', [LABELS.fleet]: 'fleet-a', [LABELS.nodeId]: 'n-1', [LABELS.role]: 'job' });
    expect(job.TaskTemplate.RestartPolicy.Condition).toBe('on-failure');
  });

  it('runs the script with the volume, the fleet, the node and the policy, on the host\'s engine socket', () => {
    expect(job.TaskTemplate.ContainerSpec.Command).toEqual(['node', '-e', REMOVE_VOLUME_SCRIPT]);
    expect(job.TaskTemplate.ContainerSpec.Env).toEqual(['VOLUME=f-n1-vm', 'FLEET=fleet-a', 'NODE_ID=n-1', 'POLICY=purge']);
    expect(job.TaskTemplate.ContainerSpec.Mounts).toEqual([{ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' }]);
    expect(REMOVE_VOLUME_SCRIPT).toContain(`labels['${LABELS.fleet}'] === FLEET`);
    expect(REMOVE_VOLUME_SCRIPT).toContain(`labels['${LABELS.nodeId}'] === NODE_ID`);
  });
});

describe('jobOutcomeOf', () => {
  it('complete once a task completed; failed after every attempt failed; running otherwise', () => {
    expect(jobOutcomeOf([{ Status: { State: 'failed' } }, { Status: { State: 'complete' } }])).toBe('complete');
    expect(jobOutcomeOf([{ Status: { State: 'failed' } }, { Status: { State: 'starting' } }])).toBe('running');
    expect(jobOutcomeOf(Array.from({ length: 15 }, () => ({ Status: { State: 'failed' } })))).toBe('failed');
  });
});
