import { parseQemuConfig, QEMU_CONFIG_DEFAULTS } from './qemu-config';

describe('parseQemuConfig', () => {
  it('gives design.md\'s defaults for an empty environment', () => {
    expect(parseQemuConfig({})).toEqual({
      config: {
        memoryMiB: 2048,
        cpus: 2,
        disk: '/vm/disk.qcow2',
        diskSizeBytes: 20 * 1024 ** 3,
        cdrom: undefined,
        bootDevice: 'disk',
        bootMode: 'bios',
        bootMenuTimeoutMs: 0,
        kvm: 'auto',
        vncPort: 5900,
        networks: [],
        networksWaitMs: 60_000,
      },
      problems: [],
    });
  });

  it('treats empty values as unset', () => {
    const env = { VM_MEMORY: '', VM_CPUS: ' ', VM_DISK: '', VM_CDROM: '', VM_BOOT: '', VM_BOOT_MODE: '', ENABLE_KVM: '', VNC_PORT: '', VNC_PASSWORD: '', VM_NETWORKS: '', VM_NETWORKS_WAIT: '' };
    expect(parseQemuConfig(env)).toEqual({ config: QEMU_CONFIG_DEFAULTS, problems: [] });
  });

  it('reads every variable', () => {
    const { config, problems } = parseQemuConfig({
      VM_MEMORY: '4096',
      VM_CPUS: '4',
      VM_DISK: '/data/node1.qcow2',
      VM_DISK_SIZE: '8G',
      VM_CDROM: '/iso/debian.iso',
      VM_BOOT: 'd',
      VM_BOOT_MODE: 'UEFI',
      VM_BOOT_MENU_TIMEOUT: '3000',
      ENABLE_KVM: 'false',
      VNC_PORT: '5901',
      VNC_PASSWORD: ' pa55 w',
      VM_NETWORKS: 'eth1, eth2,,net.100',
      VM_NETWORKS_WAIT: '15',
    });
    expect(problems).toEqual([]);
    expect(config).toEqual({
      memoryMiB: 4096,
      cpus: 4,
      disk: '/data/node1.qcow2',
      diskSizeBytes: 8 * 1024 ** 3,
      cdrom: '/iso/debian.iso',
      bootDevice: 'cdrom',
      bootMode: 'uefi',
      bootMenuTimeoutMs: 3000,
      kvm: 'off',
      vncPort: 5901,
      vncPassword: ' pa55 w',
      networks: ['eth1', 'eth2', 'net.100'],
      networksWaitMs: 15_000,
    });
  });

  it.each([
    ['c', 'disk'], ['d', 'cdrom'], ['n', 'network'], ['N', 'network'],
  ])('VM_BOOT=%s selects %s', (value, device) => {
    expect(parseQemuConfig({ VM_BOOT: value }).config.bootDevice).toBe(device);
  });

  it.each([
    ['true', 'on'], ['1', 'on'], ['yes', 'on'], ['false', 'off'], ['0', 'off'], ['no', 'off'], ['auto', 'auto'], ['AUTO', 'auto'],
  ])('ENABLE_KVM=%s means %s', (value, kvm) => {
    expect(parseQemuConfig({ ENABLE_KVM: value }).config.kvm).toBe(kvm);
  });

  it.each([
    ['1M', 1024 ** 2], ['512m', 512 * 1024 ** 2], ['20G', 20 * 1024 ** 3], ['2T', 2 * 1024 ** 4], ['64T', 64 * 1024 ** 4], ['1048576', 1024 ** 2],
  ])('VM_DISK_SIZE=%s is %d bytes', (value, bytes) => {
    expect(parseQemuConfig({ VM_DISK_SIZE: value })).toMatchObject({ config: { diskSizeBytes: bytes }, problems: [] });
  });

  it('accepts the range limits', () => {
    const { problems, config } = parseQemuConfig({ VM_MEMORY: '128', VM_CPUS: '255', VM_BOOT_MENU_TIMEOUT: '65535', VNC_PORT: '65535', VM_NETWORKS_WAIT: '3600' });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ memoryMiB: 128, cpus: 255, bootMenuTimeoutMs: 65535, vncPort: 65535, networksWaitMs: 3_600_000 });
    // 0: power-on does not wait; a missing interface is hot-added when it appears.
    expect(parseQemuConfig({ VM_NETWORKS_WAIT: '0' })).toMatchObject({ config: { networksWaitMs: 0 }, problems: [] });
  });

  it('VNC_PASSWORD: 1 to 8 printable ASCII characters; a longer or odd one is refused without being quoted', () => {
    expect(parseQemuConfig({ VNC_PASSWORD: 'x' }).config.vncPassword).toBe('x');
    expect(parseQemuConfig({ VNC_PASSWORD: '12345678' }).config.vncPassword).toBe('12345678');
    const long = parseQemuConfig({ VNC_PASSWORD: '123456789' });
    expect(long.config.vncPassword).toBeUndefined();
    expect(long.problems).toEqual(['VNC_PASSWORD is longer than 8 characters: VNC authentication uses at most 8 (give 1 to 8 printable ASCII characters)']);
    const odd = parseQemuConfig({ VNC_PASSWORD: 'pä\tss' });
    expect(odd.problems).toEqual(['VNC_PASSWORD must be 1 to 8 printable ASCII characters (it contains another character)']);
    expect(JSON.stringify([long.problems, odd.problems])).not.toMatch(/123456789|pä/);
  });

  it('VNC_PORT=none turns VNC off', () => {
    expect(parseQemuConfig({ VNC_PORT: 'none' }).config.vncPort).toBeUndefined();
  });

  it.each([
    ['VM_MEMORY', 'abc', 'VM_MEMORY="abc" must be a number of MiB from 128 to 1048576'],
    ['VM_MEMORY', '127', 'VM_MEMORY="127" must be a number of MiB from 128 to 1048576'],
    ['VM_MEMORY', '2G', 'VM_MEMORY="2G" must be a number of MiB from 128 to 1048576'],
    ['VM_MEMORY', '-1', 'VM_MEMORY="-1" must be a number of MiB from 128 to 1048576'],
    ['VM_CPUS', '0', 'VM_CPUS="0" must be a whole number of vCPUs from 1 to 255'],
    ['VM_CPUS', '1.5', 'VM_CPUS="1.5" must be a whole number of vCPUs from 1 to 255'],
    ['VM_DISK_SIZE', '20X', 'VM_DISK_SIZE="20X" must be a size like 20G (a whole number of bytes with an optional K, M, G or T suffix) from 1M to 64T'],
    ['VM_DISK_SIZE', '20', 'VM_DISK_SIZE="20" must be a size like 20G (a whole number of bytes with an optional K, M, G or T suffix) from 1M to 64T'],
    ['VM_DISK_SIZE', '65T', 'VM_DISK_SIZE="65T" must be a size like 20G (a whole number of bytes with an optional K, M, G or T suffix) from 1M to 64T'],
    ['VM_DISK', '/vm/a\nb', 'VM_DISK must be a file path without control characters'],
    ['VM_BOOT', 'x', 'VM_BOOT="x" must be c (disk), d (CD-ROM) or n (network)'],
    ['VM_BOOT', 'cd', 'VM_BOOT="cd" must be c (disk), d (CD-ROM) or n (network)'],
    ['VM_BOOT_MODE', 'efi', 'VM_BOOT_MODE="efi" must be bios (SeaBIOS) or uefi (OVMF)'],
    ['VM_BOOT_MENU_TIMEOUT', '65536', 'VM_BOOT_MENU_TIMEOUT="65536" must be a whole number of milliseconds (0 = no boot menu) from 0 to 65535'],
    ['ENABLE_KVM', 'maybe', 'ENABLE_KVM="maybe" must be true, false or auto (use /dev/kvm when present)'],
    ['VNC_PORT', '80', 'VNC_PORT="80" must be a TCP port from 5900 to 65535 (QEMU serves VNC display N on 5900+N), or none'],
    ['VNC_PORT', '70000', 'VNC_PORT="70000" must be a TCP port from 5900 to 65535 (QEMU serves VNC display N on 5900+N), or none'],
    ['VM_NETWORKS', 'eth1,eth 2', 'VM_NETWORKS: "eth 2" is not an interface name (1 to 15 characters, no spaces, slashes or colons)'],
    ['VM_NETWORKS', 'a-very-long-interface', 'VM_NETWORKS: "a-very-long-interface" is not an interface name (1 to 15 characters, no spaces, slashes or colons)'],
    ['VM_NETWORKS', 'eth0/1', 'VM_NETWORKS: "eth0/1" is not an interface name (1 to 15 characters, no spaces, slashes or colons)'],
    ['VM_NETWORKS', 'eth1,eth1', 'VM_NETWORKS: "eth1" is listed twice'],
    ['VM_NETWORKS_WAIT', '1m', 'VM_NETWORKS_WAIT="1m" must be a whole number of seconds (how long power-on waits for a missing VM_NETWORKS interface) from 0 to 3600'],
    ['VM_NETWORKS_WAIT', '3601', 'VM_NETWORKS_WAIT="3601" must be a whole number of seconds (how long power-on waits for a missing VM_NETWORKS interface) from 0 to 3600'],
  ])('%s=%j is reported: %s', (name, value, message) => {
    const { problems, config } = parseQemuConfig({ [name]: value });
    expect(problems).toEqual([message]);
    // The rest of the configuration stays usable with defaults.
    expect(config.memoryMiB).toBe(name === 'VM_MEMORY' ? 2048 : QEMU_CONFIG_DEFAULTS.memoryMiB);
  });

  it('collects every problem at once and falls back to defaults for the bad ones', () => {
    const { problems, config } = parseQemuConfig({ VM_MEMORY: 'lots', VM_CPUS: '999', VM_BOOT: 'z', VM_BOOT_MODE: 'legacy', VNC_PORT: '1', VM_DISK: '/ok.qcow2' });
    expect(problems).toHaveLength(5);
    expect(problems.map((p) => p.split(/[=:]/)[0])).toEqual(['VM_MEMORY', 'VM_CPUS', 'VM_BOOT', 'VM_BOOT_MODE', 'VNC_PORT']);
    expect(config).toEqual({ ...QEMU_CONFIG_DEFAULTS, disk: '/ok.qcow2' });
  });

  it('keeps the valid interfaces of a partly bad VM_NETWORKS', () => {
    expect(parseQemuConfig({ VM_NETWORKS: 'eth1,bad name,eth2' }).config.networks).toEqual(['eth1', 'eth2']);
  });
});
