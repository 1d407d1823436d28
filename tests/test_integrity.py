"""Data integrity (issue 13, part 3): the lessons never modify their inputs, write only under
``output_dir``, and an interrupted run leaves no half-written file under a final name.

Every lesson notebook (00 has no data) runs with its alternative parameters, ``data_dir`` pointing
at a *copy* of a real-layout folder (which also proves every lesson accepts a user's folder) and
``output_dir`` in the test's temporary folder. ``make test`` runs the *student* version there (the
one a student runs on their own data; its stubs raise and its checks print ❌), so one run proves
both that the student version runs top to bottom and that the lesson leaves its input alone; the
answered version under the same parameters runs in ``make test-extended`` (nbval executes the
answered version with the default parameters in ``make test``). sha256 of every input file before and after proves the inputs are byte-identical
and that nothing was added or removed; the course's own data cache (``data/``) is hashed too,
because a lesson may read other default datasets besides its ``data_dir``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from course_utils import data, deid
from course_utils.build.execution import NOTEBOOK_DIR, discover_notebooks, run_notebook
from course_utils.build.student import build_student_version
from tests.conftest import record_notebook_run
from tests.notebook_runs import check_ceilings, tree_hashes

# lesson -> what its data_dir is a copy of: ("samples", [package sample files]) or ("dataset", name)
LESSON_INPUTS = {
    "01": ("samples", ["693_J2KR.dcm", "MR2_UNCI.dcm", "RG3_UNCI.dcm"]),
    "02": ("dataset", "ct-phantom"),
    "03": ("dataset", "brain-mri-study"),
    "04": ("dataset", "clot-slides"),
    "05": ("dataset", "mammo-roi"),
    "06": ("dataset", "mammo-roi"),
    "07": ("dataset", "bone-xray"),
    "08": ("dataset", "cardiac-cine"),
    "09": ("dataset", "brain-mri-study"),
}
# Lesson 00 has no data_dir; every other lesson is run on a copy of its input.
LESSONS = [path for path in discover_notebooks() if not path.name.startswith("00_")]
_COMPLETE_MARKER = ".complete.json"


# --------------------------------------------------------------------------- helpers
def cache_hashes() -> dict[str, dict[str, str]]:
    """Hashes of every *complete* dataset folder of the course's data cache."""
    root = data.cache_root()
    if not root.is_dir():
        return {}
    return {
        folder.name: tree_hashes(folder)
        for folder in sorted(root.iterdir())
        if folder.is_dir() and (folder / _COMPLETE_MARKER).is_file()
    }


def describe_difference(before: dict[str, str], after: dict[str, str]) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(name for name in set(before) & set(after) if before[name] != after[name])
    return f"added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"


def alt_parameters(notebook: Path) -> dict:
    metadata = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
    return dict(metadata.get("course", {}).get("alt_parameters", {}))


def make_input_copy(lesson: str, target: Path) -> str:
    """Copy the lesson's input into ``target``; return the default dataset it stands for."""
    kind, what = LESSON_INPUTS[lesson]
    if kind == "samples":
        target.mkdir(parents=True)
        for name in what:
            shutil.copy2(data.sample_path(name), target / name)
        return ""
    source = data.dataset_path(what)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(_COMPLETE_MARKER))
    return what


def visible_files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.parts)
    }


# --------------------------------------------------------------------------- every lesson
def test_every_lesson_has_an_input_mapping():
    lessons = {path.name[:2] for path in LESSONS}
    assert lessons <= set(LESSON_INPUTS), (
        f"no input copy defined for {lessons - set(LESSON_INPUTS)}"
    )


def _student_feedback_shown(executed: Path) -> bool:
    """True when a check cell of an executed student version printed a ❌ (exercise not done)."""
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    printed = "".join(
        "".join(output.get("text", ""))
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )
    return "❌" in printed


