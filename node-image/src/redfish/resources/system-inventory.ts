/**
 * What the system is built of, as the VM is configured (VM_CPUS, VM_MEMORY, VM_DISK_SIZE,
 * VM_NETWORKS): EthernetInterfaces (EthernetInterface v1_12_4), Processors (Processor v1_22_0),
 * Memory (Memory v1_23_0), Storage with its Drives (Storage v1_21_0, Drive v1_22_0) and
 * SimpleStorage (SimpleStorage v1_3_2). Read-only.
 *
 * - One NIC per VM_NETWORKS entry, with the MAC the VM's virtio NIC has (a hash of node name and
 *   interface, so DHCP/PXE and Ironic inspection see one machine). LinkStatus is LinkUp while the
 *   system is powered on (the VM's NIC exists only then), LinkDown otherwise.
 * - One processor socket with VM_CPUS cores (QEMU's -smp N topology), one DIMM of VM_MEMORY MiB.
 * - One storage subsystem: the system disk (virtio) and the CD/DVD drive (SATA, virtual media).
 */
import type { BmcCore, MachineNic } from '../../core/bmc-core';
import type { JsonObject } from '../http-types';
import { notFound } from '../errors';
import { collection, idRef, resourceResponse, type Operation, type Route } from '../router';
import { P, SCHEMA, typeOf } from './paths';

const OK = { State: 'Enabled', Health: 'OK' } as const;
export const DISK_ID = 'Disk0';
export const CD_ID = 'CD0';
const STORAGE_ID = '1';

const nics = (core: BmcCore): readonly MachineNic[] => core.hardware.nics ?? [];

async function ethernetInterface(core: BmcCore, nic: MachineNic): Promise<JsonObject> {
  const on = (await core.power.powerState()) === 'on';
  return {
    '@odata.id': `${P.ethernetInterfaces}/${nic.name}`,
    '@odata.type': typeOf(SCHEMA.EthernetInterface),
    Id: nic.name,
    Name: `Ethernet interface on ${nic.name}`,
    Description: `The VM's virtio NIC bridged to the container interface ${nic.name}`,
    Status: OK,
    InterfaceEnabled: true,
    LinkStatus: on ? 'LinkUp' : 'LinkDown',
    MACAddress: nic.mac,
    PermanentMACAddress: nic.mac,
    Links: { Chassis: idRef(P.chassis) },
  };
}

function processor(core: BmcCore): JsonObject {
  return {
    '@odata.id': `${P.processors}/CPU1`,
    '@odata.type': typeOf(SCHEMA.Processor),
    Id: 'CPU1',
    Name: 'Processor 1',
    Socket: 'CPU 1',
    ProcessorType: 'CPU',
    ProcessorArchitecture: 'x86',
    InstructionSet: 'x86-64',
    Manufacturer: 'QEMU',
    Model: 'QEMU virtual CPU',
    TotalCores: core.hardware.cpus,
    TotalEnabledCores: core.hardware.cpus,
    TotalThreads: core.hardware.cpus,
    Enabled: true,
    Status: OK,
  };
}

function dimm(core: BmcCore): JsonObject {
  return {
    '@odata.id': `${P.memory}/DIMM1`,
    '@odata.type': typeOf(SCHEMA.Memory),
    Id: 'DIMM1',
    Name: 'DIMM 1',
    MemoryType: 'DRAM',
    CapacityMiB: core.hardware.memoryMiB,
    DeviceLocator: 'DIMM 1',
    Enabled: true,
    Status: OK,
  };
}

function storage(): JsonObject {
  return {
    '@odata.id': `${P.storage}/${STORAGE_ID}`,
    '@odata.type': typeOf(SCHEMA.Storage),
    Id: STORAGE_ID,
    Name: 'Local storage',
    Description: 'The system disk (virtio) and the CD/DVD drive (SATA)',
    Status: OK,
    Drives: [idRef(`${P.storage}/${STORAGE_ID}/Drives/${DISK_ID}`), idRef(`${P.storage}/${STORAGE_ID}/Drives/${CD_ID}`)],
    'Drives@odata.count': 2,
  };
}

