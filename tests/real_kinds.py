"""Folders of the DICOM kinds a practitioner's folder holds, for lesson 01's ``data_dir`` runs.

Most files are pydicom's and pydicom-data's own test files, copied under names that say what
they are. Three kinds that neither package ships are derived from their real pixels by
changing the header, the way such files come out of real systems:

* ``DX_12bit_no_rescale.dcm``: a 12-bit DX radiograph (MONOCHROME2) without RescaleSlope or
  RescaleIntercept, with ImagerPixelSpacing only, and junk in the unused high bits of some
  pixels (old systems kept overlays there);
* ``CR_MONOCHROME1_VOI_LUT.dcm``: a MONOCHROME1 radiograph whose display transform is a VOI
  LUT Sequence instead of a window;
* ``CT_no_Modality.dcm``: a CT slice whose Modality tag is missing (its SOP Class still says CT).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from course_utils import data

DX_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation

# copies: name in the folder -> (source, where it comes from); what each is, is in its name
COPIES = {
    "SC_ybr_full_422_jpeg_baseline.dcm": ("pydicom", "SC_rgb_dcmtk_+eb+cy+np.dcm"),
    "other_no_Modality_rgb_jpeg_baseline.dcm": ("pydicom", "SC_jpeg_no_color_transform.dcm"),
    "US_rgb_burned_in_text.dcm": ("pydicom-data", "US1_UNCI.dcm"),
    "US_multiframe_ybr_full_422_jpeg.dcm": ("pydicom", "color3d_jpeg_baseline.dcm"),
    "RG3_MONOCHROME1_window.dcm": ("pydicom-data", "RG3_UNCI.dcm"),
    "eCT_perfusion_map.dcm": ("pydicom", "eCT_Supplemental.dcm"),
    "MR_jpeg_ls_no_decoder.dcm": ("pydicom", "MR_small_jpeg_ls_lossless.dcm"),
    "MR_truncated.dcm": ("pydicom", "MR_truncated.dcm"),
    "OT_modality_lut.dcm": ("pydicom-data", "mlut_18.dcm"),
    "US_palette_color.dcm": ("pydicom-data", "OBXXXX1A.dcm"),
    "SEG_liver.dcm": ("pydicom", "liver_1frame.dcm"),
    "SR_report.dcm": ("pydicom", "reportsi.dcm"),
    "RTDOSE_grid.dcm": ("pydicom", "rtdose_1frame.dcm"),
    "no_preamble.dcm": ("pydicom", "no_meta.dcm"),
}


def _source(package: str, name: str) -> Path:
    if package == "pydicom":
        return Path(get_testdata_file(name))
    return data.sample_path(name, verify=False) if name in _manifest_files() else _data_store(name)


def _manifest_files() -> set[str]:
    manifest = data.load_manifest("pydicom-data")
    return {entry["file"] for entry in manifest.get("files", [])}


def _data_store(name: str) -> Path:
    import data_store

    return Path(data_store.__file__).parent / "data" / name


def write_dx_12bit_no_rescale(target: Path) -> Path:
    """RG1's chest radiograph as a 12-bit MONOCHROME2 DX without rescale tags, junk in bits 12-15."""
    ds = pydicom.dcmread(data.sample_path("RG1_UNCI.dcm"))
    stored = ds.pixel_array[::2, ::2]  # half size keeps the test quick
    twelve_bit = (4095 - (stored.astype(np.int32) >> 3)).astype(
        np.uint16
    )  # 15 -> 12 bits, inverted
    raw = twelve_bit.copy()
    raw[:40, :200] |= 0x1000  # an old overlay plane in bit 12: must be masked away
    for keyword in ("RescaleSlope", "RescaleIntercept", "RescaleType", "PixelSpacing"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.Modality = "DX"
    ds.SOPClassUID = DX_STORAGE
    ds.file_meta.MediaStorageSOPClassUID = DX_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = twelve_bit.shape
    ds.BitsStored, ds.HighBit = 12, 11
    ds.ImagerPixelSpacing = [0.286, 0.286]
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.PixelData = raw.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(target, enforce_file_format=True)
    return target


def write_monochrome1_voi_lut(target: Path) -> Path:
    """RG3's tibia radiograph (MONOCHROME1) with a sigmoid VOI LUT Sequence instead of its window."""
    ds = pydicom.dcmread(data.sample_path("RG3_UNCI.dcm"))
    for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"):
        if keyword in ds:
            delattr(ds, keyword)
    entries = 1024  # one entry per 10-bit stored value
    curve = 1 / (1 + np.exp(-(np.arange(entries) - 550) / 110))
    lut = Dataset()
    lut.LUTDescriptor = [entries, 0, 12]
    lut.LUTExplanation = "sigmoid, centre 550"
    table = np.round(4095 * (curve - curve.min()) / (curve.max() - curve.min())).astype("<u2")
    lut.add_new("LUTData", "OW", table.tobytes())
    ds.VOILUTSequence = Sequence([lut])
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(target, enforce_file_format=True)
    return target


def write_ct_without_modality(target: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del ds.Modality
    ds.save_as(target, enforce_file_format=True)
    return target


def build_mixed_folder(folder: Path) -> Path:
    """Every kind in one folder: the lesson must use some and skip the rest with a reason."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (package, source) in COPIES.items():
        shutil.copy2(_source(package, source), folder / name)
    write_dx_12bit_no_rescale(folder / "DX_12bit_no_rescale.dcm")
    write_monochrome1_voi_lut(folder / "CR_MONOCHROME1_VOI_LUT.dcm")
    write_ct_without_modality(folder / "CT_no_Modality.dcm")
    return folder


def build_no_ct_folder(folder: Path) -> Path:
    """No CT in HU, no MR, no MONOCHROME1: a 12-bit DX and an ultrasound clip carry the lesson."""
    folder.mkdir(parents=True, exist_ok=True)
    write_dx_12bit_no_rescale(folder / "DX_12bit_no_rescale.dcm")
    for name in ("US_multiframe_ybr_full_422_jpeg.dcm", "eCT_perfusion_map.dcm", "SR_report.dcm"):
        package, source = COPIES[name]
        shutil.copy2(_source(package, source), folder / name)
    return folder


def build_unusable_folder(folder: Path) -> Path:
    """Nothing the lesson can use."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("SR_report.dcm", "SEG_liver.dcm", "US_palette_color.dcm", "no_preamble.dcm"):
        package, source = COPIES[name]
        shutil.copy2(_source(package, source), folder / name)
    return folder


def build_no_ct_cr_folder(folder: Path) -> Path:
    """No CT: a MONOCHROME1 CR chest (body stored low) and an ultrasound clip carry the lesson."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_source("pydicom-data", "RG1_UNCI.dcm"), folder / "CR_chest_MONOCHROME1.dcm")
    package, source = COPIES["US_multiframe_ybr_full_422_jpeg.dcm"]
    shutil.copy2(_source(package, source), folder / "US_multiframe_ybr_full_422_jpeg.dcm")
    return folder
