/**
 * The fonts a PDF statement is set in. pdfkit's built-in Helvetica encodes WinAnsi only, so "Зоя Иванова" or "李雷"
 * would come out as garbage: statements embed TrueType fonts instead (subset, so a PDF carries only the glyphs it
 * uses). DejaVu Sans (Debian's fonts-dejavu-core) covers Latin with every diacritic, Greek, Cyrillic and the
 * minus sign; it has no Chinese, Japanese or Korean, so characters it lacks are set in a fallback font, Droid Sans
 * Fallback (fonts-droid-fallback: 1.8 MB, against 60 MB for fonts-noto-cjk). A character neither has shows as a box.
 * Without the main font file (and no FLYMINING_BILLING_PDF_FONT) statements fall back to Helvetica.
 */
import { readFileSync, existsSync } from 'node:fs';
import * as fontkit from 'fontkit';

export const DEFAULT_PDF_FONTS = {
  regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  fallback: '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
} as const;

export interface LoadedFont {
  path: string;
  /** Parsed once and shared by every PDF (pdfkit takes a fontkit font as it is; each PDF makes its own subset). */
  font: fontkit.Font;
  covers(codePoint: number): boolean;
}

/** The embedded fonts, or null for Helvetica. */
export interface PdfFonts {
  regular: LoadedFont;
  bold: LoadedFont;
  fallback: LoadedFont | null;
}

function loadFont(path: string, setting: string): LoadedFont {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new Error(`${setting}: cannot read the font "${path}": ${(err as Error).message}`);
  }
  let parsed: ReturnType<typeof fontkit.create>;
  try {
    parsed = fontkit.create(data);
  } catch (err) {
    throw new Error(`${setting}: "${path}" is not a TrueType/OpenType font: ${(err as Error).message}`);
  }
  if ('fonts' in parsed) throw new Error(`${setting}: "${path}" is a font collection (.ttc); give a single .ttf or .otf`);
  const font = parsed;
  return { path, font, covers: (cp) => font.hasGlyphForCodePoint(cp) };
}

/**
 * FLYMINING_BILLING_PDF_FONT (regular), FLYMINING_BILLING_PDF_FONT_BOLD (default: the regular one's DejaVu bold, or
 * the regular font) and FLYMINING_BILLING_PDF_FONT_FALLBACK (for what the main font lacks; empty: none). A file named
 * in the environment must exist; the defaults may be missing (no main font: Helvetica; no fallback: none).
 */
export function pdfFontsFromEnv(env: NodeJS.ProcessEnv = process.env): PdfFonts | null {
  const regularPath = env.FLYMINING_BILLING_PDF_FONT || DEFAULT_PDF_FONTS.regular;
  if (!env.FLYMINING_BILLING_PDF_FONT && !existsSync(regularPath)) return null;
  const regular = loadFont(regularPath, 'FLYMINING_BILLING_PDF_FONT');
  const boldSetting = env.FLYMINING_BILLING_PDF_FONT_BOLD;
  const bold = boldSetting
    ? loadFont(boldSetting, 'FLYMINING_BILLING_PDF_FONT_BOLD')
    : !env.FLYMINING_BILLING_PDF_FONT && existsSync(DEFAULT_PDF_FONTS.bold)
      ? loadFont(DEFAULT_PDF_FONTS.bold, 'FLYMINING_BILLING_PDF_FONT_BOLD')
      : regular;
  const fallbackSetting = env.FLYMINING_BILLING_PDF_FONT_FALLBACK;
  const fallbackPath = fallbackSetting ?? DEFAULT_PDF_FONTS.fallback;
  const fallback = fallbackPath === '' || (fallbackSetting === undefined && !existsSync(fallbackPath)) ? null : loadFont(fallbackPath, 'FLYMINING_BILLING_PDF_FONT_FALLBACK');
  return { regular, bold, fallback };
}

let cached: { key: string; fonts: PdfFonts | null } | undefined;

/** pdfFontsFromEnv, read once per process (and again only if the settings change): a month's run renders thousands. */
export function statementFonts(env: NodeJS.ProcessEnv = process.env): PdfFonts | null {
  const key = [env.FLYMINING_BILLING_PDF_FONT, env.FLYMINING_BILLING_PDF_FONT_BOLD, env.FLYMINING_BILLING_PDF_FONT_FALLBACK].join('\0');
  if (cached?.key !== key) cached = { key, fonts: pdfFontsFromEnv(env) };
  return cached.fonts;
}

/**
 * `text` cut into runs of one font each: the main font wherever it has the glyph, else the fallback where that has
 * it, else the main font again (a box). Most text is one run.
 */
export function fontRuns(text: string, main: LoadedFont, fallback: LoadedFont | null): Array<{ fallback: boolean; text: string }> {
  const runs: Array<{ fallback: boolean; text: string }> = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const useFallback = fallback !== null && !main.covers(cp) && fallback.covers(cp);
    const last = runs[runs.length - 1];
    if (last && last.fallback === useFallback) last.text += ch;
    else runs.push({ fallback: useFallback, text: ch });
  }
  return runs;
}
