#!/usr/bin/env node
// Boots the test guest once under QEMU (TCG) and checks what the node-runtime tests rely on:
// the ready marker with the expected firmware and boot device, a command typed on the serial console
// and its output, the network marker when a NIC is attached, and ACPI power-off via QMP
// system_powerdown (QEMU must exit). Prints the wall time of each step. No dependencies.
//
//   node node-image/test/guest/smoke.mjs --firmware bios|uefi --boot cdrom|disk|pxe|pxe-grub|kernel
//        [--nic] [--machine pc|q35] [--dir .cache/test-guest] [--timeout 120] [--verbose]
//        [--netdev tap,id=n0,ifname=tap0,script=no,downscript=no] [--native-pxe]
//        [--append 'guest.ip=10.0.2.50/24,10.0.2.2'] [--no-echo]
//
// --boot pxe boots tftp/boot.ipxe (QEMU's iPXE ROM runs the script, BIOS and UEFI), pxe-grub the grub
// network images (core.0 under BIOS, core.efi under UEFI); both use QEMU's user-mode network and its
// TFTP server unless --netdev names another backend (e.g. a tap served by dnsmasq; its id must be n0).
// --native-pxe drops the NIC's iPXE ROM so that OVMF's own PXE client boots (UEFI only).
// --append adds kernel parameters (--boot kernel only); --no-echo sends system_powerdown as soon as the
// ready marker appears, without typing anything first.
// Exit status 0 when every check passed.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const READY = /BMCFLEET-GUEST-READY firmware=(\S+) bootdev=(\S+)\r?\n/;
const NET = /BMCFLEET-GUEST-NET iface=eth0 addr=(\S+)\r?\n/;
const POWERDOWN = /BMCFLEET-GUEST-POWERDOWN/;

const { values: opts } = parseArgs({
  options: {
    firmware: { type: 'string', default: 'bios' },
    boot: { type: 'string', default: 'cdrom' },
    machine: { type: 'string', default: 'pc' },
    nic: { type: 'boolean', default: false },
    netdev: { type: 'string' },
    'native-pxe': { type: 'boolean', default: false },
    append: { type: 'string', default: '' },
    'no-echo': { type: 'boolean', default: false },
    dir: { type: 'string', default: '.cache/test-guest' },
    timeout: { type: 'string', default: '120' },
    verbose: { type: 'boolean', default: false },
  },
});
const dir = resolve(opts.dir);
const stepTimeoutMs = Number(opts.timeout) * 1000;
const expectedBootdev = { cdrom: 'cdrom', disk: 'disk', pxe: 'pxe', 'pxe-grub': 'pxe', kernel: 'kernel' }[
  opts.boot
];
if (!expectedBootdev || !['bios', 'uefi'].includes(opts.firmware)) {
  console.error('usage: smoke.mjs --firmware bios|uefi --boot cdrom|disk|pxe|pxe-grub|kernel [--nic]');
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'bmcfleet-guest-'));
const qmpPath = join(scratch, 'qmp.sock');

