/**
 * ComputerSystem.Reset as a task (`Prefer: respond-async`): the task ends when the reset has
 * really happened. GracefulShutdown waits for the guest to power off after the ACPI power button
 * (at most GRACEFUL_OFF_WITHIN_MS, then the task fails and the system stays on); GracefulRestart
 * waits for that and then for the power-on; the other types wait for the machine to carry them out
 * (at most TASK_ANSWER_WITHIN_MS).
 */
import type { BmcCore } from '../../core/bmc-core';
import type { MachineControl, PowerState } from '../../machine/machine-control';
import type { RedfishResponse } from '../http-types';
import { RedfishError } from '../errors';
import { noContent, type RouteContext } from '../router';
import { alreadyDone, GRACEFUL_RESTART_OFF_WITHIN_MS, powerError, powerRequest, RESET_ACTION, type ResetType } from '../resources/systems';
import { accepted, tooManyTasks } from '../resources/task-service';
import { P } from '../resources/paths';
import type { TaskTable } from './task-table';

export const TASK_ANSWER_WITHIN_MS = 120_000;
export const GRACEFUL_OFF_WITHIN_MS = GRACEFUL_RESTART_OFF_WITHIN_MS;

export function startResetTask(core: BmcCore, tasks: TaskTable, ctx: RouteContext, resetType: ResetType): RedfishResponse {
  const task = tasks.start(
    `ComputerSystem.Reset ${resetType}`,
    { HttpOperation: 'POST', TargetUri: P.reset, JsonBody: JSON.stringify({ ResetType: resetType }) },
    () => runReset(core, ctx, resetType),
    errorResponse,
  );
  if (!task) throw tooManyTasks();
  return accepted(task);
}

async function runReset(core: BmcCore, ctx: RouteContext, type: ResetType): Promise<RedfishResponse> {
  if (alreadyDone(await core.power.powerState(), type)) return noContent();
  const req = powerRequest(ctx, TASK_ANSWER_WITHIN_MS);
  if (type === 'GracefulShutdown' || type === 'GracefulRestart') {
    const off = waitForPower(core.machine, 'off', GRACEFUL_OFF_WITHIN_MS);
    const pressed = await core.power.perform({ ...req, action: 'soft' });
    if (!pressed.ok) { off.cancel(); throw powerError(pressed, type); }
    if (!(await off.reached)) {
      throw new RedfishError(500, 'GeneralError', `The guest did not power off within ${GRACEFUL_OFF_WITHIN_MS / 1000} s of the ACPI power button; the system is still on.`);
    }
    if (type === 'GracefulRestart') {
      const on = await core.power.perform({ ...req, action: 'on', now: core.clock() });
      if (!on.ok) throw powerError(on, type);
    }
    return noContent();
  }
  const outcome = await core.power.perform({ ...req, action: RESET_ACTION[type] });
  if (!outcome.ok) throw powerError(outcome, type);
  return noContent();
}

/** Resolves true once the machine reports `state`, false after `withinMs`. */
function waitForPower(machine: MachineControl, state: PowerState, withinMs: number): { reached: Promise<boolean>; cancel: () => void } {
  let cancel: () => void = () => {};
  const reached = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { unsubscribe(); resolve(false); }, withinMs);
    timer.unref?.();
    const unsubscribe = machine.on('power', (s) => { if (s === state) { clearTimeout(timer); unsubscribe(); resolve(true); } });
    cancel = () => { clearTimeout(timer); unsubscribe(); resolve(false); };
  });
  return { reached, cancel };
}

function errorResponse(err: unknown): RedfishResponse {
  const e = err instanceof RedfishError ? err : new RedfishError(500, 'GeneralError', `The reset failed: ${err instanceof Error ? err.message : String(err)}`);
  return { status: e.status, headers: { ...e.headers }, body: e.body() };
}
