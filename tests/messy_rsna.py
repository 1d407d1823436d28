"""Builder of a small RSNA-MICCAI-shaped folder with the problems real folders have.

The generated brain-mri-study is deliberately tidy in some respects; real
copies of RSNA-MICCAI (and users' own exports) add problems that lesson 03 and
its helpers must report instead of failing on:

* compressed series: one RLE Lossless series (pydicom decodes it) and one
  JPEG-LS Lossless series (no installed pydicom decoder: pixels fail with a
  clear message while the header scan still works);
* a truncated file (cut inside the pixel data) and a zero-byte file;
* stray non-DICOM files (a text note, a ``Thumbs.db``, a non-DICOM file
  named like a slice);
* instance numbers beyond 9 so that text sorting puts ``Image-10`` before ``Image-2``;
* signed (int16, PixelRepresentation 1, with negative values) and unsigned
  (uint16) series mixed in one patient;
* a sagittal series among axial ones;
* an empty patient folder (a "corrupted" patient), a label without a folder
  and a folder without a label;
* fake identities (names, IDs, dates, institution) in public tags, in a
  private block and inside nested sequences, for the de-identification tests.

Nothing here is committed as binary: tests call :func:`build_messy_rsna`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEQUENCES = ("FLAIR", "T1w", "T1wCE", "T2w")
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"

#: Fake identities of the messy folder's patients (folder id -> identity).
IDENTITIES = {
    "00000": {
        "PatientName": "Quixote^Alonso",
        "PatientID": "MRN7731001",
        "PatientBirthDate": "19580214",
        "OtherPatientID": "NHS941200731",
        "AccessionNumber": "ACC55500011",
        "InstitutionName": "La Mancha General Hospital",
        "ReferringPhysicianName": "Carrasco^Sanson",
        "StudyDate": "20150610",
    },
    "00002": {
        "PatientName": "Panza^Sancho",
        "PatientID": "MRN7731002",
        "PatientBirthDate": "19610930",
        "OtherPatientID": "NHS941200732",
        "AccessionNumber": "ACC55500012",
        "InstitutionName": "Barataria Island Clinic",
        "ReferringPhysicianName": "Recio^Pedro",
        "StudyDate": "20160121",
    },
    "00003": {
        "PatientName": "Dulcinea^Aldonza",
        "PatientID": "MRN7731003",
        "PatientBirthDate": "19700505",
        "OtherPatientID": "NHS941200733",
        "AccessionNumber": "ACC55500013",
        "InstitutionName": "Toboso Medical Centre",
        "ReferringPhysicianName": "Nicolas^Maese",
        "StudyDate": "20170302",
    },
}

#: What the builder puts where (relative to the returned root).
LAYOUT = {
    "labels_without_folder": ["00005"],
    "folders_without_label": ["00003"],
    "empty_patient_folders": ["00004"],
    "rle_series": "train/00000/T2w",
    "jpegls_series": "train/00002/T1wCE",
    "signed_series": ["train/00000/T1w", "train/00002/FLAIR"],
    "sagittal_series": "train/00003/T2w",
    "truncated_file": "train/00002/T2w/Image-4.dcm",
    "zero_byte_file": "train/00003/FLAIR/Image-13.dcm",
    "stray_files": [
        "train/00000/FLAIR/notes.txt",
        "train/Thumbs.db",
        "train/00002/T1w/Image-99.dcm",
    ],
    "slices_per_series": 12,
    "matrix": 32,
}


def _uid(*parts) -> str:
    import hashlib

    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def _slice_pixels(rng, index: int, n_slices: int, matrix: int, signed: bool) -> np.ndarray:
    y, x = np.mgrid[:matrix, :matrix] - (matrix - 1) / 2
    radius = matrix * 0.4 * np.sqrt(max(0.05, 1 - ((index - n_slices / 2) / (n_slices / 1.8)) ** 2))
    head = (x**2 + y**2) < radius**2
    values = np.where(head, 900.0, 0.0) + rng.normal(0, 25, size=(matrix, matrix))
    if signed:
        values = values - 200.0  # real signed series hold negative values
        return np.clip(np.rint(values), -1024, 4095).astype(np.int16)
    return np.clip(np.rint(values), 0, 4095).astype(np.uint16)


def _dataset(patient: str, sequence: str, instance: int, pixels: np.ndarray, plane: str):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian

    identity = IDENTITIES[patient]
    signed = pixels.dtype == np.int16
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = _uid(patient, sequence, instance)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.SOPClassUID = MR_IMAGE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = identity["StudyDate"]
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.AccessionNumber = identity["AccessionNumber"]
    ds.Modality = "MR"
    ds.Manufacturer = "MESSY TEST SCANNER"
    ds.InstitutionName = identity["InstitutionName"]
    ds.ReferringPhysicianName = identity["ReferringPhysicianName"]
    ds.StudyDescription = "BRAIN"
    ds.SeriesDescription = sequence
    ds.PatientName = identity["PatientName"]
    ds.PatientID = identity["PatientID"]
    ds.PatientBirthDate = identity["PatientBirthDate"]
    ds.PatientSex = "O"
    other = Dataset()
    other.PatientID = identity["OtherPatientID"]
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    ds.BodyPartExamined = "BRAIN"
    ds.PatientPosition = "HFS"
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.SliceThickness = "5"
    ds.RepetitionTime = "500"
    ds.EchoTime = "15"
    ds.EchoTrainLength = 1
    ds.StudyInstanceUID = _uid(patient, "study")
    ds.SeriesInstanceUID = _uid(patient, sequence, "series")
    ds.StudyID = "1"
    ds.SeriesNumber = SEQUENCES.index(sequence) + 1
    ds.InstanceNumber = instance
    ds.FrameOfReferenceUID = _uid(patient, "frame")
    ds.PositionReferenceIndicator = ""
    step = 5.0 * (instance - 1)
    if plane == "sagittal":
        ds.ImageOrientationPatient = ["0", "1", "0", "0", "0", "-1"]
        ds.ImagePositionPatient = [f"{-30 + step:g}", "-80", "80"]
    else:
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.ImagePositionPatient = ["-80", "-80", f"{-30 + step:g}"]
    ds.PixelSpacing = ["5", "5"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16 if signed else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    # identities hidden where careless anonymisers do not look
    request = Dataset()
    request.RequestedProcedureID = f"RP{identity['AccessionNumber'][3:]}"
    request.AccessionNumber = identity["AccessionNumber"]
    ds.RequestAttributesSequence = Sequence([request])
    block = ds.private_block(0x0019, "MESSY TEST PRIVATE", create=True)
    block.add_new(0x10, "LO", identity["PatientName"])
    block.add_new(0x11, "LO", identity["PatientID"])
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    return ds


def _save(ds, path: Path, compression: str | None) -> None:
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLSLossless, RLELossless

    path.parent.mkdir(parents=True, exist_ok=True)
    if compression == "rle":
        ds.compress(RLELossless)
    elif compression == "jpegls":
        import imagecodecs

        pixels = np.frombuffer(ds.PixelData, dtype=np.uint16).reshape(ds.Rows, ds.Columns)
        ds.PixelData = encapsulate([imagecodecs.jpegls_encode(pixels)])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = JPEGLSLossless
        ds.LossyImageCompression = "00"
    ds.save_as(path, enforce_file_format=True)


def build_messy_rsna(root: str | Path, *, seed: int = 0) -> Path:
    """Write the messy RSNA-MICCAI-shaped folder into ``root`` (created) and return it.

    Parameters
    ----------
    root : path
        Folder to create (must not exist or be empty).
    seed : int
        Seed of the pixel noise.

    Returns
    -------
    pathlib.Path
        ``root``, holding ``train_labels.csv`` and ``train/``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_slices, matrix = LAYOUT["slices_per_series"], LAYOUT["matrix"]
    # BraTS21ID written as integers, as the competition's CSV does (no zero padding)
    labels = {"00000": 1, "00002": 0, "00004": 1, "00005": 0}
    lines = ["BraTS21ID,MGMT_value"] + [f"{int(pid)},{value}" for pid, value in labels.items()]
    (root / "train_labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    train = root / "train"
    for patient in IDENTITIES:
        for sequence in SEQUENCES:
            series = f"train/{patient}/{sequence}"
            signed = series in LAYOUT["signed_series"]
            plane = "sagittal" if series == LAYOUT["sagittal_series"] else "axial"
            compression = (
                "rle"
                if series == LAYOUT["rle_series"]
                else "jpegls"
                if series == LAYOUT["jpegls_series"]
                else None
            )
            for index in range(n_slices):
                instance = index + 1
                pixels = _slice_pixels(rng, index, n_slices, matrix, signed)
                ds = _dataset(patient, sequence, instance, pixels, plane)
                _save(ds, root / series / f"Image-{instance}.dcm", compression)
    (train / LAYOUT["empty_patient_folders"][0]).mkdir(parents=True, exist_ok=True)
    truncated = root / LAYOUT["truncated_file"]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - matrix * matrix])  # half the pixel bytes gone
    (root / LAYOUT["zero_byte_file"]).write_bytes(b"")
    notes, thumbs, fake_slice = (root / path for path in LAYOUT["stray_files"])
    notes.write_text("radiologist's notes: re-scan FLAIR\n", encoding="utf-8")
    thumbs.write_bytes(b"\x00\x01Thumbs database (Windows Explorer cache)\x00" * 4)
    fake_slice.write_text("this is not DICOM but is named like a slice\n", encoding="utf-8")
    return root


def identities_of(patient: str) -> dict[str, str]:
    """The fake identifying values of one messy patient (for verification tests)."""
    identity = dict(IDENTITIES[patient])
    family, given = identity["PatientName"].split("^")
    identity["family name"], identity["given name"] = family, given
    return identity
