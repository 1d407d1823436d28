"""Load a DICOM series (or a multi-frame DICOM file) into a volume with its geometry.

A CT or MR series is usually stored as one file per slice. File names and
InstanceNumber do not reliably give the order of the slices in space; the
geometry tags do. :func:`load_series`

1. reads every file of a folder (or a list of files) and groups them by
   SeriesInstanceUID (a folder with several series is an error unless you
   pick one with ``series_uid``);
2. computes the slice normal from ImageOrientationPatient (the cross product
   of the row and column direction cosines) and sorts the slices by the
   projection of ImagePositionPatient onto that normal;
3. checks that the slices are evenly spaced (a missing slice raises an error
   or, with ``on_gap="report"``, is filled with NaN and reported);
4. converts stored values to modality values (RescaleSlope/Intercept, e.g.
   Hounsfield units for CT) as float32;
5. builds the 4 x 4 affine that maps a voxel index ``(slice, row, column)``
   to patient coordinates in mm (DICOM's LPS system: x towards the patient's
   left, y towards the back, z towards the head).

The volume's axes are ``(slice, row, column)``; slice index 0 is the slice
with the *smallest* position along the normal (for axial images, the most
inferior one).

Example
-------
>>> from course_utils import data, series
>>> ct = series.load_series(data.dataset_path("ct-phantom"))   # doctest: +SKIP
>>> ct.volume.shape, ct.spacing_mm                               # doctest: +SKIP
((48, 256, 256), (2.5, 1.4, 1.4))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Series", "load_series", "voxel_to_patient", "patient_to_voxel"]

_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"  # DICOMDIR files: not images


@dataclass(frozen=True, repr=False)
class Series:
    """A volume with its geometry and the per-slice metadata it came from.

    Attributes
    ----------
    volume : numpy.ndarray of float32, shape (slices, rows, columns)
        Modality values (e.g. HU for CT); NaN in slices reported missing.
    spacing_mm : tuple of 3 float
        Distance between slice planes, between rows, between columns (mm).
    affine : numpy.ndarray, shape (4, 4)
        Maps homogeneous voxel indices ``(slice, row, column, 1)`` to patient
        coordinates (x, y, z, 1) in mm (LPS).
    origin : numpy.ndarray, shape (3,)
        Patient coordinates (mm) of the centre of voxel (0, 0, 0).
    orientation : numpy.ndarray, shape (3, 3)
        Row ``a`` is the unit direction in patient space along which index
        ``a`` increases (slice normal, column direction, row direction).
    metadata : pandas.DataFrame
        One row per slice in volume order (file, InstanceNumber, position
        along the normal, ImagePositionPatient, rescale, ...).
    series_uid, description, modality : str
    gaps : list of dict
        Missing slices found with ``on_gap="report"`` (index after which the
        gap occurs, gap size in mm, number of missing slices).
    notes : list of str
        Assumptions made because a tag was absent (e.g. no PixelSpacing).
    """

    volume: np.ndarray
    spacing_mm: tuple
    affine: np.ndarray
    origin: np.ndarray
    orientation: np.ndarray
    metadata: object
    series_uid: str = ""
    description: str = ""
    modality: str = ""
    gaps: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def __repr__(self) -> str:
        spacing = ", ".join(f"{s:.4g}" for s in self.spacing_mm)
        return (
            f"Series({self.modality or '?'} '{self.description}', shape={self.volume.shape}, "
            f"spacing_mm=({spacing}), gaps={len(self.gaps)}, notes={len(self.notes)})"
        )


# --------------------------------------------------------------------------- coordinates
def voxel_to_patient(affine, ijk):
    """Patient coordinates (mm) of voxel indices.

    Parameters
    ----------
    affine : array_like, shape (4, 4)
        As in :attr:`Series.affine`.
    ijk : array_like, shape (3,) or (N, 3)
        Voxel indices (slice, row, column); fractional indices are allowed.

    Returns
    -------
    numpy.ndarray, shape (3,) or (N, 3)
        (x, y, z) in mm.

    Raises
    ------
    ValueError
        If ``affine`` is not 4 x 4 or ``ijk`` does not end in an axis of length 3.

    Example
    -------
    >>> affine = np.diag([2.5, 0.7, 0.7, 1.0])[[2, 1, 0, 3]]   # slices along z
    >>> voxel_to_patient(affine, [1, 0, 0]).tolist()
    [0.0, 0.0, 2.5]
    """
    affine = _check_affine(affine)
    points = np.asarray(ijk, dtype=float)
    if points.shape[-1:] != (3,):
        raise ValueError(
            f"ijk must have shape (3,) or (N, 3) (slice, row, column), got {points.shape}"
        )
    return points @ affine[:3, :3].T + affine[:3, 3]


def patient_to_voxel(affine, xyz):
    """Fractional voxel indices (slice, row, column) of patient coordinates (mm).

    Round the result to get the nearest voxel.

    Example
    -------
    >>> affine = np.diag([2.5, 0.7, 0.7, 1.0])[[2, 1, 0, 3]]
    >>> patient_to_voxel(affine, [0.0, 0.0, 5.0]).tolist()
    [2.0, 0.0, 0.0]
    """
    affine = _check_affine(affine)
    points = np.asarray(xyz, dtype=float)
    if points.shape[-1:] != (3,):
        raise ValueError(f"xyz must have shape (3,) or (N, 3) (x, y, z in mm), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(
            f"xyz contains NaN or infinite values; expected finite positions in mm, got {xyz!r}"
        )
    if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise ValueError(
            "affine is singular (zero voxel spacing or collinear axes); expected an invertible 4 x 4 affine"
        )
    inverse = np.linalg.inv(affine)
    return points @ inverse[:3, :3].T + inverse[:3, 3]


def _check_affine(affine) -> np.ndarray:
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4):
        raise ValueError(f"affine must be a 4 x 4 matrix, got shape {affine.shape}")
    if not np.all(np.isfinite(affine)):
        raise ValueError("affine contains NaN or infinite values")
    return affine


# --------------------------------------------------------------------------- reading
def _decoded_pixels(ds, path) -> np.ndarray:
    """``ds.pixel_array``, with decoding problems reported against the file they come from."""
    try:
        return ds.pixel_array
    except (
        NotImplementedError,
        RuntimeError,
    ) as exc:  # no installed decoder for the transfer syntax
        raise RuntimeError(
            f"{Path(path).name}: its pixel data ({ds.file_meta.get('TransferSyntaxUID', 'unknown transfer syntax')}) "
            f"cannot be decoded by the installed plugins ({exc}); expected a transfer syntax pydicom can "
            "decode, or install the codec plugin it names"
        ) from exc
    except Exception as exc:  # e.g. the file is cut short inside the pixel data
        raise ValueError(
            f"{Path(path).name}: cannot decode its pixel data ({type(exc).__name__}: {exc}); "
            "expected complete pixel data: the file is probably truncated"
        ) from exc


def _list_files(folder_or_files) -> list[Path]:
    if isinstance(folder_or_files, (str, os.PathLike)):
        root = Path(folder_or_files).expanduser()
        if not root.exists():
            raise FileNotFoundError(f"folder_or_files: {root} does not exist")
        if root.is_file():
            return [root]
        files = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise ValueError(
                f"folder {root} holds no files; expected the DICOM files of one series"
            )
        return files
    files = [Path(p).expanduser() for p in folder_or_files]
    if not files:
        raise ValueError("folder_or_files is an empty list; expected DICOM file paths or a folder")
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"DICOM file {path} does not exist")
    return files


def _read_datasets(files):
    import pydicom
    from pydicom.errors import InvalidDicomError

    datasets, skipped = [], []
    for path in files:
        try:
            ds = pydicom.dcmread(path)
        except (InvalidDicomError, EOFError, OSError) as exc:
            skipped.append(f"{path.name}: not readable as DICOM ({type(exc).__name__})")
            continue
        if str(ds.get("SOPClassUID", "")) == _DIRECTORY_STORAGE or "PixelData" not in ds:
            skipped.append(f"{path.name}: no pixel data (not an image)")
            continue
        datasets.append((path, ds))
    return datasets, skipped


def _group_by_series(datasets):
    groups: dict[str, list] = {}
    for path, ds in datasets:
        groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((path, ds))
    return groups


def _floats(value, count, name, where):
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {name} {value!r} is not a list of numbers") from exc
    if len(numbers) != count:
        raise ValueError(f"{where}: {name} has {len(numbers)} values, expected {count}")
    return np.array(numbers)


def _modality_values(ds, frames: np.ndarray) -> np.ndarray:
    slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
    values = frames.astype(np.float32)
    if slope != 1.0:
        values *= np.float32(slope)
    if intercept != 0.0:
        values += np.float32(intercept)
    return values


def _direction_frame(iop, where):
    row_dir, col_dir = iop[:3], iop[3:]
    for name, vector in (("row", row_dir), ("column", col_dir)):
        if not np.isclose(np.linalg.norm(vector), 1.0, atol=1e-3):
            raise ValueError(
                f"{where}: ImageOrientationPatient {name} direction {vector} is not a unit vector"
            )
    if abs(float(row_dir @ col_dir)) > 1e-3:
        raise ValueError(
            f"{where}: ImageOrientationPatient row and column directions are not orthogonal"
        )
    normal = np.cross(row_dir, col_dir)
    return row_dir, col_dir, normal / np.linalg.norm(normal)


def _build(
    volume,
    origin,
    slice_step,
    row_dir,
    col_dir,
    normal,
    pixel_spacing,
    dz,
    meta,
    notes,
    gaps,
    first,
):
    affine = np.eye(4)
    affine[:3, 0] = slice_step
    affine[:3, 1] = col_dir * pixel_spacing[0]
    affine[:3, 2] = row_dir * pixel_spacing[1]
    affine[:3, 3] = origin
    orientation = np.stack([normal, col_dir, row_dir])
    return Series(
        volume=volume,
        spacing_mm=(float(dz), float(pixel_spacing[0]), float(pixel_spacing[1])),
        affine=affine,
        origin=np.array(origin, dtype=float),
        orientation=orientation,
        metadata=meta,
        series_uid=str(first.get("SeriesInstanceUID", "")),
        description=str(first.get("SeriesDescription", "")),
        modality=str(first.get("Modality", "")),
        gaps=gaps,
        notes=notes,
    )


def _pixel_spacing(ds, notes, where):
    if "PixelSpacing" in ds and ds.PixelSpacing:
        return _floats(ds.PixelSpacing, 2, "PixelSpacing", where)
    if "ImagerPixelSpacing" in ds and ds.ImagerPixelSpacing:
        notes.append(
            "PixelSpacing absent; used ImagerPixelSpacing (at the detector, not the patient)"
        )
        return _floats(ds.ImagerPixelSpacing, 2, "ImagerPixelSpacing", where)
    notes.append("PixelSpacing absent; assumed 1 mm x 1 mm pixels (sizes in mm are NOT physical)")
    return np.array([1.0, 1.0])


def _single_slice_spacing(ds, notes):
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = ds.get(keyword)
        if value not in (None, "") and float(value) > 0:
            return float(value), keyword
    notes.append(
        "neither SpacingBetweenSlices nor SliceThickness present; assumed 1 mm between slices"
    )
    return 1.0, "assumed"


# --------------------------------------------------------------------------- public loader
def load_series(
    folder_or_files,
    *,
    series_uid: str | None = None,
    on_gap: str = "raise",
    tolerance_mm: float = 0.01,
):
    """Load one DICOM series into a volume sorted by geometry, with its affine.

    Parameters
    ----------
    folder_or_files : path or sequence of paths
        A folder holding the files of one series (non-DICOM files and
        DICOMDIR are skipped), a list of files, or one multi-frame file.
    series_uid : str, optional
        Which series to load when the files hold several.
    on_gap : {"raise", "report"}
        What to do when a slice is missing (a spacing that is a multiple of
        the usual one): raise ``ValueError``, or fill the missing slices with
        NaN and list them in :attr:`Series.gaps`.
    tolerance_mm : float
        Largest accepted deviation of a slice position from a regular grid.

    Returns
    -------
    Series

    Raises
    ------
    FileNotFoundError
        The folder or a listed file does not exist.
    ValueError
        No DICOM image found; several series and no ``series_uid`` (the
        message lists them); unknown ``series_uid``; slices of different size
        or orientation; two slices at the same position; a missing slice
        (``on_gap="raise"``); irregular spacing.

    Example
    -------
    >>> from course_utils import data
    >>> ct = load_series(data.dataset_path("ct-phantom"))   # doctest: +SKIP
    >>> ct.metadata[["file", "InstanceNumber", "position_mm"]].head(3)   # doctest: +SKIP
    """

    if on_gap not in ("raise", "report"):
        raise ValueError(f"on_gap must be 'raise' or 'report', got {on_gap!r}")
    if not tolerance_mm > 0:
        raise ValueError(f"tolerance_mm must be positive, got {tolerance_mm}")
    files = _list_files(folder_or_files)
    datasets, skipped = _read_datasets(files)
    if not datasets:
        detail = "; ".join(skipped[:5])
        raise ValueError(f"no DICOM image among {len(files)} file(s) ({detail})")
    groups = _group_by_series(datasets)
    if series_uid is None:
        if len(groups) > 1:
            lines = [
                f"  {uid} ({group[0][1].get('Modality', '?')} "
                f"'{group[0][1].get('SeriesDescription', '')}', {len(group)} file(s))"
                for uid, group in groups.items()
            ]
            raise ValueError(
                f"the files hold {len(groups)} series; pass series_uid= to choose one:\n"
                + "\n".join(lines)
            )
        series_uid = next(iter(groups))
    elif series_uid not in groups:
        raise ValueError(
            f"series_uid {series_uid!r} not found; the files hold: {', '.join(groups)}"
        )
    members = groups[series_uid]
    notes = list(skipped)
    multi = [(p, ds) for p, ds in members if int(ds.get("NumberOfFrames", 1) or 1) > 1]
    if multi:
        if len(members) > 1:
            raise ValueError(
                f"series {series_uid} mixes {len(multi)} multi-frame file(s) with other files; "
                "load the multi-frame file on its own"
            )
        return _load_multiframe(*members[0], notes=notes, on_gap=on_gap, tolerance_mm=tolerance_mm)
    return _load_single_frames(members, notes=notes, on_gap=on_gap, tolerance_mm=tolerance_mm)


def _load_single_frames(members, *, notes, on_gap, tolerance_mm):
    import pandas as pd

    first_path, first = members[0]
    shape = (int(first.Rows), int(first.Columns))
    iop_ref = None
    rows = []
    for path, ds in members:
        where = path.name
        if (int(ds.Rows), int(ds.Columns)) != shape:
            raise ValueError(
                f"{where} is {ds.Rows} x {ds.Columns} pixels but {first_path.name} is {shape[0]} x {shape[1]}; "
                "a series needs slices of one size"
            )
        if "ImageOrientationPatient" in ds and "ImagePositionPatient" in ds:
            iop = _floats(ds.ImageOrientationPatient, 6, "ImageOrientationPatient", where)
            ipp = _floats(ds.ImagePositionPatient, 3, "ImagePositionPatient", where)
        elif len(members) == 1:
            notes.append(
                "ImageOrientationPatient/ImagePositionPatient absent; identity orientation assumed"
            )
            iop, ipp = np.array([1.0, 0, 0, 0, 1.0, 0]), np.zeros(3)
        else:
            raise ValueError(
                f"{where} has no ImagePositionPatient/ImageOrientationPatient; cannot order the slices by geometry"
            )
        if iop_ref is None:
            iop_ref = iop
        elif np.abs(iop - iop_ref).max() > 1e-4:
            raise ValueError(
                f"{where} has ImageOrientationPatient {iop.tolist()} but {first_path.name} has {iop_ref.tolist()}; "
                "slices of one volume must share the orientation"
            )
        rows.append({"path": path, "ds": ds, "ipp": ipp})
    row_dir, col_dir, normal = _direction_frame(iop_ref, first_path.name)
    pixel_spacing = _pixel_spacing(first, notes, first_path.name)
    for row in rows:
        row["position_mm"] = float(row["ipp"] @ normal)
    rows.sort(key=lambda r: r["position_mm"])
    positions = np.array([r["position_mm"] for r in rows])
    ipps = np.array([r["ipp"] for r in rows])

    gaps = []
    if len(rows) == 1:
        dz, source = _single_slice_spacing(first, notes)
        index_of_slice = np.array([0])
        n_total = 1
        step = normal * dz
    else:
        diffs = np.diff(positions)
        duplicate = np.flatnonzero(diffs < tolerance_mm)
        if duplicate.size:
            k = duplicate[0]
            raise ValueError(
                f"{rows[k]['path'].name} and {rows[k + 1]['path'].name} lie at the same position "
                f"({positions[k]:.3f} mm along the slice normal); several acquisitions or time points "
                "in one series? Split them (e.g. by AcquisitionNumber or TemporalPositionIdentifier)"
            )
        smallest = float(np.min(diffs))
        dz = float(np.median(diffs[np.abs(diffs - smallest) <= max(tolerance_mm, 0.01 * smallest)]))
        ratio = diffs / dz
        steps = np.rint(ratio).astype(int)
        irregular = np.flatnonzero(
            np.abs(diffs - steps * dz) > max(tolerance_mm, 0.01 * dz) * steps
        )
        if irregular.size or steps.min() < 1:
            k = int(irregular[0]) if irregular.size else int(np.argmin(steps))
            raise ValueError(
                f"irregular slice spacing: {diffs[k]:.3f} mm between {rows[k]['path'].name} and "
                f"{rows[k + 1]['path'].name}, usual spacing {dz:.3f} mm"
            )
        missing_at = np.flatnonzero(steps > 1)
        for k in missing_at:
            gaps.append(
                {
                    "after_slice": int(k),
                    "between_files": f"{rows[k]['path'].name} / {rows[k + 1]['path'].name}",
                    "gap_mm": float(diffs[k]),
                    "missing_slices": int(steps[k] - 1),
                }
            )
        if gaps and on_gap == "raise":
            first_gap = gaps[0]
            raise ValueError(
                f"{sum(g['missing_slices'] for g in gaps)} slice(s) missing: gap of {first_gap['gap_mm']:.3f} mm "
                f"between {first_gap['between_files']} where the spacing is {dz:.3f} mm; "
                "pass on_gap='report' to fill missing slices with NaN"
            )
        index_of_slice = np.concatenate([[0], np.cumsum(steps)])
        n_total = int(index_of_slice[-1]) + 1
        step = (ipps[-1] - ipps[0]) / (n_total - 1)
        slice_thickness = first.get("SliceThickness")
        if slice_thickness not in (None, "") and not np.isclose(
            float(slice_thickness), dz, rtol=0.01
        ):
            notes.append(
                f"SliceThickness {float(slice_thickness):g} mm differs from the spacing between slice "
                f"centres {dz:.4g} mm (overlapping or gapped reconstruction); the spacing is used"
            )
        in_plane_drift = step - normal * (step @ normal)
        if np.linalg.norm(in_plane_drift) > tolerance_mm:
            notes.append(
                "slice positions shift within the plane from slice to slice (gantry tilt?); the affine includes the shear"
            )
        for missing in gaps:
            notes.append(
                f"{missing['missing_slices']} missing slice(s) after volume index {missing['after_slice']} "
                "filled with NaN"
            )

    volume = np.full((n_total, *shape), np.nan, dtype=np.float32)
    meta_rows = []
    for index, row in zip(index_of_slice, rows, strict=True):
        ds = row["ds"]
        volume[index] = _modality_values(ds, _decoded_pixels(ds, row["path"]))
        meta_rows.append(
            {
                "index": int(index),
                "file": row["path"].name,
                "InstanceNumber": int(ds.get("InstanceNumber", -1) or -1),
                "position_mm": round(row["position_mm"], 4),
                "ipp_x": row["ipp"][0],
                "ipp_y": row["ipp"][1],
                "ipp_z": row["ipp"][2],
                "SliceThickness": float(ds.get("SliceThickness", np.nan) or np.nan),
                "RescaleSlope": float(ds.get("RescaleSlope", 1.0) or 1.0),
                "RescaleIntercept": float(ds.get("RescaleIntercept", 0.0) or 0.0),
                "path": str(row["path"]),
            }
        )
    meta = pd.DataFrame(meta_rows)
    origin = ipps[0]
    return _build(
        volume, origin, step, row_dir, col_dir, normal, pixel_spacing, dz, meta, notes, gaps, first
    )


def _load_multiframe(path, ds, *, notes, on_gap, tolerance_mm):
    import pandas as pd

    where = path.name
    n_frames = int(ds.NumberOfFrames)
    frames = np.asarray(_decoded_pixels(ds, path))
    if frames.ndim != 3:
        raise ValueError(
            f"{where}: expected a greyscale multi-frame image (frames, rows, columns), got {frames.shape}"
        )
    shared = ds.get("SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_item = shared[0] if shared else None

    def functional(item, sequence_name, keyword):
        for container in (item, shared_item):
            if container is not None and sequence_name in container:
                inner = container[sequence_name][0]
                if keyword in inner:
                    return inner[keyword].value
        return None

    first_item = per_frame[0] if per_frame else None
    iop = functional(first_item, "PlaneOrientationSequence", "ImageOrientationPatient")
    iop = iop if iop is not None else ds.get("ImageOrientationPatient")
    if iop is None:
        notes.append(
            "ImageOrientationPatient absent; identity orientation assumed (axes are not anatomical)"
        )
        iop = [1.0, 0, 0, 0, 1.0, 0]
    row_dir, col_dir, normal = _direction_frame(
        _floats(iop, 6, "ImageOrientationPatient", where), where
    )
    spacing = functional(first_item, "PixelMeasuresSequence", "PixelSpacing")
    if spacing is not None:
        pixel_spacing = _floats(spacing, 2, "PixelSpacing", where)
    else:
        pixel_spacing = _pixel_spacing(ds, notes, where)

    positions = None
    if per_frame is not None and len(per_frame) == n_frames:
        found = [
            functional(item, "PlanePositionSequence", "ImagePositionPatient") for item in per_frame
        ]
        if all(p is not None for p in found):
            positions = np.array([_floats(p, 3, "ImagePositionPatient", where) for p in found])
    order = np.arange(n_frames)
    if positions is not None:
        projections = positions @ normal
        order = np.argsort(projections, kind="stable")
        positions = positions[order]
        diffs = np.diff(positions @ normal)
        dz = float(np.median(diffs)) if diffs.size else _single_slice_spacing(ds, notes)[0]
        if diffs.size and np.abs(diffs - dz).max() > max(tolerance_mm, 0.01 * dz):
            raise ValueError(
                f"{where}: frames are not evenly spaced ({diffs.min():.3f}..{diffs.max():.3f} mm)"
            )
        step = (
            (positions[-1] - positions[0]) / max(n_frames - 1, 1) if n_frames > 1 else normal * dz
        )
        origin = positions[0]
    else:
        dz = None
        for keyword in ("SpacingBetweenSlices", "SliceThickness"):
            value = functional(first_item, "PixelMeasuresSequence", keyword)
            value = value if value is not None else ds.get(keyword)
            if value not in (None, ""):
                dz = float(value)
                notes.append(
                    f"no per-frame positions; frames assumed in stored order, {dz:g} mm apart ({keyword})"
                )
                break
        if dz is None:
            dz = 1.0
            notes.append("no per-frame positions and no slice spacing; assumed 1 mm between frames")
        ipp = ds.get("ImagePositionPatient")
        origin = _floats(ipp, 3, "ImagePositionPatient", where) if ipp is not None else np.zeros(3)
        if ipp is None:
            notes.append("no ImagePositionPatient; origin set to (0, 0, 0)")
        step = normal * dz
    rescale = ds
    slope = functional(first_item, "PixelValueTransformationSequence", "RescaleSlope")
    if slope is not None and "RescaleSlope" not in ds:
        intercept = functional(first_item, "PixelValueTransformationSequence", "RescaleIntercept")
        rescale = {"RescaleSlope": slope, "RescaleIntercept": intercept or 0.0}
    volume = _modality_values(rescale, frames[order])
    meta = pd.DataFrame(
        {
            "index": np.arange(n_frames),
            "file": where,
            "frame": order + 1,
            "position_mm": np.round(
                (positions @ normal) if positions is not None else np.arange(n_frames) * dz, 4
            ),
        }
    )
    return _build(
        volume, origin, step, row_dir, col_dir, normal, pixel_spacing, dz, meta, notes, [], ds
    )
