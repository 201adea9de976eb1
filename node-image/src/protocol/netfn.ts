/** Network functions and command numbers (spec appendix G; reference Appendix A). */

export const NetFn = {
  Chassis: 0x00,
  SensorEvent: 0x04,
  App: 0x06,
  Storage: 0x0a,
  Transport: 0x0c,
  GroupExtension: 0x2c,
  Oem: 0x2e,
} as const;

export const AppCmd = {
  GetDeviceId: 0x01,
  ColdReset: 0x02,
  WarmReset: 0x03,
  GetSelfTestResults: 0x04,
  GetDeviceGuid: 0x08,
  ResetWatchdogTimer: 0x22,
  GetWatchdogTimer: 0x25,
  GetSystemGuid: 0x37,
  GetChannelAuthCapabilities: 0x38,
  GetSessionChallenge: 0x39,
  ActivateSession: 0x3a,
  SetSessionPrivilegeLevel: 0x3b,
  CloseSession: 0x3c,
  GetSessionInfo: 0x3d,
  GetAuthCode: 0x3f,
  SetChannelAccess: 0x40,
  GetChannelAccess: 0x41,
  GetChannelInfo: 0x42,
  SetUserAccess: 0x43,
  GetUserAccess: 0x44,
  SetUserName: 0x45,
  GetUserName: 0x46,
  SetUserPassword: 0x47,
  ActivatePayload: 0x48,
  DeactivatePayload: 0x49,
  GetPayloadActivationStatus: 0x4a,
  GetPayloadInstanceInfo: 0x4b,
  SetUserPayloadAccess: 0x4c,
  GetUserPayloadAccess: 0x4d,
  GetChannelPayloadSupport: 0x4e,
  GetChannelPayloadVersion: 0x4f,
  GetChannelCipherSuites: 0x54,
  GetSystemInfoParameters: 0x59,
} as const;

export const ChassisCmd = {
  GetChassisCapabilities: 0x00,
  GetChassisStatus: 0x01,
  ChassisControl: 0x02,
  ChassisReset: 0x03,
  ChassisIdentify: 0x04,
  SetPowerRestorePolicy: 0x06,
  GetSystemRestartCause: 0x07,
  SetSystemBootOptions: 0x08,
  GetSystemBootOptions: 0x09,
  GetPohCounter: 0x0f,
} as const;

export const SensorCmd = {
  GetDeviceSdrInfo: 0x20,
  GetDeviceSdr: 0x21,
  ReserveDeviceSdrRepository: 0x22,
  GetSensorThresholds: 0x27,
  GetSensorEventEnable: 0x29,
  GetSensorReading: 0x2d,
} as const;

export const StorageCmd = {
  GetFruInventoryAreaInfo: 0x10,
  ReadFruData: 0x11,
  WriteFruData: 0x12,
  GetSdrRepositoryInfo: 0x20,
  GetSdrRepositoryAllocationInfo: 0x21,
  ReserveSdrRepository: 0x22,
  GetSdr: 0x23,
  ClearSdrRepository: 0x27,
  GetSelInfo: 0x40,
  GetSelAllocationInfo: 0x41,
  ReserveSel: 0x42,
  GetSelEntry: 0x43,
  AddSelEntry: 0x44,
  DeleteSelEntry: 0x46,
  ClearSel: 0x47,
  GetSelTime: 0x48,
  SetSelTime: 0x49,
} as const;

export const TransportCmd = {
  SetLanConfigParameters: 0x01,
  GetLanConfigParameters: 0x02,
  SolActivating: 0x20,
  SetSolConfigParameters: 0x21,
  GetSolConfigParameters: 0x22,
} as const;

/** Payload types of the RMCP+ session header (spec table 13-16). */
export const PayloadType = {
  Ipmi: 0x00,
  Sol: 0x01,
  OemExplicit: 0x02,
  OpenSessionRequest: 0x10,
  OpenSessionResponse: 0x11,
  Rakp1: 0x12,
  Rakp2: 0x13,
  Rakp3: 0x14,
  Rakp4: 0x15,
} as const;
