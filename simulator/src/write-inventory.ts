/**
 * Writes the farm inventory (the YAML format of shared/src/inventory) for a simulated farm, so the demo,
 * the end-to-end tests and the benchmarks run the real exporter against it exactly as a farm would.
 */
import { stringify } from 'yaml';
import { PROFILES } from './catalog';
import { MODBUS_REGISTERS } from './climate-sensors';
import type { SimMinerSpec } from './miner';

export interface InventoryWriteOptions {
  /** Sensors per container to list (simulated MQTT climate sensors use `tele/<container>-<position>/SENSOR`). */
  sensors?: boolean;
  /** Leave the firmware out so the exporter has to detect it from the replies. */
  detectFirmware?: boolean;
  /** List each container's simulated Modbus damper and power meter (127.0.0.1, this port + container index). */
  modbusBasePort?: number;
}

/** The damper and power-meter entries for a container's simulated Modbus device (registers: climate-sensors.ts). */
export function modbusSensorEntries(container: string, port: number): Array<Record<string, unknown>> {
  const device = { protocol: 'modbus', host: '127.0.0.1', port, unitId: 1 };
  return [
    {
      id: `${container}-damper`,
      position: 'damper',
      ...device,
      registers: {
        damperPct: { address: MODBUS_REGISTERS.damperMeasured, type: 'uint16', scale: 0.1 },
        damperCommandPct: { address: MODBUS_REGISTERS.damperCommand, type: 'uint16', scale: 0.1 },
      },
    },
    { id: `${container}-power`, position: 'power', ...device, registers: { powerW: { address: MODBUS_REGISTERS.powerHigh, type: 'uint32' } } },
  ];
}

export function inventoryYaml(specs: readonly SimMinerSpec[], options: InventoryWriteOptions = {}): string {
  if (specs.length === 0) throw new Error('inventoryYaml: no miners');
  const site = specs[0]!.position.site;
  type Shelf = { name: string; slots: Array<Record<string, unknown>> };
  type Rack = { name: string; shelves: Map<string, Shelf> };
  const containers = new Map<string, Map<string, Rack>>();
  for (const s of specs) {
    const p = s.position;
    if (p.site !== site) throw new Error(`inventoryYaml: one site per inventory (${site} and ${p.site})`);
    const racks = containers.get(p.container) ?? new Map<string, Rack>();
    containers.set(p.container, racks);
    const rack = racks.get(p.rack) ?? { name: p.rack, shelves: new Map<string, Shelf>() };
    racks.set(p.rack, rack);
    const shelf = rack.shelves.get(p.shelf) ?? { name: p.shelf, slots: [] };
    rack.shelves.set(p.shelf, shelf);
    const profile = PROFILES[s.profile];
    shelf.slots.push({
      slot: p.slot,
      id: s.id,
      host: s.host,
      port: s.port,
      // ePIC is no firmware family of the inventory yet: its units are listed without one (detected).
      ...(options.detectFirmware ? {} : { vendor: profile.vendor, ...(profile.firmware === 'epic' ? {} : { firmware: profile.firmware }) }),
      model: profile.model,
      nominalThs: profile.nominalThs,
      fans: profile.fans,
      hashboards: profile.boards,
      chipsPerBoard: profile.chipsPerBoard,
      cooling: profile.cooling,
    });
  }
  const doc = {
    site,
    containers: [...containers.entries()].map(([name, racks], index) => ({
      name,
      ...(options.sensors
        ? {
            sensors: [
              ...(['intake', 'exhaust', 'outside'] as const).map((position) => ({
                id: `${name}-${position}`,
                position,
                protocol: 'mqtt',
                topic: `tele/${name}-${position}/SENSOR`,
              })),
              ...(options.modbusBasePort !== undefined ? modbusSensorEntries(name, options.modbusBasePort + index) : []),
            ],
          }
        : {}),
      racks: [...racks.values()].map((r) => ({
        name: r.name,
        shelves: [...r.shelves.values()].map((sh) => ({ name: sh.name, slots: sh.slots })),
      })),
    })),
  };
  return `# Generated for a simulated farm of ${specs.length} miners.\n${stringify(doc, { lineWidth: 0, flowCollectionPadding: true, collectionStyle: 'block' })}`;
}
