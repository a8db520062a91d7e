import type { Dialect } from './types';
import { antminerStock } from './antminer/cgminer';
import { avalon } from './avalon/cgminer';
import { braiinsOs, braiinsOsBmminer } from './braiins/cgminer';
import { hiveon } from './hiveon/cgminer';
import { luxos } from './luxos/cgminer';
import { vnish } from './vnish/cgminer';
import { whatsminer } from './whatsminer/v2';
import { whatsminerV3 } from './whatsminer/v3';
import { antminerWeb } from './antminer/web';
import { antminerNewApi } from './antminer/new-api';
import { braiinsRest } from './braiins/v25_07';
import { epicV1 } from './epic/v1';
import { vnishV1 } from './vnish/v1';

export * from './types';
export { antminerStock, avalon, braiinsOs, braiinsOsBmminer, hiveon, luxos, vnish, whatsminer };
export { cleanModel, splitDashTemps } from './antminer/common';
export { parseModuleFields } from './avalon/cgminer';
export { num } from './common/values';
export { whatsminerMessage, whatsminerMiningOff } from './whatsminer/v2';

/**
 * Every dialect, most specific first: firmware built on Bitmain's code (LuxOS, Braiins, Vnish, Hiveon) must be
 * tried before stock, which only claims replies that carry no other firmware's marks.
 */
export const DIALECTS: readonly Dialect[] = [luxos, braiinsOs, braiinsOsBmminer, avalon, whatsminer, vnish, hiveon, antminerStock];

export { whatsminerV3, whatsminerV3Errors, whatsminerV3Model, V3_COMMANDS } from './whatsminer/v3';
export { antminerWeb, ANTMINER_CGI, antminerWorkMode } from './antminer/web';
export { antminerNewApi } from './antminer/new-api';
export { isNewApiStats } from './antminer/new-api-reader';
export { braiinsRest, BRAIINS_REST, braiinsErrors } from './braiins/v25_07';
export { epicV1, EPIC_PATHS } from './epic/v1';
export { vnishV1, VNISH_PATHS } from './vnish/v1';

/**
 * Every backend, CGMiner-API dialects first (detection from `version`/`summary`/`stats` replies walks DIALECTS);
 * the others are chosen by what answers on their own port (detect.ts) or pinned by the inventory.
 */
export const BACKENDS: readonly Dialect[] = [...DIALECTS, antminerNewApi, whatsminerV3, antminerWeb, braiinsRest, epicV1, vnishV1];

/** The backend an inventory `backend:` names: its id (`whatsminer/v3`) or, for the CGMiner-API ones, the family. */
export function backendById(id: string): Dialect | undefined {
  return BACKENDS.find((b) => (b.id ?? b.family) === id);
}
