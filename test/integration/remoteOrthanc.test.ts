/**
 * The seed's "Querying a remote DICOMweb server" section, run verbatim with
 * curl (only the port changed) against our headless engine, with a real
 * Orthanc 1.10 + DICOMweb plugin as "sample"; QIDO values with Orthanc's
 * quirks (no percent-decoding); a second Orthanc with AuthenticationEnabled +
 * RegisteredUsers, reached with the right and the wrong password.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { freePort, haveOrthanc, ORTHANC_BINARY, ORTHANC_DICOMWEB_PLUGIN, ORTHANC_PACKAGES, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { synthInstance } from '../support/synth.js';

const run = promisify(execFile);
const ready = peerAvailable(ORTHANC_PACKAGES, haveOrthanc());
const note = skipNote(ORTHANC_PACKAGES, haveOrthanc());

const PATIENTS = ['JODOGNE^SEBASTIEN', 'VAN DER BERG^ANNA', 'MÜLLER^JÖRG', 'DOE^JOHN'];
const studyUid = (i: number) => `1.2.826.0.1.3680043.10.1137.77.${i + 1}`;
const instances = PATIENTS.map((name, i) =>
  synthInstance({
    patientID: `R1-${i}`,
    patientName: name,
    studyInstanceUID: studyUid(i),
    seriesInstanceUID: `${studyUid(i)}.1`,
    sopInstanceUID: `${studyUid(i)}.1.1`,
    rows: 8,
    columns: 8,
  }),
);

/**
 * An Orthanc with AuthenticationEnabled + RegisteredUsers. (The harness's
 * startOrthanc() waits for GET /system without credentials, which such an
 * Orthanc refuses; this waits with them.)
 */
