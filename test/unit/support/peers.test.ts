/**
 * The rule for missing Debian peers (test/support/peers.ts): skip with a named
 * reason on a developer machine, fail in CI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { peerAvailable, skipNote } from '../../support/peers.js';

const saved = process.env.CI;
afterEach(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
});

describe('peerAvailable', () => {
  it('says a present peer is available, in CI or not', () => {
    process.env.CI = 'true';
    expect(peerAvailable('dcmtk', true)).toBe(true);
    delete process.env.CI;
    expect(peerAvailable('dcmtk', true)).toBe(true);
  });

  it('lets tests skip a missing peer outside CI', () => {
    delete process.env.CI;
    expect(peerAvailable('no-such-package-xyz', false)).toBe(false);
  });

  it('fails in CI on a missing peer, naming the package to install', () => {
    process.env.CI = 'true';
    expect(() => peerAvailable('no-such-package-xyz', false)).toThrow(/apt-get install -y no-such-package-xyz/);
  });

  it('puts the missing package in the skipped test title, and nothing when present', () => {
    expect(skipNote('orthanc', false)).toContain("'orthanc'");
    expect(skipNote('orthanc', true)).toBe('');
  });
});
