import type { BootDevice } from './machine-control';
import { bootIndexes, bootMenuWaitMs, bootOrder, buildQemuArgs, launchKey, nicId, nicMac, nicPortDevices, nicPortId, qemuOptValue, resolveBoot, type QemuLaunch, type QemuNic } from './qemu-args';
import { QEMU_CONFIG_DEFAULTS, type QemuConfig } from './qemu-config';

const PATHS = {
  qmpSocket: '/run/bmcfleet/qmp.sock',
  serialSocket: '/run/bmcfleet/serial.sock',
  ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  ovmfVars: '/vm/OVMF_VARS.fd',
};

const NICS: QemuNic[] = [
  { id: 'net0', tapName: 'tap-eth1', mac: '52:54:00:aa:bb:01' },
  { id: 'net1', tapName: 'tap-eth2', mac: '52:54:00:aa:bb:02' },
];

function launch(config: Partial<QemuConfig> = {}, rest: Partial<QemuLaunch> = {}): QemuLaunch {
  const c = { ...QEMU_CONFIG_DEFAULTS, ...config };
  return { config: c, boot: resolveBoot({ device: 'default' }, c), accel: 'tcg', paths: PATHS, diskFormat: 'qcow2', ...rest };
}

describe('buildQemuArgs', () => {
  it('builds the default machine: sandboxed, SeaBIOS, disk first, TCG, VNC :0 on loopback only', () => {
    expect(buildQemuArgs(launch())).toEqual([
      '-nodefaults',
      '-no-user-config',
      '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
      '-machine', 'q35,graphics=off',
      '-accel', 'tcg',
      '-cpu', 'max',
      '-m', '2048',
      '-smp', '2',
      '-display', 'none',
      '-vnc', '127.0.0.1:0',
      '-device', 'VGA,id=video0',
      '-action', 'reboot=shutdown,shutdown=pause',
      '-drive', 'if=none,id=drive-disk0,file=/vm/disk.qcow2,format=qcow2,discard=unmap',
      '-device', 'virtio-blk-pci,drive=drive-disk0,id=disk0,bootindex=0',
      '-drive', 'if=none,id=drive-cd0,media=cdrom,readonly=on',
      '-device', 'ide-cd,drive=drive-cd0,id=cd0,bus=ide.0,bootindex=1',
      '-device', 'qemu-xhci,id=usb',
      '-chardev', 'socket,id=serial0,path=/run/bmcfleet/serial.sock,server=off,reconnect=1',
      '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=qmp0,path=/run/bmcfleet/qmp.sock,server=on,wait=off',
      '-mon', 'chardev=qmp0,mode=control',
      '-S',
    ]);
  });

  it('builds a UEFI PXE boot under KVM with NICs, CD-ROM, boot menu, identity and an IDE disk', () => {
    const config = { ...QEMU_CONFIG_DEFAULTS, memoryMiB: 4096, cpus: 4, cdrom: '/iso/installer.iso', bootMenuTimeoutMs: 2500, vncPort: 5907, vncPassword: 'pw-12345' };
    const args = buildQemuArgs({
      config,
      boot: resolveBoot({ device: 'pxe', efi: true }, config),
      accel: 'kvm',
      paths: PATHS,
      diskFormat: 'raw',
      diskInterface: 'ide',
      nics: NICS,
      name: 'node1',
      uuid: '2f1c8a7e-5d4b-4c3a-9e8f-0123456789ab',
      serialNumber: 'node1',
    });
    expect(args).toEqual([
      '-name', 'node1',
      '-nodefaults',
      '-no-user-config',
      '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
      '-machine', 'q35,graphics=off',
      '-accel', 'kvm',
      '-cpu', 'host',
      '-m', '4096',
      '-smp', '4',
      '-uuid', '2f1c8a7e-5d4b-4c3a-9e8f-0123456789ab',
      '-smbios', 'type=1,serial=node1',
      '-display', 'none',
      '-vnc', ':7,password=on',
      '-device', 'VGA,id=video0',
      '-action', 'reboot=shutdown,shutdown=pause',
      '-boot', 'menu=on,splash-time=2500',
      '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      '-drive', 'if=pflash,format=raw,unit=1,file=/vm/OVMF_VARS.fd',
      '-drive', 'if=none,id=drive-disk0,file=/vm/disk.qcow2,format=raw,discard=unmap',
      '-device', 'ide-hd,drive=drive-disk0,id=disk0,bus=ide.1,bootindex=2',
      '-drive', 'if=none,id=drive-cd0,media=cdrom,readonly=on,file=/iso/installer.iso,format=raw',
      '-device', 'ide-cd,drive=drive-cd0,id=cd0,bus=ide.0,bootindex=3',
      '-device', 'qemu-xhci,id=usb',
      '-netdev', 'tap,id=netdev-net0,ifname=tap-eth1,script=no,downscript=no',
      '-device', 'virtio-net-pci,netdev=netdev-net0,id=net0,mac=52:54:00:aa:bb:01,bootindex=0',
      '-netdev', 'tap,id=netdev-net1,ifname=tap-eth2,script=no,downscript=no',
      '-device', 'virtio-net-pci,netdev=netdev-net1,id=net1,mac=52:54:00:aa:bb:02,bootindex=1',
      '-chardev', 'socket,id=serial0,path=/run/bmcfleet/serial.sock,server=off,reconnect=1',
      '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=qmp0,path=/run/bmcfleet/qmp.sock,server=on,wait=off',
      '-mon', 'chardev=qmp0,mode=control',
      '-S',
    ]);
  });

  it('enters setup for boot device "bios": the longest boot menu wait, the normal order', () => {
    const args = buildQemuArgs(launch({}, { boot: resolveBoot({ device: 'bios' }, QEMU_CONFIG_DEFAULTS) }));
    expect(args).toContain('menu=on,splash-time=65535');
    expect(args).toContain('virtio-blk-pci,drive=drive-disk0,id=disk0,bootindex=0');
  });

  it('maps OVMF only for EFI boots and leaves the firmware default otherwise', () => {
    expect(buildQemuArgs(launch()).some((a) => a.startsWith('if=pflash'))).toBe(false);
    const uefi = buildQemuArgs(launch({ bootMode: 'uefi' }));
    expect(uefi.filter((a) => a.startsWith('if=pflash'))).toHaveLength(2);
    // A legacy override on a UEFI node boots SeaBIOS for that boot.
    const legacy = buildQemuArgs(launch({ bootMode: 'uefi' }, { boot: resolveBoot({ device: 'disk', efi: false }, { ...QEMU_CONFIG_DEFAULTS, bootMode: 'uefi' }) }));
    expect(legacy.some((a) => a.startsWith('if=pflash'))).toBe(false);
  });

  it('doubles commas inside paths and names (QEMU option syntax)', () => {
    const args = buildQemuArgs(launch({ disk: '/vm/a,b.qcow2', cdrom: '/iso/x,y.iso' }, {
      name: 'n,1',
      paths: { ...PATHS, serialSocket: '/run/s,1.sock', qmpSocket: '/run/q,1.sock', ovmfVars: '/vm/V,ARS.fd' },
      boot: resolveBoot({ device: 'default', efi: true }, QEMU_CONFIG_DEFAULTS),
    }));
    expect(args).toEqual(expect.arrayContaining([
      'n,,1',
      'if=none,id=drive-disk0,file=/vm/a,,b.qcow2,format=qcow2,discard=unmap',
      'if=none,id=drive-cd0,media=cdrom,readonly=on,file=/iso/x,,y.iso,format=raw',
      'if=pflash,format=raw,unit=1,file=/vm/V,,ARS.fd',
      'socket,id=serial0,path=/run/s,,1.sock,server=off,reconnect=1',
      'socket,id=qmp0,path=/run/q,,1.sock,server=on,wait=off',
    ]));
  });

  it('with VNC_PASSWORD: VNC on every interface and asking for a password, which is nowhere on the command line', () => {
    const args = buildQemuArgs(launch({ vncPort: 5900, vncPassword: 'Zz9!x y' }));
    expect(args[args.indexOf('-vnc') + 1]).toBe(':0,password=on');
    expect(args.join('\n')).not.toContain('Zz9!x y');
  });

  it('always runs QEMU in its seccomp sandbox, whatever the boot', () => {
    for (const l of [launch(), launch({ bootMode: 'uefi' }, { accel: 'kvm', nics: NICS })]) {
      const args = buildQemuArgs(l);
      expect(args.filter((a) => a === '-sandbox')).toHaveLength(1);
      expect(args[args.indexOf('-sandbox') + 1]).toBe('on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
    }
  });

  it('has no VNC server with VNC_PORT=none, and the display stays off', () => {
    const args = buildQemuArgs(launch({ vncPort: undefined }));
    expect(args).not.toContain('-vnc');
    expect(args).toEqual(expect.arrayContaining(['-display', 'none']));
  });

  it('gives every VM_NETWORKS entry a root port, with or without its NIC, and plugs the NICs there', () => {
    // eth2 is missing at power-on: its port stays empty for a hot-plug.
    const config = { ...QEMU_CONFIG_DEFAULTS, networks: ['eth1', 'eth2', 'eth3'] };
    const nics: QemuNic[] = [
      { id: nicId(0), tapName: 'tap-eth1', mac: '52:54:00:aa:bb:01' },
      { id: nicId(2), tapName: 'tap-eth3', mac: '52:54:00:aa:bb:03' },
    ];
    const args = buildQemuArgs(launch(config, { nics }));
    const devices = args.filter((_, i) => args[i - 1] === '-device');
    expect(devices.filter((d) => d.startsWith('pcie-root-port') || d.startsWith('virtio-net-pci'))).toEqual([
      'pcie-root-port,id=port-net0,chassis=1,bus=pcie.0,addr=0x10.0,multifunction=on',
      'pcie-root-port,id=port-net1,chassis=2,bus=pcie.0,addr=0x10.1',
      'pcie-root-port,id=port-net2,chassis=3,bus=pcie.0,addr=0x10.2',
      'virtio-net-pci,netdev=netdev-net0,id=net0,mac=52:54:00:aa:bb:01,bus=port-net0,bootindex=3',
      'virtio-net-pci,netdev=netdev-net2,id=net2,mac=52:54:00:aa:bb:03,bus=port-net2,bootindex=4',
    ]);
    // A port is created before the NIC that names it as its bus.
    expect(args.indexOf('pcie-root-port,id=port-net2,chassis=3,bus=pcie.0,addr=0x10.2')).toBeLessThan(args.indexOf('tap,id=netdev-net2,ifname=tap-eth3,script=no,downscript=no'));
  });

  it('spreads the root ports over slots of eight functions, each port with its own chassis number', () => {
    const ports = nicPortDevices(17);
    expect(ports[7]).toBe('pcie-root-port,id=port-net7,chassis=8,bus=pcie.0,addr=0x10.7');
    expect(ports[8]).toBe('pcie-root-port,id=port-net8,chassis=9,bus=pcie.0,addr=0x11.0,multifunction=on');
    expect(ports[16]).toBe('pcie-root-port,id=port-net16,chassis=17,bus=pcie.0,addr=0x12.0,multifunction=on');
    expect(new Set(ports.map((p) => /addr=([^,]+)/.exec(p)![1])).size).toBe(17);
    expect(nicPortId(nicId(16))).toBe('port-net16');
    expect(nicPortDevices(0)).toEqual([]);
  });

  it('has no network device (so no boot ROM) without VM_NETWORKS, even for a PXE boot', () => {
    const args = buildQemuArgs(launch({}, { boot: resolveBoot({ device: 'pxe' }, QEMU_CONFIG_DEFAULTS) }));
    expect(args.some((a) => a.includes('virtio-net') || a.startsWith('tap'))).toBe(false);
    expect(args).toContain('virtio-blk-pci,drive=drive-disk0,id=disk0,bootindex=0');
  });
});

describe('resolveBoot', () => {
  const bios = QEMU_CONFIG_DEFAULTS;
  it.each<[BootDevice, string, boolean]>([
    ['default', 'disk', false],
    ['pxe', 'network', false],
    ['disk', 'disk', false],
    ['safe', 'disk', false],
    ['diag', 'disk', false],
    ['remote-disk', 'disk', false],
    ['cdrom', 'cdrom', false],
    ['remote-cdrom', 'cdrom', false],
    ['remote-primary', 'usb', false],
    ['floppy', 'usb', false],
    ['bios', 'disk', true],
  ])('device %s boots %s first (setup %s)', (device, first, setup) => {
    expect(resolveBoot({ device }, bios)).toEqual({ first, efi: false, setup });
  });

  it('uses VM_BOOT for "default" and "bios"', () => {
    const config = { ...bios, bootDevice: 'cdrom' as const };
    expect(resolveBoot({ device: 'default' }, config).first).toBe('cdrom');
    expect(resolveBoot({ device: 'bios' }, config).first).toBe('cdrom');
  });

  it('takes EFI from the flags when they say, else from VM_BOOT_MODE', () => {
    const uefi = { ...bios, bootMode: 'uefi' as const };
    expect(resolveBoot({ device: 'default' }, uefi).efi).toBe(true);
    expect(resolveBoot({ device: 'pxe', efi: false }, uefi).efi).toBe(false);
    expect(resolveBoot({ device: 'pxe', efi: true }, bios).efi).toBe(true);
  });
});

describe('boot order', () => {
  const config = QEMU_CONFIG_DEFAULTS;
  it('puts the selected device first, then VM_BOOT\'s order', () => {
    expect(bootOrder(resolveBoot({ device: 'default' }, config), config, NICS)).toEqual(['disk0', 'cd0', 'usbstick0', 'net0', 'net1']);
    expect(bootOrder(resolveBoot({ device: 'cdrom' }, config), config, NICS)).toEqual(['cd0', 'disk0', 'usbstick0', 'net0', 'net1']);
    expect(bootOrder(resolveBoot({ device: 'pxe' }, config), config, NICS)).toEqual(['net0', 'net1', 'disk0', 'cd0', 'usbstick0']);
    const netFirst = { ...config, bootDevice: 'network' as const };
    expect(bootOrder(resolveBoot({ device: 'default' }, netFirst), netFirst, NICS)).toEqual(['net0', 'net1', 'disk0', 'cd0', 'usbstick0']);
    expect(bootOrder(resolveBoot({ device: 'cdrom' }, netFirst), netFirst, NICS)).toEqual(['cd0', 'net0', 'net1', 'disk0', 'usbstick0']);
  });

  it('puts the virtual media USB stick first for IPMI floppy / primary remote media (Redfish Usb)', () => {
    expect(bootOrder(resolveBoot({ device: 'floppy' }, config), config, NICS)).toEqual(['usbstick0', 'disk0', 'cd0', 'net0', 'net1']);
    expect(bootOrder(resolveBoot({ device: 'remote-primary', efi: true }, config), config, [])).toEqual(['usbstick0', 'disk0', 'cd0']);
  });

  it('numbers bootindex from 0 without gaps', () => {
    expect([...bootIndexes(resolveBoot({ device: 'pxe' }, config), config, [])]).toEqual([['disk0', 0], ['cd0', 1], ['usbstick0', 2]]);
  });
});

describe('launchKey and the boot menu', () => {
  const config = QEMU_CONFIG_DEFAULTS;
  it('is equal for boots that differ only by device, so they share one QEMU process', () => {
    expect(launchKey(resolveBoot({ device: 'pxe' }, config), config)).toBe(launchKey(resolveBoot({ device: 'cdrom' }, config), config));
    expect(launchKey(resolveBoot({ device: 'disk' }, config), config)).toBe('bios/menu=off');
  });

  it('differs when the firmware or the menu changes', () => {
    expect(launchKey(resolveBoot({ device: 'disk', efi: true }, config), config)).toBe('uefi/menu=off');
    expect(launchKey(resolveBoot({ device: 'bios' }, config), config)).toBe('bios/menu=65535');
    expect(launchKey(resolveBoot({ device: 'disk' }, config), { bootMenuTimeoutMs: 500 })).toBe('bios/menu=500');
  });

  it('has no menu with VM_BOOT_MENU_TIMEOUT=0', () => {
    expect(bootMenuWaitMs(resolveBoot({ device: 'disk' }, config), config)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('qemuOptValue doubles every comma', () => {
    expect(qemuOptValue('a,b,,c')).toBe('a,,b,,,,c');
  });

  it('nicMac is stable, in QEMU\'s OUI, and differs per seed', () => {
    expect(nicMac('node1/eth1')).toBe(nicMac('node1/eth1'));
    expect(nicMac('node1/eth1')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(nicMac('node1/eth1')).not.toBe(nicMac('node1/eth2'));
  });
});