async function startSecuredOrthanc(user: string, password: string): Promise<{ dicomWebUrl: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'orthanc-auth-'));
  const httpPort = await freePort();
  const config = {
    Name: 'secured', HttpPort: httpPort, DicomPort: await freePort(), StorageDirectory: join(dir, 'storage'), IndexDirectory: join(dir, 'index'),
    Plugins: [ORTHANC_DICOMWEB_PLUGIN], RemoteAccessAllowed: true, AuthenticationEnabled: true, RegisteredUsers: { [user]: password },
    OrthancExplorerEnabled: false, WebDavEnabled: false, HttpCompressionEnabled: false,
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
  const child = spawn(ORTHANC_BINARY, [join(dir, 'orthanc.json')], { cwd: dir, stdio: 'ignore' });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${httpPort}`;
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/system`, { headers: { authorization: auth }, signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return { dicomWebUrl: `${url}/dicom-web`, close };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await close();
  throw new Error(`the Orthanc with authentication on port ${httpPort} did not start`);
}

type Dataset = Record<string, { vr: string; Value?: unknown[] }>;
const names = (datasets: Dataset[]) => datasets.map((d) => (d['00100010']?.Value?.[0] as { Alphabetic: string }).Alphabetic).sort();

describe.skipIf(!ready)(`Remote DICOMweb servers: the seed's examples with a real Orthanc as "sample"${note}`, () => {
  let sample: RunningOrthanc;
  let secured: { dicomWebUrl: string; close(): Promise<void> };
  let engine: TestEngine;
  let port: string;

  /** Runs a bash script of curl commands as the seed writes them, against our engine's port. */
  const shell = async (script: string) => (await run('bash', ['-c', script.replaceAll('localhost:8042', `localhost:${port}`)], { timeout: 30_000 })).stdout;
  const post = (path: string, body: unknown) => fetch(`${engine.dicomWebUrl}/${path}`, { method: 'POST', body: JSON.stringify(body) });

  beforeAll(async () => {
    const started = await Promise.allSettled([startOrthanc(), startSecuredOrthanc('alice', 'right-password')]);
    if (started[0].status === 'fulfilled') sample = started[0].value;
    if (started[1].status === 'fulfilled') secured = started[1].value;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    for (const bytes of instances) {
      const res = await fetch(`${sample.url}/instances`, { method: 'POST', body: bytes });
      expect(res.status).toBe(200);
    }
    engine = await startTestEngine({
      DicomWeb: {
        Servers: {
          sample: [`${sample.dicomWebUrl}/`],
          secured: [`${secured.dicomWebUrl}/`, 'alice', 'right-password'],
          wrong: { Url: `${secured.dicomWebUrl}/`, Username: 'alice', Password: 'wrong-password' },
        },
      },
    });
    port = new URL(engine.url).port;
  });
  afterAll(async () => {
    await engine?.close();
    await Promise.all([sample?.close(), secured?.close()]);
  });

  it('lists the servers: curl http://localhost:8042/dicom-web/servers/', async () => {
    const out = await shell('curl -s http://localhost:8042/dicom-web/servers/');
    expect(JSON.parse(out)).toEqual(['sample', 'secured', 'wrong']);
  });

  it('runs the seed\'s first /get example (all the studies) and passes Orthanc\'s answer back', async () => {
    const out = await shell(`curl -s http://localhost:8042/dicom-web/servers/sample/get -d @- << EOF
{
  "Uri" : "/studies"
}
EOF`);
    const studies = JSON.parse(out) as Dataset[];
    expect(names(studies)).toEqual([...PATIENTS].sort());
  });

  it('runs the seed\'s /get example with an Accept header and Arguments, piped through json_pp', async () => {
    const out = await shell(`curl -s http://localhost:8042/dicom-web/servers/sample/get -d @- << EOF | json_pp
{
  "Uri" : "/studies",
  "HttpHeaders" : {
    "Accept" : "application/json"
  },
  "Arguments" : {
    "00100010" : "*JODOGNE*"
  }
}
EOF`);
    expect(names(JSON.parse(out) as Dataset[])).toEqual(['JODOGNE^SEBASTIEN']);
  });

  it('answers the remote\'s status and content type, and what Orthanc sends when asked for application/dicom+json', async () => {
    const res = await post('servers/sample/get', { Uri: '/studies', HttpHeaders: { Accept: 'application/dicom+json' }, Arguments: { PatientID: 'R1-3' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    expect(names((await res.json()) as Dataset[])).toEqual(['DOE^JOHN']);
  });

  it('sends ^ and * raw, so that Orthanc (which does not percent-decode) finds the study by person name', async () => {
    const res = await post('servers/sample/qido', { Uri: '/studies', Arguments: { PatientName: 'JODOGNE^*' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dicom+json');
    expect(names((await res.json()) as Dataset[])).toEqual(['JODOGNE^SEBASTIEN']);
    const wildcard = await post('servers/sample/qido', { Uri: '/studies', Arguments: { PatientName: 'VAN?DER*' } });
    expect(names((await wildcard.json()) as Dataset[])).toEqual(['VAN DER BERG^ANNA']);
  });

  it('sends "," raw, so that a list of UIDs matches several studies', async () => {
    const res = await post('servers/sample/qido', { Uri: '/studies', Arguments: { StudyInstanceUID: `${studyUid(0)},${studyUid(3)}` } });
    expect(names((await res.json()) as Dataset[])).toEqual(['DOE^JOHN', 'JODOGNE^SEBASTIEN']);
  });

  it('percent-encodes a space and non-ASCII letters: Orthanc 1.10 answers (no 400 for raw bytes) though it cannot decode them to match', async () => {
    for (const value of ['VAN DER*', 'MÜLLER*']) {
      const res = await post('servers/sample/qido', { Uri: '/studies', Arguments: { PatientName: value } });
      expect(res.status, value).toBe(200);
      expect(Array.isArray(await res.json())).toBe(true);
    }
  });

  it('reads "HttpArguments" as the seed\'s Remark 2 names it', async () => {
    const res = await post('servers/sample/qido', { Uri: '/studies', HttpArguments: { PatientID: 'R1-1' } });
    expect(names((await res.json()) as Dataset[])).toEqual(['VAN DER BERG^ANNA']);
  });

  it('passes a WADO-RS answer back as it comes: multipart, the stored bytes inside', async () => {
    const res = await post('servers/sample/get', { Uri: `/studies/${studyUid(2)}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/related/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.includes(instances[2])).toBe(true);
  });

  it('passes the remote\'s 404 back, with a message naming the server and the URL', async () => {
    const res = await post('servers/sample/get', { Uri: '/studies/1.2.3.404' });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { Message: string; ErrorKind: string; RemoteStatus: number };
    expect(body.ErrorKind).toBe('remote-status');
    expect(body.RemoteStatus).toBe(404);
    expect(body.Message).toContain(`get from 'sample': HTTP 404 Not Found from ${sample.dicomWebUrl}/studies/1.2.3.404`);
  });

  it('refuses a Uri carrying its own query, as Orthanc does', async () => {
    const res = await post('servers/sample/get', { Uri: '/studies?PatientName=X' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { Message: string }).Message).toMatch(/"Uri" must not contain '\?'/);
  });

  it('offers the operations of a server, like Orthanc', async () => {
    expect(await (await fetch(`${engine.dicomWebUrl}/servers/sample`)).json()).toEqual(['get', 'retrieve', 'stow', 'qido']);
    const unknown = await fetch(`${engine.dicomWebUrl}/servers/nope`);
    expect(unknown.status).toBe(404);
  });

  it('reaches an Orthanc with authentication using the right password', async () => {
    const res = await post('servers/secured/qido', { Uri: '/studies' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it('with the wrong password, says HTTP 401 and names the server and the URL, and never the password', async () => {
    const qido = await post('servers/wrong/qido', { Uri: '/studies' });
    expect(qido.status).toBe(502);
    const text = await qido.text();
    expect(JSON.parse(text).Message).toMatch(new RegExp(`^qido from 'wrong': HTTP 401 Unauthorized from ${secured.dicomWebUrl}/studies`));
    expect(text).not.toContain('wrong-password');

    const get = await post('servers/wrong/get', { Uri: '/studies' });
    expect(get.status).toBe(401);
    expect(get.headers.get('www-authenticate')).toBeNull();
    const body = await get.text();
    expect(JSON.parse(body).Message).toMatch(/^get from 'wrong': HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies/);
    expect(body).not.toContain('wrong-password');
  });

  it('never shows a password in the expanded list', async () => {
    const res = await fetch(`${engine.dicomWebUrl}/servers/?expand`);
    const text = await res.text();
    expect(text).not.toContain('right-password');
    expect(text).not.toContain('wrong-password');
    expect(JSON.parse(text).secured).toMatchObject({ Url: `${secured.dicomWebUrl}/`, Username: 'alice', HasPassword: true });
  });
});
