import { readFileSync } from 'node:fs';
import { CommandError, killAllSupervised, runCommand, SupervisedProcess } from './child-process';

const node = process.execPath;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('runCommand', () => {
  it('resolves with stdout, arguments passed as they are (no shell)', async () => {
    await expect(runCommand(node, ['-e', 'process.stdout.write(process.argv.slice(1).join("|"))', '$HOME', 'a b', ';true'], { timeoutMs: 10_000 }))
      .resolves.toBe('$HOME|a b|;true');
  });

  it('writes `input` to the tool\'s standard input', async () => {
    await expect(runCommand(node, ['-e', 'let t = ""; process.stdin.on("data", (d) => { t += d; }).on("end", () => process.stdout.write(t.toUpperCase()))'], { timeoutMs: 10_000, input: 'address add\n' }))
      .resolves.toBe('ADDRESS ADD\n');
  });

  it('rejects with the exit code and the tool\'s stderr', async () => {
    const run = runCommand(node, ['-e', 'process.stderr.write("no such disk\\n"); process.exit(3)'], { timeoutMs: 10_000 });
    await expect(run).rejects.toThrow(CommandError);
    await expect(run).rejects.toMatchObject({ failure: 'exit-code', exitCode: 3, stderr: 'no such disk', message: expect.stringMatching(/failed \(exit code 3\): no such disk$/) });
  });

  it('kills a tool that runs past its time limit', async () => {
    const run = runCommand(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 300 });
    await expect(run).rejects.toMatchObject({ failure: 'timeout', message: expect.stringContaining('timed out after 300 ms') });
  });

  it('says when the program does not exist', async () => {
    await expect(runCommand('/nonexistent/tool', ['x'], { timeoutMs: 1_000 })).rejects.toMatchObject({ failure: 'not-found', message: '/nonexistent/tool x failed (/nonexistent/tool was not found)' });
  });

  it('refuses to run without a time limit', async () => {
    await expect(runCommand(node, ['-e', ''], { timeoutMs: 0 })).rejects.toThrow(/timeoutMs must be a positive number/);
  });

  it('does not hand the agent\'s secrets to the tool', async () => {
    process.env['BMCFLEET_TEST_SECRET'] = 'hunter2';
    try {
      const out = await runCommand(node, ['-e', 'process.stdout.write(JSON.stringify(Object.keys(process.env)))'], { timeoutMs: 10_000 });
      expect(JSON.parse(out)).not.toContain('BMCFLEET_TEST_SECRET');
    } finally {
      delete process.env['BMCFLEET_TEST_SECRET'];
    }
  });
});

describe('SupervisedProcess', () => {
  const GRANDCHILD = `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
process.stdout.write(String(c.pid) + '\\n'); process.stderr.write('started\\n'); setInterval(() => {}, 1000);`;

  it('kills the whole process group: nothing the process started survives', async () => {
    const proc = await SupervisedProcess.start(node, ['-e', GRANDCHILD], {});
    await waitFor(() => proc.stderrTail() === 'started', 'the process to start');
    const pid = proc.pid!;
    const group = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2];
    expect(Number(group)).toBe(pid); // its own process group
    const exit = await proc.kill(5_000);
    expect(exit.signal).toBe('SIGKILL');
    expect(proc.alive).toBe(false);
    await waitFor(() => !alive(pid), 'the process to be gone');
  });

  it('kills a grandchild with its parent (group kill)', async () => {
    const out: string[] = [];
    const proc = await SupervisedProcess.start(node, ['-e', GRANDCHILD], {}, {
      log: { debug: (_m, f) => out.push(String(f?.['text'])), info: () => {}, warn: () => {}, error: () => {} },
    });
    await waitFor(() => out.length > 0, 'the grandchild pid');
    const grandchild = Number(out[0]);
    expect(alive(grandchild)).toBe(true);
    await proc.kill(5_000);
    await waitFor(() => !alive(grandchild), 'the grandchild to be gone');
  });

  it('killAllSupervised ends every running one', async () => {
    const a = await SupervisedProcess.start(node, ['-e', 'setInterval(() => {}, 1000)'], {});
    const b = await SupervisedProcess.start(node, ['-e', 'setInterval(() => {}, 1000)'], {});
    killAllSupervised();
    await expect(a.exited).resolves.toMatchObject({ signal: 'SIGKILL' });
    await expect(b.exited).resolves.toMatchObject({ signal: 'SIGKILL' });
  });

  it('reports a program that cannot be started, without throwing', async () => {
    const proc = await SupervisedProcess.start('/nonexistent/qemu', [], {});
    await expect(proc.exited).resolves.toEqual({ code: null, signal: null, error: 'spawn /nonexistent/qemu ENOENT' });
    expect(proc.alive).toBe(false);
  });

  it('passes only the given environment (and PATH/locale)', async () => {
    process.env['BMCFLEET_TEST_SECRET'] = 'hunter2';
    const out: string[] = [];
    try {
      const proc = await SupervisedProcess.start(node, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], { EXTRA: '1' }, {
        log: { debug: (_m, f) => out.push(String(f?.['text'])), info: () => {}, warn: () => {}, error: () => {} },
      });
      await proc.exited;
    } finally {
      delete process.env['BMCFLEET_TEST_SECRET'];
    }
    const env = JSON.parse(out.join('')) as Record<string, string>;
    expect(env['EXTRA']).toBe('1');
    expect(env).not.toHaveProperty('BMCFLEET_TEST_SECRET');
  });
});
