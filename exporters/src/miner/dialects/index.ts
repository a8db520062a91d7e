import type { Dialect } from './types';
import { antminerStock } from './antminer-stock';
import { avalon } from './avalon';
import { braiinsOs, braiinsOsBmminer } from './braiins-os';
import { hiveon } from './hiveon';
import { luxos } from './luxos';
import { vnish } from './vnish';
import { whatsminer } from './whatsminer';

export * from './types';
export { antminerStock, avalon, braiinsOs, braiinsOsBmminer, hiveon, luxos, vnish, whatsminer };
export { cleanModel, splitDashTemps } from './antminer-common';
export { parseModuleFields } from './avalon';
export { num } from './values';
export { whatsminerMessage, whatsminerMiningOff } from './whatsminer';

/**
 * Every dialect, most specific first: firmware built on Bitmain's code (LuxOS, Braiins, Vnish, Hiveon) must be
 * tried before stock, which only claims replies that carry no other firmware's marks.
 */
export const DIALECTS: readonly Dialect[] = [luxos, braiinsOs, braiinsOsBmminer, avalon, whatsminer, vnish, hiveon, antminerStock];
