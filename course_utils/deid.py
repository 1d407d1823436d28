"""De-identification of DICOM headers (PS3.15 Basic Application Level Confidentiality Profile).

What :func:`anonymise_dataset` does to every data set, recursively into every
item of every sequence:

* removes all private tags and overlay/curve groups (they can hide names and
  burned-in text);
* applies the action table :data:`ACTIONS` (a subset of PS3.15 Table E.1-1
  covering the attributes found in MR, CT and radiography files):
  ``X`` remove, ``Z`` empty (kept present because IODs require Type 2
  attributes), ``P`` pseudonym (PatientName, PatientID);
* empties every other person name (VR PN);
* remaps every UID that is not a standard DICOM UID with a keyed hash, so the
  same input UID gives the same output UID for the same key (series stay
  series, references stay consistent) but cannot be traced back without the key;
* shifts every date by a per-patient number of days (intervals between a
  patient's scans are kept; option ``dates="remove"`` empties dates and times);
* keeps what analysis needs: geometry, pixel data, acquisition parameters,
  and (Clean Descriptors Option) the series/study descriptions with any
  identifying text replaced;
* records what was done: PatientIdentityRemoved = YES,
  DeidentificationMethod and DeidentificationMethodCodeSequence (PS3.16
  CID 7050 codes).

Header de-identification cannot remove names burned into the pixels or a face
that can be reconstructed from a head volume: those need pixel-level methods.

:func:`find_identifiers` proves the result: it looks for each original
identifying value in every element (private tags and nested sequences
included) and in the raw bytes of the header.

Example
-------
>>> from course_utils import deid
>>> report = deid.anonymise_tree("data/brain-mri-study/train", "build/anon", key="lesson03")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ACTIONS",
    "IdentifierFinding",
    "anonymise_dataset",
    "anonymise_file",
    "anonymise_tree",
    "collect_identities",
    "find_identifiers",
    "needs_pixel_review",
    "pseudonym_for",
    "remap_uid",
]

#: Action per attribute keyword (PS3.15 Table E.1-1, Basic Profile): X remove,
#: Z replace by an empty value, P pseudonym. Dates/UIDs/person names not listed
#: here are handled by VR (shift, remap, empty).
ACTIONS: dict[str, str] = {
    # patient
    "PatientName": "P",
    "PatientID": "P",
    "PatientBirthDate": "Z",
    "PatientBirthTime": "X",
    "PatientBirthName": "X",
    "PatientMotherBirthName": "X",
    "PatientSex": "Z",
    "PatientAge": "X",
    "PatientSize": "X",
    "PatientWeight": "X",
    "PatientAddress": "X",
    "PatientTelephoneNumbers": "X",
    "PatientTelecomInformation": "X",
    "PatientComments": "X",
    "PatientReligiousPreference": "X",
    "PatientState": "X",
    "PatientInsurancePlanCodeSequence": "X",
    "PatientPrimaryLanguageCodeSequence": "X",
    "PatientSexNeutered": "X",
    "PatientBirthDateInAlternativeCalendar": "X",
    "PatientDeathDateInAlternativeCalendar": "X",
    "IssuerOfPatientID": "X",
    "IssuerOfPatientIDQualifiersSequence": "X",
    "OtherPatientIDs": "X",
    "OtherPatientIDsSequence": "X",
    "OtherPatientNames": "X",
    "ReferencedPatientSequence": "X",
    "ReferencedPatientPhotoSequence": "X",
    "SourcePatientGroupIdentificationSequence": "X",
    "EthnicGroup": "X",
    "Occupation": "X",
    "MilitaryRank": "X",
    "BranchOfService": "X",
    "CountryOfResidence": "X",
    "RegionOfResidence": "X",
    "MedicalRecordLocator": "X",
    "MedicalAlerts": "X",
    "Allergies": "X",
    "SmokingStatus": "X",
    "PregnancyStatus": "X",
    "LastMenstrualDate": "X",
    "AdditionalPatientHistory": "X",
    "SpecialNeeds": "X",
    "PatientInstitutionResidence": "X",
    "CurrentPatientLocation": "X",
    "ResponsiblePerson": "X",
    "ResponsibleOrganization": "X",
    # visit, order, request
    "AccessionNumber": "Z",
    "StudyID": "Z",
    "AdmissionID": "X",
    "IssuerOfAdmissionID": "X",
    "AdmittingDiagnosesDescription": "X",
    "AdmittingDate": "X",
    "AdmittingTime": "X",
    "DischargeDiagnosisDescription": "X",
    "ServiceEpisodeID": "X",
    "ServiceEpisodeDescription": "X",
    "ReasonForStudy": "X",
    "ReasonForTheRequestedProcedure": "X",
    "RequestAttributesSequence": "X",
    "RequestedProcedureDescription": "X",
    "RequestedProcedureID": "X",
    "RequestingPhysician": "X",
    "RequestingService": "X",
    "PlacerOrderNumberImagingServiceRequest": "X",
    "FillerOrderNumberImagingServiceRequest": "X",
    "OrderCallbackPhoneNumber": "X",
    "OrderEnteredBy": "X",
    "OrderEntererLocation": "X",
    "ImagingServiceRequestComments": "X",
    "InsurancePlanIdentification": "X",
    "ScheduledProcedureStepDescription": "X",
    "ScheduledProcedureStepID": "X",
    "ScheduledPerformingPhysicianName": "X",
    "ScheduledStationAETitle": "X",
    "ScheduledStationName": "X",
    "PerformedProcedureStepDescription": "X",
    "PerformedProcedureStepID": "X",
    "PerformedLocation": "X",
    "PerformedStationAETitle": "X",
    "PerformedStationName": "X",
    "CommentsOnThePerformedProcedureStep": "X",
    "ReferencedStudySequence": "X",
    "ReferencedPerformedProcedureStepSequence": "X",
    "NamesOfIntendedRecipientsOfResults": "X",
    # people and places
    "ReferringPhysicianName": "Z",
    "ReferringPhysicianAddress": "X",
    "ReferringPhysicianTelephoneNumbers": "X",
    "ReferringPhysicianIdentificationSequence": "X",
    "ConsultingPhysicianName": "X",
    "PerformingPhysicianName": "X",
    "PerformingPhysicianIdentificationSequence": "X",
    "PhysiciansOfRecord": "X",
    "PhysiciansOfRecordIdentificationSequence": "X",
    "NameOfPhysiciansReadingStudy": "X",
    "PhysiciansReadingStudyIdentificationSequence": "X",
    "PhysicianApprovingInterpretation": "X",
    "RequestingPhysicianIdentificationSequence": "X",
    "OperatorsName": "X",
    "OperatorIdentificationSequence": "X",
    "HumanPerformerName": "X",
    "PersonName": "Z",
    "PersonAddress": "X",
    "PersonTelephoneNumbers": "X",
    "PersonTelecomInformation": "X",
    "PersonIdentificationCodeSequence": "X",
    "ContentCreatorName": "Z",
    "VerifyingObserverName": "Z",
    "InstitutionName": "X",
    "InstitutionAddress": "X",
    "InstitutionCodeSequence": "X",
    "InstitutionalDepartmentName": "X",
    "InstitutionalDepartmentTypeCodeSequence": "X",
    "StationName": "X",
    "StationAETitle": "X",
    "DeviceSerialNumber": "X",
    "DetectorID": "X",
    "GantryID": "X",
    "CustodialOrganizationSequence": "X",
    "ParticipantSequence": "X",
    "AuthorObserverSequence": "X",
    # free text and provenance
    "StudyComments": "X",
    "ImageComments": "X",
    "FrameComments": "X",
    "IdentifyingComments": "X",
    "AcquisitionComments": "X",
    "ImagePresentationComments": "X",
    "DerivationDescription": "X",
    "ContributionDescription": "X",
    "TextComments": "X",
    "TextString": "X",
    "IconImageSequence": "X",
    "OriginalAttributesSequence": "X",
    "ModifiedAttributesSequence": "X",
    "DigitalSignaturesSequence": "X",
    "MACParametersSequence": "X",
    "EncryptedAttributesSequence": "X",
    "DataSetTrailingPadding": "X",
    "Arbitrary": "X",
    # further Table E.1-1 attributes (devices, issuers, locations, results, topics)
    "AcquisitionDeviceProcessingDescription": "X",
    "AcquisitionProtocolDescription": "X",
    "CassetteID": "X",
    "ConfidentialityConstraintOnPatientDataDescription": "X",
    "DistributionAddress": "X",
    "GeneratorID": "X",
    "HumanPerformerOrganization": "X",
    "Impressions": "X",
    "InterpretationDiagnosisDescription": "X",
    "InterpretationIDIssuer": "X",
    "InterpretationText": "X",
    "IssuerOfServiceEpisodeID": "X",
    "ModifiedImageDescription": "X",
    "ModifyingDeviceID": "X",
    "PatientTransportArrangements": "X",
    "PlateID": "X",
    "PreMedication": "X",
    "RequestedContrastAgent": "X",
    "RequestedProcedureComments": "X",
    "RequestedProcedureLocation": "X",
    "ResultsComments": "X",
    "ResultsIDIssuer": "X",
    "ScheduledPatientInstitutionResidence": "X",
    "ScheduledProcedureStepLocation": "X",
    "ScheduledStudyLocation": "X",
    "ScheduledStudyLocationAETitle": "X",
    "StudyIDIssuer": "X",
    "TimezoneOffsetFromUTC": "X",
    "TopicAuthor": "X",
    "TopicKeywords": "X",
    "TopicSubject": "X",
    "TopicTitle": "X",
    "VerifyingOrganization": "X",
    "VisitComments": "X",
}

#: Attributes the action table removes (X) that an IOD requires in some files: the
#: profile's X/Z/D actions then mean "empty it" (Type 2, 2C) or "replace it by a
#: dummy value" (Type 1). Keyword -> (condition, action): ``animal`` when the patient
#: is an animal (PatientSpeciesDescription or PatientSpeciesCodeSequence present,
#: PS3.3 C.7.1.1: Type 2C), ``enhanced`` in multi-frame (functional-group) objects
#: whose Enhanced General Equipment module makes the attribute Type 1.
REQUIRED_IF: dict[str, tuple[str, str]] = {
    "ResponsiblePerson": ("animal", "Z"),
    "ResponsibleOrganization": ("animal", "Z"),
    "PatientSexNeutered": ("animal", "Z"),
    "DeviceSerialNumber": ("enhanced", "D"),
}

#: The dummy value of a Type 1 attribute replaced under action D.
DUMMY_VALUE = "ANONYMIZED"

#: Free-text descriptors kept under the Clean Descriptors Option (identifying text replaced).
DESCRIPTORS = ("StudyDescription", "SeriesDescription", "ProtocolName")

#: Kept when ``keep_patient_characteristics=True`` (Retain Patient Characteristics Option).
PATIENT_CHARACTERISTICS = ("PatientSex", "PatientAge", "PatientSize", "PatientWeight")

#: UIDs identify the DICOM standard itself, not a patient: never remapped.
_KEEP_UID_KEYWORDS = {
    "SOPClassUID",
    "MediaStorageSOPClassUID",
    "TransferSyntaxUID",
    "ReferencedSOPClassUID",
    "ReferencedSOPClassUIDInFile",
    "CodingSchemeUID",
    "ContextGroupExtensionCreatorUID",
    "ImplementationClassUID",
}

_CODES = {
    "113100": "Basic Application Confidentiality Profile",
    "113105": "Clean Descriptors Option",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
}

_DATE_SHIFT_RANGE_DAYS = (365, 3650)


# --------------------------------------------------------------------------- keyed mappings
def _key_bytes(key) -> bytes:
    if isinstance(key, bytes):
        raw = key
    elif isinstance(key, str):
        raw = key.encode("utf-8")
    else:
        raise TypeError(f"key must be a str or bytes secret, got {type(key).__name__}")
    if not raw:
        raise ValueError(
            "key must not be empty: it is the secret that makes pseudonyms untraceable"
        )
    return raw


def _digest(key, purpose: str, value: str) -> bytes:
    return hmac.new(_key_bytes(key), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def remap_uid(uid: str, *, key) -> str:
    """New UID for ``uid``: ``2.25.<128-bit keyed hash>``, the same for the same key.

    The ``2.25`` root is the standard's prefix for UIDs derived from a 128-bit
    number (PS3.5 B.2), so no organisation root is needed.

    Parameters
    ----------
    uid : str
        The original UID.
    key : str or bytes
        Secret of this de-identification run.

    Returns
    -------
    str
        At most 44 characters, digits and dots only.

    Example
    -------
    >>> remap_uid("1.2.3.4", key="k") == remap_uid("1.2.3.4", key="k")
    True
    >>> remap_uid("1.2.3.4", key="k").startswith("2.25.")
    True
    """
    if not isinstance(uid, str) or not uid.strip():
        raise ValueError(f"uid must be a non-empty string, got {uid!r}")
    number = int.from_bytes(_digest(key, "uid", uid.strip())[:16], "big") or 1
    return f"2.25.{number}"


def pseudonym_for(patient_id: str, *, key, prefix: str = "ANON-") -> str:
    """Pseudonym of a patient: ``prefix`` + 10 hex digits of a keyed hash of the id.

    Example
    -------
    >>> pseudonym_for("MRN-0042", key="k") == pseudonym_for("MRN-0042", key="k")
    True
    >>> len(pseudonym_for("MRN-0042", key="k"))
    15
    """
    if not isinstance(patient_id, str):
        raise TypeError(f"patient_id must be a str, got {type(patient_id).__name__}")
    return prefix + _digest(key, "patient", patient_id).hex()[:10].upper()


def _person_name_form(pseudonym: str) -> str:
    """``ANON-<digest>`` -> ``ANON^<digest>``; other pseudonyms unchanged.

    >>> _person_name_form("ANON-0938C634C6"), _person_name_form("00012")
    ('ANON^0938C634C6', '00012')
    """
    return "ANON^" + pseudonym[5:] if pseudonym.startswith("ANON-") else pseudonym


def _date_shift_days(patient_id: str, key) -> int:
    low, high = _DATE_SHIFT_RANGE_DAYS
    return -(low + int.from_bytes(_digest(key, "dates", patient_id)[:4], "big") % (high - low))


# --------------------------------------------------------------------------- the core
def _is_standard_uid(value: str) -> bool:
    from pydicom._uid_dict import UID_dictionary

    return value in UID_dictionary


def _shift_date(value: str, days: int) -> str:
    text = str(value).strip()
    if len(text) < 8:
        return ""
    try:
        shifted = dt.datetime.strptime(text[:8], "%Y%m%d") + dt.timedelta(days=days)
    except ValueError:
        return ""
    return shifted.strftime("%Y%m%d") + text[8:]


def _empty_value(element):
    return "" if element.VR in _TEXT_VRS else None


_TEXT_VRS = {
    "AE",
    "AS",
    "CS",
    "DA",
    "DS",
    "DT",
    "IS",
    "LO",
    "LT",
    "PN",
    "SH",
    "ST",
    "TM",
    "UC",
    "UR",
    "UT",
    "UI",
}


_NUMERIC_VRS = {"DS", "IS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT"}
_FREE_TEXT_VRS = {"LO", "SH", "PN", "LT", "ST", "UT", "UC"}


@dataclass
class _Context:
    key: object
    patient_id: str
    pseudonym: str
    days: int
    dates: str
    keep_descriptions: bool
    keep_patient_characteristics: bool
    descriptor_pattern: re.Pattern | None
    n_identities: int
    conditions: frozenset = frozenset()
    changed: int = 0


def _map_values(element, function) -> None:
    value = element.value
    if value is None or value == "":
        return
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        element.value = [function(str(item)) for item in value]
    else:
        element.value = function(str(value))


def _descriptor_pattern(identities: list[str]) -> re.Pattern | None:
    variants = set()
    for identity in identities:
        if len(identity) >= 3:
            variants |= {identity, identity.replace("^", " ").strip()}
    if not variants:
        return None
    # one pass, longest first: "Doe^Jane" as a whole before "Doe" alone; whole words only
    # (a given name "MARY" is not inside "PRIMARY")
    alternatives = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", flags=re.IGNORECASE)


def _clean_text(text: str, pattern: re.Pattern | None, replacement: str, limit: int = 64) -> str:
    if pattern is None:
        return text
    cleaned = pattern.sub(replacement, text)
    return cleaned if len(cleaned) <= limit else cleaned[:limit].rstrip()


#: Maximum value lengths of the descriptors' VRs (PS3.5 Table 6.2-1).
_VR_LENGTH = {"LO": 64, "SH": 16, "ST": 1024, "LT": 10240, "UT": 2**32 - 2}


def _conditions(dataset) -> frozenset:
    """Which conditions of :data:`REQUIRED_IF` hold for this (top-level) data set."""
    found = set()
    if "PatientSpeciesDescription" in dataset or "PatientSpeciesCodeSequence" in dataset:
        found.add("animal")
    sop_class = getattr(dataset.get("SOPClassUID"), "name", "") or ""
    if (
        "SharedFunctionalGroupsSequence" in dataset
        or "PerFrameFunctionalGroupsSequence" in dataset
        or "Enhanced" in sop_class
        or "Segmentation" in sop_class
    ):
        found.add("enhanced")
    return frozenset(found)


def _clean_dataset(dataset, context: _Context) -> None:
    for element in list(dataset):
        tag = element.tag
        group = tag.group
        if tag.is_private or 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF:
            del dataset[tag]
            context.changed += 1
            continue
        keyword = element.keyword
        action = ACTIONS.get(keyword)
        if context.keep_patient_characteristics and keyword in PATIENT_CHARACTERISTICS:
            action = None
        if action == "X" and keyword in REQUIRED_IF:
            condition, required_action = REQUIRED_IF[keyword]
            if condition in context.conditions:
                action = required_action  # the IOD requires it here: empty or dummy, not removed
        if action == "X":
            del dataset[tag]
            context.changed += 1
            continue
        if action == "D":
            element.value = [] if element.VR == "SQ" else DUMMY_VALUE
            context.changed += 1
            continue
        if element.VR == "SQ":
            if action == "Z":
                element.value = []
                context.changed += 1
            else:
                for item in element.value:
                    _clean_dataset(item, context)
            continue
        if action == "Z":
            element.value = _empty_value(element)
            context.changed += 1
        elif action == "P":
            # a person name gets family^given ("ANON^<digest>"): a single component is
            # valid (PS3.5 6.2.1) but dciodvfy warns of the retired name form
            pseudonym = context.pseudonym
            element.value = _person_name_form(pseudonym) if element.VR == "PN" else pseudonym
            context.changed += 1
        elif element.VR == "UI":
            if keyword not in _KEEP_UID_KEYWORDS:
                _map_values(
                    element,
                    lambda uid: (
                        uid
                        if not uid.strip() or _is_standard_uid(uid)
                        else remap_uid(uid, key=context.key)
                    ),
                )
                context.changed += 1
        elif element.VR == "PN":
            element.value = ""
            context.changed += 1
        elif element.VR in ("DA", "DT"):
            if context.dates == "shift":
                _map_values(element, lambda text: _shift_date(text, context.days))
            else:
                element.value = ""
            context.changed += 1
        elif element.VR == "TM" and context.dates == "remove":
            element.value = ""
            context.changed += 1
        elif keyword in DESCRIPTORS:
            if context.keep_descriptions:
                limit = _VR_LENGTH.get(element.VR, 64)
                _map_values(
                    element,
                    lambda text, limit=limit: _clean_text(
                        text, context.descriptor_pattern, context.pseudonym, limit
                    ),
                )
            else:
                del dataset[tag]
            context.changed += 1


def _patient_key(dataset) -> str:
    for keyword in ("PatientID", "PatientName"):
        value = str(dataset.get(keyword, "") or "").strip()
        if value:
            return value
    return "unknown"


def anonymise_dataset(
    dataset,
    *,
    key,
    pseudonyms: Mapping[str, str] | None = None,
    dates: str = "shift",
    keep_descriptions: bool = True,
    keep_patient_characteristics: bool = False,
    _in_place: bool = False,
):
    """Return a de-identified copy of a pydicom Dataset (the input is not modified).

    Parameters
    ----------
    dataset : pydicom.Dataset
        A data set read with :func:`pydicom.dcmread` (with or without pixels).
    key : str or bytes
        Secret of this run: the same key gives the same pseudonyms, UIDs and
        date shifts, so files of one patient stay linked. Keep it private.
    pseudonyms : mapping, optional
        Original PatientID -> pseudonym to use (e.g. the study's own
        BraTS21ID). Patients not listed get :func:`pseudonym_for`.
    dates : {"shift", "remove"}
        ``"shift"`` moves every date of a patient by the same number of days
        (Retain Longitudinal Temporal Information Modified Dates Option);
        ``"remove"`` empties all dates and times. Birth dates are always emptied.
    keep_descriptions : bool
        Keep study/series descriptions and protocol names with identifying
        text replaced by the pseudonym (Clean Descriptors Option).
    keep_patient_characteristics : bool
        Keep sex, age, size and weight (Retain Patient Characteristics Option).

    Returns
    -------
    pydicom.Dataset

    Raises
    ------
    TypeError
        If ``dataset`` is not a pydicom Dataset or ``key`` is not str/bytes.
    ValueError
        Empty key or unknown ``dates`` mode.

    Example
    -------
    >>> import pydicom
    >>> from pydicom.data import get_testdata_file
    >>> clean = anonymise_dataset(pydicom.dcmread(get_testdata_file("CT_small.dcm")), key="k")
    >>> str(clean.PatientIdentityRemoved), str(clean.PatientName).startswith("ANON^")
    ('YES', True)
    """
    from pydicom.dataset import Dataset

    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a pydicom Dataset, got {type(dataset).__name__}")
    if dates not in ("shift", "remove"):
        raise ValueError(f"dates must be 'shift' or 'remove', got {dates!r}")
    _key_bytes(key)
    patient_id = _patient_key(dataset)
    pseudonym = (pseudonyms or {}).get(patient_id) or pseudonym_for(patient_id, key=key)
    identities = [value for _label, value in collect_identities(dataset)]
    context = _Context(
        descriptor_pattern=_descriptor_pattern(identities),
        n_identities=len(identities),
        key=key,
        patient_id=patient_id,
        pseudonym=pseudonym,
        days=_date_shift_days(patient_id, key),
        dates=dates,
        keep_descriptions=keep_descriptions,
        keep_patient_characteristics=keep_patient_characteristics,
        conditions=_conditions(dataset),
    )
    clean = dataset if _in_place else copy.deepcopy(dataset)
    _clean_dataset(clean, context)
    if "ResponsiblePersonRole" in clean and not str(clean.get("ResponsiblePerson", "") or ""):
        del clean.ResponsiblePersonRole  # Type 1C: present only with a non-empty ResponsiblePerson
    meta = getattr(clean, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        old_uid = str(meta.MediaStorageSOPInstanceUID or "").strip()
        if "SOPInstanceUID" in clean:
            meta.MediaStorageSOPInstanceUID = clean.SOPInstanceUID
        elif old_uid:
            meta.MediaStorageSOPInstanceUID = remap_uid(old_uid, key=key)
    _record_method(clean, context)
    return clean


def _record_method(dataset, context: _Context) -> None:
    from pydicom.dataset import Dataset

    codes = ["113100"]
    if context.keep_descriptions:
        codes.append("113105")
    if context.dates == "shift":
        codes.append("113107")
    if context.keep_patient_characteristics:
        codes.append("113108")
    items = []
    for code in codes:
        item = Dataset()
        item.CodeValue = code
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = _CODES[code]
        items.append(item)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = "PS3.15 E.1 Basic Profile (course_utils.deid)"
    dataset.DeidentificationMethodCodeSequence = items
    dataset.LongitudinalTemporalInformationModified = (
        "MODIFIED" if context.dates == "shift" else "REMOVED"
    )


# --------------------------------------------------------------------------- identities and verification
def collect_identities(dataset_or_path) -> list[tuple[str, str]]:
    """The identifying values of a file: what must not survive de-identification.

    Collected, recursively through sequences: every text attribute that
    :data:`ACTIONS` removes, empties or pseudonymises, every person name (and
    its name parts of 3+ characters), every non-standard UID, every date, and
    the free text of private tags (4+ characters with letters). Numbers
    (weights, counts), placeholders without letters or digits, and the
    patient characteristics (sex, age, size, weight: quasi-identifiers that
    an analysis may keep) are skipped.

    Parameters
    ----------
    dataset_or_path : pydicom.Dataset or path

    Returns
    -------
    list of (label, value)
        ``label`` is the attribute keyword (or tag), ``value`` the text.

    Example
    -------
    >>> from pydicom.data import get_testdata_file
    >>> dict(collect_identities(get_testdata_file("CT_small.dcm")))["PatientName"]
    'CompressedSamples^CT1'
    """
    dataset = _as_dataset(dataset_or_path)
    found: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(label: str, value) -> None:
        text = str(value).strip()
        if not any(character.isalnum() for character in text):
            return  # "----", "^^": placeholders, not identities
        if text and (label, text) not in seen:
            seen.add((label, text))
            found.append((label, text))

    def visit(ds) -> None:
        for element in ds:
            label = element.keyword or str(element.tag)
            if element.VR == "SQ":
                for item in element.value or []:
                    visit(item)
                continue
            action = ACTIONS.get(element.keyword)
            values = element.value
            if values is None or isinstance(values, bytes):
                continue
            if not isinstance(values, (list, tuple)) and type(values).__name__ != "MultiValue":
                values = [values]
            for value in values:
                text = str(value)
                if element.VR == "UI":
                    if element.keyword not in _KEEP_UID_KEYWORDS and not _is_standard_uid(text):
                        add(label, text)
                elif element.VR == "PN":
                    add(label, text)
                    for part in re.split(r"[\^= ]+", text):
                        if len(part) >= 3:
                            add(f"{label} part", part)
                elif element.VR in ("DA", "DT") and text.strip():
                    add(label, text)
                elif element.VR in _NUMERIC_VRS or element.keyword in PATIENT_CHARACTERISTICS:
                    continue  # weights, counts: numbers are not searchable identities
                elif action in ("X", "Z", "P"):
                    add(label, text)
                elif element.tag.is_private and element.VR in _FREE_TEXT_VRS:
                    if len(text) >= 4 and any(character.isalpha() for character in text):
                        add(label, text)

    visit(dataset)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        add("MediaStorageSOPInstanceUID", meta.MediaStorageSOPInstanceUID)
    return found


@dataclass(frozen=True)
class IdentifierFinding:
    """An original identifying value found in a (supposedly) de-identified file."""

    where: str
    identity: str
    value: str

    def __str__(self) -> str:
        return f"{self.where}: contains {self.identity} ({self.value!r})"


def _as_dataset(dataset_or_path, *, stop_before_pixels: bool = True):
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.errors import InvalidDicomError

    if isinstance(dataset_or_path, Dataset):
        return dataset_or_path
    if not isinstance(dataset_or_path, (str, os.PathLike)):
        raise TypeError(
            f"expected a pydicom Dataset or a file path, got {type(dataset_or_path).__name__}"
        )
    path = Path(dataset_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"DICOM file {path} does not exist")
    try:
        return pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError as exc:
        raise ValueError(f"{path} is not a DICOM file (no 'DICM' marker): {exc}") from exc


def _normalise_identities(identities) -> list[tuple[str, str]]:
    if isinstance(identities, Mapping):
        pairs = []
        for label, value in identities.items():
            values = value if isinstance(value, (list, tuple, set)) else [value]
            pairs.extend((str(label), str(item)) for item in values)
    elif isinstance(identities, (str, bytes)):
        raise TypeError(
            "identities must be a collection of values or (label, value) pairs, got one string"
        )
    elif isinstance(identities, Iterable):
        pairs = []
        for entry in identities:
            if isinstance(entry, tuple) and len(entry) == 2:
                pairs.append((str(entry[0]), str(entry[1])))
            else:
                pairs.append((str(entry), str(entry)))
    else:
        raise TypeError(
            f"identities must be a mapping or an iterable, got {type(identities).__name__}"
        )
    pairs = [(label, value.strip()) for label, value in pairs if value and value.strip()]
    return pairs


def _pattern(value: str) -> re.Pattern:
    """Case-insensitive pattern of ``value``; ``^`` and space alike; whole words only.

    A value that starts (ends) with a letter or digit must not be glued to another
    letter or digit there: "6085" is not inside the 39-digit number of a remapped
    UID, and a given name "MARY" is not inside the ImageType "PRIMARY".
    """
    lower = value.lower()
    parts = [re.escape(part) for part in re.split(r"[\^ ]", lower)]
    body = r"[\^ ]".join(parts)
    if lower[0].isalnum():
        body = r"(?<![a-z0-9])" + body
    if lower[-1].isalnum():
        body = body + r"(?![a-z0-9])"
    return re.compile(body)


def find_identifiers(dataset_or_path, identities) -> list[IdentifierFinding]:
    """Search a data set (or file) for any of the original identifying values.

    Every element is examined, recursively through sequences and including
    private tags and the file meta header; values of 4 or more characters
    are found as whole words (case-insensitive, ``^`` and space treated alike,
    not glued to a letter or digit: "MARY" is not found in "PRIMARY", "6085"
    not inside a longer number);
    shorter values only as the whole value of the attribute they are labelled
    with (a StudyID "1" is not looked for in every number of the file). For a file, the raw bytes
    of the header (everything before the pixel data) are searched as well,
    which catches values in elements pydicom cannot interpret.

    Parameters
    ----------
    dataset_or_path : pydicom.Dataset or path
    identities : mapping, iterable of str, or iterable of (label, value)
        E.g. the output of :func:`collect_identities` on the original file.

    Returns
    -------
    list of IdentifierFinding
        Empty when nothing identifying survives.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If the file is not DICOM.

    Example
    -------
    >>> from pydicom.data import get_testdata_file
    >>> path = get_testdata_file("CT_small.dcm")
    >>> len(find_identifiers(path, {"name": "CompressedSamples"})) > 0
    True
    """
    pairs = _normalise_identities(identities)
    raw = None
    if isinstance(dataset_or_path, (str, os.PathLike)):
        dataset, raw = _dataset_and_header_bytes(Path(dataset_or_path))
    else:
        dataset = _as_dataset(dataset_or_path)
    findings: list[IdentifierFinding] = []
    long_pairs = [(label, value, _pattern(value)) for label, value in pairs if len(value) >= 4]
    short_pairs = [(label, value) for label, value in pairs if len(value) < 4]

    def check_text(where: str, keyword: str, text: str) -> None:
        lower = text.lower()
        for label, value, pattern in long_pairs:
            if pattern.search(lower):
                findings.append(IdentifierFinding(where, label, value))
        for label, value in short_pairs:
            # "1" or "M" occur everywhere: short values count only in their own attribute
            same_place = label in (value, keyword) or (keyword and label.startswith(keyword + " "))
            if same_place and lower.strip() == value.lower():
                findings.append(IdentifierFinding(where, label, value))

    def visit(ds, prefix: str) -> None:
        for element in ds:
            where = f"{prefix}{element.tag} {element.keyword or 'private/unknown'}"
            if element.VR == "SQ":
                for index, item in enumerate(element.value or []):
                    visit(item, f"{where}[{index}] > ")
                continue
            if element.tag == 0x7FE00010:
                continue
            value = element.value
            if isinstance(value, bytes):
                text = value.decode("latin-1")
            elif isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
                text = "\\".join(str(item) for item in value)
            else:
                text = "" if value is None else str(value)
            check_text(where, element.keyword, text)

    meta = getattr(dataset, "file_meta", None)
    if meta is not None:
        visit(meta, "file meta ")
    visit(dataset, "")
    if raw is not None:
        raw = raw.decode("latin-1").lower()
        for label, value, pattern in long_pairs:
            if pattern.search(raw):
                already = any(finding.value == value for finding in findings)
                if not already:
                    findings.append(IdentifierFinding("raw header bytes", label, value))
    return findings


def _dataset_and_header_bytes(path: Path):
    """The header (no pixels) and its raw bytes, from one read of the file."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        raise FileNotFoundError(f"DICOM file {path} does not exist")
    with open(path, "rb") as handle:
        try:
            dataset = pydicom.dcmread(handle, stop_before_pixels=True)
        except InvalidDicomError as exc:
            raise ValueError(f"{path} is not a DICOM file (no 'DICM' marker): {exc}") from exc
        end = handle.tell()
        handle.seek(0)
        return dataset, handle.read(end)