function qemuArgs() {
  const args = ['-accel', 'tcg', '-machine', opts.machine, '-m', '512', '-nodefaults', '-no-user-config'];
  args.push('-display', 'none', '-serial', 'stdio', '-qmp', `unix:${qmpPath},server=on,wait=off`);
  if (opts.firmware === 'uefi') {
    const vars = join(scratch, 'OVMF_VARS.fd');
    copyFileSync(OVMF_VARS, vars);
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`);
    args.push('-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
  }
  const pxe = opts.boot === 'pxe' || opts.boot === 'pxe-grub';
  if (opts.boot === 'cdrom') {
    args.push('-drive', `if=none,id=cd0,media=cdrom,readonly=on,file=${join(dir, 'guest.iso')}`);
    args.push('-device', 'ide-cd,drive=cd0,bootindex=1');
  } else if (opts.boot === 'disk') {
    // The hybrid ISO as a disk; snapshot=on keeps the file unchanged.
    args.push('-drive', `if=none,id=hd0,format=raw,snapshot=on,file=${join(dir, 'guest.iso')}`);
    args.push('-device', 'virtio-blk-pci,drive=hd0,bootindex=1');
  } else if (opts.boot === 'kernel') {
    args.push('-kernel', join(dir, 'vmlinuz'), '-initrd', join(dir, 'initrd.img'));
    args.push('-append', `console=ttyS0,115200 bootdev=kernel ${opts.append}`.trim());
  }
  if (pxe || opts.nic) {
    let netdev = opts.netdev ?? 'user,id=n0';
    if (pxe && !opts.netdev) {
      const bootfile =
        opts.boot === 'pxe'
          ? 'boot.ipxe'
          : opts.firmware === 'uefi'
            ? 'boot/grub/x86_64-efi/core.efi'
            : 'boot/grub/i386-pc/core.0';
      netdev += `,tftp=${join(dir, 'tftp')},bootfile=${bootfile}`;
    }
    const romfile = opts['native-pxe'] ? ',romfile=' : '';
    args.push('-netdev', netdev, '-device', `virtio-net-pci,netdev=n0${romfile}${pxe ? ',bootindex=1' : ''}`);
  }
  return args;
}

const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
const args = qemuArgs();
console.log(`qemu-system-x86_64 ${args.join(' ')}`);
const qemu = spawn('qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'inherit'] });
let serial = '';
let exited = null;
const waiters = new Set();
const wake = () => waiters.forEach((w) => w());
qemu.stdout.on('data', (chunk) => {
  const text = chunk.toString('latin1');
  serial += text;
  if (opts.verbose) process.stdout.write(text);
  wake();
});
qemu.on('exit', (code, signal) => {
  exited = { code, signal, at: elapsed() };
  wake();
});

/** Resolves with the first match of `pattern` in the serial output after `from`. */
function waitFor(label, predicate) {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      const result = predicate();
      if (result) {
        cleanup();
        resolvePromise(result);
      } else if (exited) {
        cleanup();
        reject(new Error(`${label}: QEMU exited (${JSON.stringify(exited)})`));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${label}: no result within ${stepTimeoutMs / 1000} s`));
    }, stepTimeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}
const waitSerial = (label, pattern, from = 0) => waitFor(label, () => serial.slice(from).match(pattern));

function qmp(commands) {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(qmpPath);
    let buffer = '';
    const replies = [];
    const pending = [{ execute: 'qmp_capabilities' }, ...commands.map((execute) => ({ execute }))];
    socket.on('error', reject);
    socket.on('data', (data) => {
      buffer += data.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (message.QMP || 'return' in message || 'error' in message) {
          if (!message.QMP) replies.push(message);
          const next = pending.shift();
          if (next) socket.write(JSON.stringify(next) + '\n');
          else {
            socket.end();
            resolvePromise(replies);
          }
        }
      }
    });
  });
}

let failed = false;
const check = (ok, message) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failed = true;
};

try {
  const ready = await waitSerial('ready marker', READY);
  check(
    ready[1] === opts.firmware && ready[2] === expectedBootdev,
    `${elapsed()} s: ${ready[0].trim()} (expected firmware=${opts.firmware} bootdev=${expectedBootdev})`,
  );
  if (opts.nic || expectedBootdev === 'pxe') {
    const net = await waitSerial('network marker', NET);
    const expectAddress = !/guest\.ip=off/.test(opts.append);
    check((net[1] !== 'none') === expectAddress, `${elapsed()} s: ${net[0].trim()}`);
  }
  const before = serial.length;
  if (!opts['no-echo']) {
    const typedAt = Date.now();
    qemu.stdin.write('echo hi\n');
    await waitSerial('echo hi', /(^|\n)hi\r?\n/, before);
    check(true, `${elapsed()} s: typed "echo hi", read "hi" after ${Date.now() - typedAt} ms`);
  }
  const powerdownAt = Date.now();
  const replies = await qmp(['system_powerdown']);
  check(replies.every((r) => 'return' in r), `QMP system_powerdown answered ${JSON.stringify(replies.at(-1))}`);
  await waitSerial('power button', POWERDOWN, before);
  await waitFor('QEMU exit', () => exited);
  check(exited.code === 0, `${elapsed()} s: QEMU exited (${JSON.stringify(exited)}) ${Date.now() - powerdownAt} ms after system_powerdown`);
} catch (error) {
  check(false, `${elapsed()} s: ${error.message}`);
  if (!opts.verbose) console.log(`--- serial (last 3000 characters) ---\n${serial.slice(-3000)}`);
} finally {
  if (!exited) qemu.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
