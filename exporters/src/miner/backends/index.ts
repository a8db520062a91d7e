import type { Dialect } from './types';
import { antminerStock } from './antminer/cgminer';
import { avalon } from './avalon/cgminer';
import { braiinsOs, braiinsOsBmminer } from './braiins/cgminer';
import { hiveon } from './hiveon/cgminer';
import { luxos } from './luxos/cgminer';
import { vnish } from './vnish/cgminer';
import { whatsminer } from './whatsminer/v2';

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
