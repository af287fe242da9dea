/**
 * Keys that Orthanc 1.10 (and its DICOMweb plugin) know but this workstation
 * does not use. An Orthanc configuration file is accepted as is: these keys
 * are ignored with one note, never reported as unknown. Data, not code: add a
 * key here when Orthanc documents it.
 */

/** Top-level Orthanc 1.10 options we ignore (from `Orthanc --config=`). */
export const ORTHANC_IGNORED_KEYS: ReadonlySet<string> = new Set([
  'StorageCompression', 'MaximumStorageSize', 'MaximumPatientCount', 'MaximumStorageCacheSize',
  'LuaScripts', 'Plugins', 'ConcurrentJobs', 'HttpServerEnabled', 'OrthancExplorerEnabled',
  'HttpDescribeErrors', 'HttpCompressionEnabled', 'WebDavEnabled', 'WebDavDeleteAllowed',
  'WebDavUploadAllowed', 'DicomServerEnabled', 'DicomAet', 'DicomCheckCalledAet', 'DicomPort',
  'DefaultEncoding', 'AcceptedTransferSyntaxes', 'DeflatedTransferSyntaxAccepted',
  'JpegTransferSyntaxAccepted', 'JpegLosslessTransferSyntaxAccepted', 'JpipTransferSyntaxAccepted',
  'RleTransferSyntaxAccepted', 'UnknownSopClassAccepted', 'DicomScpTimeout', 'SslEnabled',
  'SslCertificate', 'SslMinimumProtocolVersion', 'SslCiphersAccepted', 'SslVerifyPeers',
  'SslTrustedClientCertificates', 'DicomTlsEnabled', 'DicomTlsCertificate', 'DicomTlsPrivateKey',
  'DicomTlsTrustedCertificates', 'DicomTlsRemoteCertificateRequired', 'DicomAlwaysAllowEcho',
  'DicomAlwaysAllowStore', 'DicomAlwaysAllowFind', 'DicomAlwaysAllowFindWorklist',
  'DicomAlwaysAllowGet', 'DicomAlwaysAllowMove', 'DicomCheckModalityHost', 'DicomModalities',
  'DicomModalitiesInDatabase', 'DicomEchoChecksFind', 'DicomScuTimeout',
  'DicomScuPreferredTransferSyntax', 'DicomThreadsCount', 'OrthancPeers', 'OrthancPeersInDatabase',
  'HttpVerbose', 'UserMetadata', 'UserContentType', 'StableAge', 'StrictAetComparison', 'StoreMD5ForAttachments',
  'LimitFindResults', 'LimitFindInstances', 'LogExportedResources', 'KeepAlive', 'TcpNoDelay',
  'HttpThreadsCount', 'StoreDicom', 'DicomAssociationCloseDelay', 'QueryRetrieveSize',
  'CaseSensitivePN', 'Pkcs11', 'LoadPrivateDictionary', 'Dictionary', 'ExternalDictionaries',
  'SynchronousCMove', 'JobsHistorySize', 'SaveJobs', 'OverwriteInstances', 'MediaArchiveSize',
  'StorageAccessOnFind', 'MetricsEnabled', 'ExecuteLuaEnabled', 'RestApiWriteToFileSystemEnabled',
  'HttpRequestTimeout', 'DefaultPrivateCreator', 'StorageCommitmentReportsSize',
  'TranscodeDicomProtocol', 'BuiltinDecoderTranscoderOrder', 'IngestTranscoding',
  'IngestTranscodingOfUncompressed', 'IngestTranscodingOfCompressed', 'DicomLossyTranscodingQuality',
  'SyncStorageArea', 'MallocArenaMax', 'DeidentifyLogs', 'DeidentifyLogsDicomVersion',
  'MaximumPduLength', 'DatabaseServerIdentifier', 'CheckRevisions', 'SynchronousZipStream',
  'ZipLoaderThreads',
  // Sections of Orthanc's other plugins, often found in the same configuration directory.
  'Worklists', 'ServeFolders', 'PostgreSQL', 'MySQL', 'Odbc', 'Gdcm', 'Python', 'Authorization',
  'Transfers', 'OrthancExplorer2', 'StoneWebViewer', 'WebViewer', 'OHIF', 'Housekeeper',
]);

/** Options of the Orthanc DICOMweb plugin (section "DicomWeb") we ignore. */
export const DICOMWEB_IGNORED_KEYS: ReadonlySet<string> = new Set([
  'QidoCaseSensitive', 'StudiesMetadata', 'SeriesMetadata', 'StudiesMetadataExtrapolatedTags',
  'SeriesMetadataExtrapolatedTags', 'ServersInDatabase', 'MetadataWorkerThreadsCount',
  'EnableMetadataCache', 'PublicRoot', 'EnablePerformanceLogs',
]);

/** Keys of an object entry of DicomWeb.Servers that we ignore. */
export const REMOTE_SERVER_IGNORED_KEYS: ReadonlySet<string> = new Set(['HasWadoRsUniversalTransferSyntax', 'UserProperties']);
