import { buildFruImage } from './fru-image.codec';
import { FruInventory } from './fru-inventory';

const identity = { manufacturer: 'bmcfleet', productName: 'Simulated Server', partNumber: 'BF-1', serialNumber: 'BF-n1' };

describe('FruInventory', () => {
  it('serves FRU 0 only', () => {
    const sut = new FruInventory(identity);
    expect(sut.areaSize(0)).toBe(buildFruImage(identity).length);
    expect(sut.areaSize(1)).toBeUndefined();
    expect(sut.areaSize(0xff)).toBeUndefined();
    expect(sut.read(1, 0, 8)).toEqual({ ok: false, error: 'not-present' });
  });

  it('reads ranges and shortens a read that runs past the end', () => {
    const sut = new FruInventory(identity);
    const image = buildFruImage(identity);
    expect(sut.read(0, 0, 8)).toEqual({ ok: true, data: image.subarray(0, 8) });
    expect(sut.read(0, image.length - 3, 32)).toEqual({ ok: true, data: image.subarray(image.length - 3) });
  });

  it('refuses offsets at or past the end and a zero count', () => {
    const sut = new FruInventory(identity);
    const size = sut.areaSize(0)!;
    expect(sut.read(0, size, 1)).toEqual({ ok: false, error: 'offset' });
    expect(sut.read(0, 0xffff, 1)).toEqual({ ok: false, error: 'offset' });
    expect(sut.read(0, 0, 0)).toEqual({ ok: false, error: 'count' });
  });

  it('hands out copies', () => {
    const sut = new FruInventory(identity);
    const r = sut.read(0, 0, 8);
    if (!r.ok) throw new Error(r.error);
    r.data[0] = 0x99;
    sut.bytes()[0] = 0x99;
    expect(sut.bytes()[0]).toBe(0x01);
  });
});
