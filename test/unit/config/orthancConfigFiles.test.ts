/**
 * Orthanc's own configuration files load as they are: the full default
 * configuration that Orthanc 1.10 prints (`Orthanc --config=FILE`, every key it
 * knows, with its comments) and the Debian package's /etc/orthanc directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../main/config/loadConfig.js';
import { haveOrthanc, ORTHANC_BINARY, ORTHANC_PACKAGES } from '../../support/orthanc.js';
import { peerAvailable, skipNote } from '../../support/peers.js';

const ready = peerAvailable(ORTHANC_PACKAGES, haveOrthanc());

describe.skipIf(!ready)(`Orthanc configuration files${skipNote(ORTHANC_PACKAGES, haveOrthanc())}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orthanc-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads Orthanc 1.10's complete default configuration with no unknown key and its defaults", () => {
    const file = join(dir, 'orthanc-default.json');
    execFileSync(ORTHANC_BINARY, [`--config=${file}`], { cwd: dir });
    const text = readFileSync(file);
    const { config, warnings } = loadConfigFile(file);
    expect(warnings.filter((w) => w.includes('unknown key'))).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Orthanc options not used by this workstation were ignored: ');
    expect(warnings[0]).toContain('DicomAet');
    expect(config.Name).toBe('MyOrthanc');
    expect(config.HttpPort).toBe(8042);
    expect(config.RemoteAccessAllowed).toBe(false);
    expect(config.AuthenticationEnabled).toBe(false);
    expect(config.HttpTimeout).toBe(60);
    expect(config.HttpsVerifyPeers).toBe(true);
    expect(config.StorageDirectory).toBe(join(dir, 'OrthancStorage'));
    expect(config.IndexDirectory).toBe(join(dir, 'OrthancStorage'));
    expect(readFileSync(file).equals(text)).toBe(true);
  });

  it.skipIf(!existsSync('/etc/orthanc/orthanc.json'))('loads the Debian /etc/orthanc directory, merging its files', () => {
    const { config, warnings } = loadConfigFile('/etc/orthanc');
    expect(warnings.filter((w) => w.includes('unknown key'))).toEqual([]);
    expect(config.DicomWeb.Root).toBe('/dicom-web/');
    const declared = /^\s*"StorageDirectory"\s*:\s*"([^"]+)"/m.exec(readFileSync('/etc/orthanc/orthanc.json', 'utf8'));
    expect(config.StorageDirectory).toBe(declared?.[1]);
  });
});
