import { QemuMedia, USB_STICK_ID } from './qemu-media';

function recorder(failOn?: string) {
  const calls: Array<[string, Record<string, unknown> | undefined]> = [];
  const qmp = async (command: string, args?: Record<string, unknown>): Promise<unknown> => {
    calls.push([command, args]);
    if (command === failOn) throw new Error(`QMP ${command} failed: Could not open 'http://h/x.iso'`);
    return {};
  };
  return { calls, qmp };
}

const URL1 = 'http://h/x.iso';

describe('QemuMedia', () => {
  it('inserts a URL into the CD drive as a read-only curl node, without copying it', async () => {
    const { calls, qmp } = recorder();
    const media = new QemuMedia(qmp, undefined, async () => {}, () => undefined);
    await media.set('cd', { url: URL1 });
    expect(calls.map(([c]) => c)).toEqual(['blockdev-add', 'blockdev-open-tray', 'blockdev-remove-medium', 'blockdev-insert-medium', 'blockdev-close-tray']);
    expect(calls[0]![1]).toEqual({
      'driver': 'raw', 'node-name': 'vmedia-cd-1', 'read-only': true,
      'file': { 'driver': 'http', 'node-name': 'vmedia-cd-1-file', 'url': URL1, 'read-only': true, 'timeout': 20 },
    });
    expect(calls[1]![1]).toEqual({ id: 'cd0', force: true });
    expect(calls[3]![1]).toEqual({ 'id': 'cd0', 'node-name': 'vmedia-cd-1' });
    expect(media.urlIn('cd')).toBe(URL1);
    // The same URL again: nothing to do.
    await media.set('cd', { url: URL1 });
    expect(calls).toHaveLength(5);
  });

  it('https checks the image server certificate (system CA store) only when the medium asks', async () => {
    const { calls, qmp } = recorder();
    const media = new QemuMedia(qmp, undefined, async () => {}, () => undefined);
    await media.set('usb', { url: 'https://h/stick.img', verifyTls: true });
    expect(calls[0]![1]!.file).toMatchObject({ driver: 'https', url: 'https://h/stick.img', sslverify: true });
  });

  it('https does not check the image server certificate; eject puts VM_CDROM back', async () => {
    const { calls, qmp } = recorder();
    const media = new QemuMedia(qmp, '/iso/own.iso', async () => {}, () => undefined);
    await media.set('cd', { url: 'https://h/x.iso' });
    expect((calls[0]![1]!.file as Record<string, unknown>).sslverify).toBe(false);
    calls.length = 0;
    await media.set('cd', undefined);
    expect(calls.map(([c, a]) => [c, a?.['node-name'] ?? a?.['id']])).toEqual([
      ['blockdev-add', 'vmedia-cd-2'], ['blockdev-open-tray', 'cd0'], ['blockdev-remove-medium', 'cd0'],
      ['blockdev-del', 'vmedia-cd-1'], ['blockdev-insert-medium', 'vmedia-cd-2'], ['blockdev-close-tray', 'cd0'],
    ]);
    expect((calls[0]![1]!.file as Record<string, unknown>)).toEqual({ driver: 'file', filename: '/iso/own.iso', 'read-only': true });
    expect(media.urlIn('cd')).toBeUndefined();
    // The next insert removes VM_CDROM's node too: nothing is left behind in QEMU.
    calls.length = 0;
    await media.set('cd', { url: URL1 });
    expect(calls.filter(([c]) => c === 'blockdev-del').map(([, a]) => a?.['node-name'])).toEqual(['vmedia-cd-2']);
  });

  it('a URL QEMU cannot open leaves the drive untouched and the error goes to the caller', async () => {
    const { calls, qmp } = recorder('blockdev-add');
    const media = new QemuMedia(qmp, undefined, async () => {}, () => undefined);
    await expect(media.set('cd', { url: URL1 })).rejects.toThrow(/Could not open/);
    expect(calls.map(([c]) => c)).toEqual(['blockdev-add']);
    expect(media.urlIn('cd')).toBeUndefined();
  });

  it('plugs the USB stick with device_add and unplugs it once QEMU reports DEVICE_DELETED', async () => {
    const { calls, qmp } = recorder();
    const waited: string[] = [];
    const media = new QemuMedia(qmp, undefined, async (id) => { waited.push(id); }, (id) => (id === USB_STICK_ID ? 2 : undefined));
    await media.set('usb', { url: URL1 });
    await media.set('usb', undefined);
    expect(calls.map(([c]) => c)).toEqual(['blockdev-add', 'device_add', 'device_del', 'blockdev-del']);
    // With its place in the boot order, so a boot override to the stick boots it.
    expect(calls[1]![1]).toEqual({ driver: 'usb-storage', id: USB_STICK_ID, drive: 'vmedia-usb-1', bus: 'usb.0', removable: true, bootindex: 2 });
    expect(waited).toEqual([USB_STICK_ID]);
  });

  it('a refused device_add removes the node it added', async () => {
    const { calls, qmp } = recorder('device_add');
    const media = new QemuMedia(qmp, undefined, async () => {}, () => undefined);
    await expect(media.set('usb', { url: URL1 })).rejects.toThrow(/device_add/);
    expect(calls.map(([c]) => c)).toEqual(['blockdev-add', 'device_add', 'blockdev-del']);
    expect(media.urlIn('usb')).toBeUndefined();
  });
});
