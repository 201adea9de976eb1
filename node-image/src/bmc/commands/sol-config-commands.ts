/**
 * Set / Get SOL Configuration Parameters (NetFn Transport 0x0C, cmd 0x21 / 0x22):
 * IPMI v2.0 sections 26.2–26.3 (parameters: table 26-5, see sol/sol-config.ts); reference 7.17.
 *
 * Get request (4):  0 bit 7 get parameter revision only, bits 6:4 reserved, bits 3:0 channel
 *                   1 parameter selector | 2 set selector | 3 block selector (both unused, ignored)
 * Get response:     0 parameter revision (0x11) | 1… parameter data (absent for "revision only")
 * Set request (2+): 0 bits 7:4 reserved, bits 3:0 channel | 1 parameter selector | 2… parameter data
 * Set response:     completion code only
 *
 * Command-specific completion codes: 0x80 parameter not supported, 0x81 "set in progress" while not
 * "set complete", 0x82 write to a read-only parameter.
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, TransportCmd } from '../../protocol/netfn';
import { SolConfig, SolParameterWriteError } from '../../sol/sol-config';
import { CommandDefinition, CommandResult, fail, isThisChannel, ok } from './command-types';

/** Present revision 1, oldest compatible revision 1 (what every client expects: 0x11). */
export const SOL_PARAMETER_REVISION = 0x11;

export const SolConfigCompletionCode = {
  ParameterNotSupported: 0x80,
  SetInProgressNotComplete: 0x81,
  WriteToReadOnlyParameter: 0x82,
} as const;

const GET_REQUEST_LENGTH = 4;
const SET_REQUEST_MIN_LENGTH = 2;
const GET_PARAMETER_REVISION_ONLY = 0x80;
const GET_RESERVED_MASK = 0x70;
const SET_RESERVED_MASK = 0xf0;
const CHANNEL_MASK = 0x0f;
/** Channel number meaning "the channel this request arrived on" (spec table 6-2). */

export interface SolConfigCommandDeps {
  readonly config: SolConfig;
}

const WRITE_ERROR_CODES: Readonly<Record<SolParameterWriteError, number>> = {
  'unsupported': SolConfigCompletionCode.ParameterNotSupported,
  'read-only': SolConfigCompletionCode.WriteToReadOnlyParameter,
  'length': CompletionCode.RequestDataLengthInvalid,
  'invalid': CompletionCode.InvalidDataField,
  'set-in-progress': SolConfigCompletionCode.SetInProgressNotComplete,
};

export function solConfigCommands({ config }: SolConfigCommandDeps): CommandDefinition[] {
  const channelValid = (channel: number): boolean => isThisChannel(channel, config.payloadChannel);

  const getSolConfigurationParameters = (data: Buffer, now: number): CommandResult => {
    if (data.length !== GET_REQUEST_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    const b0 = data[0]!;
    const parameter = data[1]!;
    if ((b0 & GET_RESERVED_MASK) !== 0 || !channelValid(b0 & CHANNEL_MASK)) return fail(CompletionCode.InvalidDataField);
    if ((b0 & GET_PARAMETER_REVISION_ONLY) !== 0) return ok(Buffer.from([SOL_PARAMETER_REVISION]));
    const result = config.readParameter(parameter, now);
    if (!result.ok) return fail(SolConfigCompletionCode.ParameterNotSupported);
    return ok(Buffer.concat([Buffer.from([SOL_PARAMETER_REVISION]), result.data]));
  };

  const setSolConfigurationParameters = (data: Buffer, now: number): CommandResult => {
    if (data.length < SET_REQUEST_MIN_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    const b0 = data[0]!;
    const parameter = data[1]!;
    if ((b0 & SET_RESERVED_MASK) !== 0 || !channelValid(b0 & CHANNEL_MASK)) return fail(CompletionCode.InvalidDataField);
    const result = config.writeParameter(parameter, data.subarray(SET_REQUEST_MIN_LENGTH), now);
    return result.ok ? ok() : fail(WRITE_ERROR_CODES[result.error]);
  };

  return [
    {
      netFn: NetFn.Transport,
      cmd: TransportCmd.GetSolConfigParameters,
      name: 'Get SOL Configuration Parameters',
      privilege: Privilege.User,
      handler: (data, ctx) => getSolConfigurationParameters(data, ctx.now),
    },
    {
      netFn: NetFn.Transport,
      cmd: TransportCmd.SetSolConfigParameters,
      name: 'Set SOL Configuration Parameters',
      privilege: Privilege.Administrator,
      handler: (data, ctx) => setSolConfigurationParameters(data, ctx.now),
    },
  ];
}
