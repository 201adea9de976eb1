import { exitOf, isImageMissing, isPortInUse, nodeStateOf, taskProblem, type TaskJson } from './task-state';

const task = (index: number, state: string, extra: Partial<TaskJson['Status']> = {}): TaskJson => ({ Version: { Index: index }, Status: { State: state, ...extra } });

describe('nodeStateOf', () => {
  it('follows the newest task', () => {
    expect(nodeStateOf(1, [task(1, 'failed'), task(2, 'running')], false)).toBe('running');
    expect(nodeStateOf(1, [task(2, 'running'), task(3, 'starting')], false)).toBe('changing');
    expect(nodeStateOf(1, [task(3, 'failed')], false)).toBe('changing');
    expect(nodeStateOf(1, [task(3, 'rejected')], false)).toBe('broken');
    expect(nodeStateOf(1, [], false)).toBe('changing');
  });

  it('a service scaled to 0 is stopped once its task ended', () => {
    expect(nodeStateOf(0, [task(1, 'shutdown')], false)).toBe('stopped');
    expect(nodeStateOf(0, [task(1, 'running')], false)).toBe('changing');
  });

  it('a node whose host is down is unreachable, whatever its last task said', () => {
    expect(nodeStateOf(1, [task(1, 'running')], true)).toBe('unreachable');
    expect(nodeStateOf(1, [task(1, 'orphaned')], false)).toBe('unreachable');
  });
});

describe('task problems', () => {
  it('names why the newest task does not run, and recognises port and image problems', () => {
    const tasks = [task(1, 'rejected', { Err: 'No such image: bmcfleet/node:x', Message: 'preparing' })];
    expect(taskProblem(tasks)).toBe('No such image: bmcfleet/node:x: preparing');
    expect(isImageMissing(taskProblem(tasks))).toBe(true);
    expect(isPortInUse('no suitable node (host-mode port already in use on 1 node)')).toBe(true);
    expect(isPortInUse('Bind for 0.0.0.0:16230 failed: port is already allocated')).toBe(true);
    expect(taskProblem([task(1, 'running')])).toBe('');
  });

  it('reports the exit of the newest ended task', () => {
    expect(exitOf([task(1, 'running')])).toBeNull();
    expect(exitOf([task(1, 'failed', { ContainerStatus: { ExitCode: 137 }, Timestamp: '2026-12-07T00:00:00Z', Err: 'task: non-zero exit (137)' }), task(2, 'running')]))
      .toEqual({ code: 137, at: '2026-12-07T00:00:00Z', outOfMemory: false });
  });
});
