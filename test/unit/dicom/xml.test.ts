/**
 * datasetToXml (PS3.19 Native DICOM Model): the XML, read back by a real XML
 * parser (fast-xml-parser), says the same as the DICOM JSON it was made from,
 * for every sample; names, escaping, bulk data URIs, private creators.
 */
import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { readPart10 } from '../../../main/dicom/readPart10.js';
import { datasetToXml } from '../../../main/dicom/xml.js';
import type { DicomJsonDataset, DicomJsonElement, DicomJsonPersonName, DicomJsonValue } from '../../../main/dicom/types.js';
import { havePydicomSamples, pydicomSampleFiles, sample } from '../../support/samples.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true, // numeric character references (&#13;) too
  isArray: (name) => ['DicomAttribute', 'Value', 'PersonName', 'Item'].includes(name),
});

type XmlNode = Record<string, unknown>;
const NUMERIC = new Set(['DS', 'IS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);
const COMPONENTS = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix'];

function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string') return node;
  return String((node as XmlNode)['#text'] ?? '');
}

/** PS3.19 back to DICOM JSON, independently of the writer. */
function toJson(attributes: XmlNode[] | undefined): DicomJsonDataset {
  const dataset: DicomJsonDataset = {};
  for (const a of attributes ?? []) {
    const vr = a['@vr'] as string;
    const element: DicomJsonElement = { vr };
    if (a.BulkData) element.BulkDataURI = (a.BulkData as XmlNode)['@uri'] as string;
    else if (a.InlineBinary !== undefined) element.InlineBinary = textOf(a.InlineBinary);
    else if (a.Item) element.Value = (a.Item as XmlNode[]).map((item) => toJson(item.DicomAttribute as XmlNode[]));
    else if (a.PersonName) {
      element.Value = (a.PersonName as XmlNode[]).map((pn): DicomJsonValue => {
        const out: DicomJsonPersonName = {};
        for (const group of ['Alphabetic', 'Ideographic', 'Phonetic'] as const) {
          const g = pn[group] as XmlNode | undefined;
          if (g) out[group] = COMPONENTS.map((c) => textOf(g[c])).join('^').replace(/\^+$/, '');
        }
        return Object.keys(out).length > 0 ? out : null;
      });
    } else if (a.Value) {
      element.Value = (a.Value as XmlNode[]).map((v) => {
        const t = textOf(v);
        if (t === '' && typeof v === 'object') return null;
        return NUMERIC.has(vr) && t !== '' && !Number.isNaN(Number(t)) ? Number(t) : t;
      });
    }
    dataset[a['@tag'] as string] = element;
  }
  return dataset;
}

/** What survives the PS3.19 round trip: empty component groups ('' or only '^') are not written; -0 is written 0. */
function comparable(dataset: DicomJsonDataset): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const [k, e] of Object.entries(dataset)) {
    if (NUMERIC.has(e.vr) && e.Value) {
      out[k] = { vr: e.vr, Value: e.Value.map((v) => (Object.is(v, -0) ? 0 : v)) };
      continue;
    }
    if (e.vr === 'SQ') out[k] = e.Value ? { vr: 'SQ', Value: e.Value.map((i) => comparable(i as DicomJsonDataset)) } : { vr: 'SQ' };
    else if (e.vr === 'PN' && e.Value)
      out[k] = {
        vr: 'PN',
        Value: e.Value.map((v) => {
          if (!v || typeof v !== 'object') return v;
          const pn = { ...(v as DicomJsonPersonName) };
          for (const g of ['Alphabetic', 'Ideographic', 'Phonetic'] as const) if (pn[g] !== undefined && /^\^*$/.test(pn[g]!)) delete pn[g];
          return Object.keys(pn).length > 0 ? pn : null;
        }),
      };
    else out[k] = e;
  }
  return out;
}

function parse(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml) as { NativeDicomModel: XmlNode };
}

describe('datasetToXml', () => {
  it('writes one NativeDicomModel document with keywords and PersonName components', () => {
    const dataset: DicomJsonDataset = {
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane^M^Dr^III', Ideographic: '山田^太郎' }] },
      '00080020': { vr: 'DA', Value: ['20240102'] },
    };
    const xml = datasetToXml(dataset);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">')).toBe(true);
    const root = parse(xml).NativeDicomModel;
    const [date, name] = root.DicomAttribute as XmlNode[];
    expect(date).toMatchObject({ '@tag': '00080020', '@vr': 'DA', '@keyword': 'StudyDate', Value: [{ '@number': '1', '#text': '20240102' }] });
    expect(name['@keyword']).toBe('PatientName');
    expect((name.PersonName as XmlNode[])[0]).toMatchObject({
      '@number': '1',
      Alphabetic: { FamilyName: 'Doe', GivenName: 'Jane', MiddleName: 'M', NamePrefix: 'Dr', NameSuffix: 'III' },
      Ideographic: { FamilyName: '山田', GivenName: '太郎' },
    });
  });

  it('escapes markup characters and replaces characters XML cannot carry', () => {
    const xml = datasetToXml({ '00081030': { vr: 'LO', Value: ['<a & "b"> \'c\'\u0001'] } });
    const root = parse(xml).NativeDicomModel;
    expect(textOf(((root.DicomAttribute as XmlNode[])[0].Value as XmlNode[])[0])).toBe('<a & "b"> \'c\'\uFFFD');
  });

  it('writes bulk data URIs with the instance URL given, and null values as empty Value elements', () => {
    const xml = datasetToXml(
      {
        '7FE00010': { vr: 'OW', BulkDataURI: '@INSTANCE@/bulk/7FE00010' },
        '00200032': { vr: 'DS', Value: [1.5, null, -2] },
        '00081030': { vr: 'LO' },
      },
      'http://host/dicom-web/studies/1/series/2/instances/3',
    );
    const json = toJson(parse(xml).NativeDicomModel.DicomAttribute as XmlNode[]);
    expect(json).toEqual({
      '7FE00010': { vr: 'OW', BulkDataURI: 'http://host/dicom-web/studies/1/series/2/instances/3/bulk/7FE00010' },
      '00200032': { vr: 'DS', Value: [1.5, null, -2] },
      '00081030': { vr: 'LO' },
    });
  });

  it.skipIf(!havePydicomSamples)('names the private creator of private attributes', () => {
    const { dataset } = readPart10(readFileSync(sample('chrJapMulti.dcm'))).reading;
    const attributes = parse(datasetToXml(dataset)).NativeDicomModel.DicomAttribute as XmlNode[];
    const privateOne = attributes.find((a) => a['@tag'] === '00191010');
    expect(privateOne?.['@privateCreator']).toBe('AGFA');
    expect(privateOne?.['@keyword']).toBeUndefined();
  });

  it.skipIf(!havePydicomSamples)('says the same as the DICOM JSON for every sample that parses (SR, RT, charsets, private)', () => {
    let compared = 0;
    for (const file of pydicomSampleFiles()) {
      let dataset: DicomJsonDataset;
      try {
        dataset = readPart10(readFileSync(file)).reading.dataset;
      } catch {
        continue;
      }
      const back = toJson(parse(datasetToXml(dataset)).NativeDicomModel.DicomAttribute as XmlNode[]);
      expect(back, file).toEqual(comparable(dataset));
      compared++;
    }
    expect(compared).toBeGreaterThan(80);
  });
});