def run_on_input_copy(notebook: Path, tmp_path: Path, *, student: bool) -> None:
    """Run ``notebook`` with its alternative parameters on a copy of its input, and prove the
    copy, the course's data cache and ``notebooks/`` are untouched and that it wrote only under
    ``output_dir``.

    ``student=True`` runs the student version (exercise answers replaced by stubs that raise,
    the checks printing ❌): the version a student runs on their own data. ``make test`` runs
    that one; the answered version under the same parameters is the extended suite's (nbval
    already executes the answered version with the default parameters).
    """
    lesson = notebook.name[:2]
    input_copy = tmp_path / "input"
    out_dir = tmp_path / "outputs"
    default_dataset = make_input_copy(lesson, input_copy)
    input_before = tree_hashes(input_copy)
    assert input_before, "the input copy is empty"
    cache_before = cache_hashes()
    notebooks_before = visible_files(NOTEBOOK_DIR)
    parameters = {
        **alt_parameters(notebook),
        "data_dir": str(input_copy),
        "output_dir": str(out_dir),
    }
    kind = "student, alt+data copy" if student else "alt+data copy"
    allowed = {input_copy.name, out_dir.name}
    source = notebook
    if student:
        (source,) = build_student_version([notebook], tmp_path / "student")
        allowed.add("student")
    executed = tmp_path / f"{notebook.stem}-executed.ipynb"
    allowed |= {executed.name, executed.with_suffix(".log").name}
    run = run_notebook(source, executed, parameters=parameters, allow_declared_errors=student)
    record_notebook_run(kind, run)
    assert run.status == "ok", f"{notebook.name} ({kind}) failed: {run.error}"
    check_ceilings(notebook, run, kind)
    if student:
        assert _student_feedback_shown(executed), (
            f"student version of {notebook.name}: no check printed ❌ for the unanswered exercises"
        )

    # 1. the input copy is byte-identical: same files, same sha256, nothing added or removed
    input_after = tree_hashes(input_copy)
    assert input_after == input_before, (
        f"{notebook.name} modified its data_dir: {describe_difference(input_before, input_after)}"
    )
    # 2. outputs only under output_dir: nothing new beside it, nothing new in the notebooks folder
    stray = sorted(path.name for path in tmp_path.iterdir() if path.name not in allowed)
    assert not stray, f"{notebook.name} wrote {stray} outside output_dir"
    assert out_dir.is_dir(), f"{notebook.name} did not create output_dir"
    new_in_notebooks = sorted(visible_files(NOTEBOOK_DIR) - notebooks_before)
    assert not new_in_notebooks, f"{notebook.name} wrote {new_in_notebooks} into notebooks/"
    # 3. the course's data cache is unchanged (folders built during the run are allowed)
    cache_after = cache_hashes()
    for name, before in cache_before.items():
        if name in cache_after:
            assert cache_after[name] == before, (
                f"{notebook.name} modified the cached dataset {name}: "
                f"{describe_difference(before, cache_after[name])}"
            )
    if default_dataset:
        assert default_dataset in cache_after, f"cached {default_dataset} disappeared"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("notebook", LESSONS, ids=[path.stem for path in LESSONS])
def test_student_version_runs_on_a_copy_and_leaves_it_byte_identical(notebook, tmp_path):
    run_on_input_copy(notebook, tmp_path, student=True)


@pytest.mark.extended
@pytest.mark.notebook
@pytest.mark.parametrize("notebook", LESSONS, ids=[path.stem for path in LESSONS])
def test_answered_lesson_runs_on_a_copy_and_leaves_it_byte_identical(notebook, tmp_path):
    run_on_input_copy(notebook, tmp_path, student=False)


