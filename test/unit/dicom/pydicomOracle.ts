/**
 * Runs test/support/pydicomJson.py (pydicom 2.3 under /usr/bin/python3) on
 * files and returns what pydicom makes of them: DICOM JSON, bulk value
 * digests by path, frame digests. The independent oracle for the parser tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DicomJsonDataset } from '../../../main/dicom/types.js';

export interface Digest {
  length: number;
  md5: string;
}

export interface PydicomView {
  dataset?: DicomJsonDataset;
  bulk?: Record<string, Digest>;
  frames?: Digest[] | null;
  framesError?: string;
  error?: string;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../support/pydicomJson.py', import.meta.url));

export const havePydicom =
  existsSync(PYTHON) &&
  (() => {
    try {
      execFileSync(PYTHON, ['-c', 'import pydicom'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

export function pydicomView(files: string[]): Record<string, PydicomView> {
  if (files.length === 0) return {};
  const out = execFileSync(PYTHON, [SCRIPT, ...files], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(out) as Record<string, PydicomView>;
}
