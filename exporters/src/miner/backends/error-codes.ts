/**
 * Firmware error codes → stable fault codes, one table per family (issue 13). Sources: the fault-code tables of
 * ../shared/miner-api-next/error-codes/PROTOCOLS.md (Whatsminer: pyasic `data/error_codes/whatsminer.py` and asic-rs
 * `whatsminer/src/error_codes.rs`; Braiins: the codes seen in BOS 25.11/26.04 captures; Antminer: the `status` types of
 * summary.cgi). The grouping into fault classes is ours. A code not in a table is FIRMWARE_ERROR, kept as given.
 */
import type { FaultCode, FirmwareErrorSample, FirmwareFamily } from '@flymining/shared';

export interface FirmwareFault {
  code: FaultCode;
  /** The part: "board 2", "fan 0", "psu", "" for the whole miner. */
  part: string;
}

interface Range {
  from: number;
  to: number;
  fault: FaultCode;
  /** How the last digit names the part (slot n, fan 0/1). */
  part?: 'board' | 'fan' | 'psu';
}

/** Whatsminer numeric codes by range (error-codes/PROTOCOLS.md §1; decoding rule: pyasic L34-L48). */
const WHATSMINER_RANGES: readonly Range[] = [
  { from: 100, to: 149, fault: 'FAN_FAULT', part: 'fan' },
  { from: 200, to: 299, fault: 'PSU_FAULT', part: 'psu' },
  { from: 300, to: 329, fault: 'BOARD_READ_ERROR', part: 'board' }, // temperature sensor missing / read error
  { from: 350, to: 379, fault: 'TEMP_PROTECTION', part: 'board' }, // slot temperature protecting, board too hot, ambient
  { from: 380, to: 389, fault: 'BOARD_READ_ERROR' }, // humidity sensor
  { from: 400, to: 459, fault: 'BOARD_READ_ERROR', part: 'board' }, // EEPROM detect / parse / bin / transfer
  { from: 500, to: 599, fault: 'HASHBOARD_FAULT', part: 'board' }, // slot not found, chip id, bad chips, ...
  { from: 600, to: 619, fault: 'TEMP_PROTECTION' }, // ambient too high
  { from: 700, to: 709, fault: 'CONTROL_BOARD_FAULT' },
  { from: 710, to: 714, fault: 'NETWORK_FAULT' }, // unexpected reboot / network unstable
  { from: 720, to: 729, fault: 'CONTROL_BOARD_FAULT', part: 'board' }, // slot frame error
  { from: 800, to: 819, fault: 'CONTROL_BOARD_FAULT' }, // checksums, PCB serial mismatch
  { from: 900, to: 999, fault: 'PSU_FAULT', part: 'psu' }, // power-rate errors
  { from: 2000, to: 2049, fault: 'NETWORK_FAULT' }, // pools
  { from: 2310, to: 2359, fault: 'HASHBOARD_FAULT' }, // hash rate too low / loss too high
  { from: 5010, to: 5049, fault: 'HASHBOARD_FAULT', part: 'board' }, // chip voltage, temperature spread
  { from: 5050, to: 5059, fault: 'TEMP_PROTECTION', part: 'board' }, // chips temperature protecting
  { from: 5060, to: 5179, fault: 'HASHBOARD_FAULT', part: 'board' },
  { from: 8000, to: 8799, fault: 'CONTROL_BOARD_FAULT' }, // tool, firmware, serial and power-model checks
  { from: 9000, to: 9099, fault: 'CONTROL_BOARD_FAULT' }, // process exited
];

function partOf(kind: Range['part'], slot: number): string {
  if (kind === 'board') return `board ${slot}`;
  if (kind === 'fan') return `fan ${slot}`;
  if (kind === 'psu') return 'psu';
  return '';
}

export function classifyWhatsminer(code: string): FirmwareFault | undefined {
  if (!/^\d{3,6}$/.test(code)) return undefined;
  const n = Number(code);
  // Per-chip codes: 6 digits not starting with 1 = type (2 digits), slot, chip (3 digits).
  if (code.length === 6 && !code.startsWith('1')) {
    const type = Number(code.slice(0, 2));
    const slot = Number(code[2]);
    if (type === 54) return { code: 'TEMP_PROTECTION', part: `board ${slot}` };
    if (type >= 52 && type <= 56) return { code: 'HASHBOARD_FAULT', part: `board ${slot}` };
    return undefined;
  }
  const range = WHATSMINER_RANGES.find((r) => n >= r.from && n <= r.to);
  return range ? { code: range.fault, part: partOf(range.part, n % 10) } : undefined;
}

/** Braiins OS codes seen in public captures (error-codes/PROTOCOLS.md §3); the letter groups are the firmware's. */
const BRAIINS_CODES: Readonly<Record<string, FaultCode>> = {
  V2: 'PSU_FAULT', // overcurrent protection triggered or short circuit
  H1: 'HASHBOARD_FAULT', // disabling hashboards not allowed on NoPIC miners
  H2: 'HASHBOARD_FAULT', // hashboard stopped sending hashes
};

export function classifyBraiins(code: string, component: string | undefined): FirmwareFault | undefined {
  const fault = BRAIINS_CODES[code];
  if (!fault) return undefined;
  const board = component ? /hashboard\s+(\d+)/i.exec(component)?.[1] : undefined;
  return { code: fault, part: board !== undefined ? `board ${board}` : fault === 'PSU_FAULT' ? 'psu' : '' };
}

/** Antminer summary `status` entries by subsystem type (no public table of the numbers; §4). */
const ANTMINER_TYPES: Readonly<Record<string, FaultCode>> = {
  fans: 'FAN_FAULT',
  temp: 'TEMP_PROTECTION',
  rate: 'HASHBOARD_FAULT',
  network: 'NETWORK_FAULT',
};

export function classifyFirmwareError(family: FirmwareFamily, error: FirmwareErrorSample): FirmwareFault | undefined {
  switch (family) {
    case 'whatsminer':
      return classifyWhatsminer(error.code);
    case 'braiins-os':
      return classifyBraiins(error.code, error.component);
    case 'antminer-stock': {
      const fault = error.component ? ANTMINER_TYPES[error.component] : undefined;
      return fault ? { code: fault, part: '' } : undefined;
    }
    default:
      return undefined;
  }
}
