export { evaluateMinerHealth } from './evaluate';
export { HealthTracker, faultTransitions } from './tracker';
export { OVERHEAT_CLEAR_MARGIN_C, REBOOT_SETTLE_S, STUCK_BOOT_S, boardPart, fanPart } from './rules';
export * from './types';
export { CHANGE_NOTICE_S, activePool, matchPool, parseStratumUrl } from './intrusion';
export { BUILTIN_DEVFEE_POOLS, isDevfeePool } from './devfee';
