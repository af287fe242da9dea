/**
 * Type declarations for the parts of dcmjs (which ships none) this project uses:
 * the data dictionary (main/dicom/dictionary.ts) and the Part-10 writer
 * (test/support/synth.ts).
 */
declare module 'dcmjs' {
  interface DcmjsDictionaryEntry {
    tag: string; // '(0010,0010)'
    vr: string;
    vm: string;
    name: string;
    version?: string;
  }
  interface DcmjsElement {
    vr: string;
    Value: unknown[];
  }
  class DicomDict {
    constructor(meta: Record<string, DcmjsElement>);
    meta: Record<string, DcmjsElement>;
    dict: Record<string, DcmjsElement>;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const DicomMetaDictionary: {
    dictionary: Record<string, DcmjsDictionaryEntry | undefined>;
    nameMap: Record<string, DcmjsDictionaryEntry>;
  };
  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMetaDictionary: typeof DicomMetaDictionary;
    };
  };
  export default dcmjs;
}
