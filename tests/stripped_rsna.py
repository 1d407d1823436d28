"""Builder of an RSNA-MICCAI-shaped folder whose files carry only what a public release carries.

The public RSNA-MICCAI 2021 files were de-identified before release: PatientID is
the case id, PatientName a placeholder, and birth date, institution, people,
dates and times, series descriptions and acquisition timing are gone. This
builder copies a few patients of the generated *brain-mri-study* into a
temporary folder and strips every optional tag from every file, so that lesson
03 can be run on files that lack them:

* identity: PatientName becomes a placeholder, PatientID the case id; birth
  date, sex, age, weight, institution, people, accession number, private tags
  and nested identity sequences are removed;
* SeriesDescription, ProtocolName, StudyDescription;
* timing: RepetitionTime, EchoTime, InversionTime, every date and time;
* spacing: PixelSpacing, SliceThickness, SpacingBetweenSlices.

Two planted problems exercise branches the generated data never reach:

* a folder and label row for ``00109``, an id the rsna-miccai manifest lists
  as known-bad (a copy of another patient);
* one series copied under the wrong folder name (patient ``00999``'s
  FLAIR folder holds the T2w series, headers untouched), for the
  cross-check of SeriesDescription/TR/TE/TI against the folder name (the
  cross-check needs those tags, so this series keeps them).

The generator is not changed: this is a test fixture built from its cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom

from course_utils import data

SEQUENCES = ("FLAIR", "T1w", "T1wCE", "T2w")

#: Tags removed from every file of the stripped variant (keywords).
STRIPPED = (
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientSex",
    "PatientAge",
    "PatientWeight",
    "PatientSize",
    "IssuerOfPatientID",
    "OtherPatientIDsSequence",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "OperatorsName",
    "StationName",
    "DeviceSerialNumber",
    "AccessionNumber",
    "StudyID",
    "RequestAttributesSequence",
    "SeriesDescription",
    "ProtocolName",
    "StudyDescription",
    "RepetitionTime",
    "EchoTime",
    "InversionTime",
    "EchoTrainLength",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
)

KNOWN_BAD = "00109"


def strip_file(src: Path, dst: Path, case_id: str) -> None:
    """Copy one DICOM file with every optional tag of :data:`STRIPPED` (and dates/times) removed."""
    ds = pydicom.dcmread(src)
    ds.remove_private_tags()
    for keyword in STRIPPED:
        if keyword in ds:
            delattr(ds, keyword)
    for element in list(ds):
        if element.VR in ("DA", "TM", "DT"):
            del ds[element.tag]
    ds.PatientName = "anonymous"
    ds.PatientID = case_id
    dst.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dst, enforce_file_format=True)


def build_stripped_rsna(root: str | Path, *, n_patients: int = 3) -> Path:
    """Build the stripped variant below ``root`` from the cached brain-mri-study.

    Returns
    -------
    pathlib.Path
        ``root``, holding ``train_labels.csv`` and ``train/``.
    """
    source = data.dataset_path("brain-mri-study")
    root = Path(root)
    train = root / "train"
    labels = {
        int(line.split(",")[0]): line.split(",")[1]
        for line in (source / "train_labels.csv").read_text().splitlines()[1:]
    }
    complete = [
        folder
        for folder in sorted((source / "train").iterdir())
        if folder.is_dir()
        and all(any((folder / s).glob("*.dcm")) for s in SEQUENCES)
        and int(folder.name) in labels
    ]
    chosen = complete[:n_patients]
    rows = ["BraTS21ID,MGMT_value"]
    for folder in chosen:
        for sequence in SEQUENCES:
            for path in sorted((folder / sequence).glob("*.dcm")):
                strip_file(path, train / folder.name / sequence / path.name, folder.name)
        rows.append(f"{int(folder.name)},{labels[int(folder.name)]}")
    # a known-bad id of the real dataset, planted: a copy of the first patient
    shutil.copytree(train / chosen[0].name, train / KNOWN_BAD)
    rows.append(f"{int(KNOWN_BAD)},1")
    # a series under the wrong folder name, headers (description, TR/TE/TI) kept
    donor = chosen[-1]
    mislabelled = train / "00999"
    for sequence in SEQUENCES:
        actual = "T2w" if sequence == "FLAIR" else sequence
        for path in sorted((donor / actual).glob("*.dcm")):
            target = mislabelled / sequence / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    rows.append(f"999,{labels[int(donor.name)]}")
    (root / "train_labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root
