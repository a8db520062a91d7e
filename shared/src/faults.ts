/**
 * The fault model shared by every exporter and by alerting: stable codes, a severity and a place.
 * Codes are part of the public contract (alert rules, dashboards and silences match on them): never rename one.
 */

export const FAULT_CODES = {
  FAN_STOPPED: { severity: 'critical', summary: 'fan stopped' },
  FAN_MISSING: { severity: 'critical', summary: 'fan missing' },
  CHIPS_DEAD: { severity: 'warning', summary: 'dead chips on a hashboard' },
  BOARD_MISSING: { severity: 'critical', summary: 'hashboard missing' },
  BOARD_OVERHEAT: { severity: 'critical', summary: 'hashboard overheating' },
  CHIP_OVERHEAT: { severity: 'critical', summary: 'chips overheating' },
  TEMP_SENSOR_FAULT: { severity: 'warning', summary: 'temperature sensor reads nonsense' },
  HASHRATE_LOW: { severity: 'warning', summary: 'hashrate below nominal' },
  POOLS_DEAD: { severity: 'critical', summary: 'all pools dead' },
  MINER_UNREACHABLE: { severity: 'critical', summary: 'miner unreachable' },
  MINER_NOT_HASHING: { severity: 'critical', summary: 'miner reachable but not hashing' },
  MINER_SLEEPING: { severity: 'info', summary: 'miner sleeping' },
  MINER_REBOOTED: { severity: 'warning', summary: 'miner rebooted' },
  SCRAPE_PARTIAL: { severity: 'info', summary: 'some API commands failed' },
  // The firmware's own error codes (issue 13), mapped per family in exporters/src/miner/backends/*/error-codes.ts.
  // The message always names the code and text as the firmware gave them.
  PSU_FAULT: { severity: 'critical', summary: 'power supply fault reported by the firmware' },
  FAN_FAULT: { severity: 'critical', summary: 'fan fault reported by the firmware' },
  BOARD_READ_ERROR: { severity: 'warning', summary: 'hashboard EEPROM or sensor could not be read' },
  HASHBOARD_FAULT: { severity: 'critical', summary: 'hashboard fault reported by the firmware' },
  TEMP_PROTECTION: { severity: 'critical', summary: 'firmware temperature protection' },
  NETWORK_FAULT: { severity: 'warning', summary: 'network or pool connection fault reported by the firmware' },
  CONTROL_BOARD_FAULT: { severity: 'warning', summary: 'control board fault reported by the firmware' },
  FIRMWARE_ERROR: { severity: 'warning', summary: 'firmware error code not in our tables (kept as given)' },
  MINER_AUTH_FAILED: { severity: 'critical', summary: 'miner refused our credentials' },
  // Intrusion, virtual side (issue 15): hashrate pointed elsewhere and machines or firmware changed behind our back.
  // Judged by the miner exporter against the inventory (expected pools, serial/MAC) and its own remembered state;
  // UNKNOWN_DEVICE is container-level (minerId = the container, part = the address; rack/shelf/slot '-').
  POOL_HIJACK: { severity: 'critical', summary: 'miner hashes on a pool or worker the inventory does not allow' },
  FIRMWARE_CHANGED: { severity: 'warning', summary: "miner's firmware or firmware version changed" },
  MINER_SWAPPED: { severity: 'warning', summary: 'another machine (serial or MAC) stands in the slot' },
  UNKNOWN_DEVICE: { severity: 'warning', summary: 'a miner API answers on the container subnet that the inventory does not list' },
  // Container climate (climate exporter). minerId is the container name or the sensor id; rack/shelf/slot are '-'.
  CLIMATE_SENSOR_STALE: { severity: 'warning', summary: 'climate sensor silent or offline' },
  INTAKE_TOO_HOT: { severity: 'critical', summary: 'container intake air too hot' },
  INTAKE_TOO_COLD: { severity: 'warning', summary: 'container intake air too cold' },
  CONDENSATION_RISK: { severity: 'critical', summary: 'intake air near its dew point: water may condense on boards' },
  DAMPER_STUCK: { severity: 'warning', summary: 'recirculation damper does not follow its command' },
  EXHAUST_TOO_HOT: { severity: 'critical', summary: 'container exhaust air over its limit' },
  // --- Physical intrusion and hazards (issue 15, climate exporter's security sensors). minerId is the sensor id,
  // part the sensor id; rack/shelf/slot are '-'. DOOR_OPEN is lowered to info by alerting inside a maintenance
  // window or while a technician holds an in_repair ticket on the container (alerting/src/door.ts).
  DOOR_OPEN: { severity: 'critical', summary: 'container door or window open' },
  MOTION: { severity: 'warning', summary: 'motion detected in or at a container' },
  TAMPER: { severity: 'warning', summary: 'sensor tampered with or container shaken' },
  SMOKE: { severity: 'critical', summary: 'smoke detected in a container' },
  WATER_LEAK: { severity: 'critical', summary: 'water leak in a container' },
  SENSOR_OFFLINE: { severity: 'warning', summary: 'security sensor offline or silent (a cut cable defeats its alarm)' },
  // --- end of issue 15's physical block
  // --- Control policies (issue 14, miner exporter's agent). CONTROL_SENSOR_STALE is container-level (minerId the
  // container, part `temperature-loop`); RECOVERY_EXHAUSTED is the miner's (part `miner`): the reboot cap is reached,
  // so a person must look (its ticket replaces further reboots).
  CONTROL_SENSOR_STALE: { severity: 'critical', summary: 'temperature loop frozen: its climate readings are stale or missing' },
  RECOVERY_EXHAUSTED: { severity: 'critical', summary: 'miner still not hashing after its daily automatic reboots' },
} as const;

