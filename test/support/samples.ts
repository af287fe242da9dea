/**
 * pydicom's real sample files (Debian package python3-pydicom): every common
 * transfer syntax, multi-frame, SR, RT, big endian, ISO 2022 character sets.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { peerAvailable } from './peers.js';

export const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data';
export const PYDICOM_TEST_FILES = join(PYDICOM_DATA, 'test_files');
export const PYDICOM_CHARSET_FILES = join(PYDICOM_DATA, 'charset_files');

/** False (tests skip) when python3-pydicom is missing; in CI its absence throws (test/support/peers.ts). */
export const havePydicomSamples = peerAvailable('python3-pydicom', existsSync(PYDICOM_TEST_FILES));

/** All .dcm sample files (absolute paths), test_files then charset_files. */
export function pydicomSampleFiles(): string[] {
  if (!havePydicomSamples) return [];
  const list = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.dcm'))
      .sort()
      .map((f) => join(dir, f));
  return [...list(PYDICOM_TEST_FILES), ...list(PYDICOM_CHARSET_FILES)];
}

export function sample(name: string): string {
  return name.startsWith('chr') ? join(PYDICOM_CHARSET_FILES, name) : join(PYDICOM_TEST_FILES, name);
}
