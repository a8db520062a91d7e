/**
 * Secrets come from files (Docker secrets, mode-600 files) or the environment, never from a command line or a log.
 * These helpers read a secret file with an error that names the setting and the file but never the content, and
 * take credentials out of URLs so that what is logged or shown names the host only.
 */
import { readFileSync } from 'node:fs';

export class SecretFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFileError';
  }
}

/** The file's text without its final newline. `setting` names where the path came from, e.g. FLYMINING_MQTT_PASSWORD_FILE. */
export function readSecretFile(file: string, setting: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SecretFileError(`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) throw new SecretFileError(`${setting}: ${file} is empty`);
  return secret;
}

export interface UrlCredentials {
  /** The URL without user name and password. */
  url: string;
  username?: string;
  password?: string;
}

/** Splits `scheme://user:pass@host:port/path` into the bare URL and its credentials (percent-decoded). */
export function splitUrlCredentials(text: string): UrlCredentials {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { url: text };
  }
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString().replace(/\/$/, text.endsWith('/') ? '/' : ''), username, password };
}

/** A URL fit for a log line: the password replaced by *** (the user name stays: it says which account). */
export function redactUrl(text: string): string {
  const { url, username, password } = splitUrlCredentials(text);
  // Not a URL to the WHATWG parser (e.g. redis+sentinel:// with several hosts): the password is cut out as text.
  if (url === text && username === undefined && password === undefined) return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
  if (username === undefined && password === undefined) return url;
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(username ?? '');
  if (password !== undefined) parsed.password = '***';
  return parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
}
