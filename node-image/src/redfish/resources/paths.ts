/** The resource URIs this service serves (one system, one manager, one chassis). */
export const ROOT = '/redfish/v1';
export const SYSTEM_ID = '1';
export const MANAGER_ID = '1';
export const CHASSIS_ID = '1';

export const P = {
  systems: `${ROOT}/Systems`,
  system: `${ROOT}/Systems/${SYSTEM_ID}`,
  reset: `${ROOT}/Systems/${SYSTEM_ID}/Actions/ComputerSystem.Reset`,
  managers: `${ROOT}/Managers`,
  manager: `${ROOT}/Managers/${MANAGER_ID}`,
  logServices: `${ROOT}/Managers/${MANAGER_ID}/LogServices`,
  sel: `${ROOT}/Managers/${MANAGER_ID}/LogServices/SEL`,
  selEntries: `${ROOT}/Managers/${MANAGER_ID}/LogServices/SEL/Entries`,
  clearSel: `${ROOT}/Managers/${MANAGER_ID}/LogServices/SEL/Actions/LogService.ClearLog`,
  chassisCollection: `${ROOT}/Chassis`,
  chassis: `${ROOT}/Chassis/${CHASSIS_ID}`,
  sessionService: `${ROOT}/SessionService`,
  sessions: `${ROOT}/SessionService/Sessions`,
  accountService: `${ROOT}/AccountService`,
  accounts: `${ROOT}/AccountService/Accounts`,
  roles: `${ROOT}/AccountService/Roles`,
  managerVirtualMedia: `${ROOT}/Managers/${MANAGER_ID}/VirtualMedia`,
  systemVirtualMedia: `${ROOT}/Systems/${SYSTEM_ID}/VirtualMedia`,
  ethernetInterfaces: `${ROOT}/Systems/${SYSTEM_ID}/EthernetInterfaces`,
  processors: `${ROOT}/Systems/${SYSTEM_ID}/Processors`,
  memory: `${ROOT}/Systems/${SYSTEM_ID}/Memory`,
  storage: `${ROOT}/Systems/${SYSTEM_ID}/Storage`,
  simpleStorage: `${ROOT}/Systems/${SYSTEM_ID}/SimpleStorage`,
  bios: `${ROOT}/Systems/${SYSTEM_ID}/Bios`,
  biosSettings: `${ROOT}/Systems/${SYSTEM_ID}/Bios/Settings`,
  resetBios: `${ROOT}/Systems/${SYSTEM_ID}/Bios/Actions/Bios.ResetBios`,
  secureBoot: `${ROOT}/Systems/${SYSTEM_ID}/SecureBoot`,
  thermal: `${ROOT}/Chassis/${CHASSIS_ID}/Thermal`,
  power: `${ROOT}/Chassis/${CHASSIS_ID}/Power`,
  networkProtocol: `${ROOT}/Managers/${MANAGER_ID}/NetworkProtocol`,
} as const;

/** The schema version of each resource type served (DMTF Redfish-Publications 2025.4). */
export const SCHEMA = {
  ServiceRoot: 'ServiceRoot.v1_20_0',
  ComputerSystem: 'ComputerSystem.v1_27_0',
  Manager: 'Manager.v1_24_0',
  Chassis: 'Chassis.v1_28_0',
  SessionService: 'SessionService.v1_2_0',
  Session: 'Session.v1_8_0',
  AccountService: 'AccountService.v1_18_1',
  ManagerAccount: 'ManagerAccount.v1_14_1',
  Role: 'Role.v1_3_3',
  LogService: 'LogService.v1_9_0',
  LogEntry: 'LogEntry.v1_21_0',
  VirtualMedia: 'VirtualMedia.v1_6_5',
  EthernetInterface: 'EthernetInterface.v1_12_4',
  Processor: 'Processor.v1_22_0',
  Memory: 'Memory.v1_23_0',
  Storage: 'Storage.v1_21_0',
  Drive: 'Drive.v1_22_0',
  SimpleStorage: 'SimpleStorage.v1_3_2',
  Bios: 'Bios.v1_2_3',
  SecureBoot: 'SecureBoot.v1_1_2',
  Thermal: 'Thermal.v1_7_3',
  Power: 'Power.v1_7_3',
  ManagerNetworkProtocol: 'ManagerNetworkProtocol.v1_12_0',
} as const;

export const typeOf = (versioned: string): string => `#${versioned}.${versioned.split('.')[0]}`;
