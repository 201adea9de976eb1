import { redfishCore } from '../../test-support/redfish-core';
import { SdrRepository } from '../../bmc/inventory/sdr-repository';
import { sensorCommands } from '../../bmc/commands/sensor-commands';
import { rawToValue, type ThresholdSensor } from '../../bmc/inventory/sensors';
import { SensorCmd } from '../../protocol/netfn';

/** The JSON body, read freely by the assertions. */
const json = (r: { body?: unknown }): any => r.body;

describe('Chassis Thermal and Power', () => {
  let env: ReturnType<typeof redfishCore>;
  beforeEach(() => { env = redfishCore(); });
  afterEach(async () => { await env.machine.close(); });

  /** What IPMI Get Sensor Reading answers for each threshold sensor, in the sensor's unit. */
  async function ipmiReadings(): Promise<Map<string, number>> {
    const sdr = new SdrRepository({ sensors: env.core.sensors! });
    const getReading = sensorCommands({ sdr, powerState: () => env.machine.powerState() }).find((c) => c.cmd === SensorCmd.GetSensorReading)!;
    const out = new Map<string, number>();
    for (const s of env.core.sensors!) {
      if (s.kind !== 'threshold') continue;
      const r = await getReading.handler(Buffer.from([s.number]), { now: env.core.clock() } as never);
      const raw = (r as { data: Buffer }).data[0]!;
      out.set(s.name, Math.round(rawToValue((s as ThresholdSensor).conversion, raw) * 1000) / 1000);
    }
    return out;
  }

  it.each(['off', 'on'])('with the power %s, every temperature, fan and voltage reads what IPMI Get Sensor Reading reads', async (state) => {
    if (state === 'on') await env.machine.power('on');
    const chassis = json(await env.send('GET', '/redfish/v1/Chassis/1'));
    const thermal = json(await env.send('GET', chassis.Thermal['@odata.id']));
    const power = json(await env.send('GET', chassis.Power['@odata.id']));
    const redfish = new Map<string, number>([
      ...thermal.Temperatures.map((t: { Name: string; ReadingCelsius: number }) => [t.Name, t.ReadingCelsius]),
      ...thermal.Fans.map((f: { Name: string; Reading: number }) => [f.Name, f.Reading]),
      ...power.Voltages.map((v: { Name: string; ReadingVolts: number }) => [v.Name, v.ReadingVolts]),
    ]);
    expect(redfish).toEqual(await ipmiReadings());
    expect([...redfish.keys()].sort()).toEqual(['12V', '3.3V', 'CPU Temp', 'Fan 1', 'Fan 2', 'Inlet Temp']);
    if (state === 'off') expect(thermal.Fans.map((f: { Reading: number }) => f.Reading)).toEqual([0, 0]);
  });

  it('thresholds are the SDR\'s in the sensor\'s unit; members carry their own fragment ids', async () => {
    const thermal = json(await env.send('GET', '/redfish/v1/Chassis/1/Thermal'));
    expect(thermal.Temperatures[0]).toMatchObject({
      '@odata.id': '/redfish/v1/Chassis/1/Thermal#/Temperatures/0', MemberId: '0', Name: 'Inlet Temp', SensorNumber: 1,
      UpperThresholdNonCritical: 40, UpperThresholdCritical: 45, UpperThresholdFatal: 50, Status: { State: 'Enabled', Health: 'OK' },
    });
    expect(thermal.Temperatures[0].LowerThresholdCritical).toBeUndefined();
    const power = json(await env.send('GET', '/redfish/v1/Chassis/1/Power'));
    expect(power.Voltages[0]).toMatchObject({ Name: '12V', LowerThresholdCritical: 10.8, LowerThresholdNonCritical: 11.4, UpperThresholdNonCritical: 12.6, UpperThresholdCritical: 13.2 });
  });
});
