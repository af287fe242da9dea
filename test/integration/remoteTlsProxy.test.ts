/**
 * The remote HTTP client over TLS and through a proxy, against a real
 * Orthanc 1.10 + DICOMweb plugin (behind a TLS front: see remoteTestServers.ts
 * for why Orthanc does not serve HTTPS itself here), with certificates the
 * test makes with openssl: HttpsVerifyPeers, HttpsCACertificates, client
 * certificate + encrypted key + passphrase, HttpProxy (with and without
 * proxy credentials). Then the same options read from an engine's
 * configuration, through POST {Root}servers/{name}/qido.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteServerConfig } from '../../main/config/types.js';
import { AppError } from '../../main/errors.js';
import { createRemoteClient, type HttpGlobals } from '../../main/remote/httpClient.js';
import { startTestEngine } from '../support/engine.js';
import { haveOrthanc, ORTHANC_PACKAGES, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { synthInstance } from '../support/synth.js';
import { haveOpenssl, makeCertificates, startProxy, startTlsFront, type TestCertificates } from './remoteTestServers.js';

const ready = peerAvailable(ORTHANC_PACKAGES, haveOrthanc()) && peerAvailable('openssl', haveOpenssl());
const note = skipNote(ORTHANC_PACKAGES, haveOrthanc()) + skipNote('openssl', haveOpenssl());

const GLOBALS: HttpGlobals = { HttpTimeout: 10, HttpsVerifyPeers: true };

/** QIDO-RS studies through a client made with these options; resolves with the patient names. */
async function studies(server: RemoteServerConfig, globals: Partial<HttpGlobals> = {}): Promise<string[]> {
  const client = createRemoteClient('pacs', server, { ...GLOBALS, ...globals });
  try {
    const { body } = await client.fetchBuffer({ method: 'GET', path: '/studies', headers: { Accept: 'application/dicom+json' } });
    return (JSON.parse(body.toString()) as Array<Record<string, { Value: Array<{ Alphabetic: string }> }>>).map((d) => d['00100010'].Value[0].Alphabetic);
  } finally {
    client.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe.skipIf(!ready)(`The remote HTTP client: TLS, client certificates, proxy${note}`, () => {
  let orthanc: RunningOrthanc;
  let certs: TestCertificates;
  let tls: Awaited<ReturnType<typeof startTlsFront>>;
  let mutualTls: Awaited<ReturnType<typeof startTlsFront>>;

  beforeAll(async () => {
    certs = makeCertificates();
    orthanc = await startOrthanc();
    const bytes = synthInstance({ patientID: 'TLS1', patientName: 'SECURE^PATIENT', studyInstanceUID: '1.2.826.0.1.3680043.10.1137.88.1', seriesInstanceUID: '1.2.826.0.1.3680043.10.1137.88.1.1', sopInstanceUID: '1.2.826.0.1.3680043.10.1137.88.1.1.1', rows: 8, columns: 8 });
    expect((await fetch(`${orthanc.url}/instances`, { method: 'POST', body: bytes })).status).toBe(200);
    tls = await startTlsFront(orthanc.url, certs);
    mutualTls = await startTlsFront(orthanc.url, certs, true);
  });
  afterAll(async () => {
    await Promise.all([tls?.close(), mutualTls?.close()]);
    await orthanc?.close();
    certs?.remove();
  });

  it('refuses a certificate it cannot verify (HttpsVerifyPeers, no CA), naming the server, the URL and what to do', async () => {
    const err = await failure(studies({ Url: `${tls.url}/dicom-web/` }));
    expect(err.kind).toBe('remote-unreachable');
    expect(err.message).toMatch(
      new RegExp(`^server 'pacs': cannot reach ${tls.url}/dicom-web/studies: the TLS certificate is not trusted \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\\): give its CA in HttpsCACertificates, or set HttpsVerifyPeers to false$`),
    );
  });

  it('trusts the server with HttpsCACertificates = its CA', async () => {
    expect(await studies({ Url: `${tls.url}/dicom-web/` }, { HttpsCACertificates: certs.caFile })).toEqual(['SECURE^PATIENT']);
  });

  it('talks to it without verifying when HttpsVerifyPeers is false', async () => {
    expect(await studies({ Url: `${tls.url}/dicom-web/` }, { HttpsVerifyPeers: false })).toEqual(['SECURE^PATIENT']);
  });

  it('a server whose certificate does not name the host is refused, and says so', async () => {
    const elsewhere = await startTlsFront(orthanc.url, certs, false, '127.0.0.2');
    try {
      const err = await failure(studies({ Url: `${elsewhere.url}/dicom-web/` }, { HttpsCACertificates: certs.caFile }));
      expect(err.message).toBe(`server 'pacs': cannot reach ${elsewhere.url}/dicom-web/studies: the TLS certificate does not name this host (ERR_TLS_CERT_ALTNAME_INVALID)`);
    } finally {
      await elsewhere.close();
    }
  });

  it('presents the client certificate with its encrypted key and passphrase when the server asks for one', async () => {
    const server = { Url: `${mutualTls.url}/dicom-web/`, CertificateFile: certs.clientCertFile, CertificateKeyFile: certs.clientKeyFile, CertificateKeyPassword: certs.clientKeyPassword };
    expect(await studies(server, { HttpsCACertificates: certs.caFile })).toEqual(['SECURE^PATIENT']);
    expect(mutualTls.clientNames).toContain('workstation');
  });

  it('without a client certificate, the server that requires one is unreachable', async () => {
    const err = await failure(studies({ Url: `${mutualTls.url}/dicom-web/` }, { HttpsCACertificates: certs.caFile }));
    expect(err.kind).toBe('remote-unreachable');
    expect(err.message).toMatch(
      new RegExp(`^server 'pacs': cannot reach ${mutualTls.url}/dicom-web/studies: (the server asks for a client certificate \\(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\\): set CertificateFile and CertificateKeyFile for this server|the TLS handshake failed: .*|connection reset by the peer \\(ECONNRESET\\))$`),
    );
  });

  it('a wrong CertificateKeyPassword is a configuration error that never shows the passphrase', () => {
    let err: unknown;
    try {
      createRemoteClient('pacs', { Url: `${mutualTls.url}/dicom-web/`, CertificateFile: certs.clientCertFile, CertificateKeyFile: certs.clientKeyFile, CertificateKeyPassword: 'not-the-passphrase' }, GLOBALS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('config');
    expect((err as AppError).message).toMatch(/^server 'pacs': the client certificate '.*client\.crt' and key '.*client\.key' cannot be used: .*\(is CertificateKeyPassword right\?\)/);
    expect((err as AppError).message).not.toContain('not-the-passphrase');
  });

  it('Pkcs11 is refused for that server only, with a clear sentence', () => {
    expect(() => createRemoteClient('card', { Url: `${tls.url}/dicom-web/`, Pkcs11: true }, GLOBALS)).toThrow("server 'card': PKCS#11 is not supported by this build");
  });

  it('goes through HttpProxy, for http and https servers alike (CONNECT tunnels)', async () => {
    const proxy = await startProxy();
    try {
      expect(await studies({ Url: `${orthanc.dicomWebUrl}/` }, { HttpProxy: proxy.url })).toEqual(['SECURE^PATIENT']);
      expect(await studies({ Url: `${tls.url}/dicom-web/` }, { HttpProxy: `127.0.0.1:${proxy.port}`, HttpsCACertificates: certs.caFile })).toEqual(['SECURE^PATIENT']);
      expect(proxy.seen).toEqual([
        { method: 'CONNECT', target: `127.0.0.1:${orthanc.httpPort}` },
        { method: 'CONNECT', target: `localhost:${tls.port}` },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('a proxy that wants credentials: refused without, accepted with them in HttpProxy, never shown in messages', async () => {
    const proxy = await startProxy('proxyuser:proxy-secret');
    try {
      const err = await failure(studies({ Url: `${orthanc.dicomWebUrl}/` }, { HttpProxy: proxy.url }));
      expect(err.message).toBe(`server 'pacs': cannot reach ${orthanc.dicomWebUrl}/studies: the proxy ${proxy.url} refused the connection (HTTP 407)`);
      expect(await studies({ Url: `${orthanc.dicomWebUrl}/` }, { HttpProxy: `http://proxyuser:proxy-secret@127.0.0.1:${proxy.port}` })).toEqual(['SECURE^PATIENT']);

      const down = await failure(studies({ Url: 'http://127.0.0.1:9/dicom-web/' }, { HttpProxy: `http://proxyuser:proxy-secret@127.0.0.1:${proxy.port}` }));
      expect(down.message).not.toContain('proxy-secret');
    } finally {
      await proxy.close();
    }
  });

  it('an engine applies HttpProxy, HttpsCACertificates and the client certificate from its configuration', async () => {
    const proxy = await startProxy();
    const engine = await startTestEngine({
      HttpProxy: proxy.url,
      HttpsCACertificates: certs.caFile,
      DicomWeb: {
        Servers: {
          secure: { Url: `${mutualTls.url}/dicom-web/`, CertificateFile: certs.clientCertFile, CertificateKeyFile: certs.clientKeyFile, CertificateKeyPassword: certs.clientKeyPassword },
        },
      },
    });
    try {
      const res = await fetch(`${engine.dicomWebUrl}/servers/secure/qido`, { method: 'POST', body: JSON.stringify({ Uri: '/studies', Arguments: { PatientName: 'SECURE^*' } }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as unknown[]).length).toBe(1);
      expect(proxy.seen).toEqual([{ method: 'CONNECT', target: `localhost:${mutualTls.port}` }]);
      const listed = await (await fetch(`${engine.dicomWebUrl}/servers/?expand`)).text();
      expect(listed).not.toContain(certs.clientKeyPassword);
      expect(JSON.parse(listed).secure).toMatchObject({ HasCertificateKeyPassword: true, CertificateFile: certs.clientCertFile });
    } finally {
      await engine.close();
      await proxy.close();
    }
  });
});
