/** Reading a PDF as a person would, with poppler-utils: its text (pdftotext) and its first page as pixels (pdftoppm). */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${command}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

export interface RenderedPdf {
  text: string;
  pages: number;
  /** First page rendered at 50 dpi: width, height and the share of pixels that are not white. */
  png: { width: number; height: number; inkShare: number };
}

export async function renderPdf(pdf: Buffer): Promise<RenderedPdf> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flymining-pdf-'));
  try {
    const file = path.join(dir, 'statement.pdf');
    await writeFile(file, pdf);
    const text = await run('pdftotext', ['-layout', file, '-']);
    const info = await run('pdfinfo', [file]);
    await run('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'page')]);
    const png = greyPng(await readFile(path.join(dir, 'page.png')));
    const ink = png.pixels.reduce((n, v) => n + (v < 200 ? 1 : 0), 0);
    return { text, pages: Number(/^Pages:\s+(\d+)/m.exec(info)?.[1] ?? 0), png: { width: png.width, height: png.height, inkShare: ink / png.pixels.length } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Decodes an 8-bit, non-interlaced PNG (what pdftoppm writes) to one brightness (0-255, the channels' mean) per pixel. */
function greyPng(buf: Buffer): { width: number; height: number; pixels: Uint8Array } {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let bpp = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bpp = CHANNELS[data[9]!] ?? 0;
      if (data[8] !== 8 || bpp === 0 || data[12] !== 0) throw new Error('expected an 8-bit, non-interlaced, non-palette PNG');
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const bytes = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const left = x >= bpp ? bytes[y * stride + x - bpp]! : 0;
      const up = y > 0 ? bytes[(y - 1) * stride + x]! : 0;
      const upLeft = x >= bpp && y > 0 ? bytes[(y - 1) * stride + x - bpp]! : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`unknown PNG filter ${filter}`);
      bytes[y * stride + x] = (v + predictor) & 0xff;
    }
  }
  const colours = Math.min(bpp, 3) === 2 ? 1 : Math.min(bpp, 3);
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    let sum = 0;
    for (let c = 0; c < colours; c++) sum += bytes[i * bpp + c]!;
    pixels[i] = Math.round(sum / colours);
  }
  return { width, height, pixels };
}

/** PNG's Paeth predictor: whichever neighbour is nearest to left + up − upper-left (ties: left, up, upper-left). */
function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const [dl, du, dul] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
  return dl <= du && dl <= dul ? left : du <= dul ? up : upLeft;
}
