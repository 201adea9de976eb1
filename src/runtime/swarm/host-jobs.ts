/**
 * Work that must happen on one swarm host, which the manager's Engine API cannot do there: removing a
 * node's /vm volume (a volume lives on its host). It runs as a one-off swarm job (Mode ReplicatedJob,
 * one completion) pinned to the host, in the node image (Node.js is there), talking to that host's
 * engine through its socket: it reads the volume's labels, removes it only when they say it is the
 * fleet's (purge) or this node's (discard), and retries while the node's last container still holds
 * it (the job's restart policy). The job service carries the fleet's labels with role "job" and is
 * removed once it ended.
 */
import type Dockerode from 'dockerode';
import { LABELS } from '../../docker/docker-adapter';
import { placementConstraint } from './service-spec';

export const JOB_ROLE = 'job';
const ENGINE_SOCKET = '/var/run/docker.sock';
/** Attempts of the job while the volume is still in use, and the pause between them (ns). */
const JOB_ATTEMPTS = 15;
const JOB_RETRY_DELAY_NS = 2e9;

/**
 * The job's program (`node -e`): GET /volumes/NAME, check the labels, DELETE it. Exit 0: removed,
 * gone already, or not ours (kept, said on stdout); exit 1: the engine refused (e.g. still in use).
 */
export const REMOVE_VOLUME_SCRIPT = `
const http = require('http');
const { VOLUME, FLEET, NODE_ID, POLICY } = process.env;
const call = (method, path) => new Promise((resolve, reject) => {
  const req = http.request({ socketPath: '${ENGINE_SOCKET}', method, path }, (res) => {
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('end', () => resolve({ status: res.statusCode, body }));
  });
  req.on('error', reject);
  req.end();
});
(async () => {
  const path = '/volumes/' + encodeURIComponent(VOLUME);
  const found = await call('GET', path);
  if (found.status === 404) { console.log('volume ' + VOLUME + ' is gone'); return; }
  if (found.status !== 200) throw new Error('inspect ' + VOLUME + ': ' + found.body);
  const labels = JSON.parse(found.body).Labels || {};
  const ours = labels['${LABELS.fleet}'] === FLEET && (POLICY !== 'discard' || labels['${LABELS.nodeId}'] === NODE_ID);
  if (!ours) { console.log('volume ' + VOLUME + ' kept: its labels do not make it ' + (POLICY === 'discard' ? 'this node' : 'this fleet') + "'s"); return; }
  const removed = await call('DELETE', path);
  if (removed.status === 204 || removed.status === 404) { console.log('volume ' + VOLUME + ' removed'); return; }
  throw new Error('remove ' + VOLUME + ': ' + removed.body);
})().catch((err) => { console.error(String(err && err.message || err)); process.exit(1); });
`;

export interface VolumeRemoval {
  readonly jobName: string;
  readonly image: string;
  readonly fleetId: string;
  readonly nodeId: string;
  readonly volume: string;
  readonly policy: 'purge' | 'discard';
  readonly swarmNodeId: string;
}

/** The job service that removes one node's volume on its host. */
export function volumeRemovalJob(r: VolumeRemoval): Dockerode.CreateServiceOptions {
  const labels = { [LABELS.managed]: 'true', [LABELS.fleet]: r.fleetId, [LABELS.nodeId]: r.nodeId, [LABELS.role]: JOB_ROLE };
  return {
    Name: r.jobName,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: r.image,
        Labels: labels,
        Command: ['node', '-e', REMOVE_VOLUME_SCRIPT],
        Env: [`VOLUME=${r.volume}`, `FLEET=${r.fleetId}`, `NODE_ID=${r.nodeId}`, `POLICY=${r.policy}`],
        Mounts: [{ Type: 'bind', Source: ENGINE_SOCKET, Target: ENGINE_SOCKET }],
      },
      RestartPolicy: { Condition: 'on-failure', Delay: JOB_RETRY_DELAY_NS, MaxAttempts: JOB_ATTEMPTS },
      Placement: { Constraints: [placementConstraint(r.swarmNodeId)] },
    },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
  } as Dockerode.CreateServiceOptions;
}

/** complete: a task finished with exit 0; failed: every attempt failed; running: not ended yet. */
export type JobOutcome = 'complete' | 'failed' | 'running';

interface TaskJson { Status?: { State?: string }; DesiredState?: string }

export function jobOutcomeOf(tasks: readonly unknown[]): JobOutcome {
  const list = tasks as TaskJson[];
  if (list.some((t) => t.Status?.State === 'complete')) return 'complete';
  const ended = list.filter((t) => ['failed', 'rejected', 'shutdown', 'orphaned'].includes(t.Status?.State ?? ''));
  if (ended.length >= JOB_ATTEMPTS) return 'failed';
  return 'running';
}
