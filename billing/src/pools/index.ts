/** Pool and network importers (see billing/README.md, "Pool imports"). */
export * from './types';
export { PoolAuthError, PoolHttpClient, PoolResponseError, retryAfterMs } from './http';
export { FoundryImporter } from './foundry';
export { BraiinsImporter } from './braiins';
export { F2PoolImporter } from './f2pool';
export { ViaBtcImporter } from './viabtc';
export { MempoolNetworkSource, hashpriceSatPerThsDay, subsidySatAt } from './mempool';
export { importerFromEnv, isPoolName, networkSourceFromEnv, POOL_NAMES, scheduledImportersFromEnv } from './config';
export { importNetwork, importPool, runScheduledImport, type ImportSummary, type ScheduledImport } from './import';
export { payoutPoolName, poolWorkerTotals } from './store';
export { checkPoolHashrate, listHashrateChecks, PoolHashrateGapError, type HashrateCheck } from './gap';
