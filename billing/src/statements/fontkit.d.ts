/** The part of fontkit (pdfkit's font parser, no types of its own) that render.ts uses: glyph coverage. */
declare module 'fontkit' {
  export interface Font {
    hasGlyphForCodePoint(codePoint: number): boolean;
    /** What pdfkit's registerFont recognises a parsed font by. */
    layout(text: string): unknown;
  }
  export function create(buffer: Buffer): Font | { fonts: Font[] };
}
