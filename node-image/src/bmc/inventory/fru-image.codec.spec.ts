import { ProtocolError } from '../../protocol/errors';
import { checksumValid } from '../../protocol/wire/checksum';
import { buildFruImage, CHASSIS_TYPE_RACK_MOUNT, decodeFruImage, encodeFruField, type FruIdentity } from './fru-image.codec';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * ipmi_sim's FRU 0 from ipmi-captures.md Vector 5 (`-C 3 fru print`), reassembled from the Read FRU
 * Data chunks: common header, chassis (32 bytes), board (56), product (64). ipmi_sim pads the device
 * to 256 bytes; the first 160 are the image.
 */
const SIM_FRU = hex(
  '01 00 01 05 0c 00 00 ed'
  + '01 04 17 c9 43 48 2d 50 4e 2d 30 30 31 c9 43 48 2d 53 4e 2d 30 30 31 c1 00 00 00 00 00 00 00 66'
  + '01 07 00 00 00 00 cb 45 78 61 6d 70 6c 65 43 6f 72 70 c8 54 53 2d 42 6f 61 72 64 cb 42 52 44 2d'
  + '53 4e 2d 30 30 30 31 c9 42 52 44 2d 50 4e 2d 30 31 c0 c1 00 00 00 00 6f'
  + '01 08 00 cb 45 78 61 6d 70 6c 65 43 6f 72 70 c9 54 53 2d 53 65 72 76 65 72 c5 54 53 53 2d 31 c3'
  + '31 2e 30 cb 53 52 56 2d 53 4e 2d 30 30 30 31 c7 41 53 53 45 54 2d 31 c0 c1 00 00 00 00 00 00 a1',
);

const SIM_IDENTITY: FruIdentity = {
  manufacturer: 'ExampleCorp',
  productName: 'TS-Server',
  partNumber: 'TSS-1',
  serialNumber: 'SRV-SN-0001',
  assetTag: 'ASSET-1',
  productVersion: '1.0',
  boardProduct: 'TS-Board',
  boardSerial: 'BRD-SN-0001',
  boardPartNumber: 'BRD-PN-01',
  chassisPartNumber: 'CH-PN-001',
  chassisSerial: 'CH-SN-001',
};

const NODE_IDENTITY: FruIdentity = {
  manufacturer: 'bmcfleet',
  productName: 'Simulated Server',
  partNumber: 'BF-QEMU-1',
  serialNumber: 'BF-node-07',
};

describe('buildFruImage', () => {
  it('reproduces ipmi_sim\'s FRU image byte for byte from the same identity', () => {
    expect(buildFruImage(SIM_IDENTITY).toString('hex')).toBe(SIM_FRU.toString('hex'));
  });

  it('has a valid common header and area checksums, areas in 8-byte multiples', () => {
    const image = buildFruImage(NODE_IDENTITY);
    expect(image.length % 8).toBe(0);
    expect(checksumValid(image, 0, 8)).toBe(true);
    for (const i of [2, 3, 4]) {
      const offset = image[i]! * 8;
      const length = image[offset + 1]! * 8;
      expect(offset).toBeGreaterThanOrEqual(8);
      expect(checksumValid(image, offset, offset + length)).toBe(true);
    }
  });

  it('fills the areas as ipmitool prints them, with defaults for what the identity leaves out', () => {
    const d = decodeFruImage(buildFruImage(NODE_IDENTITY));
    expect(d.chassis).toMatchObject({ typeOrLanguage: CHASSIS_TYPE_RACK_MOUNT, fields: ['BF-QEMU-1', 'BF-node-07'] });
    expect(d.board).toMatchObject({ typeOrLanguage: 0, mfgDateMinutes: 0, fields: ['bmcfleet', 'Simulated Server', 'BF-node-07', 'BF-QEMU-1', ''] });
    expect(d.product).toMatchObject({ fields: ['bmcfleet', 'Simulated Server', 'BF-QEMU-1', '1.0', 'BF-node-07', '', ''] });
  });

  it('uses boardSerial and assetTag when given', () => {
    const d = decodeFruImage(buildFruImage({ ...NODE_IDENTITY, boardSerial: 'MB-123', assetTag: 'rack4-u12' }));
    expect(d.board?.fields[2]).toBe('MB-123');
    expect(d.product?.fields[5]).toBe('rack4-u12');
  });
});

describe('encodeFruField', () => {
  it('never produces the C1h end marker for a one-character value', () => {
    expect(encodeFruField('A')).toEqual(Buffer.from([0xc2, 0x41, 0x20]));
    expect(encodeFruField('')).toEqual(Buffer.from([0xc0]));
  });

  it('caps fields at 63 bytes and replaces characters outside Latin-1', () => {
    const f = encodeFruField('x'.repeat(100));
    expect(f[0]).toBe(0xc0 | 63);
    expect(f.length).toBe(64);
    expect(encodeFruField('a\u2603b').subarray(1).toString('latin1')).toBe('a?b');
  });
});

describe('decodeFruImage', () => {
  it('rejects a bad common header checksum and a bad area checksum', () => {
    const image = buildFruImage(NODE_IDENTITY);
    const badHeader = Buffer.from(image);
    badHeader[7] = (badHeader[7]! + 1) & 0xff;
    expect(() => decodeFruImage(badHeader)).toThrow(ProtocolError);
    const badArea = Buffer.from(image);
    const board = badArea[3]! * 8;
    badArea[board + 8] = badArea[board + 8]! ^ 0x01;
    expect(() => decodeFruImage(badArea)).toThrow(ProtocolError);
  });
});
