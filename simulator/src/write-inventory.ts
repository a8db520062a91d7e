/**
 * Writes the farm inventory (the YAML format of shared/src/inventory) for a simulated farm, so the demo,
 * the end-to-end tests and the benchmarks run the real exporter against it exactly as a farm would.
 */
import * as shared from '@flymining/shared';
import { stringify } from 'yaml';
import { PROFILES, apiOf, type SimProfile } from './catalog';
import { MODBUS_REGISTERS } from './climate-sensors';
import { securitySensorEntries } from './climate-security';
import { SIM_POOL_URLS, SIM_WORKER_PATTERN, type SimMinerSpec } from './miner';

export interface InventoryWriteOptions {
  /**
   * Sensors per container to list (simulated MQTT climate sensors use `tele/<container>-<position>/SENSOR`), with
   * each container's door contact, PIR, vibration, leak and smoke sensors (climate-security.ts).
   */
  sensors?: boolean;
  /** Leave the firmware out so the exporter has to detect it from the replies. */
  detectFirmware?: boolean;
  /** List each container's simulated Modbus damper and power meter (127.0.0.1, this port + container index). */
  modbusBasePort?: number;
  /**
   * Pin each newer-API unit's protocol, port and credentials entry (issue 13's inventory fields). Default: when the
   * shared inventory schema has those fields (it exports MINER_PROTOCOLS); an older schema refuses unknown slot keys.
   */
  protocols?: boolean;
  /**
   * State the pools the simulated miners are configured with (issue 15's `pools:`, site level), so a `poolHijack`
   * fault raises POOL_HIJACK. Default: when the shared inventory schema knows expected pools.
   */
  expectedPools?: boolean;
  /** Container subnets for scheduled discovery (UNKNOWN_DEVICE), by container name. */
  subnets?: Record<string, string>;
}

/** Whether the shared inventory schema knows `pools:` (issue 15). */
export const INVENTORY_KNOWS_POOLS = 'resolvePools' in shared;

/** The simulator's pool URLs as inventory entries: host, port and the worker pattern. */
export function simulatorPoolEntries(): Array<{ host: string; port: number; worker: string }> {
  const seen = new Set<string>();
  const entries: Array<{ host: string; port: number; worker: string }> = [];
  for (const url of SIM_POOL_URLS) {
    const [host = '', port = ''] = url.replace(/^[a-z0-9+]+:\/\//, '').split(':');
    if (seen.has(`${host}:${port}`)) continue;
    seen.add(`${host}:${port}`);
    entries.push({ host, port: Number(port), worker: SIM_WORKER_PATTERN });
  }
  return entries;
}

/** Whether the shared inventory schema knows `protocol`/`credentials` and the ePIC firmware family. */
export const INVENTORY_KNOWS_PROTOCOLS = 'MINER_PROTOCOLS' in shared;

/**
 * How the exporter should read a newer-API unit: the protocol, its port on this unit, and `firmware-default` (the
 * password the firmware ships, the simulator's default) where reads need a login. CGMiner-only units: nothing.
 */
export function protocolPin(profile: SimProfile, spec: SimMinerSpec): Record<string, unknown> {
  const api = apiOf(profile);
  if (api.whatsminerV3) return { protocol: 'whatsminer-v3', port: spec.v3Port };
  if (api.main === 'epic-http') return { protocol: 'epic', port: spec.port };
  // VNish's HTTP API gives state, power and presets but no hashrate, boards or pools (exporter's vnish/v1 backend):
  // its units stay on the CGMiner API of 4028, which VNish serves in full.
  const byHttp = { 'antminer-cgi': 'antminer-web', 'braiins-rest': 'braiins-rest' } as const;
  if (api.http && api.http !== 'vnish-rest') return { protocol: byHttp[api.http], port: spec.httpPort, credentials: 'firmware-default' };
  return {};
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
  const protocols = options.protocols ?? INVENTORY_KNOWS_PROTOCOLS;
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
    const pin = protocols ? protocolPin(profile, s) : {};
    // An inventory schema without the ePIC family lists its units without a firmware (detected).
    const firmware = profile.firmware === 'epic' && !protocols ? {} : { firmware: profile.firmware };
    shelf.slots.push({
      slot: p.slot,
      id: s.id,
      host: s.host,
      port: s.port,
      ...pin,
      ...(options.detectFirmware ? {} : { vendor: profile.vendor, ...firmware }),
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
    ...((options.expectedPools ?? INVENTORY_KNOWS_POOLS) ? { pools: simulatorPoolEntries() } : {}),
    containers: [...containers.entries()].map(([name, racks], index) => ({
      name,
      ...(options.subnets?.[name] ? { subnet: options.subnets[name] } : {}),
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
              // door contact, PIR, vibration, leak and smoke of each container (climate-security.ts)
              ...securitySensorEntries(name),
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
