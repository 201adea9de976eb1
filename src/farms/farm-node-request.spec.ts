import { farmRefusedFields } from './farm-node-request';

describe('farmRefusedFields', () => {
  it('accepts a plain sim node and empty lists', () => {
    expect(farmRefusedFields({})).toEqual([]);
    expect(farmRefusedFields({ networks: [], labInterfaces: [] })).toEqual([]);
  });

  it('names every field a farm BMC cannot honour, with the way out', () => {
    const refused = farmRefusedFields({ networks: ['lab-a'], labInterfaces: ['eth3'], cdrom: 'x.iso' });
    expect(refused.map((text) => text.split(':')[0])).toEqual(['networks must be empty', 'labInterfaces must be empty', 'cdrom must not be set']);
    for (const text of refused) expect(text).toContain('SIM_PLACEMENT=container');
  });
});