# --------------------------------------------------------------------------- interrupted runs
def _is_complete(path: Path) -> bool:
    """True when a file with a final name decodes completely."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path) as archive:
                for key in archive.files:
                    archive[key]  # noqa: B018 - decompresses the member, verifying its CRC
        elif suffix == ".npy":
            np.load(path)
        elif suffix == ".png":
            import imageio.v3 as iio

            iio.imread(path)
        elif suffix == ".csv":
            import pandas as pd

            pd.read_csv(path)
        elif suffix == ".json":
            json.loads(path.read_text())
        elif suffix in (".tif", ".tiff"):
            import tifffile

            tifffile.imread(path)
        elif suffix == ".dcm":
            import pydicom

            pydicom.dcmread(path).pixel_array  # noqa: B018
        else:
            path.read_bytes()
    except Exception:
        return False
    return True


def _is_temporary_name(path: Path) -> bool:
    return path.name.startswith(".") or path.suffix in (".partial", ".tmp")


def _lesson(number: str) -> Path:
    matches = [path for path in LESSONS if path.name.startswith(number + "_")]
    if not matches:
        pytest.skip(f"lesson {number} is not in notebooks/")
    return matches[0]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.extended  # runs lesson 05 up to its pipeline (~35 s); the slow-writer kill below is make test's
def test_killed_preprocessing_run_leaves_no_half_written_file(tmp_path):
    """Kill lesson 05 (SIGKILL to kernel and papermill) while preprocess_dataset writes its files."""
    notebook = _lesson("05")
    out_dir = tmp_path / "outputs"
    parameter_file = tmp_path / "parameters.json"
    parameters = {**alt_parameters(notebook), "output_dir": str(out_dir)}
    parameter_file.write_text(json.dumps(parameters))
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(tmp_path / "killed.ipynb"),
        "-f",
        str(parameter_file),
        "--cwd",
        str(notebook.parent),
        "--kernel",
        "python3",
        "--no-progress-bar",
        "--log-level",
        "ERROR",
    ]
    env = {**os.environ, "COURSE_PROGRESS": "0", "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # its own process group: the kernel dies with it
    )
    pipeline_dir = out_dir / "mammo_preprocessed"
    deadline = time.monotonic() + 240
    started = False
    try:
        while time.monotonic() < deadline and process.poll() is None:
            # the first entry is the hidden temporary file of the first case: kill at once, so
            # the kill lands while it is being written (poll fast; writes take milliseconds)
            if pipeline_dir.is_dir() and any(os.scandir(pipeline_dir)):
                started = True
                break
            time.sleep(0.001 if out_dir.is_dir() else 0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    if not started:
        pytest.fail(
            "lesson 05 finished or timed out before preprocess_dataset wrote anything "
            f"(exit code {process.returncode}); cannot test the interruption"
        )
    present = sorted(p.name for p in pipeline_dir.iterdir())
    print(f"files in the pipeline folder when lesson 05 was killed: {present}")
    finals = [p for p in pipeline_dir.rglob("*") if p.is_file() and not _is_temporary_name(p)]
    broken = [p.name for p in finals if not _is_complete(p)]
    assert not broken, f"half-written files under final names after the kill: {broken}"
    # the log that a rerun would read is written last: if it is there, every case it lists is too
    log_path = pipeline_dir / "preprocessing_log.csv"
    if log_path.is_file():
        import pandas as pd

        log = pd.read_csv(log_path)
        listed = log.loc[log["status"] == "ok", "output_file"]
        assert all((pipeline_dir / name).is_file() for name in listed)


_SLOW_WRITER = """
import os, sys, time
import numpy as np
from course_utils import preprocess

real_fdopen = os.fdopen


class SlowStream:  # the disk is slow: every write trickles out in 2 kB pieces
    def __init__(self, handle, mode):
        self.stream = real_fdopen(handle, mode)

    def write(self, payload):
        for start in range(0, len(payload), 2048):
            self.stream.write(payload[start : start + 2048])
            self.stream.flush()
            time.sleep(0.01)
        return len(payload)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stream.close()
        return False


