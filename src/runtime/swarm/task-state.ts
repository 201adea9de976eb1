/**
 * What a node service's tasks say about the node (pure). A service has one replica; swarm keeps the
 * history of its tasks (one per container it started), so the newest task is the node's present.
 */
import type { ExitInfo, RuntimeNodeState } from '../node-runtime';

export interface TaskJson {
  ID?: string;
  CreatedAt?: string;
  NodeID?: string;
  ServiceID?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; Message?: string; Timestamp?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  Version?: { Index?: number };
}

/** Swarm's task states on their way to running. */
const STARTING = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);

/** The newest task (by its version index, then creation time); undefined when there is none. */
export function newestTask(tasks: readonly TaskJson[]): TaskJson | undefined {
  return [...tasks].sort((a, b) => (b.Version?.Index ?? 0) - (a.Version?.Index ?? 0) || (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''))[0];
}

/**
 * The node's state: unreachable when its host is down (its disk is there, nothing may move); stopped
 * when scaled to 0 (or no task left running); running; changing while a task starts or a failed one is
 * being replaced; broken when its tasks are rejected (cannot start: e.g. the image is missing).
 */
export function nodeStateOf(replicas: number, tasks: readonly TaskJson[], hostDown: boolean): RuntimeNodeState {
  if (hostDown) return 'unreachable';
  const task = newestTask(tasks);
  if (replicas === 0) return task !== undefined && task.Status?.State === 'running' ? 'changing' : 'stopped';
  if (task === undefined) return 'changing';
  const state = task.Status?.State ?? '';
  if (state === 'running') return 'running';
  if (state === 'orphaned') return 'unreachable';
  if (state === 'rejected') return 'broken';
  if (STARTING.has(state)) return 'changing';
  // failed, shutdown, complete while the service still wants a replica: swarm starts another.
  return 'changing';
}

/** Why the newest task is not running, in Swarm's words ("" when it runs or says nothing). */
export function taskProblem(tasks: readonly TaskJson[]): string {
  const task = newestTask(tasks);
  if (task === undefined || task.Status?.State === 'running') return '';
  return [task.Status?.Err, task.Status?.Message].filter((s): s is string => s !== undefined && s !== '').join(': ');
}

/** How the newest task's container ended; null while it never exited. */
export function exitOf(tasks: readonly TaskJson[]): ExitInfo | null {
  const ended = tasks.filter((t) => ['failed', 'complete', 'shutdown'].includes(t.Status?.State ?? '') && t.Status?.ContainerStatus?.ExitCode !== undefined);
  const task = newestTask(ended);
  if (task === undefined) return null;
  return { code: task.Status?.ContainerStatus?.ExitCode ?? 0, at: task.Status?.Timestamp ?? null, outOfMemory: task.Status?.ContainerStatus?.ExitCode === 137 && /oom|memory/i.test(task.Status?.Err ?? '') };
}

/** Whether Swarm's text says a published host port is taken. */
export function isPortInUse(problem: string): boolean {
  return /port is already allocated|address already in use|host-mode port already in use/i.test(problem);
}

/** Whether Swarm's text says the image is not on the host. */
export function isImageMissing(problem: string): boolean {
  return /no such image|image .* not found|pull access denied|manifest unknown/i.test(problem);
}