# --------------------------------------------------------------------------- files and trees
def _is_inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


def anonymise_file(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    key,
    pseudonyms: Mapping[str, str] | None = None,
    dates: str = "shift",
    keep_descriptions: bool = True,
    keep_patient_characteristics: bool = False,
) -> dict:
    """De-identify one DICOM file into ``dst`` (written atomically; ``src`` untouched).

    Parameters
    ----------
    src, dst : path
        Input file and output file; they must differ.
    key, pseudonyms, dates, keep_descriptions, keep_patient_characteristics
        As in :func:`anonymise_dataset`.

    Returns
    -------
    dict
        ``source``, ``output`` and ``patient_pseudonym``.

    Raises
    ------
    FileNotFoundError
        If ``src`` does not exist.
    ValueError
        If ``src`` is not DICOM, is truncated or has an unreadable header, or
        ``dst`` is the same file as ``src``.

    Example
    -------
    >>> from pydicom.data import get_testdata_file
    >>> info = anonymise_file(get_testdata_file("CT_small.dcm"), "/tmp/ct_anon.dcm", key="k")  # doctest: +SKIP
    """
    from course_utils.data import atomic_write_bytes

    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise FileNotFoundError(f"src {src} does not exist; expected a DICOM file")
    if dst.resolve() == src.resolve():
        raise ValueError(
            f"dst {dst} is the input file itself; de-identification never works in place"
        )
    from course_utils.scan import scan_file

    header = scan_file(src, src.parent)
    if header["problem"] in ("truncated", "header unreadable"):
        raise ValueError(
            f"src {src} cannot be de-identified ({header['problem']}: {header['error']}); "
            "expected a complete DICOM file (a copy of a broken file would be broken too)"
        )
    dataset = _as_dataset(src, stop_before_pixels=False)
    burned_in = str(dataset.get("BurnedInAnnotation", "") or "").strip().upper()
    modality = str(dataset.get("Modality", "") or "").strip().upper()
    clean = anonymise_dataset(
        dataset,
        _in_place=True,  # read just for this: no copy needed
        key=key,
        pseudonyms=pseudonyms,
        dates=dates,
        keep_descriptions=keep_descriptions,
        keep_patient_characteristics=keep_patient_characteristics,
    )
    buffer = io.BytesIO()
    clean.save_as(buffer, enforce_file_format=True)
    atomic_write_bytes(dst, buffer.getvalue())
    return {
        "source": str(src),
        "output": str(dst),
        "patient_pseudonym": str(clean.get("PatientID", "")),
        "burned_in_annotation": burned_in,
        "needs_pixel_review": needs_pixel_review(burned_in, modality),
    }


