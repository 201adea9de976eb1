import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootSelection, PowerChangeCause, PowerState } from './machine-control';
import { MachineError } from './machine-control';
import type { QemuNic } from './qemu-args';
import { QEMU_CONFIG_DEFAULTS, type QemuConfig } from './qemu-config';
import { QemuMachine, type QemuMachineOptions } from './qemu-machine';

/**
 * A stand-in for qemu-system-x86_64: parses the QMP and serial chardevs from its arguments, serves
 * QMP on the socket like QEMU 7.2 does (greeting, negotiation, the commands the machine uses, the
 * events they cause, with -action reboot=shutdown,shutdown=pause), connects to the serial endpoint
 * and prints a "firmware" line naming the device with bootindex 0. Typing "reboot", "poweroff" or
 * "crash" on the serial port makes the guest reboot, power off or QEMU die. It logs its argv and the
 * QMP commands it got as JSON lines next to itself; behaviour.json there changes how it behaves.
 */
const FAKE_QEMU = String.raw`
const net = require('net'), fs = require('fs'), path = require('path');
const dir = __dirname;
const log = (file, obj) => fs.appendFileSync(path.join(dir, file), JSON.stringify({ pid: process.pid, ...obj }) + '\n');
const argv = process.argv.slice(2);
log('argv.jsonl', { argv });
let behaviour = {};
try { behaviour = JSON.parse(fs.readFileSync(path.join(dir, 'behaviour.json'), 'utf8')); } catch {}
if (behaviour.stderr) process.stderr.write(behaviour.stderr + '\n');
if (behaviour.exitAtStart !== undefined) process.exit(behaviour.exitAtStart);
if (behaviour.child) {
  const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  fs.writeFileSync(path.join(dir, 'child.pid'), String(c.pid));
}
const opt = (s, key) => { const m = new RegExp('(?:^|,)' + key + '=((?:[^,]|,,)*)').exec(s.replace(/,,/g, '\u0000')); return m ? m[1].replace(/\u0000/g, ',') : undefined; };
const chardevs = argv.flatMap((a, i) => argv[i - 1] === '-chardev' ? [a] : []);
const qmpPath = opt(chardevs.find((c) => opt(c, 'id') === 'qmp0'), 'path');
const serialPath = opt(chardevs.find((c) => opt(c, 'id') === 'serial0'), 'path');
const boot = {};
argv.forEach((a, i) => { if (argv[i - 1] === '-device' && opt(a, 'bootindex') !== undefined) boot[opt(a, 'id')] = Number(opt(a, 'bootindex')); });
const efi = argv.some((a) => a.startsWith('if=pflash'));
let status = argv.includes('-S') ? 'prelaunch' : 'running';
let rebootAction = 'shutdown';
let serial; const clients = [];
const event = (name, data) => { const m = { timestamp: { seconds: 1, microseconds: 0 }, event: name }; if (data) m.data = data; clients.forEach((c) => c.write(JSON.stringify(m) + '\r\n')); };
const print = (t) => { if (serial) serial.write(t); };
const firmware = () => { const first = Object.keys(boot).find((k) => boot[k] === 0); print('FAKE FIRMWARE pid=' + process.pid + ' efi=' + efi + ' boot=' + first + '\r\n'); };
const stopFor = (guest, reason) => { status = 'shutdown'; event('SHUTDOWN', { guest, reason }); event('STOP'); };
const reset = (guest, reason) => {
  if (rebootAction === 'shutdown') return stopFor(guest, reason);
  setTimeout(() => { event('RESET', { guest, reason }); if (status === 'shutdown') status = 'prelaunch'; if (status === 'running') firmware(); }, 5);
};
const handlers = {
  qmp_capabilities: () => ({}),
  'query-status': () => ({ status, running: status === 'running', singlestep: false }),
  cont: () => {
    if (status === 'shutdown') throw { class: 'GenericError', desc: 'Resetting the Virtual Machine is required' };
    if (status !== 'running') { status = 'running'; event('RESUME'); firmware(); }
    return {};
  },
  system_reset: () => {
    if (behaviour.failReset) throw { class: 'GenericError', desc: 'reset refused' };
    reset(false, 'host-qmp-system-reset');
    return {};
  },
  'set-action': (a) => {
    if (a.reboot) rebootAction = a.reboot;
    // A guest that asks for a reset again while the agent is finishing one (the pause comes first).
    if (a.reboot === 'shutdown' && behaviour.guestResetDuringReset && !global.racedOnce) { global.racedOnce = true; stopFor(true, 'guest-reset'); }
    return {};
  },
  'qom-set': (a) => {
    const id = a.path.replace('/machine/peripheral/', '');
    if (!(id in boot)) throw { class: 'DeviceNotFound', desc: "Device '" + id + "' not found" };
    if (a.value >= 0 && Object.keys(boot).some((k) => k !== id && boot[k] === a.value)) throw { class: 'GenericError', desc: 'The bootindex ' + a.value + ' has already been used' };
    boot[id] = a.value; return {};
  },
  system_powerdown: () => {
    event('POWERDOWN');
    if (!behaviour.ignorePowerdown) setTimeout(() => { print('Power down.\r\n'); stopFor(true, 'guest-shutdown'); }, 20);
    return {};
  },
  'inject-nmi': () => { print('NMI received\r\n'); return {}; },
  set_password: (a) => {
    const vnc = argv.find((x, i) => argv[i - 1] === '-vnc');
    if (a.protocol !== 'vnc' || !vnc || !vnc.includes('password=on')) throw { class: 'GenericError', desc: 'Could not set password' };
    return {};
  },
  netdev_add: () => ({}),
  netdev_del: () => ({}),
  device_add: (a) => {
    if (behaviour.failDeviceAdd) throw { class: 'GenericError', desc: "Bus '" + a.bus + "' not found" };
    if (a.bootindex !== undefined && Object.keys(boot).some((k) => boot[k] === a.bootindex)) throw { class: 'GenericError', desc: 'The bootindex ' + a.bootindex + ' has already been used' };
    boot[a.id] = a.bootindex ?? -1; return {};
  },
  'blockdev-add': () => ({}),
  'chardev-send-break': (a) => { if (a.id !== 'serial0') throw { class: 'GenericError', desc: "Chardev '" + a.id + "' not found" }; print('BREAK\r\n'); return {}; },
};
if (!behaviour.noQmp) {
  try { fs.unlinkSync(qmpPath); } catch {}
  net.createServer((c) => {
    clients.push(c);
    c.write(JSON.stringify({ QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] } }) + '\r\n');
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
        log('qmp.jsonl', { execute: m.execute, arguments: m.arguments });
        const h = handlers[m.execute];
        try {
          if (!h) throw { class: 'CommandNotFound', desc: 'The command ' + m.execute + ' has not been found' };
          c.write(JSON.stringify({ return: h(m.arguments || {}), id: m.id }) + '\r\n');
        } catch (e) { c.write(JSON.stringify({ error: e, id: m.id }) + '\r\n'); }
      }
    });
    c.on('error', () => {});
  }).listen(qmpPath);
}
const connectSerial = () => {
  if (behaviour.noSerial) return;
  const s = net.createConnection(serialPath);
  s.on('error', () => setTimeout(connectSerial, 50));
  s.on('connect', () => { serial = s; });
  let line = '';
  s.on('data', (d) => {
    for (const ch of d.toString('latin1')) {
      if (ch !== '\r') { line += ch; continue; }
      print('> ' + line + '\r\n');
      if (line === 'reboot') reset(true, 'guest-reset');
      if (line === 'reboot2') { reset(true, 'guest-reset'); reset(true, 'guest-reset'); }
      if (line === 'poweroff') { print('Power down.\r\n'); stopFor(true, 'guest-shutdown'); }
      if (line === 'qmpclose') clients.forEach((c) => c.destroy());
      if (line === 'sigterm') stopFor(false, 'host-signal');
      if (line === 'crash') { process.stderr.write('fake qemu: crashed\n'); process.exit(3); }
      line = '';
    }
  });
};
connectSerial();
`;

