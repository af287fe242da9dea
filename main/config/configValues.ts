/**
 * Typed reading of configuration values. Every failure is an AppError('config')
 * whose message names where (file:line:column when known), the key path
 * ("DicomWeb.StowMaxInstances"), what was expected and what was found.
 */
import { AppError } from '../errors.js';

export type ConfigPath = ReadonlyArray<string | number>;

/** "DicomWeb.Servers.pacs[1]" */
export function keyPathText(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** What a value is, for messages: `"ten" (a string)`, `12.5 (a number)`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  switch (typeof value) {
    case 'string':
      return `${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)} (a string)`;
    case 'number':
      return `${value} (a number)`;
    case 'boolean':
      return `${value} (a boolean)`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads values of one configuration source; `where(path)` locates a key for messages. */
export class ConfigReader {
  constructor(private readonly where: (path: ConfigPath) => string) {}

  fail(path: ConfigPath, expected: string, found: unknown): never {
    const key = keyPathText(path);
    throw new AppError('config', `${this.where(path)}: ${key} must be ${expected}, found ${describeValue(found)}`, { key });
  }

  /** For a message about a key that is not a type mismatch. */
  error(path: ConfigPath, message: string): never {
    const key = keyPathText(path);
    throw new AppError('config', `${this.where(path)}: ${key} ${message}`, { key });
  }

  locate(path: ConfigPath): string {
    return this.where(path);
  }

  boolean(path: ConfigPath, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'true or false', value);
    return value;
  }

  string(path: ConfigPath, value: unknown, options: { nonEmpty?: boolean } = {}): string {
    if (typeof value !== 'string') this.fail(path, options.nonEmpty ? 'a non-empty string' : 'a string', value);
    if (options.nonEmpty && value.trim() === '') this.fail(path, 'a non-empty string', value);
    return value;
  }

  integer(path: ConfigPath, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const expected =
        max === Number.MAX_SAFE_INTEGER
          ? min === 0
            ? 'a non-negative integer'
            : `an integer >= ${min}`
          : `an integer from ${min} to ${max}`;
      this.fail(path, expected, value);
    }
    return value;
  }

  object(path: ConfigPath, value: unknown): Record<string, unknown> {
    if (!isPlainObject(value)) this.fail(path, 'an object', value);
    return value;
  }

  /** An object whose values are all strings, e.g. RegisteredUsers, HttpHeaders. */
  stringRecord(path: ConfigPath, value: unknown): Record<string, string> {
    const obj = this.object(path, value);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.string([...path, k], v);
    return out;
  }

  stringArray(path: ConfigPath, value: unknown): string[] {
    if (!Array.isArray(value)) this.fail(path, 'an array of strings', value);
    return value.map((v, i) => this.string([...path, i], v));
  }
}
