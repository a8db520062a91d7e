/**
 * Durable store-and-forward spool for line protocol that InfluxDB could not take.
 *
 * Layout: append-only segment files `<dir>/<seq 16 digits>.lp`, one line-protocol line per '\n'-terminated line.
 * Every line keeps its own timestamp, so a replay rewrites the identical point (InfluxDB overwrites, no duplicate).
 * Each append is fsynced before it resolves. A process killed mid-append leaves at most a torn last line, which
 * open() cuts off. The total size is bounded: when full, the OLDEST segments are deleted and their lines counted.
 */
import {
  closeSync,
  fdatasync as fdatasyncCb,
  fdatasyncSync,
  promises as fsp,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export interface SpoolOptions {
  dir: string;
  /** Upper bound on the bytes of all segments together. */
  maxBytes: number;
  /** A segment is sealed (handed to replay) once it reaches this size; default maxBytes / 8, 64 KiB to 16 MiB. */
  segmentBytes?: number;
}

export interface SpoolSegment {
  readonly seq: number;
  readonly file: string;
  bytes: number;
  lines: number;
  /** Timestamp (ms) of the segment's first line: the spool's oldest point is the first line of its oldest segment. */
  firstTimeMs?: number;
}

export interface SpoolStats {
  segments: number;
  bytes: number;
  lines: number;
  /** Lines appended since open. */
  appendedLines: number;
  /** Lines deleted unsent because the spool was full (oldest first), since open. */
  droppedLines: number;
  /** Bytes of a torn last line cut off at open (a crash mid-append). */
  tornBytesDiscarded: number;
}

const SEGMENT_NAME = /^(\d{16})\.lp$/;
const NEWLINE = 0x0a;
const TRAILING_TIMESTAMP = / (-?\d{1,19})$/;

/** The timestamp at the end of a line-protocol line, read as ms (the store writes precision=ms). */
export function lineTimeMs(line: string): number | undefined {
  const m = TRAILING_TIMESTAMP.exec(line);
  return m ? Number(m[1]) : undefined;
}

function firstLineTime(buf: Buffer): number | undefined {
  const end = buf.indexOf(NEWLINE);
  return lineTimeMs(buf.subarray(0, end === -1 ? buf.length : end).toString('utf8'));
}

function countLines(buf: Buffer): number {
  let n = 0;
  let i = buf.indexOf(NEWLINE);
  while (i !== -1) {
    n++;
    i = buf.indexOf(NEWLINE, i + 1);
  }
  return n;
}

export class Spool {
  private readonly segments: SpoolSegment[] = [];
  /** The segment appends go to, with its open file descriptor (O_APPEND). */
  private active: { segment: SpoolSegment; fd: number } | undefined;
  /** Serializes appends, seals and deletes: one file operation sequence at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Queued operations running now (between their first and last await): appendSync() must not touch their file. */
  private running = 0;
  private appendedLines = 0;
  private droppedLines = 0;
  private tornBytesDiscarded = 0;
  private nextSeq = 1;
  readonly segmentBytes: number;

  private constructor(readonly options: SpoolOptions) {
    this.segmentBytes =
      options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.maxBytes / 8)));
  }

  /** Opens (creating if needed) the spool folder; repairs a torn last line left by a crash. */
  static open(options: SpoolOptions): Spool {
    const spool = new Spool(options);
    spool.load();
    return spool;
  }

  private load(): void {
    mkdirSync(this.options.dir, { recursive: true });
    const names = readdirSync(this.options.dir)
      .filter((n) => SEGMENT_NAME.test(n))
      .sort();
    for (const name of names) {
      const file = path.join(this.options.dir, name);
      const buf = readFileSync(file);
      const lastNewline = buf.lastIndexOf(NEWLINE);
      const intact = lastNewline + 1;
      if (intact < buf.length) {
        // A kill mid-append leaves a line without its '\n': it was never acknowledged, drop it.
        truncateSync(file, intact);
        this.tornBytesDiscarded += buf.length - intact;
      }
      const seq = Number(SEGMENT_NAME.exec(name)?.[1]);
      if (intact === 0) {
        unlinkSync(file);
      } else {
        const lines = countLines(buf.subarray(0, intact));
        this.segments.push({ seq, file, bytes: intact, lines, firstTimeMs: firstLineTime(buf.subarray(0, intact)) });
      }
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.running++;
      try {
        return await op();
      } finally {
        this.running--;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Appends lines durably (fsync) and enforces the size bound. Resolves with the lines dropped to make room. */
  append(lines: readonly string[]): Promise<number> {
    if (lines.length === 0) return Promise.resolve(0);
    const data = Buffer.from(lines.join('\n') + '\n', 'utf8');
    return this.enqueue(async () => {
      const active = this.activeSegment();
      await writeAll(active.fd, data);
      await fdatasync(active.fd);
      this.noteAppended(active.segment, lines, data.length);
      if (active.segment.bytes >= this.segmentBytes) this.sealActive();
      return this.enforceBound();
    });
  }

  /**
   * Appends lines durably before returning (write + fdatasync on the calling thread): a process killed right after
   * loses none of them. Returns the lines dropped to make room. While a queued operation is mid-way on the active
   * segment, the lines go to a segment file of their own instead, so the two never share a file descriptor.
   */
  appendSync(lines: readonly string[]): number {
    if (lines.length === 0) return 0;
    const data = Buffer.from(lines.join('\n') + '\n', 'utf8');
    if (this.running > 0) {
      const segment = this.newSegment();
      const fd = openSync(segment.file, 'a');
      try {
        writeSync(fd, data);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.noteAppended(segment, lines, data.length);
      return 0;
    }
    const active = this.activeSegment();
    writeSync(active.fd, data);
    fdatasyncSync(active.fd);
    this.noteAppended(active.segment, lines, data.length);
    if (active.segment.bytes >= this.segmentBytes) this.sealActive();
    return this.enforceBound();
  }

  private noteAppended(segment: SpoolSegment, lines: readonly string[], bytes: number): void {
    if (segment.lines === 0) segment.firstTimeMs = lineTimeMs(lines[0] as string);
    segment.bytes += bytes;
    segment.lines += lines.length;
    this.appendedLines += lines.length;
  }

  private newSegment(): SpoolSegment {
    const seq = this.nextSeq++;
    const segment: SpoolSegment = { seq, file: path.join(this.options.dir, `${String(seq).padStart(16, '0')}.lp`), bytes: 0, lines: 0 };
    this.segments.push(segment);
    return segment;
  }

  // Opening, closing and deleting files are synchronous: quick (no fsync), and no other operation can interleave.
  private activeSegment(): { segment: SpoolSegment; fd: number } {
    if (this.active) return this.active;
    const segment = this.newSegment();
    this.active = { segment, fd: openSync(segment.file, 'a') };
    return this.active;
  }

  private sealActive(): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    closeSync(active.fd);
    if (active.segment.bytes === 0) this.unlink(active.segment);
  }

  private enforceBound(): number {
    let dropped = 0;
    while (this.totalBytes() > this.options.maxBytes && this.segments.length > 0) {
      const oldest = this.segments[0] as SpoolSegment;
      if (this.active?.segment === oldest) this.sealActive();
      this.unlink(oldest);
      dropped += oldest.lines;
    }
    this.droppedLines += dropped;
    return dropped;
  }

  private unlink(segment: SpoolSegment): void {
    const index = this.segments.indexOf(segment);
    if (index === -1) return;
    this.segments.splice(index, 1);
    try {
      unlinkSync(segment.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * The oldest segment, sealed so appends go elsewhere while it is replayed; undefined when empty.
   * The caller reads it with readLines() and deletes it with remove() only after InfluxDB accepted it.
   */
  oldest(): Promise<SpoolSegment | undefined> {
    return this.enqueue(async () => {
      const first = this.segments[0];
      if (first && this.active?.segment === first) this.sealActive();
      return this.segments[0];
    });
  }

  /** The lines of a segment, or undefined when it was dropped meanwhile (spool full). */
  async readLines(segment: SpoolSegment): Promise<string[] | undefined> {
    if (!this.segments.includes(segment)) return undefined;
    let text: string;
    try {
      text = await fsp.readFile(segment.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const lines = text.split('\n');
    lines.pop(); // the text ends with '\n'
    // A crash of the machine (not just the process) can leave zero-filled blocks: never send those.
    return lines.filter((l) => l.length > 0 && !l.includes('\0'));
  }

  /**
   * Deletes a segment after InfluxDB accepted all its lines. Returns false when it had been dropped already.
   * `onRemoved` runs in the same step as the segment leaves the spool's counts, so a reader never sees the lines
   * gone from the spool but not yet counted where they went.
   */
  remove(segment: SpoolSegment, onRemoved?: () => void): Promise<boolean> {
    return this.enqueue(async () => {
      if (!this.segments.includes(segment)) return false;
      this.unlink(segment);
      onRemoved?.();
      return true;
    });
  }

  /** Time (ms) of the oldest spooled point, 0 when the spool is empty; from the first line of the oldest segment. */
  oldestTimeMs(): number {
    for (const s of this.segments) if (s.lines > 0) return s.firstTimeMs ?? 0;
    return 0;
  }

  totalBytes(): number {
    let sum = 0;
    for (const s of this.segments) sum += s.bytes;
    return sum;
  }

  isEmpty(): boolean {
    return this.segments.every((s) => s.lines === 0);
  }

  stats(): SpoolStats {
    let lines = 0;
    for (const s of this.segments) lines += s.lines;
    return {
      segments: this.segments.length,
      bytes: this.totalBytes(),
      lines,
      appendedLines: this.appendedLines,
      droppedLines: this.droppedLines,
      tornBytesDiscarded: this.tornBytesDiscarded,
    };
  }

  /** Waits for pending appends and closes the active segment file. */
  close(): Promise<void> {
    return this.enqueue(async () => this.sealActive());
  }
}

function writeAll(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const from = (offset: number): void =>
      write(fd, data, offset, data.length - offset, null, (err, written) => {
        if (err) reject(err);
        else if (offset + written < data.length) from(offset + written);
        else resolve();
      });
    from(0);
  });
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasyncCb(fd, (err) => (err ? reject(err) : resolve())));
}

/** Size of a spool folder on disk (for tests and the doctor command); 0 when absent. */
export function spoolDirBytes(dir: string): number {
  try {
    return readdirSync(dir)
      .filter((n) => SEGMENT_NAME.test(n))
      .reduce((sum, n) => sum + statSync(path.join(dir, n)).size, 0);
  } catch {
    return 0;
  }
}