// Each test starts real (fake) QEMU processes: leave room for a loaded CI machine.
jest.setTimeout(20_000);

const FAKE_QEMU_IMG = String.raw`
const fs = require('fs'), path = require('path');
const argv = process.argv.slice(2);
fs.appendFileSync(path.join(__dirname, 'qemu-img.jsonl'), JSON.stringify({ argv }) + '\n');
let behaviour = {};
try { behaviour = JSON.parse(fs.readFileSync(path.join(__dirname, 'behaviour.json'), 'utf8')); } catch {}
if (behaviour.imgFail) { process.stderr.write('qemu-img: ' + behaviour.imgFail + '\n'); process.exit(1); }
fs.writeFileSync(argv[4], Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.from(' size=' + argv[5])]));
`;

function writeScript(path: string, body: string): void {
  writeFileSync(path, `#!${process.execPath}\n${body}`);
  chmodSync(path, 0o755);
}

const readJsonLines = <T>(path: string): T[] =>
  existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T) : [];

/** Running (a zombie waiting for its reaper counts as gone). */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('QemuMachine (with a fake qemu)', () => {
  let dir: string;
  let next: BootSelection[];
  let takeNextBoot: jest.Mock<BootSelection, []>;
  let machines: QemuMachine[];
  let logLines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-machine-spec-'));
    writeScript(join(dir, 'qemu'), FAKE_QEMU);
    writeScript(join(dir, 'qemu-img'), FAKE_QEMU_IMG);
    writeFileSync(join(dir, 'vars-template.fd'), 'OVMF VARS TEMPLATE');
    next = [];
    takeNextBoot = jest.fn((): BootSelection => next.shift() ?? { device: 'default' });
    machines = [];
    logLines = [];
  });

  afterEach(async () => {
    await Promise.all(machines.map((m) => m.close()));
    const child = join(dir, 'child.pid');
    if (existsSync(child)) { try { process.kill(Number(readFileSync(child, 'utf8')), 'SIGKILL'); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(config: Partial<QemuConfig> = {}, options: Partial<QemuMachineOptions> = {}) {
    const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => logLines.push({ level, msg, ...(fields ? { fields } : {}) });
    const sut = new QemuMachine({
      boot: { takeNextBoot },
      config: { ...QEMU_CONFIG_DEFAULTS, disk: join(dir, 'vm', 'disk.qcow2'), diskSizeBytes: 16 * 1024 ** 2, vncPort: undefined, kvm: 'off', ...config },
      qemuBinary: join(dir, 'qemu'),
      qemuImgBinary: join(dir, 'qemu-img'),
      ovmfCode: join(dir, 'code.fd'),
      ovmfVarsTemplate: join(dir, 'vars-template.fd'),
      runDir: join(dir, 'run'),
      log: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
      timing: { startTimeoutMs: 3000, stopTimeoutMs: 3000 },
      ...options,
    });
    machines.push(sut);
    let serial = '';
    const power: Array<[PowerState, PowerChangeCause]> = [];
    sut.on('serial', (d) => { serial += d.toString('latin1'); });
    sut.on('power', (s, c) => power.push([s, c]));
    return {
      sut,
      power,
      serial: () => serial,
      type: (text: string) => sut.writeSerial(Buffer.from(text, 'latin1')),
      spawns: () => readJsonLines<{ pid: number; argv: string[] }>(join(dir, 'argv.jsonl')),
      qmp: () => readJsonLines<{ pid: number; execute: string; arguments?: Record<string, unknown> }>(join(dir, 'qmp.jsonl')),
      behave: (b: Record<string, unknown>) => writeFileSync(join(dir, 'behaviour.json'), JSON.stringify(b)),
    };
  }

  const lastPid = (spawns: Array<{ pid: number }>): number => spawns[spawns.length - 1]!.pid;

  it('is of kind "qemu", starts off and spawns nothing until powered on', async () => {
    const { sut, spawns } = setup();
    expect(sut.kind).toBe('qemu');
    await expect(sut.powerState()).resolves.toBe('off');
    expect(spawns()).toEqual([]);
  });

  describe('power on', () => {
    it('creates the missing disk, starts QEMU paused, lets it run once serial is up, reports on', async () => {
      const t = setup();
      await t.sut.power('on');
      await expect(t.sut.powerState()).resolves.toBe('on');
      expect(t.power).toEqual([['on', 'command']]);
      expect(takeNextBoot).toHaveBeenCalledTimes(1);
      const img = readJsonLines<{ argv: string[] }>(join(dir, 'qemu-img.jsonl'));
      expect(img).toHaveLength(1);
      expect(img[0]!.argv.slice(0, 4)).toEqual(['create', '-q', '-f', 'qcow2']);
      expect(img[0]!.argv[5]).toBe(String(16 * 1024 ** 2));
      expect(readFileSync(join(dir, 'vm', 'disk.qcow2')).subarray(0, 4)).toEqual(Buffer.from('QFI\xfb', 'latin1'));
      const [spawn] = t.spawns();
      expect(spawn!.argv).toEqual(expect.arrayContaining(['-S', '-accel', 'tcg', `if=none,id=drive-disk0,file=${join(dir, 'vm', 'disk.qcow2')},format=qcow2,discard=unmap`]));
      expect(t.qmp().map((c) => c.execute)).toEqual(['qmp_capabilities', 'cont', 'query-status']);
      await waitFor(() => t.serial().includes('FAKE FIRMWARE'), 'firmware line');
      expect(t.serial()).toContain('efi=false boot=disk0');
    });

    it('gives VNC its password over QMP before the guest runs, at every QEMU start, and never on the command line', async () => {
      const t = setup({ vncPort: 5901, vncPassword: 's3cret!' });
      await t.sut.power('on');
      await t.sut.power('cycle');
      const calls = t.qmp().map((c) => c.execute);
      expect(calls.filter((c) => c === 'set_password')).toHaveLength(2);
      for (const pid of new Set(t.qmp().map((c) => c.pid))) {
        const own = t.qmp().filter((c) => c.pid === pid).map((c) => c.execute);
        expect(own.indexOf('set_password')).toBeLessThan(own.indexOf('cont'));
      }
      expect(t.qmp().find((c) => c.execute === 'set_password')!.arguments).toEqual({ protocol: 'vnc', password: 's3cret!' });
      for (const spawn of t.spawns()) {
        expect(spawn.argv).toEqual(expect.arrayContaining(['-vnc', ':1,password=on']));
        expect(spawn.argv.join(' ')).not.toContain('s3cret!');
      }
      expect(JSON.stringify(logLines)).not.toContain('s3cret!');
    });

    it('sets no VNC password without VNC_PASSWORD (VNC on 127.0.0.1 only)', async () => {
      const t = setup({ vncPort: 5901 });
      await t.sut.power('on');
      expect(t.qmp().map((c) => c.execute)).not.toContain('set_password');
      expect(t.spawns()[0]!.argv).toEqual(expect.arrayContaining(['-vnc', '127.0.0.1:1']));
    });

    it('never recreates an existing disk and detects a raw one', async () => {
      const disk = join(dir, 'raw.img');
      writeFileSync(disk, Buffer.alloc(512, 0xaa));
      const t = setup({ disk });
      await t.sut.power('on');
      expect(existsSync(join(dir, 'qemu-img.jsonl'))).toBe(false);
      expect(readFileSync(disk)).toEqual(Buffer.alloc(512, 0xaa));
      expect(t.spawns()[0]!.argv).toContain(`if=none,id=drive-disk0,file=${disk},format=raw,discard=unmap`);
    });

    it('is idempotent while on', async () => {
      const t = setup();
      await t.sut.power('on');
      await t.sut.power('on');
      expect(t.spawns()).toHaveLength(1);
      expect(t.power).toEqual([['on', 'command']]);
    });

    it('copies the UEFI variable store beside the disk on the first UEFI boot only', async () => {
      const t = setup({ bootMode: 'uefi' });
      await t.sut.power('on');
      const vars = join(dir, 'vm', 'OVMF_VARS.fd');
      expect(readFileSync(vars, 'utf8')).toBe('OVMF VARS TEMPLATE');
      expect(t.spawns()[0]!.argv).toEqual(expect.arrayContaining([`if=pflash,format=raw,unit=1,file=${vars}`]));
      writeFileSync(vars, 'NVRAM WRITTEN BY THE GUEST');
      await t.sut.power('cycle');
      expect(readFileSync(vars, 'utf8')).toBe('NVRAM WRITTEN BY THE GUEST');
    });

    it('uses KVM when ENABLE_KVM=auto and /dev/kvm is usable, and refuses ENABLE_KVM=true without it', async () => {
      const withKvm = setup({ kvm: 'auto' }, { kvmAvailable: () => true });
      await withKvm.sut.power('on');
      expect(withKvm.spawns()[0]!.argv).toEqual(expect.arrayContaining(['-accel', 'kvm', '-cpu', 'host']));
      await withKvm.sut.power('off');

      const noKvm = setup({ kvm: 'on' }, { kvmAvailable: () => false });
      await expect(noKvm.sut.power('on')).rejects.toThrow(/ENABLE_KVM=true, but \/dev\/kvm is missing/);
    });

    it('refuses power-on with every configuration problem, and spawns nothing', async () => {
      const t = setup({}, { configProblems: ['VM_MEMORY="abc" must be a number of MiB from 128 to 1048576', 'VM_BOOT="x" must be c (disk), d (CD-ROM) or n (network)'] });
      expect(logLines.some((l) => l.level === 'error' && /VM configuration is invalid/.test(l.msg))).toBe(true);
      const err = (await t.sut.power('on').catch((e: unknown) => e)) as MachineError;
      expect(err).toBeInstanceOf(MachineError);
      expect(err.reason).toBe('failed');
      expect(err.message).toBe('cannot power on: invalid VM configuration: VM_MEMORY="abc" must be a number of MiB from 128 to 1048576; VM_BOOT="x" must be c (disk), d (CD-ROM) or n (network)');
      expect(t.spawns()).toEqual([]);
      await expect(t.sut.powerState()).resolves.toBe('off');
      // The machine stays manageable.
      await expect(t.sut.power('off')).resolves.toBeUndefined();
    });

    it('fails with QEMU\'s own message when it exits while starting', async () => {
      const t = setup();
      t.behave({ exitAtStart: 1, stderr: "qemu-system-x86_64: -drive if=none: Could not open 'disk': Permission denied" });
      const err = (await t.sut.power('on').catch((e: unknown) => e)) as MachineError;
      expect(err.reason).toBe('failed');
      expect(err.message).toMatch(/^QEMU did not start: it exited \(code 1\): qemu-system-x86_64: -drive if=none: Could not open 'disk': Permission denied$/);
      expect(t.power).toEqual([]);
      await expect(t.sut.powerState()).resolves.toBe('off');
    });

    it('fails when the QEMU binary cannot be run', async () => {
      const t = setup({}, { qemuBinary: join(dir, 'no-such-qemu') });
      await expect(t.sut.power('on')).rejects.toThrow(/QEMU did not start: cannot run it: spawn .*no-such-qemu ENOENT/);
    });

    it('fails and stops QEMU when QMP never answers', async () => {
      const t = setup({}, { timing: { startTimeoutMs: 300 } });
      t.behave({ noQmp: true });
      await expect(t.sut.power('on')).rejects.toThrow(/QEMU did not start: QMP did not answer within 300 ms/);
      await waitFor(() => !alive(lastPid(t.spawns())), 'the fake QEMU to be gone');
    });

    it('fails with qemu-img\'s message when the disk cannot be created', async () => {
      const t = setup();
      t.behave({ imgFail: 'No space left on device' });
      await expect(t.sut.power('on')).rejects.toThrow(/cannot create the VM disk .*disk\.qcow2: .*qemu-img create failed \(exit code 1\): qemu-img: No space left on device/);
      expect(t.spawns()).toEqual([]);
    });

    it('starts the guest anyway when QEMU does not connect the serial port in time', async () => {
      const t = setup({}, { timing: { serialConnectTimeoutMs: 100 } });
      t.behave({ noSerial: true });
      await t.sut.power('on');
      await expect(t.sut.powerState()).resolves.toBe('on');
      expect(logLines.some((l) => l.level === 'warn' && /serial port/.test(l.msg))).toBe(true);
    });
  });

  describe('power off and cycle', () => {
    it('kills QEMU\'s whole process group and reports off', async () => {
      const t = setup();
      t.behave({ child: true });
      await t.sut.power('on');
      const pid = lastPid(t.spawns());
      await waitFor(() => existsSync(join(dir, 'child.pid')), 'the child pid');
      const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
      expect(alive(child)).toBe(true);
      await t.sut.power('off');
      expect(alive(pid)).toBe(false);
      await waitFor(() => !alive(child), 'the child of QEMU to be killed');
      await expect(t.sut.powerState()).resolves.toBe('off');
      expect(t.power).toEqual([['on', 'command'], ['off', 'command']]);
      await t.sut.power('off');
      expect(t.power).toHaveLength(2);
    });

    it('cycles through a new QEMU that reconnects to the same serial endpoint', async () => {
      const t = setup();
      await t.sut.power('on');
      const first = lastPid(t.spawns());
      await waitFor(() => t.serial().includes(`pid=${first}`), 'first firmware line');
      await t.sut.power('cycle');
      const second = lastPid(t.spawns());
      expect(second).not.toBe(first);
      expect(t.power).toEqual([['on', 'command'], ['off', 'command'], ['on', 'command']]);
      await waitFor(() => t.serial().includes(`pid=${second}`), 'second firmware line');
      t.type('hello\r');
      await waitFor(() => t.serial().includes('> hello'), 'echo from the new QEMU');
      expect(takeNextBoot).toHaveBeenCalledTimes(2);
    });

    it('refuses a second power action while one is under way', async () => {
      const t = setup();
      const on = t.sut.power('on');
      await expect(t.sut.power('off')).rejects.toMatchObject({ reason: 'busy' });
      await on;
    });
  });

  describe('reset', () => {
    it('applies a new boot device inside the running QEMU: bootindex, then a reset the agent lets through', async () => {
      const t = setup();
      await t.sut.power('on');
      const pid = lastPid(t.spawns());
      await waitFor(() => t.serial().includes('boot=disk0'), 'first boot');
      next.push({ device: 'cdrom', efi: false });
      await t.sut.power('reset');
      expect(lastPid(t.spawns())).toBe(pid);
      expect(t.spawns()).toHaveLength(1);
      expect(t.qmp().slice(2).map((c) => [c.execute, c.arguments])).toEqual([
        ['qom-set', { path: '/machine/peripheral/disk0', property: 'bootindex', value: -1 }],
        ['qom-set', { path: '/machine/peripheral/cd0', property: 'bootindex', value: -1 }],
        ['qom-set', { path: '/machine/peripheral/cd0', property: 'bootindex', value: 0 }],
        ['qom-set', { path: '/machine/peripheral/disk0', property: 'bootindex', value: 1 }],
        ['set-action', { reboot: 'reset' }],
        ['system_reset', undefined],
        ['set-action', { reboot: 'shutdown' }],
        ['cont', undefined],
      ]);
      await waitFor(() => t.serial().includes('boot=cd0'), 'second boot from the CD-ROM');
      await expect(t.sut.powerState()).resolves.toBe('on');
      expect(t.power).toEqual([['on', 'command']]);
    });

    it('boots the virtual media USB stick for IPMI floppy: plugged with bootindex 0, one reset before the first boot; the next boot reorders it', async () => {
      const t = setup();
      await t.sut.media.setMedium('usb', { url: 'http://images.example/stick.img' });
      next.push({ device: 'floppy', efi: false });
      await t.sut.power('on');
      const calls = t.qmp().map((c) => [c.execute, c.arguments]);
      const plug = calls.findIndex(([c]) => c === 'device_add');
      expect(calls[plug]![1]).toMatchObject({ driver: 'usb-storage', id: 'usbstick0', bootindex: 0 });
      // The firmware reads the boot order QEMU builds at a reset: one before the guest first runs.
      expect(calls.slice(plug + 1)).toEqual([
        ['set-action', { reboot: 'reset' }],
        ['system_reset', undefined],
        ['set-action', { reboot: 'shutdown' }],
        ['cont', undefined],
      ]);
      await waitFor(() => t.serial().includes('boot=usbstick0'), 'the boot from the USB stick');
      const before = t.qmp().length;
      await t.sut.power('reset');
      const sets = t.qmp().slice(before).filter((c) => c.execute === 'qom-set' && c.arguments?.['value'] !== -1)
        .map((c) => [String(c.arguments?.['path']).replace('/machine/peripheral/', ''), c.arguments?.['value']]);
      expect(sets).toEqual([['disk0', 0], ['cd0', 1], ['usbstick0', 2]]);
      await waitFor(() => t.serial().includes('boot=disk0'), 'the next boot from the disk');
    });

    it('leaves the empty USB stick slot out of the boot order changes and warns that a USB boot has nothing to boot', async () => {
      const t = setup();
      next.push({ device: 'floppy', efi: false });
      await t.sut.power('on');
      expect(t.qmp().map((c) => c.execute)).not.toContain('system_reset');
      expect(logLines.some((l) => l.level === 'warn' && /USB boot selected, but no virtual media/.test(l.msg))).toBe(true);
      await t.sut.power('reset');
      expect(t.qmp().some((c) => c.execute === 'qom-set' && String(c.arguments?.['path']).endsWith('usbstick0'))).toBe(false);
      await waitFor(() => t.serial().includes('boot=disk0'), 'the boot from the disk');
    });

    it('does not touch bootindex when the order stays the same', async () => {
      const t = setup();
      await t.sut.power('on');
      await t.sut.power('reset');
      expect(t.qmp().map((c) => c.execute)).not.toContain('qom-set');
      expect(t.qmp().map((c) => c.execute)).toContain('system_reset');
    });

    it('restarts QEMU when the boot needs another firmware, without power events, SOL unaware', async () => {
      const t = setup();
      await t.sut.power('on');
      const first = lastPid(t.spawns());
      next.push({ device: 'pxe', efi: true });
      await t.sut.power('reset');
      const second = lastPid(t.spawns());
      expect(second).not.toBe(first);
      expect(alive(first)).toBe(false);
      expect(t.spawns()[1]!.argv.some((a) => a.startsWith('if=pflash'))).toBe(true);
      await waitFor(() => t.serial().includes(`pid=${second} efi=true`), 'UEFI firmware line');
      expect(t.power).toEqual([['on', 'command']]);
      await expect(t.sut.powerState()).resolves.toBe('on');
    });

    it('restarts QEMU for "enter BIOS setup" (boot menu on the command line)', async () => {
      const t = setup();
      await t.sut.power('on');
      next.push({ device: 'bios' });
      await t.sut.power('reset');
      expect(t.spawns()).toHaveLength(2);
      expect(t.spawns()[1]!.argv).toEqual(expect.arrayContaining(['-boot', 'menu=on,splash-time=65535']));
    });

    it('ends QEMU when a reset fails half-way: off (failure), the action fails', async () => {
      const t = setup();
      t.behave({ failReset: true });
      await t.sut.power('on');
      const pid = lastPid(t.spawns());
      await expect(t.sut.power('reset')).rejects.toMatchObject({ reason: 'failed', message: expect.stringMatching(/QMP system_reset failed: .*reset refused/) });
      expect(t.power).toEqual([['on', 'command'], ['off', 'failure']]);
      expect(alive(pid)).toBe(false);
      await expect(t.sut.powerState()).resolves.toBe('off');
    });

    it('does nothing while off (soft and diag neither)', async () => {
      const t = setup();
      await t.sut.power('reset');
      await t.sut.power('soft');
      await t.sut.power('diag');
      expect(t.spawns()).toEqual([]);
      expect(takeNextBoot).not.toHaveBeenCalled();
    });
  });

  describe('the guest', () => {
    it('soft: the ACPI power button; the guest\'s power-off is off (guest) and QEMU ends', async () => {
      const t = setup();
      await t.sut.power('on');
      const pid = lastPid(t.spawns());
      await t.sut.power('soft');
      expect(t.qmp().map((c) => c.execute)).toContain('system_powerdown');
      await waitFor(() => t.power.length === 2, 'the guest to power off');
      expect(t.power).toEqual([['on', 'command'], ['off', 'guest']]);
      await waitFor(() => !alive(pid), 'QEMU to end');
      await expect(t.sut.powerState()).resolves.toBe('off');
    });

    it('soft: a guest that ignores the button stays on', async () => {
      const t = setup();
      t.behave({ ignorePowerdown: true });
      await t.sut.power('on');
      await t.sut.power('soft');
      await new Promise((r) => setTimeout(r, 100));
      await expect(t.sut.powerState()).resolves.toBe('on');
      expect(t.power).toEqual([['on', 'command']]);
    });

    it('a power-off typed in the guest is off (guest)', async () => {
      const t = setup();
      await t.sut.power('on');
      await waitFor(() => t.serial().includes('FAKE FIRMWARE'), 'boot');
      t.type('poweroff\r');
      await waitFor(() => t.power.length === 2, 'power off');
      expect(t.power[1]).toEqual(['off', 'guest']);
    });

    it('diag injects an NMI; a break goes to the serial device through QMP', async () => {
      const t = setup();
      await t.sut.power('on');
      await t.sut.power('diag');
      t.sut.sendBreak();
      await waitFor(() => t.serial().includes('NMI received') && t.serial().includes('BREAK'), 'NMI and break');
      expect(t.qmp().filter((c) => c.execute === 'chardev-send-break')).toEqual([expect.objectContaining({ arguments: { id: 'serial0' } })]);
    });

    it('a guest reboot asks the boot flags again (after onGuestReset), so a "once" override ends', async () => {
      const onGuestReset = jest.fn();
      const t = setup({}, { onGuestReset, timing: { firmwareResetGraceMs: 0 } });
      next.push({ device: 'cdrom', efi: false });
      await t.sut.power('on');
      await waitFor(() => t.serial().includes('boot=cd0'), 'override boot');
      t.type('reboot\r');
      await waitFor(() => (t.serial().match(/FAKE FIRMWARE/g) ?? []).length === 2, 'the reboot');
      expect(onGuestReset).toHaveBeenCalledTimes(1);
      expect(takeNextBoot).toHaveBeenCalledTimes(2);
      expect(t.serial()).toMatch(/boot=cd0[\s\S]*boot=disk0/);
      expect(t.spawns()).toHaveLength(1);
      expect(t.power).toEqual([['on', 'command']]);
      await expect(t.sut.powerState()).resolves.toBe('on');
    });

    it('a reset right after the boot started is the firmware\'s own: same boot, flags untouched', async () => {
      const onGuestReset = jest.fn();
      const t = setup({}, { onGuestReset, timing: { firmwareResetGraceMs: 60_000 } });
      next.push({ device: 'cdrom', efi: false });
      await t.sut.power('on');
      t.type('reboot\r');
      await waitFor(() => (t.serial().match(/FAKE FIRMWARE/g) ?? []).length === 2, 'the reboot');
      expect(onGuestReset).not.toHaveBeenCalled();
      expect(takeNextBoot).toHaveBeenCalledTimes(1);
      expect(t.serial()).toMatch(/boot=cd0[\s\S]*boot=cd0/);
    });

    it('a guest asking twice in a row for a reset gets one new boot', async () => {
      const t = setup({}, { timing: { firmwareResetGraceMs: 0 } });
      await t.sut.power('on');
      await waitFor(() => t.serial().includes('FAKE FIRMWARE'), 'boot');
      t.type('reboot2\r');
      await waitFor(() => (t.serial().match(/FAKE FIRMWARE/g) ?? []).length === 2, 'the reboot');
      await new Promise((r) => setTimeout(r, 100));
      expect(t.qmp().filter((c) => c.execute === 'system_reset')).toHaveLength(1);
      expect(takeNextBoot).toHaveBeenCalledTimes(2);
      await expect(t.sut.powerState()).resolves.toBe('on');
    });

    it('resets once more when the guest asks for a reset while the agent finishes one', async () => {
      const t = setup();
      t.behave({ guestResetDuringReset: true });
      await t.sut.power('on');
      await t.sut.power('reset');
      expect(t.qmp().filter((c) => c.execute === 'system_reset')).toHaveLength(2);
      expect(t.qmp().filter((c) => c.execute === 'cont')).toHaveLength(3);
      await expect(t.sut.powerState()).resolves.toBe('on');
      expect(t.power).toEqual([['on', 'command']]);
    });

    it('a QEMU that dies is off (failure), with its stderr logged', async () => {
      const t = setup();
      await t.sut.power('on');
      await waitFor(() => t.serial().includes('FAKE FIRMWARE'), 'boot');
      t.type('crash\r');
      await waitFor(() => t.power.length === 2, 'failure');
      expect(t.power[1]).toEqual(['off', 'failure']);
      await expect(t.sut.powerState()).resolves.toBe('off');
      expect(logLines.find((l) => l.msg === 'QEMU exited by itself')?.fields).toMatchObject({ code: 3, stderr: 'fake qemu: crashed' });
      // It can be powered on again.
      await t.sut.power('on');
      await expect(t.sut.powerState()).resolves.toBe('on');
    });
  });

  it('a QMP connection that breaks while QEMU runs: QEMU is stopped, off (failure)', async () => {
    const t = setup();
    await t.sut.power('on');
    const pid = lastPid(t.spawns());
    await waitFor(() => t.serial().includes('FAKE FIRMWARE'), 'boot');
    t.type('qmpclose\r');
    await waitFor(() => t.power.length === 2, 'failure');
    expect(t.power[1]).toEqual(['off', 'failure']);
    expect(alive(pid)).toBe(false);
    expect(logLines.some((l) => l.msg === 'lost the QMP connection to QEMU: stopping it')).toBe(true);
  });

  it('QEMU stopping the VM for another reason (a signal) is off (failure)', async () => {
    const t = setup();
    await t.sut.power('on');
    await waitFor(() => t.serial().includes('FAKE FIRMWARE'), 'boot');
    t.type('sigterm\r');
    await waitFor(() => t.power.length === 2, 'failure');
    expect(t.power[1]).toEqual(['off', 'failure']);
    expect(logLines.some((l) => l.level === 'warn' && l.msg === 'QEMU stopped the VM' && l.fields?.['reason'] === 'host-signal')).toBe(true);
  });

  describe('VM_NETWORKS', () => {
    const NET0: QemuNic = { id: 'net0', tapName: 'tap-eth1', mac: '52:54:00:00:00:01' };
    const NET1: QemuNic = { id: 'net1', tapName: 'tap-eth2', mac: '52:54:00:00:00:02' };
    /** watchNetworks' calls: the NICs QEMU started with, its hot-add function, whether it was stopped. */
    const watching = () => {
      const calls: Array<{ attached: readonly QemuNic[]; hotAdd: (nic: QemuNic) => Promise<void>; stopped: boolean }> = [];
      const watchNetworks = jest.fn((attached: readonly QemuNic[], hotAdd: (nic: QemuNic) => Promise<void>) => {
        const call = { attached, hotAdd, stopped: false };
        calls.push(call);
        return () => { call.stopped = true; };
      });
      return { calls, watchNetworks };
    };

    it('starts with the NICs prepareNetworks gives, each on its root port, and a free port for the missing one', async () => {
      const t = setup({ networks: ['eth1', 'eth2'] }, { prepareNetworks: () => Promise.resolve([NET0]) });
      await t.sut.power('on');
      const argv = t.spawns()[0]!.argv;
      expect(argv).toEqual(expect.arrayContaining([
        'pcie-root-port,id=port-net0,chassis=1,bus=pcie.0,addr=0x10.0,multifunction=on',
        'pcie-root-port,id=port-net1,chassis=2,bus=pcie.0,addr=0x10.1',
        'tap,id=netdev-net0,ifname=tap-eth1,script=no,downscript=no',
        'virtio-net-pci,netdev=netdev-net0,id=net0,mac=52:54:00:00:00:01,bus=port-net0,bootindex=3',
      ]));
      expect(argv.some((a) => a.includes('tap-eth2'))).toBe(false);
    });

    it('hot-plugs a NIC the watcher reports into its port; it joins the boot order at the next reset', async () => {
      const w = watching();
      const t = setup({ networks: ['eth1', 'eth2'] }, { prepareNetworks: () => Promise.resolve([NET0]), watchNetworks: w.watchNetworks });
      await t.sut.power('on');
      expect(w.calls).toHaveLength(1);
      expect(w.calls[0]!.attached).toEqual([NET0]);
      const before = t.qmp().length;
      await w.calls[0]!.hotAdd(NET1);
      expect(t.qmp().slice(before).map((c) => [c.execute, c.arguments])).toEqual([
        ['netdev_add', { type: 'tap', id: 'netdev-net1', ifname: 'tap-eth2', script: 'no', downscript: 'no' }],
        ['device_add', { driver: 'virtio-net-pci', id: 'net1', netdev: 'netdev-net1', mac: '52:54:00:00:00:02', bus: 'port-net1' }],
      ]);
      // The same NIC again: nothing to do.
      await w.calls[0]!.hotAdd(NET1);
      expect(t.qmp().slice(before)).toHaveLength(2);

      next.push({ device: 'pxe' });
      const beforeReset = t.qmp().length;
      await t.sut.power('reset');
      const bootIndexSets = t.qmp().slice(beforeReset).filter((c) => c.execute === 'qom-set' && c.arguments?.['value'] !== -1)
        .map((c) => [String(c.arguments?.['path']).replace('/machine/peripheral/', ''), c.arguments?.['value']]);
      expect(bootIndexSets).toEqual([['net0', 0], ['net1', 1], ['disk0', 2], ['cd0', 3]]);
      await waitFor(() => t.serial().includes('boot=net0'), 'the network boot');
    });

    it('stops the watcher with QEMU; a hot-add after that or a failing one is refused', async () => {
      const w = watching();
      const t = setup({ networks: ['eth1', 'eth2'] }, { prepareNetworks: () => Promise.resolve([]), watchNetworks: w.watchNetworks });
      t.behave({ failDeviceAdd: true });
      await t.sut.power('on');
      const before = t.qmp().length;
      await expect(w.calls[0]!.hotAdd(NET0)).rejects.toThrow("Bus 'port-net0' not found");
      expect(t.qmp().slice(before).map((c) => c.execute)).toEqual(['netdev_add', 'device_add', 'netdev_del']);
      await t.sut.power('cycle');
      expect(w.calls.map((c) => c.stopped)).toEqual([true, false]);
      await expect(w.calls[0]!.hotAdd(NET0)).rejects.toThrow('the VM no longer runs');
      await t.sut.power('off');
      expect(w.calls[1]!.stopped).toBe(true);
    });

    it('a power-on waiting for its interfaces ends when the machine closes', async () => {
      let seen: AbortSignal | undefined;
      const prepareNetworks = (signal: AbortSignal): Promise<QemuNic[]> => {
        seen = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped while waiting')), { once: true }));
      };
      const t = setup({ networks: ['eth1'] }, { prepareNetworks });
      const on = t.sut.power('on').catch((e: unknown) => e);
      await waitFor(() => seen !== undefined, 'the wait');
      await t.sut.close();
      await expect(on).resolves.toMatchObject({ reason: 'failed', message: 'stopped while waiting' });
      expect(t.spawns()).toEqual([]);
    });
  });

  describe('close', () => {
    it('stops QEMU, the serial endpoint and the timers; the machine refuses further actions', async () => {
      const t = setup();
      await t.sut.power('on');
      const pid = lastPid(t.spawns());
      await t.sut.close();
      expect(alive(pid)).toBe(false);
      expect(existsSync(join(dir, 'run', 'serial.sock'))).toBe(false);
      await expect(t.sut.power('on')).rejects.toMatchObject({ reason: 'failed' });
      await expect(t.sut.powerState()).resolves.toBe('off');
      expect(t.power).toEqual([['on', 'command']]);
    });

    it('ends a power-on under way', async () => {
      const t = setup({}, { timing: { startTimeoutMs: 5000 } });
      t.behave({ noQmp: true });
      const on = t.sut.power('on').catch((e: unknown) => e);
      await waitFor(() => t.spawns().length === 1, 'spawn');
      await t.sut.close();
      await expect(on).resolves.toMatchObject({ reason: 'failed' });
      expect(alive(lastPid(t.spawns()))).toBe(false);
    });

    it('removes a run directory it created itself', async () => {
      const t = setup({}, { runDir: undefined });
      await t.sut.power('on');
      const serialArg = t.spawns()[0]!.argv.find((a) => a.startsWith('socket,id=serial0'))!;
      const runDir = /path=(.*)\/serial\.sock/.exec(serialArg)![1]!;
      expect(existsSync(runDir)).toBe(true);
      await t.sut.close();
      expect(existsSync(runDir)).toBe(false);
    });
  });
});
