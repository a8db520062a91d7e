import type { z } from 'zod';

/** A zod issue's path: keys and array indexes. */
export type IssuePath = ReadonlyArray<PropertyKey>;

export interface IssueFormat {
  /**
   * Names the place of a path, e.g. "file:line:col: path" (YamlLocator.where) or an environment variable.
   * Without it a place is the dotted path.
   */
  locate?: (path: IssuePath) => string;
  /** What an empty path is called without `locate` (the whole value): '(body)', '(settings)'. Default ''. */
  whole?: string;
  /** At most this many lines: a hostile input can carry thousands of issues. */
  limit?: number;
  /** The messages alone, for schemas whose messages already name the field in words ("Amount: must be more than zero"). */
  messagesOnly?: boolean;
}

/** "a.b.0.c": the dotted form most messages use (String() because a symbol key would make join throw). */
export function dottedPath(path: IssuePath): string {
  return path.map(String).join('.');
}

/** "a.b[0].c": the form the YAML-located messages use; '' for the whole document. */
export function bracketPath(path: IssuePath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/**
 * One "place: message" line per zod issue. zod's prettifyError writes its own layout ("✖ message\n  → at path");
 * ours names the file, line or variable the user has to edit, so every component reads the same way.
 */
export function formatIssues(error: z.ZodError, options: IssueFormat = {}): string[] {
  const { locate, whole = '', limit = Infinity, messagesOnly = false } = options;
  const place = locate ?? ((path: IssuePath) => dottedPath(path) || whole);
  return error.issues.slice(0, limit).map((issue) => (messagesOnly ? issue.message : `${place(issue.path)}: ${issue.message}`));
}