os.fdopen = SlowStream
cases = {f"case{i}": np.random.default_rng(i).random((48, 48)) for i in range(6)}
preprocess.preprocess_dataset(
    cases, sys.argv[1], load=lambda image: image, image_size=(48, 48), progress=False
)
"""


@pytest.mark.slow
def test_kill_during_a_write_leaves_only_a_temporary_name(tmp_path):
    """SIGKILL preprocess_dataset while a file is half written (slowed disk): nothing final is broken."""
    out_dir = tmp_path / "preprocessed"
    script = tmp_path / "slow_writer.py"
    script.write_text(_SLOW_WRITER)
    process = subprocess.Popen(
        [sys.executable, str(script), str(out_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    partial = []
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if out_dir.is_dir():
                finals = [p for p in out_dir.iterdir() if not _is_temporary_name(p)]
                partial = [p for p in out_dir.iterdir() if _is_temporary_name(p)]
                # wait for the second case, so that complete files exist beside the partial one
                if len(finals) >= 2 and partial and partial[0].stat().st_size > 0:
                    break
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the writer finished before it could be killed"
    leftovers = [p for p in out_dir.iterdir() if _is_temporary_name(p)]
    assert leftovers, "the kill should have interrupted a write"
    for path in leftovers:
        assert path.name.startswith(".") and path.name.endswith(".partial"), path.name
    finals = [p for p in out_dir.iterdir() if not _is_temporary_name(p)]
    assert finals and all(_is_complete(p) for p in finals), [p.name for p in finals]
    assert not (out_dir / "preprocessing_log.csv").exists(), "the log is written last"


# --------------------------------------------------------------------------- atomic_write_bytes
class _Boom(Exception):
    pass


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "result.bin"
    data.atomic_write_bytes(target, b"old complete content")

    real_fdopen = os.fdopen

    class FailingStream(io.RawIOBase):
        def __init__(self, handle):
            self._stream = real_fdopen(handle, "wb")

        def write(self, payload):
            self._stream.write(payload[: len(payload) // 2])  # half is on disk, then it fails
            self._stream.flush()
            raise _Boom("disk full")

        def __exit__(self, *exc_info):
            self._stream.close()
            return False

    monkeypatch.setattr(os, "fdopen", lambda handle, mode: FailingStream(handle))
    with pytest.raises(_Boom, match="disk full"):
        data.atomic_write_bytes(target, b"new content that never completes")
    monkeypatch.undo()
    assert target.read_bytes() == b"old complete content", "the old file was damaged"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.bin"], "a partial file remains"


def test_atomic_write_cleans_up_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "result.bin"

    def failing_replace(source, destination):
        raise _Boom(f"rename {source} -> {destination} interrupted")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(_Boom):
        data.atomic_write_bytes(target, b"payload")
    monkeypatch.undo()
    assert not target.exists()
    assert list(target.parent.iterdir()) == [], "the temporary file was left behind"


def test_atomic_write_uses_a_hidden_temporary_name_in_the_same_folder(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spying_replace(source, destination):
        seen.append((Path(source), Path(destination)))
        assert Path(source).is_file() and not Path(destination).exists()
        return real_replace(source, destination)

    monkeypatch.setattr(os, "replace", spying_replace)
    result = data.atomic_write_bytes(tmp_path / "new" / "image.npz", b"\x00" * 10)
    ((temporary, final),) = seen
    assert temporary.parent == final.parent == result.parent
    assert _is_temporary_name(temporary) and temporary.name.startswith(".image.npz.")
    assert result.read_bytes() == b"\x00" * 10


def test_atomic_write_interrupted_by_keyboard_interrupt(tmp_path, monkeypatch):
    target = tmp_path / "result.bin"
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        data.atomic_write_bytes(target, b"payload")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- de-identification: the full profile
#: Attributes of the DICOM Basic Application Level Confidentiality Profile (PS3.15 Table E.1-1)
#: whose value can identify a patient, a person, an institution, a device, a date or an instance.
#: Keywords unknown to the installed pydicom are skipped (the table grows with the standard).
BASIC_PROFILE_KEYWORDS = """
AccessionNumber AcquisitionComments AcquisitionContextSequence AcquisitionDate
AcquisitionDateTime AcquisitionDeviceProcessingDescription AcquisitionProtocolDescription
AcquisitionTime ActualHumanPerformersSequence AdditionalPatientHistory AdmissionID AdmittingDate
AdmittingDiagnosesCodeSequence AdmittingDiagnosesDescription AdmittingTime AffectedSOPInstanceUID
Allergies AuthorObserverSequence BranchOfService CassetteID CommentsOnThePerformedProcedureStep
ConcatenationUID ConfidentialityConstraintOnPatientDataDescription ConsultingPhysicianName
ContentCreatorName ContentDate ContentTime ContributionDescription CountryOfResidence
CreatorVersionUID CurrentPatientLocation CustodialOrganizationSequence DataSetTrailingPadding
DateOfLastCalibration DerivationDescription DetectorID DeviceSerialNumber DeviceUID
DigitalSignatureUID DimensionOrganizationUID DischargeDiagnosisDescription DistributionAddress
DistributionName DoseReferenceUID EthnicGroup FailedSOPInstanceUIDList FiducialUID
FillerOrderNumberImagingServiceRequest FrameComments FrameOfReferenceUID GantryID GeneratorID
HumanPerformerName HumanPerformerOrganization IconImageSequence IdentifyingComments ImageComments
ImagePresentationComments ImagingServiceRequestComments Impressions InstanceCreationDate
InstanceCreationTime InstanceCreatorUID InstitutionAddress InstitutionCodeSequence
InstitutionName InstitutionalDepartmentName InsurancePlanIdentification
IntendedRecipientsOfResultsIdentificationSequence InterpretationApproverSequence
InterpretationAuthor InterpretationDiagnosisDescription InterpretationIDIssuer
InterpretationRecorder InterpretationText InterpretationTranscriber IrradiationEventUID
IssuerOfAdmissionID IssuerOfPatientID IssuerOfServiceEpisodeID LastMenstrualDate
MediaStorageSOPInstanceUID MedicalAlerts MedicalRecordLocator MilitaryRank
ModifiedImageDescription ModifyingDeviceID NameOfPhysiciansReadingStudy
NamesOfIntendedRecipientsOfResults Occupation OperatorIdentificationSequence OperatorsName
OrderCallbackPhoneNumber OrderEnteredBy OrderEntererLocation OtherPatientIDs
OtherPatientIDsSequence OtherPatientNames ParticipantSequence PatientAddress PatientAge
PatientBirthDate PatientBirthName PatientBirthTime PatientComments PatientID
PatientInstitutionResidence PatientInsurancePlanCodeSequence PatientMotherBirthName PatientName
PatientPrimaryLanguageCodeSequence PatientReligiousPreference PatientSex PatientSexNeutered
PatientSize PatientState PatientTelephoneNumbers PatientTransportArrangements PatientWeight
PerformedLocation PerformedProcedureStepDescription PerformedProcedureStepEndDate
PerformedProcedureStepEndTime PerformedProcedureStepID PerformedProcedureStepStartDate
PerformedProcedureStepStartTime PerformedStationAETitle PerformedStationName
PerformingPhysicianIdentificationSequence PerformingPhysicianName PersonAddress
PersonIdentificationCodeSequence PersonName PersonTelephoneNumbers
PhysicianApprovingInterpretation PhysiciansOfRecord PhysiciansOfRecordIdentificationSequence
PhysiciansReadingStudyIdentificationSequence PlacerOrderNumberImagingServiceRequest PlateID
PreMedication PregnancyStatus ProtocolName ReasonForImagingServiceRequest ReasonForStudy
ReasonForTheRequestedProcedure ReferencedFrameOfReferenceUID ReferencedPatientPhotoSequence
ReferencedPatientSequence ReferencedPerformedProcedureStepSequence ReferencedSOPInstanceUID
ReferencedSOPInstanceUIDInFile ReferencedStudySequence ReferringPhysicianAddress
ReferringPhysicianIdentificationSequence ReferringPhysicianName ReferringPhysicianTelephoneNumbers
RegionOfResidence RelatedFrameOfReferenceUID RequestAttributesSequence RequestedContrastAgent
RequestedProcedureComments RequestedProcedureDescription RequestedProcedureID
RequestedProcedureLocation RequestedSOPInstanceUID RequestingPhysician
RequestingPhysicianIdentificationSequence RequestingService ResponsibleOrganization
ResponsiblePerson ResultsComments ResultsDistributionListSequence ResultsIDIssuer ReviewerName
ScheduledHumanPerformersSequence ScheduledPatientInstitutionResidence
ScheduledPerformingPhysicianIdentificationSequence ScheduledPerformingPhysicianName
ScheduledProcedureStepDescription ScheduledProcedureStepEndDate ScheduledProcedureStepEndTime
ScheduledProcedureStepLocation ScheduledProcedureStepStartDate ScheduledProcedureStepStartTime
ScheduledStationAETitle ScheduledStationName ScheduledStudyLocation
ScheduledStudyLocationAETitle SeriesDate SeriesDescription SeriesInstanceUID SeriesTime
ServiceEpisodeDescription ServiceEpisodeID SmokingStatus SOPInstanceUID SourceImageSequence
SpecialNeeds StationName StorageMediaFileSetUID StudyComments StudyDate StudyDescription StudyID
StudyIDIssuer StudyInstanceUID StudyTime SynchronizationFrameOfReferenceUID TargetUID
TextComments TextString TimezoneOffsetFromUTC TopicAuthor TopicKeywords TopicSubject TopicTitle
TransactionUID UID VerifyingObserverIdentificationCodeSequence VerifyingObserverName
VerifyingObserverSequence VerifyingOrganization VisitComments
""".split()

_NUMERIC_VRS = {"DS", "IS", "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT", "OB", "OW"}


def _identifying_value(keyword: str, vr: str, index: int):
    """A distinctive value of ``vr`` for attribute ``keyword`` (``None`` if it cannot hold text)."""
    from pydicom.dataset import Dataset

    tag = f"{index:03d}"
    if vr == "PN":
        return f"Leaky^Lucy{tag}"
    if vr == "DA":
        return f"1931{index % 12 + 1:02d}{index % 27 + 1:02d}"
    if vr == "TM":
        return f"{index % 24:02d}{index % 60:02d}17"
    if vr == "DT":
        return f"1931{index % 12 + 1:02d}{index % 27 + 1:02d}{index % 24:02d}1717"
    if vr == "UI":
        return f"1.2.826.0.1.3680043.10.4242.{index}"
    if vr == "AS":
        return "071Y"
    if vr in ("CS", "AE", "SH"):
        return f"LEAKX{tag}"
    if vr in ("LO", "LT", "ST", "UT", "UC", "UR"):
        return f"Leaked text {tag} St Elsewhere"
    if vr == "SQ":
        item = Dataset()
        item.PersonName = f"Seq^Person{tag}"
        item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.10.4343.{index}"
        return [item]
    return None  # numbers and binary values: not searchable as text


def _profile_dataset():
    """An MR slice with every Basic Profile attribute filled with an identifying value."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.datadict import dictionary_VR, keyword_dict

    dataset = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    planted = {}
    for index, keyword in enumerate(BASIC_PROFILE_KEYWORDS):
        if keyword not in keyword_dict:
            continue
        tag = keyword_dict[keyword]
        if tag >> 16 == 0x0002:  # file meta: set below
            continue
        vr = dictionary_VR(tag).split(" or ")[0]
        value = _identifying_value(keyword, vr, index)
        if value is None:
            continue
        dataset.add_new(tag, vr, value)
        planted[keyword] = value
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    return dataset, planted


