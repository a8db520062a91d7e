import { LineCounter, parseDocument, type Document } from 'yaml';
import { bracketPath, type IssuePath } from './issues';

/**
 * Finds where a path lies in a YAML text, for messages that name "file:line:col". The document is built only when
 * first asked (it costs several times the memory of the plain parse), so a valid file never pays for it.
 */
export class YamlLocator {
  private doc: Document.Parsed | undefined;
  private readonly lineCounter = new LineCounter();

  constructor(
    private readonly text: string,
    /** The file path (or other name) every location starts with. */
    readonly source: string,
  ) {}

  get document(): Document.Parsed {
    this.doc ??= parseDocument(this.text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
    return this.doc;
  }

  /** "file:line:col" of a character offset; the bare source when there is none. */
  lineOf(offset: number | undefined): string {
    if (offset === undefined) return this.source;
    void this.document; // fills the line counter
    const { line, col } = this.lineCounter.linePos(offset);
    return `${this.source}:${line}:${col}`;
  }

  /** "file:line:col: path" of the deepest node of `path` that exists (a missing key is reported at its parent mapping). */
  where(path: IssuePath): string {
    let at = path.filter((p): p is string | number => typeof p !== 'symbol');
    let node: unknown = this.document.getIn(at, true);
    while (!node && at.length > 0) {
      at = at.slice(0, -1);
      node = at.length ? this.document.getIn(at, true) : this.document.contents;
    }
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return `${this.lineOf(range?.[0])}: ${bracketPath(path) || '(document)'}`;
  }

  /** "file:line:col: YAML syntax: first line of the message" per syntax error of the text. */
  syntaxErrors(): string[] {
    return this.document.errors.map((e) => `${this.lineOf(e.pos[0])}: YAML syntax: ${e.message.split('\n')[0]}`);
  }
}
