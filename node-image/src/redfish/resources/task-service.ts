/**
 * TaskService (DSP0268 TaskService v1_3_0), its Tasks (Task v1_7_4) and the task monitors
 * (DSP0266 section 13.2.5): GET on a monitor answers 202 Accepted (Location: the monitor,
 * Retry-After) while the task runs, then the operation's own response. Tasks: tasks/task-table.ts.
 */
import type { JsonObject, RedfishResponse } from '../http-types';
import { notFound, RedfishError } from '../errors';
import { collection, idRef, resourceResponse, type Route } from '../router';
import { isoTime } from '../events/event-records';
import type { Task, TaskTable } from '../tasks/task-table';
import { P, SCHEMA, typeOf } from './paths';

/** Seconds a client is asked to wait between polls of a monitor. */
export const MONITOR_RETRY_AFTER_S = 2;

export const monitorPath = (task: Task): string => `${P.taskMonitors}/${task.id}`;

function taskService(now: number): JsonObject {
  return {
    '@odata.id': P.taskService,
    '@odata.type': typeOf(SCHEMA.TaskService),
    Id: 'TaskService',
    Name: 'Task Service',
    ServiceEnabled: true,
    DateTime: isoTime(now),
    CompletedTaskOverWritePolicy: 'Oldest',
    LifeCycleEventOnTaskStateChange: true,
    Status: { State: 'Enabled', Health: 'OK' },
    Tasks: idRef(P.tasks),
  };
}

export function taskResource(task: Task): JsonObject {
  const health = task.state === 'Exception' ? 'Critical' : 'OK';
  return {
    '@odata.id': `${P.tasks}/${task.id}`,
    '@odata.type': typeOf(SCHEMA.Task),
    Id: task.id,
    Name: task.name,
    TaskState: task.state,
    TaskStatus: health,
    StartTime: isoTime(task.startTime),
    ...(task.endTime !== undefined ? { EndTime: isoTime(task.endTime), PercentComplete: 100 } : {}),
    TaskMonitor: monitorPath(task),
    Messages: task.messages.map((m) => ({ ...m, MessageArgs: [...m.MessageArgs] })),
    Payload: { ...task.payload, HttpHeaders: [] },
  };
}

/** The 202 Accepted that starts a task (DSP0266 section 13.2.5). */
export function accepted(task: Task): RedfishResponse {
  return resourceResponse(taskResource(task), 202, { Location: monitorPath(task), 'Retry-After': String(MONITOR_RETRY_AFTER_S) });
}

export const tooManyTasks = (): RedfishError =>
  new RedfishError(503, 'ServiceTemporarilyUnavailable', 'Every task slot holds a task still running; retry later or without Prefer: respond-async.', ['10'], { 'Retry-After': '10' });

export function taskServiceRoutes(tasks: TaskTable): Route[] {
  const find = (id: string, path: string): Task => {
    const t = tasks.get(id);
    if (!t) throw notFound(path);
    return t;
  };
  return [
    { path: P.taskService, schema: SCHEMA.TaskService, ops: { GET: { privilege: 'Login', handle: (ctx) => resourceResponse(taskService(ctx.now)) } } },
    { path: P.tasks, schema: 'TaskCollection', ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.tasks, 'TaskCollection', 'Task Collection', tasks.list().map((t) => `${P.tasks}/${t.id}`))) } } },
    { path: `${P.tasks}/{id}`, schema: SCHEMA.Task, ops: { GET: { privilege: 'Login', handle: (ctx) => resourceResponse(taskResource(find(ctx.params[0]!, ctx.path))) } } },
    {
      path: `${P.taskMonitors}/{id}`, schema: 'task monitor (DSP0266 13.2.5)',
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const task = find(ctx.params[0]!, ctx.path);
            if (task.result === undefined) return accepted(task);
            return { ...task.result, headers: { ...task.result.headers } };
          },
        },
      },
    },
  ];
}