export type FaultCode = keyof typeof FAULT_CODES;
export type Severity = 'critical' | 'warning' | 'info';

/** Where a thing stands in the farm: the path staff walk to reach it. */
export interface Location {
  site: string;
  container: string;
  rack: string;
  shelf: string;
  slot: string;
}

export interface Fault {
  code: FaultCode;
  severity: Severity;
  /** Stable id of the miner (inventory key). */
  minerId: string;
  location: Location;
  /** The part concerned, e.g. "board 2", "fan 3"; empty for the whole miner. */
  part: string;
  /** One sentence a technician can act on, naming container/rack/shelf/slot. */
  message: string;
  /** ms since epoch when this fault was first seen in the current episode. */
  since: number;
  /** Extra detail for notices, e.g. { rpm: 0, tempC: 97 }. */
  details?: Record<string, number | string>;
  /** Which edge exporter reported it (`<edge>/<source>`); set by the center's uplink relay. */
  source?: string;
  /**
   * Set by the center while the container's edge is silent: this is what the edge last said, not what holds now.
   * Shown as stale, never paged as current; cleared when a fresh snapshot confirms or clears the fault.
   */
  stale?: { sinceMs: number; lastReportMs: number };
}

/** Identity of a fault episode: one miner, one code, one part. Used for de-duplication everywhere. */
export function faultKey(f: Pick<Fault, 'minerId' | 'code' | 'part'>): string {
  return `${f.minerId}|${f.code}|${f.part}`;
}

export function describeLocation(l: Location): string {
  return `site ${l.site} / container ${l.container} / rack ${l.rack} / shelf ${l.shelf} / slot ${l.slot}`;
}

export function severityOf(code: FaultCode): Severity {
  return FAULT_CODES[code].severity;
}

/** Events the exporters publish on Redis for alerting. */
export interface FaultEvent {
  type: 'raised' | 'cleared';
  fault: Fault;
  /** ms since epoch of the scrape that decided it. */
  at: number;
  /** Which exporter instance said it (e.g. the container name), for tracing. */
  source: string;
}

export const REDIS_KEYS = {
  /** Pub/sub channel carrying FaultEvent JSON. */
  faultChannel: 'flymining:faults',
  /** Hash faultKey -> Fault JSON of everything currently active, so a new subscriber can catch up. */
  activeFaults: 'flymining:faults:active',
  /** Hash `<site>/<container>/<source>` -> EdgeStatus JSON: what the center knows of each edge (see edge.ts). */
  edges: 'flymining:edges',
  /** Hash `<site>/<container>/<source>` -> RetiredEdge JSON: edges staff took out of service (`flymining edges retire`). */
  retiredEdges: 'flymining:edges:retired',
} as const;
