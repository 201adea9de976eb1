/**
 * Tasks for operations that take long (DSP0266 section 13.2.5 "Asynchronous operations"; DSP0268
 * Task v1_7_4): a client that sends `Prefer: respond-async` gets 202 Accepted with a task monitor in
 * Location; GET on the monitor answers 202 while the task runs and, once it ends, the operation's
 * own status and body. The task resource shows its state, times and messages.
 *
 * At most MAX_TASKS are kept: a new task overwrites the oldest finished one
 * (CompletedTaskOverWritePolicy Oldest); when every kept task is still running, none can start.
 * No timers: the work is a promise; its end is stamped by the clock.
 */
import type { JsonObject, RedfishResponse } from '../http-types';
import { TASK_EVENT_REGISTRY } from '../events/event-records';

export const MAX_TASKS = 32;

export type TaskState = 'Running' | 'Completed' | 'Exception';

export interface TaskMessage {
  readonly MessageId: string;
  readonly Message: string;
  readonly MessageArgs: string[];
  readonly MessageSeverity: 'OK' | 'Warning' | 'Critical';
}

export interface Task {
  readonly id: string;
  readonly name: string;
  readonly startTime: number;
  state: TaskState;
  endTime: number | undefined;
  messages: TaskMessage[];
  /** The operation as asked (Task Payload). */
  readonly payload: { readonly HttpOperation: string; readonly TargetUri: string; readonly JsonBody: string };
  /** The operation's response, once the task has ended. */
  result: RedfishResponse | undefined;
}

export type TaskChange = 'started' | 'completed' | 'failed';

export interface TaskTableDeps {
  readonly clock: () => number;
  /** Told when a task starts and ends (the EventService sends TaskEvent messages). */
  readonly onChange?: (change: TaskChange, task: Task) => void;
  readonly max?: number;
}

export class TaskTable {
  private tasks: Task[] = [];
  private nextId = 1;

  constructor(private readonly deps: TaskTableDeps) {}

  list(): readonly Task[] {
    return this.tasks;
  }

  get(id: string): Task | undefined {
    return this.tasks.find((t) => t.id === id);
  }

  /**
   * Starts a task for `work`, which resolves with the operation's response (a RedfishResponse with
   * a status below 400 completes the task; anything else, or a rejection, is an Exception). Returns
   * undefined when MAX_TASKS tasks are all still running.
   */
  start(name: string, payload: Task['payload'], work: () => Promise<RedfishResponse>, toError: (err: unknown) => RedfishResponse): Task | undefined {
    const max = this.deps.max ?? MAX_TASKS;
    if (this.tasks.length >= max) {
      const oldestDone = this.tasks.findIndex((t) => t.state !== 'Running');
      if (oldestDone < 0) return undefined;
      this.tasks.splice(oldestDone, 1);
    }
    const task: Task = { id: String(this.nextId++), name, startTime: this.deps.clock(), state: 'Running', endTime: undefined, messages: [], payload, result: undefined };
    task.messages.push(taskMessage('TaskStarted', task.id));
    this.tasks.push(task);
    this.deps.onChange?.('started', task);
    const finish = (result: RedfishResponse): void => {
      task.result = result;
      task.endTime = this.deps.clock();
      const ok = result.status < 400;
      task.state = ok ? 'Completed' : 'Exception';
      if (!ok) task.messages.push(...extendedInfo(result));
      task.messages.push(taskMessage(ok ? 'TaskCompletedOK' : 'TaskAborted', task.id));
      this.deps.onChange?.(ok ? 'completed' : 'failed', task);
    };
    // Started on the next turn: the 202 with the monitor is out before the work can end.
    void Promise.resolve().then(work).then(finish, (err: unknown) => finish(toError(err)));
    return task;
  }
}

function taskMessage(kind: 'TaskStarted' | 'TaskCompletedOK' | 'TaskAborted', id: string): TaskMessage {
  const text = { TaskStarted: 'has started', TaskCompletedOK: 'has completed', TaskAborted: 'has been aborted' }[kind];
  return { MessageId: `${TASK_EVENT_REGISTRY}.${kind}`, Message: `The task with Id '${id}' ${text}.`, MessageArgs: [id], MessageSeverity: kind === 'TaskAborted' ? 'Critical' : 'OK' };
}

/** The Messages of an error response (its @Message.ExtendedInfo). */
function extendedInfo(r: RedfishResponse): TaskMessage[] {
  const body = r.body as JsonObject | undefined;
  const error = body && typeof body === 'object' && !Array.isArray(body) ? (body.error as JsonObject | undefined) : undefined;
  const info = error?.['@Message.ExtendedInfo'];
  if (!Array.isArray(info)) return [];
  return info.flatMap((m) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return [];
    return [{ MessageId: String(m.MessageId), Message: String(m.Message), MessageArgs: Array.isArray(m.MessageArgs) ? m.MessageArgs.map(String) : [], MessageSeverity: m.MessageSeverity === 'Critical' ? 'Critical' as const : 'Warning' as const }];
  });
}

/** `Prefer: respond-async` (RFC 7240; DSP0266 section 13.2.5). */
export function prefersAsync(header: string | undefined): boolean {
  return header !== undefined && header.split(',').some((p) => p.trim().toLowerCase().split(';')[0]!.trim() === 'respond-async');
}
