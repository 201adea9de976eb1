import { bootFlagsRequest } from './node-bmc';

describe('bootFlagsRequest', () => {
  it('encodes what ipmitool chassis bootdev sends', () => {
    // ipmitool chassis bootdev pxe → 05 80 04 00 00 00
    expect(bootFlagsRequest({ device: 'pxe', persistent: false, efi: false })).toEqual(Buffer.from([0x05, 0x80, 0x04, 0, 0, 0]));
    // bootdev disk options=persistent,efiboot → 05 e0 08 00 00 00
    expect(bootFlagsRequest({ device: 'disk', persistent: true, efi: true })).toEqual(Buffer.from([0x05, 0xe0, 0x08, 0, 0, 0]));
    expect(bootFlagsRequest({ device: 'cdrom', persistent: false, efi: true })).toEqual(Buffer.from([0x05, 0xa0, 0x14, 0, 0, 0]));
    expect(bootFlagsRequest({ device: 'bios', persistent: false, efi: false })).toEqual(Buffer.from([0x05, 0x80, 0x18, 0, 0, 0]));
    expect(bootFlagsRequest({ device: 'none', persistent: false, efi: false })).toEqual(Buffer.from([0x05, 0x80, 0x00, 0, 0, 0]));
  });
});
