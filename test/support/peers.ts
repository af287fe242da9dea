/**
 * The one rule for peers the test suite needs from Debian (orthanc,
 * orthanc-dicomweb, python3-pydicom, dcmtk, chromium): on a developer machine a
 * missing peer skips the tests that need it, and says so by name in their
 * titles; in CI (CI=true) a missing peer is a failure naming the package to install.
 *
 *   describe.skipIf(!peerAvailable('orthanc', haveOrthanc()))(
 *     `talks to Orthanc${skipNote('orthanc', haveOrthanc())}`, ...)
 */

export function inCI(): boolean {
  return process.env.CI === 'true';
}

/** Missing Debian packages already reported, so each is named once on stderr. */
const reported = new Set<string>();

/**
 * True when the peer is there. When it is not: throws in CI, otherwise returns
 * false (the caller skips) after one line on stderr naming the package.
 * `name` is the Debian package (or packages, space-separated) that provides it.
 */
export function peerAvailable(name: string, available: boolean): boolean {
  if (available) return true;
  const message = `Debian package '${name}' is missing: install it with 'apt-get install -y ${name}'`;
  if (inCI()) throw new Error(`${message} (CI=true: a missing peer is a failure, not a skip)`);
  if (!reported.has(name)) {
    reported.add(name);
    process.stderr.write(`[peers] ${message}; the tests that need it are skipped\n`);
  }
  return false;
}

/** Suffix for a test title: empty when the peer is there, else the reason it is skipped. */
export function skipNote(name: string, available: boolean): string {
  return available ? '' : ` [skipped: Debian package '${name}' is not installed]`;
}