def _planted_identities(planted: dict) -> list[tuple[str, str]]:
    identities = []
    for keyword, value in planted.items():
        if isinstance(value, list):  # a sequence: its person name and UID
            item = value[0]
            identities += [
                (keyword, str(item.PersonName)),
                (keyword, str(item.ReferencedSOPInstanceUID)),
            ]
        else:
            identities.append((keyword, str(value)))
    return identities


def test_basic_profile_list_is_mostly_known_to_pydicom():
    from pydicom.datadict import keyword_dict

    unknown = [keyword for keyword in BASIC_PROFILE_KEYWORDS if keyword not in keyword_dict]
    assert len(unknown) <= 5, f"keywords pydicom does not know: {unknown}"


def test_no_basic_profile_attribute_survives_de_identification():
    """Every attribute of PS3.15 Table E.1-1 holding a value: none of the values may survive."""
    dataset, planted = _profile_dataset()
    assert len(planted) > 200
    identities = _planted_identities(planted)
    assert deid.find_identifiers(dataset, identities), "the planted values must be findable"
    strict = deid.anonymise_dataset(
        dataset,
        key="profile",
        dates="remove",
        keep_descriptions=False,
        keep_patient_characteristics=False,
    )
    leaks = deid.find_identifiers(strict, identities)
    assert not leaks, f"{len(leaks)} planted values survive, e.g. " + "; ".join(
        str(leak) for leak in leaks[:8]
    )
    # patient characteristics are removed (not just emptied) without the retain option
    for keyword in ("PatientAge", "PatientSize", "PatientWeight"):
        assert keyword not in strict, keyword


def test_default_options_keep_only_what_they_declare():
    """With the default options, only shifted dates, times and cleaned descriptions remain."""
    from course_utils.deid import DESCRIPTORS

    dataset, planted = _profile_dataset()
    clean = deid.anonymise_dataset(dataset, key="profile")
    identities = _planted_identities(planted)
    leaks = deid.find_identifiers(clean, identities)
    from pydicom.datadict import dictionary_VR, keyword_dict

    unexpected = [
        leak
        for leak in leaks
        if leak.identity not in DESCRIPTORS
        and dictionary_VR(keyword_dict[leak.identity]) != "TM"  # times kept with shifted dates
    ]
    assert not unexpected, "; ".join(str(leak) for leak in unexpected[:8])
