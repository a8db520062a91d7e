/**
 * Nameplate power of the hardware models whose firmware takes a power target in watts but does not say the unit's
 * own range in what we read (LuxOS `<n>W` profiles, ePIC PowerTune). The write path offers targets from half the
 * nameplate up to the nameplate: under-clocking only, never past what the maker rates the PSU and boards for.
 * Figures are the makers' published specifications (wall power at the nominal rate).
 */
const NAMEPLATE_W: ReadonlyArray<readonly [RegExp, number]> = [
  [/\bS19k\s*Pro\b/i, 2760],
  [/\bS19\s*XP\b/i, 3010],
  [/\bS19j\s*Pro\b/i, 3068],
  [/\bS19\s*Pro\b/i, 3250],
  [/\bS19\b(?!\s*(?:XP|Pro|j|k))/i, 3250],
  [/\bS9\b/i, 1323],
];

/** Share of the nameplate a target may go down to. */
export const MIN_TARGET_SHARE = 0.5;

/** The nameplate watts of a model as the firmware names it, or undefined when we do not know it. */
export function nameplatePowerW(model: string | undefined): number | undefined {
  if (!model) return undefined;
  return NAMEPLATE_W.find(([pattern]) => pattern.test(model))?.[1];
}

/** The target range in watts the write path offers for a model, or undefined when its nameplate is unknown. */
export function powerTargetRange(model: string | undefined): { minW: number; maxW: number } | undefined {
  const rated = nameplatePowerW(model);
  return rated === undefined ? undefined : { minW: Math.ceil(rated * MIN_TARGET_SHARE), maxW: rated };
}
