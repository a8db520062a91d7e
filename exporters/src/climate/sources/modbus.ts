/**
 * Modbus TCP: industrial temperature/humidity transmitters, damper actuators and power meters, read as holding
 * registers (function 3) with the register map and scale factors from the inventory. One request per sensor per
 * interval covers every mapped register; the connection is kept and reopened after a failure.
 */
import { Socket } from 'node:net';
import { client as modbusClients } from 'jsmodbus';
import { fahrenheitToCelsius } from '../payloads';
import type { ConfiguredSensor, ModbusSensorSettings, RegisterSpec } from '../settings';
import type { ClimateSource, Quantity, SensorRef, SensorValues, SourceEvents } from '../types';
import { Poller } from './poller';

type ModbusSensor = SensorRef & { settings: ModbusSensorSettings };

const wordsOf = (r: RegisterSpec): number => (r.type === 'int16' || r.type === 'uint16' ? 1 : 2);

/** Decodes the mapped quantities from a block of registers that starts at `start`. */
export function decodeRegisters(settings: ModbusSensorSettings, start: number, block: ArrayLike<number>): SensorValues {
  const out: SensorValues = {};
  const buf = Buffer.alloc(4);
  for (const [quantity, r] of Object.entries(settings.registers) as Array<[Quantity, RegisterSpec]>) {
    const i = r.address - start;
    const first = block[i] ?? 0;
    let raw: number;
    if (r.type === 'int16') raw = first >= 0x8000 ? first - 0x10000 : first;
    else if (r.type === 'uint16') raw = first;
    else {
      const [hi, lo] = r.words === 'big' ? [first, block[i + 1] ?? 0] : [block[i + 1] ?? 0, first];
      buf.writeUInt16BE(hi, 0);
      buf.writeUInt16BE(lo, 2);
      raw = r.type === 'int32' ? buf.readInt32BE(0) : r.type === 'uint32' ? buf.readUInt32BE(0) : buf.readFloatBE(0);
    }
    const value = raw * r.scale + r.offset;
    out[quantity] = quantity === 'temperatureC' && settings.unit === 'F' ? fahrenheitToCelsius(value) : value;
  }
  return out;
}

export function registerSpan(settings: ModbusSensorSettings): { start: number; count: number } {
  const regs = Object.values(settings.registers) as RegisterSpec[];
  const start = Math.min(...regs.map((r) => r.address));
  const end = Math.max(...regs.map((r) => r.address + wordsOf(r)));
  return { start, count: end - start };
}

/** One kept-open Modbus TCP connection to a device. */
class ModbusDevice {
  private socket: Socket | undefined;
  private client: InstanceType<typeof modbusClients.TCP> | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly unitId: number,
    private readonly timeoutMs: number,
  ) {}

  private connect(): Promise<InstanceType<typeof modbusClients.TCP>> {
    if (this.client && this.socket && !this.socket.destroyed) return Promise.resolve(this.client);
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const client = new modbusClients.TCP(socket, this.unitId, this.timeoutMs);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timeout after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        this.client = client;
        resolve(client);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
      });
      socket.connect({ host: this.host, port: this.port });
    });
  }

  async read(start: number, count: number): Promise<number[]> {
    const client = await this.connect();
    try {
      const { response } = await client.readHoldingRegisters(start, count);
      return Array.from(response.body.valuesAsArray as ArrayLike<number>);
    } catch (err) {
      this.close(); // a timed-out request leaves the transaction ids out of step: start afresh
      const e = err as { message?: string; err?: string };
      throw new Error(e.message ?? e.err ?? 'request failed');
    }
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.client = undefined;
  }
}

export class ModbusSource implements ClimateSource {
  readonly protocol = 'modbus' as const;
  private readonly sensors: Array<{ sensor: ModbusSensor; device: ModbusDevice }>;
  private readonly poller = new Poller();

  constructor(
    sensors: readonly ConfiguredSensor[],
    private readonly events: SourceEvents,
  ) {
    this.sensors = sensors
      .filter((s): s is ModbusSensor & ConfiguredSensor => s.protocol === 'modbus')
      .map((sensor) => {
        const s = sensor.settings;
        return { sensor, device: new ModbusDevice(s.host, s.port, s.unitId, s.timeoutMs) };
      });
  }

  async readOnce(sensor: ModbusSensor, device: ModbusDevice): Promise<void> {
    const { start, count } = registerSpan(sensor.settings);
    const where = `${sensor.settings.host}:${sensor.settings.port} unit ${sensor.settings.unitId} registers ${start}..${start + count - 1}`;
    let block: number[];
    try {
      block = await device.read(start, count);
    } catch (err) {
      this.events.rejected(sensor, 'unreachable', `${where}: ${(err as Error).message}`);
      return;
    }
    this.events.reading(sensor, decodeRegisters(sensor.settings, start, block), Date.now());
  }

  async start(): Promise<void> {
    for (const { sensor, device } of this.sensors) {
      this.poller.every(sensor.id, sensor.settings.intervalS * 1000, () => this.readOnce(sensor, device));
    }
  }

  async stop(): Promise<void> {
    this.poller.stop();
    for (const { device } of this.sensors) device.close();
  }
}
