/**
 * Simulated container sensors beyond the Tasmota thermometers: a Modbus TCP device per container (a damper
 * actuator with its measured and commanded position, and a power meter) and sensor fault injection
 * (silent sensors, absurd values, a stuck damper) for the climate exporter's tests and the demo.
 *
 * Holding registers of each container's device (unit 1):
 *   0 intake temperature, int16, 0.1 °C      1 intake humidity, uint16, 0.1 %
 *   2 damper measured, uint16, 0.1 %          3 damper commanded, uint16, 0.1 %
 *   4-5 container power, uint32 (high word first), W
 */
import { Server, type Socket } from 'node:net';
import { server as modbusServers } from 'jsmodbus';
import { z } from 'zod';
import type { ClimateReading, ContainerClimate } from './climate';
import { NO_CONDITIONS, type SecurityConditions } from './climate-security';

export const MODBUS_REGISTERS = {
  intakeTemperature: 0,
  intakeHumidity: 1,
  damperMeasured: 2,
  damperCommand: 3,
  powerHigh: 4,
} as const;

export type SimSensorName = 'intake' | 'exhaust' | 'outside' | 'damper' | 'power';

export const sensorFaultSchema = z.discriminatedUnion('fault', [
  /** The sensor goes silent (MQTT: publishes nothing; Modbus: the device refuses connections). */
  z.object({ fault: z.literal('stale'), sensor: z.enum(['intake', 'exhaust', 'outside', 'damper', 'power']) }),
  /** The sensor reports nonsense: -273 °C on MQTT thermometers, 4.29 GW on the power meter. */
  z.object({ fault: z.literal('absurd'), sensor: z.enum(['intake', 'exhaust', 'outside', 'power']) }),
  /** The damper stops moving: its measured position freezes while the controller keeps commanding. */
  z.object({ fault: z.literal('stuckDamper'), positionPct: z.number().min(0).max(100).optional() }),
  /** Security sensors (climate-security.ts): open the door, trip the PIR, the vibration sensor, smoke, a leak. */
  z.object({ fault: z.enum(['doorOpen', 'motion', 'tamper', 'smoke', 'waterLeak']) }),
  /** The door contact's cable is cut: its MQTT connection drops without a goodbye and the broker sends its will. */
  z.object({ fault: z.literal('sensorOffline') }),
  /** Clears every sensor fault: the door closes, motion, smoke and water end, the cut cable is mended. */
  z.object({ fault: z.literal('clear') }),
]);
export type SensorFaultRequest = z.infer<typeof sensorFaultSchema>;

/** Sensor faults of one container. */
export class SensorFaults {
  readonly stale = new Set<SimSensorName>();
  readonly absurd = new Set<SimSensorName>();
  stuckDamperPct: number | undefined;
  security: SecurityConditions = { ...NO_CONDITIONS };
  /** Called after every change (the security publisher sends a changed door at once, not on its next tick). */
  onChange: (() => void) | undefined;

  apply(req: SensorFaultRequest, currentDamperPct: number): void {
    if (req.fault === 'clear') {
      this.stale.clear();
      this.absurd.clear();
      this.stuckDamperPct = undefined;
      this.security = { ...NO_CONDITIONS };
    } else if (req.fault === 'stale') this.stale.add(req.sensor);
    else if (req.fault === 'absurd') this.absurd.add(req.sensor);
    else if (req.fault === 'stuckDamper') this.stuckDamperPct = req.positionPct ?? currentDamperPct;
    else this.security[req.fault] = true;
    this.onChange?.();
  }

  describe(): { stale: SimSensorName[]; absurd: SimSensorName[]; stuckDamperPct: number | null; security: SecurityConditions } {
    return { stale: [...this.stale], absurd: [...this.absurd], stuckDamperPct: this.stuckDamperPct ?? null, security: { ...this.security } };
  }
}

/** Register values for a climate reading, with the container's faults applied. */
export function registerValues(r: ClimateReading, powerW: number, faults: SensorFaults): number[] {
  const measured = faults.stuckDamperPct ?? r.damperPercent;
  const power = faults.absurd.has('power') ? 0xffffffff : Math.max(0, Math.round(powerW));
  const int16 = (v: number): number => (Math.round(v) + 0x10000) & 0xffff;
  return [
    int16(r.intake.temperatureC * 10),
    Math.round(r.intake.humidity * 10),
    Math.round(measured * 10),
    Math.round(r.damperPercent * 10),
    Math.floor(power / 0x10000),
    power & 0xffff,
  ];
}

/** One Modbus TCP device per container: damper actuator and power meter, registers refreshed on every read. */
export class ContainerModbusDevice {
  private readonly net = new Server();
  private readonly sockets = new Set<Socket>();
  private readonly holding = Buffer.alloc(64 * 2);
  private listening = false;

  constructor(
    readonly climate: ContainerClimate,
    readonly faults: SensorFaults,
    private readonly powerW: () => number,
    private readonly clock: () => number,
    readonly host: string,
    readonly port: number,
  ) {
    const modbus = new modbusServers.TCP(this.net, { holding: this.holding });
    modbus.on('preReadHoldingRegisters', () => this.refresh());
    this.net.on('connection', (socket: Socket) => {
      // A silent damper or meter: the device is gone from the network.
      if (this.faults.stale.has('damper') || this.faults.stale.has('power')) return void socket.destroy();
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  private refresh(): void {
    const values = registerValues(this.climate.read(this.clock()), this.powerW(), this.faults);
    values.forEach((v, i) => this.holding.writeUInt16BE(v, i * 2));
  }

  /** Drops open connections (a fault that makes the device silent must also cut the kept-open ones). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.net.once('error', (err) => reject(new Error(`modbus device of ${this.climate.name}: cannot listen on ${this.host}:${this.port}: ${err.message}`)));
      this.net.listen(this.port, this.host, () => {
        this.listening = true;
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    this.dropConnections();
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => this.net.close(() => resolve()));
  }
}
