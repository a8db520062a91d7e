export * from './domain';
export { migrateMaintenance } from './db';
export { syncTickets, machineRef, DEFAULT_SYNC_OPTIONS, type ActiveAlert, type MachineRef, type SyncOptions, type SyncOutcome } from './tickets/sync';
export { TicketStore, type TicketFilter, type TicketDetail, type MachineHistory, type RepairRecord, type CloseOutcome } from './tickets/store';
export { onCallAt, shiftAt, upcomingShifts, type Rota, type RotaOverride, type StaffMember, type OnCallShift } from './rota/schedule';
export { RotaStore, loadRotaFile, parseRotaFile, RotaConfigError, type RotaFile } from './rota/store';
export { effectivenessReport, backlog, weekOverWeek, PERIODS, DIMENSIONS, type ReportRow, type ReportQuery, type Backlog, type WeekOverWeek } from './figures/report';
export { ticketLoss, fillTicketLosses, hashprice, type TicketLoss, type TicketWindow } from './figures/loss';
