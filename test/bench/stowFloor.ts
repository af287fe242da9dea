/**
 * The floor under issue 3's stow target: how fast an empty Orthanc 1.10 can
 * store the client benchmark's 1,000 instances (140x140 16-bit, ~39 KB each)
 * whoever sends them. A client that costs nothing: every request body is built
 * before the clock starts, and sent by node:http from this process. For each
 * request shape (instances per request x requests in flight), a fresh Orthanc
 * with empty storage, the wall time and the Orthanc's CPU time; every instance
 * is checked stored. Storage is deleted only at the end (see --delete-between-rounds
 * in server.ts: deleting files slows the next creations on this disk).
 *
 *   npm run build:main && node dist/test/bench/stowFloor.js [10x1,10x4,50x4,…]
 */
import { rmSync } from 'node:fs';
import { haveOrthanc, startOrthanc } from '../support/orthanc.js';
import { synthInstance, synthUid } from '../support/synth.js';
import { MultipartWriter } from '../../main/dicomweb/multipart.js';
import { cpuSeconds, expectOk, getJson, machineLine, now, send } from './common.js';

const COUNT = 1000;
const SHAPES = (process.argv[2] ?? '10x1,10x2,10x4,10x8,50x4,250x4,1000x1').split(',').map((s) => {
  const [per, inFlight] = s.split('x').map(Number);
  if (!Number.isInteger(per) || !Number.isInteger(inFlight) || per! < 1 || inFlight! < 1) throw new Error(`shape '${s}': expected PERxINFLIGHT, e.g. 10x4`);
  return { per: per!, inFlight: inFlight! };
});

/** The same instances as bench:client's (a)/(b) study: 4 series of 250, 140x140. */
const files = Array.from({ length: COUNT }, (_, k) =>
  synthInstance({
    patientID: 'STOW-FLOOR',
    patientName: 'STOW^FLOOR',
    studyInstanceUID: synthUid('stow-floor', 1),
    seriesInstanceUID: synthUid('stow-floor-series', Math.floor(k / 250)),
    sopInstanceUID: synthUid('stow-floor-instance', k),
    instanceNumber: k + 1,
    rows: 140,
    columns: 140,
  }),
);

function requests(per: number): Array<{ type: string; body: Buffer }> {
  const out: Array<{ type: string; body: Buffer }> = [];
  for (let k = 0; k < files.length; k += per) {
    const w = new MultipartWriter('application/dicom');
    out.push({ type: w.contentType, body: Buffer.concat([...files.slice(k, k + per).flatMap((f) => [w.partHead({ 'Content-Type': 'application/dicom' }), f]), w.end()]) });
  }
  return out;
}

async function main(): Promise<void> {
  if (!haveOrthanc()) throw new Error("Orthanc is missing: install the Debian packages 'orthanc orthanc-dicomweb'");
  console.log(`Machine: ${machineLine()}; ${COUNT} instances of ~${Math.round(files[0]!.length / 1024)} KB into an empty Orthanc\n`);
  console.log('| Instances per request | Requests in flight | Wall time | Orthanc CPU |\n|---:|---:|---:|---:|');
  const dirs: string[] = [];
  try {
    for (const { per, inFlight } of SHAPES) {
      const all = requests(per);
      const orthanc = await startOrthanc({ keepDir: true });
      dirs.push(orthanc.dir);
      const cpu0 = cpuSeconds(orthanc.pid);
      const t0 = now();
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < all.length) {
            const r = all[next++]!;
            await expectOk('STOW-RS', send('POST', `${orthanc.dicomWebUrl}/studies`, { 'content-type': r.type, accept: 'application/dicom+json' }, r.body));
          }
        }),
      );
      const ms = now() - t0;
      const cpu = cpuSeconds(orthanc.pid) - cpu0;
      const stored = (await getJson<{ CountInstances: number }>('statistics', `${orthanc.url}/statistics`)).CountInstances;
      await orthanc.close();
      if (stored !== COUNT) throw new Error(`${per}x${inFlight}: Orthanc holds ${stored} instances, expected ${COUNT}`);
      console.log(`| ${per} | ${inFlight} | ${(ms / 1000).toFixed(2)} s | ${cpu.toFixed(2)} s |`);
    }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