#: Modalities whose images often carry text in the pixels (ultrasound, secondary
#: capture, other, photographs, endoscopy): without a BurnedInAnnotation "NO" they are reviewed.
PIXEL_TEXT_MODALITIES = ("US", "SC", "OT", "XC", "ES", "GM", "DOC")


def needs_pixel_review(burned_in_annotation: str, modality: str = "") -> bool:
    """Whether a de-identified file's pixels must be looked at (header tools never touch them).

    True when the header declares ``BurnedInAnnotation`` YES, or does not
    declare it for a modality whose images often carry text (:data:`PIXEL_TEXT_MODALITIES`).

    Example
    -------
    >>> needs_pixel_review("YES"), needs_pixel_review("", "US"), needs_pixel_review("NO", "US")
    (True, True, False)
    """
    declared = str(burned_in_annotation or "").strip().upper()
    if declared == "YES":
        return True
    return declared == "" and str(modality or "").strip().upper() in PIXEL_TEXT_MODALITIES


def _anonymise_item(item: tuple) -> dict:
    from course_utils.scan import scan_file

    src, dst, relative, options = item
    row = {
        "path": relative,
        "written": False,
        "patient_pseudonym": "",
        "error": "",
        "burned_in_annotation": "",
        "needs_pixel_review": False,
    }
    header = scan_file(src, Path(src).parent)
    if not header["readable"]:
        row["error"] = f"skipped ({header['problem']}): {header['error']}"
        return row
    try:
        info = anonymise_file(src, dst, **options)
    except Exception as exc:  # report and carry on with the rest of the tree
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    row.update(
        written=True,
        patient_pseudonym=info["patient_pseudonym"],
        burned_in_annotation=info["burned_in_annotation"],
        needs_pixel_review=info["needs_pixel_review"],
    )
    return row


