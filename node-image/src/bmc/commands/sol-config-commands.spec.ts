import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, TransportCmd } from '../../protocol/netfn';
import { SolConfig } from '../../sol/sol-config';
import { MemoryStateStore } from '../../state/state-store';
import { CommandContext, CommandDefinition, CommandResult } from './command-types';
import { SOL_PARAMETER_REVISION, SolConfigCompletionCode, solConfigCommands } from './sol-config-commands';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const ctx = (now = 0): CommandContext => ({
  now,
  session: { id: 1, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 40000 },
});

describe('solConfigCommands', () => {
  let config: SolConfig;
  let get: CommandDefinition;
  let set: CommandDefinition;

  const call = async (def: CommandDefinition, data: string, now = 0): Promise<{ cc: number; data: string }> => {
    const r: CommandResult = await def.handler(hex(data), ctx(now));
    return { cc: r.cc, data: (r.data ?? Buffer.alloc(0)).toString('hex') };
  };

  beforeEach(() => {
    config = new SolConfig({ store: new MemoryStateStore(), payloadPort: () => 9625 });
    const defs = solConfigCommands({ config });
    const find = (cmd: number): CommandDefinition => {
      const d = defs.find((x) => x.netFn === NetFn.Transport && x.cmd === cmd);
      if (!d) throw new Error(`cmd ${cmd} missing`);
      return d;
    };
    get = find(TransportCmd.GetSolConfigParameters);
    set = find(TransportCmd.SetSolConfigParameters);
    expect(defs).toHaveLength(2);
  });

  it('registers Get with User and Set with Administrator privilege', () => {
    expect(get).toMatchObject({ netFn: 0x0c, cmd: 0x22, privilege: Privilege.User, name: 'Get SOL Configuration Parameters' });
    expect(set).toMatchObject({ netFn: 0x0c, cmd: 0x21, privilege: Privilege.Administrator, name: 'Set SOL Configuration Parameters' });
    expect(get.sessionless).toBeFalsy();
    expect(set.sessionless).toBeFalsy();
  });

  // Vector 5, `sol info 1` (mini): the complete request/response sequence.
  it.each([
    ['01 00 00 00', '1100'],
    ['01 01 00 00', '1101'],
    ['01 02 00 00', '1102'],
    ['01 03 00 00', '110160'],
    ['01 04 00 00', '110732'],
    ['01 05 00 00', '110a'],
    ['01 06 00 00', '110a'],
    ['01 07 00 00', '1101'],
    ['01 08 00 00', '119925'],
  ])('replays `sol info 1`: %s -> 00 | %s', async (req, rsp) => {
    await expect(call(get, req)).resolves.toEqual({ cc: 0, data: rsp });
  });

  it('answers the current channel 0x0E (ipmitool `sol info` without a channel)', async () => {
    await expect(call(get, '0e 01 00 00')).resolves.toEqual({ cc: 0, data: '1101' });
  });

  it('returns only the revision when asked for it', async () => {
    await expect(call(get, '81 03 00 00')).resolves.toEqual({ cc: 0, data: SOL_PARAMETER_REVISION.toString(16) });
  });

  it.each([['01 09 00 00'], ['01 c0 00 00'], ['01 ff 00 00']])('answers 0x80 for unsupported parameter %s', async (req) => {
    await expect(call(get, req)).resolves.toEqual({ cc: SolConfigCompletionCode.ParameterNotSupported, data: '' });
  });

  it.each([[''], ['01'], ['01 00 00'], ['01 00 00 00 00']])('Get answers 0xC7 for request %p of the wrong length', async (req) => {
    await expect(call(get, req)).resolves.toEqual({ cc: CompletionCode.RequestDataLengthInvalid, data: '' });
  });

  it.each([['02 01 00 00'], ['00 01 00 00'], ['11 01 00 00']])('Get answers 0xCC for a wrong channel or reserved bits: %s', async (req) => {
    await expect(call(get, req)).resolves.toEqual({ cc: CompletionCode.InvalidDataField, data: '' });
  });

  it('Set writes a parameter that Get then returns', async () => {
    await expect(call(set, '01 04 03 64')).resolves.toEqual({ cc: 0, data: '' });
    await expect(call(get, '01 04 00 00')).resolves.toEqual({ cc: 0, data: '110364' });
  });

  it('Set follows the ipmitool guarded sequence and answers 0x81 to a second claim', async () => {
    await expect(call(set, '0e 00 01', 10)).resolves.toEqual({ cc: 0, data: '' });
    await expect(call(get, '0e 00 00 00', 11)).resolves.toEqual({ cc: 0, data: '1101' });
    await expect(call(set, '0e 00 01', 12)).resolves.toEqual({ cc: SolConfigCompletionCode.SetInProgressNotComplete, data: '' });
    await expect(call(set, '0e 01 00', 13)).resolves.toEqual({ cc: 0, data: '' });
    await expect(call(set, '0e 00 02', 14)).resolves.toEqual({ cc: 0, data: '' });
    await expect(call(set, '0e 00 00', 15)).resolves.toEqual({ cc: 0, data: '' });
    await expect(call(get, '0e 00 00 00', 16)).resolves.toEqual({ cc: 0, data: '1100' });
    await expect(call(get, '0e 01 00 00', 17)).resolves.toEqual({ cc: 0, data: '1100' });
  });

  it.each([
    ['payload port', '01 08 6f 02'],
    ['payload channel', '01 07 01'],
  ])('Set answers 0x82 for the read-only %s', async (_name, req) => {
    await expect(call(set, req)).resolves.toEqual({ cc: SolConfigCompletionCode.WriteToReadOnlyParameter, data: '' });
    await expect(call(get, '01 08 00 00')).resolves.toEqual({ cc: 0, data: '119925' });
  });

  it.each([
    ['an unsupported parameter', '01 09 00', SolConfigCompletionCode.ParameterNotSupported],
    ['no parameter selector', '01', CompletionCode.RequestDataLengthInvalid],
    ['empty data', '', CompletionCode.RequestDataLengthInvalid],
    ['a short retry parameter', '01 04 07', CompletionCode.RequestDataLengthInvalid],
    ['a long enable parameter', '01 01 01 00', CompletionCode.RequestDataLengthInvalid],
    ['a missing set-in-progress value', '01 00', CompletionCode.RequestDataLengthInvalid],
    ['an invalid bit rate', '01 05 0b', CompletionCode.InvalidDataField],
    ['a retry count above 7', '01 04 08 32', CompletionCode.InvalidDataField],
    ['accumulate interval 0', '01 03 00 60', CompletionCode.InvalidDataField],
    ['privilege 0', '01 02 80', CompletionCode.InvalidDataField],
    ['reserved set-in-progress value', '01 00 03', CompletionCode.InvalidDataField],
    ['a wrong channel', '05 01 01', CompletionCode.InvalidDataField],
    ['reserved channel bits', '21 01 01', CompletionCode.InvalidDataField],
  ])('Set refuses %s', async (_name, req, cc) => {
    await expect(call(set, req)).resolves.toEqual({ cc, data: '' });
  });

  it('a refused Set leaves the parameter unchanged', async () => {
    await call(set, '01 05 0b');
    await expect(call(get, '01 05 00 00')).resolves.toEqual({ cc: 0, data: '110a' });
  });
});
