/**
 * Which attributes belong to which level of the DICOM information model
 * (PS3.3 modules; PS3.4 C.6.1.1 query/retrieve levels), as data tables:
 * - the attributes copied into each level's JSON in the index (from the first
 *   instance stored for that patient, study or series, as Orthanc does);
 * - Orthanc's "main DICOM tags" per level (Orthanc 1.10, database schema 6),
 *   shown by GET /patients|studies|series|instances/{id}.
 */

/** Patient module (PS3.3 C.7.1.1), Clinical Trial Subject (C.7.1.3). */
export const PATIENT_TAGS: readonly string[] = [
  '00080005', // SpecificCharacterSet (kept to know how text was encoded)
  '00081120', // ReferencedPatientSequence
  '00100010', // PatientName
  '00100020', // PatientID
  '00100021', // IssuerOfPatientID
  '00100022', // TypeOfPatientID
  '00100024', // IssuerOfPatientIDQualifiersSequence
  '00100030', // PatientBirthDate
  '00100032', // PatientBirthTime
  '00100033', // PatientBirthDateInAlternativeCalendar
  '00100035', // PatientAlternativeCalendar
  '00100040', // PatientSex
  '00100200', // QualityControlSubject
  '00100212', // StrainDescription
  '00101000', // OtherPatientIDs
  '00101001', // OtherPatientNames
  '00101002', // OtherPatientIDsSequence
  '00102160', // EthnicGroup
  '00102201', // PatientSpeciesDescription
  '00102292', // PatientBreedDescription
  '00102297', // ResponsiblePerson
  '00102298', // ResponsiblePersonRole
  '00102299', // ResponsibleOrganization
  '00104000', // PatientComments
  '00120010', // ClinicalTrialSponsorName
  '00120020', // ClinicalTrialProtocolID
  '00120021', // ClinicalTrialProtocolName
  '00120030', // ClinicalTrialSiteID
  '00120031', // ClinicalTrialSiteName
  '00120040', // ClinicalTrialSubjectID
  '00120042', // ClinicalTrialSubjectReadingID
  '00120062', // PatientIdentityRemoved
  '00120063', // DeidentificationMethod
];

/** General Study (C.7.2.1), Patient Study (C.7.2.2), Clinical Trial Study (C.7.2.3), and Orthanc's study tags. */
export const STUDY_TAGS: readonly string[] = [
  '00080020', // StudyDate
  '00080030', // StudyTime
  '00080050', // AccessionNumber
  '00080051', // IssuerOfAccessionNumberSequence
  '00080080', // InstitutionName (Orthanc keeps it at study level)
  '00080090', // ReferringPhysicianName
  '00080096', // ReferringPhysicianIdentificationSequence
  '0008009C', // ConsultingPhysicianName
  '00080201', // TimezoneOffsetFromUTC
  '00081030', // StudyDescription
  '00081032', // ProcedureCodeSequence
  '00081048', // PhysiciansOfRecord
  '00081060', // NameOfPhysiciansReadingStudy
  '00081080', // AdmittingDiagnosesDescription
  '00081110', // ReferencedStudySequence
  '00101010', // PatientAge
  '00101020', // PatientSize
  '00101030', // PatientWeight
  '00102000', // MedicalAlerts
  '00102110', // Allergies
  '00102180', // Occupation
  '001021A0', // SmokingStatus
  '001021B0', // AdditionalPatientHistory
  '001021C0', // PregnancyStatus
  '00102203', // PatientSexNeutered
  '00120050', // ClinicalTrialTimePointID
  '00120051', // ClinicalTrialTimePointDescription
  '0020000D', // StudyInstanceUID
  '00200010', // StudyID
  '00321032', // RequestingPhysician
  '00321033', // RequestingService
  '00321060', // RequestedProcedureDescription
  '00401012', // ReasonForPerformedProcedureCodeSequence
];