def anonymise_tree(
    src_root: str | os.PathLike,
    dst_root: str | os.PathLike,
    *,
    key,
    files: Iterable | None = None,
    scheduler: str = "serial",
    n_workers: int | None = None,
    progress: bool | None = None,
    **options,
):
    """De-identify every DICOM file below ``src_root`` into the same layout below ``dst_root``.

    Files that are not usable DICOM (not DICOM, empty, truncated) are reported
    and skipped; the rest carry on. Relative paths are kept, so the folder
    names must not themselves identify anyone (in RSNA-MICCAI they are the
    study's own pseudonyms, the BraTS21ID).

    Parameters
    ----------
    src_root : path
        Folder to read (never written to).
    dst_root : path
        Output folder; must not be ``src_root``, inside it, or contain it.
    key : str or bytes
        Secret of the run (see :func:`anonymise_dataset`).
    files : iterable of paths, optional
        Only these files (below ``src_root``); default every file.
    scheduler, n_workers, progress
        As in :func:`course_utils.parallel.parallel_map`.
    **options
        ``pseudonyms``, ``dates``, ``keep_descriptions``,
        ``keep_patient_characteristics`` (see :func:`anonymise_dataset`).

    Returns
    -------
    pandas.DataFrame
        One row per input file: ``path``, ``written``, ``patient_pseudonym``, ``error``,
        ``burned_in_annotation`` (the header's value, "" when absent) and
        ``needs_pixel_review`` (see :func:`needs_pixel_review`: header
        de-identification cannot clean text burned into the pixels).

    Raises
    ------
    FileNotFoundError
        If ``src_root`` does not exist.
    ValueError
        If the output folder overlaps the input folder.

    Example
    -------
    >>> report = anonymise_tree("data/brain-mri-study/train", "build/anon", key="s3cret")  # doctest: +SKIP
    >>> report.written.all()                                                           # doctest: +SKIP
    True
    """
    import pandas as pd

    from course_utils.parallel import parallel_map
    from course_utils.scan import list_files, natural_key

    src_root, dst_root = Path(src_root), Path(dst_root)
    if not src_root.is_dir():
        raise FileNotFoundError(f"src_root {src_root} is not an existing folder")
    source, target = src_root.resolve(), dst_root.resolve()
    if source == target or _is_inside(target, source) or _is_inside(source, target):
        raise ValueError(
            f"dst_root {dst_root} overlaps src_root {src_root}; write the de-identified copy to a "
            "separate folder (never in place, never inside the input)"
        )
    unknown = set(options) - {
        "pseudonyms",
        "dates",
        "keep_descriptions",
        "keep_patient_characteristics",
    }
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for anonymise_tree")
    _key_bytes(key)
    if files is None:
        chosen = list_files(src_root)
    else:
        chosen = sorted((Path(path) for path in files), key=natural_key)
    items = []
    for path in chosen:
        relative = path.resolve().relative_to(source).as_posix()
        items.append((str(path), str(target / relative), relative, {"key": key, **options}))
    rows = parallel_map(
        _anonymise_item,
        items,
        scheduler=scheduler,
        n_workers=n_workers,
        progress=progress,
        desc="de-identify",
    )
    return pd.DataFrame(rows, columns=list(_REPORT_COLUMNS))


#: Columns of the table :func:`anonymise_tree` returns.
_REPORT_COLUMNS = (
    "path",
    "written",
    "patient_pseudonym",
    "error",
    "burned_in_annotation",
    "needs_pixel_review",
)