function drive(core: BmcCore, id: string): JsonObject | undefined {
  const base = { '@odata.id': `${P.storage}/${STORAGE_ID}/Drives/${id}`, '@odata.type': typeOf(SCHEMA.Drive), Id: id, Status: OK, Manufacturer: 'QEMU' };
  if (id === DISK_ID) {
    return { ...base, Name: 'System disk', Description: 'virtio block device', Model: 'QEMU virtio disk', MediaType: 'HDD', CapacityBytes: core.hardware.diskSizeBytes ?? null };
  }
  // A capacity of 0 rather than none: sushy (Ironic) sorts every drive's capacity and fails on a missing one.
  if (id === CD_ID) return { ...base, Name: 'CD/DVD drive', Description: 'SATA (AHCI) DVD-ROM drive; its capacity is not the medium\'s', Model: 'QEMU DVD-ROM', CapacityBytes: 0 };
  return undefined;
}

function simpleStorage(core: BmcCore): JsonObject {
  return {
    '@odata.id': `${P.simpleStorage}/${STORAGE_ID}`,
    '@odata.type': typeOf(SCHEMA.SimpleStorage),
    Id: STORAGE_ID,
    Name: 'Local storage',
    Status: OK,
    Devices: [
      { Name: 'System disk', Manufacturer: 'QEMU', Model: 'QEMU virtio disk', CapacityBytes: core.hardware.diskSizeBytes ?? null, Status: OK },
      { Name: 'CD/DVD drive', Manufacturer: 'QEMU', Model: 'QEMU DVD-ROM', CapacityBytes: 0, Status: OK },
    ],
  };
}

/** A resource anyone logged in may read. */
export const readable = (handle: Operation['handle']): Route['ops'] => ({ GET: { privilege: 'Login', handle } });

export function systemInventoryRoutes(core: BmcCore): Route[] {
  return [
    {
      path: P.ethernetInterfaces, schema: 'EthernetInterfaceCollection',
      ops: readable(() => resourceResponse(collection(P.ethernetInterfaces, 'EthernetInterfaceCollection', 'Ethernet Interface Collection', nics(core).map((n) => `${P.ethernetInterfaces}/${n.name}`)))),
    },
    {
      path: `${P.ethernetInterfaces}/{id}`, schema: SCHEMA.EthernetInterface,
      ops: readable(async (ctx) => {
        const nic = nics(core).find((n) => n.name === ctx.params[0]);
        if (!nic) throw notFound(ctx.path);
        return resourceResponse(await ethernetInterface(core, nic));
      }),
    },
    { path: P.processors, schema: 'ProcessorCollection', ops: readable(() => resourceResponse(collection(P.processors, 'ProcessorCollection', 'Processor Collection', [`${P.processors}/CPU1`]))) },
    {
      path: `${P.processors}/{id}`, schema: SCHEMA.Processor,
      ops: readable((ctx) => { if (ctx.params[0] !== 'CPU1') throw notFound(ctx.path); return resourceResponse(processor(core)); }),
    },
    { path: P.memory, schema: 'MemoryCollection', ops: readable(() => resourceResponse(collection(P.memory, 'MemoryCollection', 'Memory Collection', [`${P.memory}/DIMM1`]))) },
    {
      path: `${P.memory}/{id}`, schema: SCHEMA.Memory,
      ops: readable((ctx) => { if (ctx.params[0] !== 'DIMM1') throw notFound(ctx.path); return resourceResponse(dimm(core)); }),
    },
    { path: P.storage, schema: 'StorageCollection', ops: readable(() => resourceResponse(collection(P.storage, 'StorageCollection', 'Storage Collection', [`${P.storage}/${STORAGE_ID}`]))) },
    {
      path: `${P.storage}/{id}`, schema: SCHEMA.Storage,
      ops: readable((ctx) => { if (ctx.params[0] !== STORAGE_ID) throw notFound(ctx.path); return resourceResponse(storage()); }),
    },
    {
      path: `${P.storage}/{id}/Drives/{drive}`, schema: SCHEMA.Drive,
      ops: readable((ctx) => {
        const d = ctx.params[0] === STORAGE_ID ? drive(core, ctx.params[1]!) : undefined;
        if (!d) throw notFound(ctx.path);
        return resourceResponse(d);
      }),
    },
    { path: P.simpleStorage, schema: 'SimpleStorageCollection', ops: readable(() => resourceResponse(collection(P.simpleStorage, 'SimpleStorageCollection', 'Simple Storage Collection', [`${P.simpleStorage}/${STORAGE_ID}`]))) },
    {
      path: `${P.simpleStorage}/{id}`, schema: SCHEMA.SimpleStorage,
      ops: readable((ctx) => { if (ctx.params[0] !== STORAGE_ID) throw notFound(ctx.path); return resourceResponse(simpleStorage(core)); }),
    },
  ];
}
