import jsonc from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { formatOf, removeProperty, setProperty } from '../../../main/remote/jsoncEdit.js';

const CONFIG = `{
  // Orthanc-style configuration, hand-written
  "Name": "Workstation",   /* shown by GET /system */
  "DicomWeb": {
    "Root": "/dicom-web/",
    "Servers": {
      // the hospital's PACS
      "pacs": [ "https://pacs.example.org/dicom-web/" ],  // read-only account
      "cloud": { "Url": "https://cloud.example.org/dicomWeb/" }
    }
  },
  "HttpTimeout": 10
}
`;

const value = (text: string) => jsonc.parse(text, [], { allowTrailingComma: true }) as Record<string, any>;

describe('editing one property of a JSON-with-comments file', () => {
  it('adding a server keeps every other byte, comments included, and puts it after the last one', () => {
    const out = setProperty(CONFIG, ['DicomWeb', 'Servers', 'new'], { Url: 'http://127.0.0.1:8042/dicom-web/', Timeout: 5 });
    expect(out).toBe(
      CONFIG.replace(
        `"cloud": { "Url": "https://cloud.example.org/dicomWeb/" }\n`,
        `"cloud": { "Url": "https://cloud.example.org/dicomWeb/" },\n      "new": {\n        "Url": "http://127.0.0.1:8042/dicom-web/",\n        "Timeout": 5\n      }\n`,
      ),
    );
    expect(value(out).DicomWeb.Servers.new).toEqual({ Url: 'http://127.0.0.1:8042/dicom-web/', Timeout: 5 });
  });

  it('replacing a server rewrites its value only; its trailing comment stays on its line', () => {
    const out = setProperty(CONFIG, ['DicomWeb', 'Servers', 'pacs'], { Url: 'https://pacs.example.org/dicom-web/', HasDelete: true });
    expect(out).toBe(
      CONFIG.replace(
        `[ "https://pacs.example.org/dicom-web/" ],  // read-only account`,
        `{\n        "Url": "https://pacs.example.org/dicom-web/",\n        "HasDelete": true\n      },  // read-only account`,
      ),
    );
  });

  it('removing the last server removes its line and the comma before it, nothing else', () => {
    const out = removeProperty(CONFIG, ['DicomWeb', 'Servers', 'cloud']);
    expect(out).toBe(CONFIG.replace(`],  // read-only account\n      "cloud": { "Url": "https://cloud.example.org/dicomWeb/" }\n`, `]  // read-only account\n`));
    expect(Object.keys(value(out).DicomWeb.Servers)).toEqual(['pacs']);
  });

  it('removing a server takes its comma and its trailing comment, and keeps the comment above it', () => {
    const out = removeProperty(CONFIG, ['DicomWeb', 'Servers', 'pacs']);
    expect(out).toBe(CONFIG.replace(`      "pacs": [ "https://pacs.example.org/dicom-web/" ],  // read-only account\n`, ''));
    expect(out).toContain("// the hospital's PACS");
  });

  it('removing a server that is not there changes nothing', () => {
    expect(removeProperty(CONFIG, ['DicomWeb', 'Servers', 'nope'])).toBe(CONFIG);
  });

  it('creates DicomWeb and Servers when the file has neither, indented like the file', () => {
    const text = '{\n    "Name": "x" // name\n}\n';
    const out = setProperty(text, ['DicomWeb', 'Servers', 'a'], { Url: 'http://h/' });
    expect(out).toBe('{\n    "Name": "x", // name\n    "DicomWeb": {\n        "Servers": {\n            "a": {\n                "Url": "http://h/"\n            }\n        }\n    }\n}\n');
  });

  it('fills an empty Servers object', () => {
    const text = '{\n  "DicomWeb": {\n    "Servers": {}\n  }\n}';
    expect(setProperty(text, ['DicomWeb', 'Servers', 'a'], ['http://h/'])).toBe('{\n  "DicomWeb": {\n    "Servers": {\n      "a": [\n        "http://h/"\n      ]\n    }\n  }\n}');
  });

  it('keeps tabs and CRLF line ends', () => {
    const text = '{\r\n\t"DicomWeb": {\r\n\t\t"Servers": {\r\n\t\t\t"a": ["http://a/"]\r\n\t\t}\r\n\t}\r\n}\r\n';
    expect(formatOf(text)).toEqual({ unit: '\t', eol: '\r\n' });
    const out = setProperty(text, ['DicomWeb', 'Servers', 'b'], { Url: 'http://b/' });
    expect(out).toBe('{\r\n\t"DicomWeb": {\r\n\t\t"Servers": {\r\n\t\t\t"a": ["http://a/"],\r\n\t\t\t"b": {\r\n\t\t\t\t"Url": "http://b/"\r\n\t\t\t}\r\n\t\t}\r\n\t}\r\n}\r\n');
  });

  it('a trailing comma already there is reused, not doubled', () => {
    const text = '{\n  "Servers": {\n    "a": ["http://a/"],\n  }\n}';
    const out = setProperty(text, ['Servers', 'b'], ['http://b/']);
    expect(value(out).Servers).toEqual({ a: ['http://a/'], b: ['http://b/'] });
    expect(out).not.toContain(',,');
  });

  it('an object written on one line stays on one line', () => {
    const text = '{ "DicomWeb": { "Servers": { "a": ["http://a/"] } } }';
    const out = setProperty(text, ['DicomWeb', 'Servers', 'b'], { Url: 'http://b/' });
    expect(out).toBe('{ "DicomWeb": { "Servers": { "a": ["http://a/"], "b": {"Url":"http://b/"} } } }');
    expect(removeProperty(out, ['DicomWeb', 'Servers', 'a'])).toBe('{ "DicomWeb": { "Servers": { "b": {"Url":"http://b/"} } } }');
  });

  it('refuses a text that is not a JSON object', () => {
    expect(() => setProperty('{ "a": ', ['a'], 1)).toThrow(/not a valid JSON object/);
  });
});
