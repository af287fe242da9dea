/**
 * The configuration, with Orthanc's key names so that an Orthanc configuration
 * file works as is. Loaded and validated by main/config/loadConfig.ts.
 */

/** A remote DICOMweb server (DicomWeb.Servers), normalised from any of Orthanc's forms. */
export interface RemoteServerConfig {
  Url: string;
  Username?: string;
  Password?: string;
  HttpHeaders?: Record<string, string>;
  CertificateFile?: string;
  CertificateKeyFile?: string;
  CertificateKeyPassword?: string;
  Pkcs11?: boolean;
  Timeout?: number;
  HasDelete?: boolean;
  ChunkedTransfers?: boolean;
}

export interface DicomWebConfig {
  Enable: boolean;
  /** Always starts and ends with '/'. */
  Root: string;
  EnableWado: boolean;
  /** Starts with '/', no trailing '/'. */
  WadoRoot: string;
  /** Hard-coded host (host[:port]) for RetrieveURL; otherwise from the request. */
  Host?: string;
  Ssl: boolean;
  StowMaxInstances: number;
  /** Ours (not Orthanc's): WADO-RS requests at the same time per retrieve job (series fetched in parallel). */
  RetrieveParallelSeries: number;
  /** In MB. */
  StowMaxSize: number;
  Servers: Record<string, RemoteServerConfig>;
}

export interface Config {
  /** The file it came from, or undefined for the defaults. */
  sourcePath?: string;
  Name: string;
  HttpPort: number;
  RemoteAccessAllowed: boolean;
  AuthenticationEnabled: boolean;
  RegisteredUsers: Record<string, string>;
  /** Absolute path. */
  StorageDirectory: string;
  /** Absolute path (Orthanc's IndexDirectory; defaults to StorageDirectory). */
  IndexDirectory: string;
  /** CORS: origins allowed; default loopback origins only. ['*'] allows all. */
  HttpCorsOrigins: string[];
  DicomWeb: DicomWebConfig;
  HttpProxy?: string;
  /** Seconds; 0 = no timeout. */
  HttpTimeout: number;
  HttpsVerifyPeers: boolean;
  HttpsCACertificates?: string;
}