/** General Series (C.7.3.1), Clinical Trial Series (C.7.3.2), Frame of Reference (C.7.4.1), General Equipment (C.7.5.1), Orthanc's series tags. */
export const SERIES_TAGS: readonly string[] = [
  '00080021', // SeriesDate
  '00080031', // SeriesTime
  '00080060', // Modality
  '00080070', // Manufacturer
  '00080081', // InstitutionAddress
  '00081010', // StationName
  '0008103E', // SeriesDescription
  '0008103F', // SeriesDescriptionCodeSequence
  '00081040', // InstitutionalDepartmentName
  '00081050', // PerformingPhysicianName
  '00081070', // OperatorsName
  '00081090', // ManufacturerModelName
  '00081111', // ReferencedPerformedProcedureStepSequence
  '00081250', // RelatedSeriesSequence
  '00120060', // ClinicalTrialCoordinatingCenterName
  '00120071', // ClinicalTrialSeriesID
  '00120072', // ClinicalTrialSeriesDescription
  '00102210', // AnatomicalOrientationType
  '00180010', // ContrastBolusAgent
  '00180015', // BodyPartExamined
  '00180024', // SequenceName
  '00181000', // DeviceSerialNumber
  '00181020', // SoftwareVersions
  '00181030', // ProtocolName
  '00181090', // CardiacNumberOfImages
  '00181400', // AcquisitionDeviceProcessingDescription
  '00185100', // PatientPosition
  '0020000E', // SeriesInstanceUID
  '00200011', // SeriesNumber
  '00200037', // ImageOrientationPatient (Orthanc keeps it at series level too)
  '00200052', // FrameOfReferenceUID
  '00200060', // Laterality
  '00200105', // NumberOfTemporalPositions
  '00201002', // ImagesInAcquisition
  '00201040', // PositionReferenceIndicator
  '00280108', // SmallestPixelValueInSeries
  '00280109', // LargestPixelValueInSeries
  '00400244', // PerformedProcedureStepStartDate
  '00400245', // PerformedProcedureStepStartTime
  '00400250', // PerformedProcedureStepEndDate
  '00400251', // PerformedProcedureStepEndTime
  '00400253', // PerformedProcedureStepID
  '00400254', // PerformedProcedureStepDescription
  '00400260', // PerformedProtocolCodeSequence
  '00400275', // RequestAttributesSequence
  '00400280', // CommentsOnThePerformedProcedureStep
  '00540081', // NumberOfSlices
  '00540101', // NumberOfTimeSlices
  '00541000', // SeriesType
];

/** Instance attributes QIDO-RS answers and Orthanc's instance tags (the full dataset is kept apart). */
export const INSTANCE_TAGS: readonly string[] = [
  '00080012', // InstanceCreationDate
  '00080013', // InstanceCreationTime
  '00080016', // SOPClassUID
  '00080018', // SOPInstanceUID
  '00080023', // ContentDate
  '00080033', // ContentTime
  '00080201', // TimezoneOffsetFromUTC
  '00200012', // AcquisitionNumber
  '00200013', // InstanceNumber
  '00200032', // ImagePositionPatient
  '00200037', // ImageOrientationPatient
  '00200100', // TemporalPositionIdentifier
  '00204000', // ImageComments
  '00280008', // NumberOfFrames
  '00280010', // Rows
  '00280011', // Columns
  '00280100', // BitsAllocated
  '00541330', // ImageIndex
];

export type OrthancLevel = 'Patient' | 'Study' | 'Series' | 'Instance';

/** Orthanc 1.10's main DICOM tags (OrthancFramework DicomMap.cpp), [keyword, tag]. */
export const ORTHANC_MAIN_TAGS: Record<OrthancLevel, ReadonlyArray<readonly [string, string]>> = {
  Patient: [
    ['PatientName', '00100010'],
    ['PatientID', '00100020'],
    ['PatientBirthDate', '00100030'],
    ['PatientSex', '00100040'],
    ['OtherPatientIDs', '00101000'],
  ],
  Study: [
    ['StudyDate', '00080020'],
    ['StudyTime', '00080030'],
    ['StudyID', '00200010'],
    ['StudyDescription', '00081030'],
    ['AccessionNumber', '00080050'],
    ['StudyInstanceUID', '0020000D'],
    ['RequestedProcedureDescription', '00321060'],
    ['InstitutionName', '00080080'],
    ['RequestingPhysician', '00321032'],
    ['ReferringPhysicianName', '00080090'],
  ],
  Series: [
    ['SeriesDate', '00080021'],
    ['SeriesTime', '00080031'],
    ['Modality', '00080060'],
    ['Manufacturer', '00080070'],
    ['StationName', '00081010'],
    ['SeriesDescription', '0008103E'],
    ['BodyPartExamined', '00180015'],
    ['SequenceName', '00180024'],
    ['ProtocolName', '00181030'],
    ['SeriesNumber', '00200011'],
    ['CardiacNumberOfImages', '00181090'],
    ['ImagesInAcquisition', '00201002'],
    ['NumberOfTemporalPositions', '00200105'],
    ['NumberOfSlices', '00540081'],
    ['NumberOfTimeSlices', '00540101'],
    ['SeriesInstanceUID', '0020000E'],
    ['ImageOrientationPatient', '00200037'],
    ['SeriesType', '00541000'],
    ['OperatorsName', '00081070'],
    ['PerformedProcedureStepDescription', '00400254'],
    ['AcquisitionDeviceProcessingDescription', '00181400'],
    ['ContrastBolusAgent', '00180010'],
  ],
  Instance: [
    ['InstanceCreationDate', '00080012'],
    ['InstanceCreationTime', '00080013'],
    ['AcquisitionNumber', '00200012'],
    ['ImageIndex', '00541330'],
    ['InstanceNumber', '00200013'],
    ['NumberOfFrames', '00280008'],
    ['TemporalPositionIdentifier', '00200100'],
    ['SOPInstanceUID', '00080018'],
    ['ImagePositionPatient', '00200032'],
    ['ImageComments', '00204000'],
    ['ImageOrientationPatient', '00200037'],
  ],
};
