"""Reading DICOM (and ordinary) images into modality values, and windowing them for display.

The lessons need the same few steps again and again:

1. read one DICOM file into *modality values* (Hounsfield units for CT) with
   the metadata that matters for intensities and geometry
   (:func:`read_dicom_image`);
2. map a window (centre/width) to display brightness (:func:`window_image`,
   :data:`WINDOW_PRESETS`);
3. turn values into a picture in which bright means dense, whatever the
   photometric interpretation (:func:`to_display`).

:func:`read_image` reads DICOM, PNG, JPEG or TIFF files through one call, and
:func:`find_images` lists the usable image files of a folder (what a notebook
does with a user's ``data_dir``).

Example
-------
>>> from course_utils import data, dicom
>>> hu, meta = dicom.read_dicom_image(data.sample_path("693_UNCI.dcm"))   # doctest: +SKIP
>>> meta["units"], meta["pixel_spacing_mm"]                               # doctest: +SKIP
('HU', (0.478516, 0.478516))
>>> brain = dicom.window_image(hu, *dicom.WINDOW_PRESETS["brain"])        # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "Window",
    "WINDOW_PRESETS",
    "read_dicom_image",
    "read_image",
    "find_images",
    "describe_file",
    "read_first_frame",
    "is_dicom_file",
    "PROJECTION_MODALITIES",
    "window_image",
    "to_display",
]


class Window(NamedTuple):
    """A display window in modality units: ``centre`` (level) and ``width``."""

    centre: float
    width: float

    @property
    def lower(self) -> float:
        """Value shown black."""
        return self.centre - self.width / 2

    @property
    def upper(self) -> float:
        """Value shown white."""
        return self.centre + self.width / 2


#: Common CT windows in Hounsfield units, (centre, width). Values follow the
#: Radiopaedia article "Windowing (CT)" (https://radiopaedia.org/articles/windowing-ct):
#: brain W80 L40, subdural W215 L75 (their range is W130-300, L50-100), bone
#: W1800 L400 (the "bones" window; temporal bone uses W2800 L600), soft tissue
#: W350 L50 (mediastinum/abdomen), lung W1500 L-600. Sites differ slightly.
WINDOW_PRESETS: dict[str, Window] = {
    "brain": Window(40.0, 80.0),
    "subdural": Window(75.0, 215.0),
    "bone": Window(400.0, 1800.0),
    "soft_tissue": Window(50.0, 350.0),
    "lung": Window(-600.0, 1500.0),
}

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}

#: Modalities of projection radiography (one X-ray shadow, no slices): computed and digital
#: radiography, mammography, fluoroscopy, angiography, intra-oral and panoramic dental X-ray.
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "RF", "XA", "IO", "PX", "DF", "RG"})

#: Photometric interpretations whose stored values can be shown as grey levels or colours.
_SHOWABLE_PHOTOMETRIC = {
    "MONOCHROME1",
    "MONOCHROME2",
    "RGB",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_ICT",
    "YBR_RCT",
}


# --------------------------------------------------------------------------- helpers
def _as_path(path, what: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise TypeError(f"{what} must be a file path (str or os.PathLike), got {path!r}")
    return Path(path).expanduser()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"image file {path} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected one image file (see find_images)")


def _multi_valued(value) -> list[float]:
    """DICOM DS/IS values may be single or multi-valued; always return a list of floats."""
    if value is None or value == "":
        return []
    if (
        isinstance(value, (list, tuple))
        or hasattr(value, "__iter__")
        and not isinstance(value, str)
    ):
        return [float(v) for v in value]
    return [float(value)]


def is_dicom_file(path) -> bool:
    """True when ``path`` is a file with the DICOM Part 10 preamble (``DICM`` at byte 128).

    Files without the preamble (rare, old) are not recognised; read them with
    ``pydicom.dcmread(path, force=True)`` if you must.

    Example
    -------
    >>> is_dicom_file(__file__)
    False
    """
    path = _as_path(path)
    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        head = handle.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


# --------------------------------------------------------------------------- reading
def read_dicom_image(
    path,
    *,
    apply_rescale: bool = True,
    invert_monochrome1: bool = False,
    frame: int | None = 0,
):
    """Read a DICOM image into modality values (float32) plus the metadata that matters.

    Parameters
    ----------
    path : str or os.PathLike
        A DICOM Part 10 file.
    apply_rescale : bool, default True
        Apply the Modality LUT: ``value = stored * RescaleSlope + RescaleIntercept``
        (Hounsfield units for CT), or a Modality LUT Sequence if the file has
        one. With False the stored values are returned (as float32).
    invert_monochrome1 : bool, default False
        For MONOCHROME1 images (low values bright), mirror the values within
        their possible range so that high values are bright, as in MONOCHROME2.
        ``metadata["inverted"]`` records whether this happened. Prefer
        :func:`to_display`, which inverts only the picture.
    frame : int or None, default 0
        Which frame of a multi-frame file; None returns all frames as
        ``(frames, rows, columns)``.

    Returns
    -------
    values : numpy.ndarray of float32
        ``(rows, columns)`` (or ``(frames, rows, columns)``; colour images keep a
        last axis of 3 samples and are never rescaled).
    metadata : dict
        ``file`` (name only), ``modality``, ``photometric``, ``samples_per_pixel``,
        ``bits_allocated``, ``bits_stored``, ``signed``, ``frames``,
        ``stored_dtype``, ``stored_range`` (min, max possible stored values),
        ``pixel_spacing_mm`` ((row, column) in mm, or None when missing or
        zero), ``spacing_source`` (``"PixelSpacing"``: in the patient;
        ``"ImagerPixelSpacing"``: at the detector, so sizes in the patient are
        smaller by the magnification), ``magnification`` (for ImagerPixelSpacing:
        EstimatedRadiographicMagnificationFactor, else DistanceSourceToDetector /
        DistanceSourceToPatient when both are given; None otherwise),
        ``window_centres``, ``window_widths``
        (lists, possibly empty), ``rescale_slope``, ``rescale_intercept``,
        ``rescale_applied`` (False when the file has no rescale tags: its
        stored values are already the modality values), ``units``, ``pixel_padding_value``,
        ``transfer_syntax``, ``inverted``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not DICOM, has no pixel data, holds fewer pixel bytes than
        its header declares (a truncated file), or ``frame`` is out of range.
    RuntimeError
        If compressed pixel data cannot be decoded (a codec plugin is missing).

    Example
    -------
    >>> from course_utils import data
    >>> hu, meta = read_dicom_image(data.sample_path("693_UNCI.dcm"))   # doctest: +SKIP
    >>> meta["rescale_intercept"], meta["units"]                         # doctest: +SKIP
    (-1024.0, 'HU')
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = _as_path(path)
    _check_file(path)
    try:
        dataset = pydicom.dcmread(path)
    except InvalidDicomError as exc:
        raise ValueError(f"{path.name} is not a DICOM file ({exc})") from exc
    except Exception as exc:  # truncated or corrupt files
        raise ValueError(
            f"{path.name} could not be parsed as DICOM: {type(exc).__name__}: {exc}"
        ) from exc
    if "PixelData" not in dataset:
        kind = dataset.get("SOPClassUID", None)
        kind_text = f" ({kind.name})" if kind is not None and hasattr(kind, "name") else ""
        raise ValueError(f"{path.name} has no pixel data{kind_text}; expected an image")
    transfer_syntax = dataset.file_meta.get("TransferSyntaxUID", None)
    n_frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frame is not None:
        if not isinstance(frame, (int, np.integer)) or isinstance(frame, bool):
            raise TypeError(f"frame must be an int or None, got {frame!r}")
        if not -n_frames <= frame < n_frames:
            raise ValueError(f"frame {frame} is out of range: {path.name} has {n_frames} frame(s)")
    try:
        if frame is not None and n_frames > 1:
            from pydicom.pixels import pixel_array

            # decode only the requested frame: a 120-frame ultrasound clip stays one frame in memory
            stored = pixel_array(dataset, index=int(frame) % n_frames)
        else:
            stored = dataset.pixel_array
    except Exception as exc:
        name = transfer_syntax.name if transfer_syntax is not None else "unknown transfer syntax"
        if transfer_syntax is not None and not transfer_syntax.is_compressed:
            # no codec involved: the bytes themselves are missing or do not match the header
            raise ValueError(
                f"cannot read the pixels of {path.name} ({name}): {exc}. Expected Rows x Columns "
                "x BitsAllocated worth of pixel data: the file is probably truncated"
            ) from exc
        raise RuntimeError(
            f"cannot decode the pixels of {path.name} ({name}): {exc}. "
            "Install the codec plugin pydicom names (e.g. pylibjpeg-openjpeg, pillow)."
        ) from exc

    samples = int(dataset.get("SamplesPerPixel", 1))
    if frame is None and n_frames == 1:
        stored = stored[np.newaxis]

    bits_stored = int(dataset.get("BitsStored", stored.dtype.itemsize * 8))
    signed = int(dataset.get("PixelRepresentation", 0)) == 1
    stored_range = (
        (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1)
        if signed
        else (0, 2**bits_stored - 1)
    )
    slope = float(dataset.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(dataset.get("RescaleIntercept", 0.0) or 0.0)
    modality = str(dataset.get("Modality", ""))
    sop_class = dataset.get("SOPClassUID", None)
    photometric = str(dataset.get("PhotometricInterpretation", ""))

    values = stored.astype(np.float64)
    value_range = tuple(float(v) for v in stored_range)
    rescale_applied = False
    has_modality_lut = any(
        keyword in dataset
        for keyword in ("RescaleSlope", "RescaleIntercept", "ModalityLUTSequence")
    )
    if apply_rescale and samples == 1 and has_modality_lut:
        if "ModalityLUTSequence" in dataset:
            from pydicom.pixels import apply_modality_lut

            values = np.asarray(apply_modality_lut(stored, dataset), dtype=np.float64)
            value_range = (float(values.min()), float(values.max()))
        else:
            values = values * slope + intercept
            value_range = (stored_range[0] * slope + intercept, stored_range[1] * slope + intercept)
        rescale_applied = True

    if not rescale_applied:
        units = "stored value"
    elif dataset.get("RescaleType") and str(dataset.RescaleType) not in ("US", ""):
        units = str(dataset.RescaleType)
    elif modality == "CT" or (not modality and "CT Image" in getattr(sop_class, "name", "")):
        units = "HU"  # a CT without its Modality tag still says so in its SOP Class
    else:
        units = "a.u."

    inverted = False
    if invert_monochrome1 and photometric == "MONOCHROME1":
        values = (value_range[0] + value_range[1]) - values
        inverted = True

    spacing, spacing_source = None, None
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        candidate = _multi_valued(dataset.get(keyword, None))
        if len(candidate) == 2 and all(v > 0 for v in candidate):
            spacing, spacing_source = (candidate[0], candidate[1]), keyword
            break

    magnification = None
    if spacing_source == "ImagerPixelSpacing":
        factor = _multi_valued(dataset.get("EstimatedRadiographicMagnificationFactor", None))
        sid = _multi_valued(dataset.get("DistanceSourceToDetector", None))
        sod = _multi_valued(dataset.get("DistanceSourceToPatient", None))
        if factor and factor[0] > 0:
            magnification = factor[0]
        elif sid and sod and sid[0] > 0 and sod[0] > 0:
            magnification = sid[0] / sod[0]

    padding = dataset.get("PixelPaddingValue", None)
    metadata = {
        "file": path.name,
        "modality": modality,
        "photometric": photometric,
        "samples_per_pixel": samples,
        "bits_allocated": int(dataset.get("BitsAllocated", stored.dtype.itemsize * 8)),
        "bits_stored": bits_stored,
        "signed": signed,
        "frames": n_frames,
        "stored_dtype": str(stored.dtype),
        "stored_range": stored_range,
        "pixel_spacing_mm": spacing,
        "spacing_source": spacing_source,
        "magnification": magnification,
        "window_centres": _multi_valued(dataset.get("WindowCenter", None)),
        "window_widths": _multi_valued(dataset.get("WindowWidth", None)),
        "rescale_slope": slope,
        "rescale_intercept": intercept,
        "rescale_applied": rescale_applied,
        "units": units,
        "pixel_padding_value": None if padding is None else float(padding),
        "transfer_syntax": transfer_syntax.name if transfer_syntax is not None else "",
        "inverted": inverted,
    }
    return values.astype(np.float32), metadata


def read_image(path, *, apply_rescale: bool = True, as_grey: bool = True):
    """Read a DICOM, PNG, JPEG or TIFF file into float32 values plus metadata.

    DICOM files go through :func:`read_dicom_image` (first frame). Other files
    are read with imageio (TIFF with tifffile); their values stay on the stored
    scale (e.g. 0-255) and their metadata has the same keys, with
    ``pixel_spacing_mm`` None, ``photometric`` ``"MONOCHROME2"`` (or ``"RGB"``)
    and ``units`` ``"stored value"``.

    Parameters
    ----------
    path : str or os.PathLike
    apply_rescale : bool, default True
        Passed to :func:`read_dicom_image`.
    as_grey : bool, default True
        Convert colour images to grey with the ITU-R BT.601 luma weights
        (0.299 R + 0.587 G + 0.114 B), keeping the stored scale; an alpha
        channel is dropped. The first page/frame of a stack is used.

    Returns
    -------
    values : numpy.ndarray of float32
    metadata : dict

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file cannot be read as an image, or is not 2-D (after grey conversion).

    Example
    -------
    >>> from course_utils import data
    >>> values, meta = read_image(data.sample_path("microaneurysms.png"))   # doctest: +SKIP
    >>> values.shape, meta["bits_stored"]                                  # doctest: +SKIP
    ((102, 102), 8)
    """
    path = _as_path(path)
    _check_file(path)
    if is_dicom_file(path) or path.suffix.lower() == ".dcm":
        values, metadata = read_dicom_image(path, apply_rescale=apply_rescale)
        if as_grey and values.ndim == 3 and values.shape[-1] == 3:
            values = _luma(values)
            metadata = {**metadata, "photometric": "MONOCHROME2", "samples_per_pixel": 1}
        return values, metadata
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            stored = _first_tiff_plane(path)
        else:
            import imageio.v3 as iio

            # name the plugin: otherwise imageio tries every plugin on a broken file
            # (and imports its deprecated legacy DICOM reader on the way)
            frame_index = 0 if path.suffix.lower() == ".gif" else None
            stored = iio.imread(path, plugin="pillow", index=frame_index)
    except Exception as exc:
        raise ValueError(
            f"{path.name} could not be read as an image: {type(exc).__name__}: {exc}"
        ) from exc
    stored = np.asarray(stored)
    photometric = "MONOCHROME2"
    samples = 1
    if stored.ndim == 3 and stored.shape[-1] in (3, 4):
        samples = 3
        photometric = "RGB"
        stored = stored[..., :3]
        values = _luma(stored) if as_grey else stored.astype(np.float32)
        if as_grey:
            photometric, samples = "MONOCHROME2", 1
    else:
        values = stored.astype(np.float32)
    if as_grey and values.ndim != 2:
        raise ValueError(f"{path.name} has shape {stored.shape}; expected a 2-D (or RGB) image")
    if values.size == 0:
        raise ValueError(f"{path.name} holds an empty image (shape {stored.shape})")
    bits = stored.dtype.itemsize * 8
    if np.issubdtype(stored.dtype, np.integer):
        info = np.iinfo(stored.dtype)
        stored_range = (int(info.min), int(info.max))
    else:
        stored_range = (float(np.nanmin(stored)), float(np.nanmax(stored)))
    metadata = {
        "file": path.name,
        "modality": "",
        "photometric": photometric,
        "samples_per_pixel": samples,
        "bits_allocated": bits,
        "bits_stored": bits,
        "signed": bool(np.issubdtype(stored.dtype, np.signedinteger)),
        "frames": 1,
        "stored_dtype": str(stored.dtype),
        "stored_range": stored_range,
        "pixel_spacing_mm": None,
        "spacing_source": None,
        "magnification": None,
        "window_centres": [],
        "window_widths": [],
        "rescale_slope": 1.0,
        "rescale_intercept": 0.0,
        "rescale_applied": False,
        "units": "stored value",
        "pixel_padding_value": None,
        "transfer_syntax": path.suffix.lstrip(".").upper(),
        "inverted": False,
    }
    return values, metadata


def _first_tiff_plane(path: Path) -> np.ndarray:
    """First 2-D plane (or RGB plane) of a TIFF's first series, samples last."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        array = series.asarray(level=0) if series.levels else series.asarray()
        axes = series.axes
    if "S" in axes:  # colour samples: move them last
        array = np.moveaxis(array, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    n_spatial = 3 if axes.endswith("S") else 2
    while array.ndim > n_spatial:  # planes, frames, channels...: keep the first
        array = array[0]
    return array


def _luma(rgb) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float32)
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)


def find_images(folder, *, min_size: int = 32, limit: int | None = None) -> list[Path]:
    """Image files in ``folder`` (recursively) that decode to a non-constant 2-D image.

    DICOM files are recognised by their preamble whatever their name; PNG,
    JPEG, TIFF and BMP by their suffix. Files are visited in sorted path order,
    unreadable ones (no pixels, missing codec, corrupt) are skipped.

    Parameters
    ----------
    folder : str or os.PathLike
    min_size : int, default 32
        Smallest accepted number of rows and columns.
    limit : int, optional
        Stop after this many usable files.

    Returns
    -------
    list of pathlib.Path
        Possibly empty.

    Raises
    ------
    FileNotFoundError
        If ``folder`` does not exist.
    NotADirectoryError
        If ``folder`` is a file.

    Example
    -------
    >>> import tempfile
    >>> find_images(tempfile.mkdtemp())
    []
    """
    folder = _as_path(folder, "folder")
    if not folder.exists():
        raise FileNotFoundError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; expected a folder of images")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name.startswith(".") or path.name == "DICOMDIR":
            continue
        if path.suffix.lower() not in _IMAGE_SUFFIXES and not is_dicom_file(path):
            continue
        try:
            values, _ = read_image(path)
        except (ValueError, RuntimeError, OSError):
            continue
        if values.ndim != 2 or min(values.shape) < min_size:
            continue
        finite = values[np.isfinite(values)]
        if finite.size == 0 or finite.min() == finite.max():
            continue
        found.append(path)
        if limit is not None and len(found) >= limit:
            break
    return found


# --------------------------------------------------------------------------- describing files
def _rescale_of(header) -> tuple[str, float | None, float | None, str]:
    """Where the Modality LUT is: ('top level' | 'functional groups' | 'Modality LUT' | 'none'), slope, intercept, type."""
    if "ModalityLUTSequence" in header:
        return (
            "Modality LUT",
            None,
            None,
            str(header.ModalityLUTSequence[0].get("ModalityLUTType", "")),
        )
    if "RescaleSlope" in header or "RescaleIntercept" in header:
        return (
            "top level",
            float(header.get("RescaleSlope", 1.0) or 1.0),
            float(header.get("RescaleIntercept", 0.0) or 0.0),
            str(header.get("RescaleType", "") or ""),
        )
    for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        if group in header and len(header[group].value) > 0:
            item = header[group][0]
            if "PixelValueTransformationSequence" in item:
                transform = item.PixelValueTransformationSequence[0]
                return (
                    "functional groups",
                    float(transform.get("RescaleSlope", 1.0) or 1.0),
                    float(transform.get("RescaleIntercept", 0.0) or 0.0),
                    str(transform.get("RescaleType", "") or ""),
                )
    return "none", None, None, ""


def _dicom_problem(header, transfer_syntax, min_size: int) -> str | None:
    """Why a DICOM file cannot be used as an image by the lessons (None when it can)."""
    sop = header.get("SOPClassUID", None)
    sop_name = getattr(sop, "name", str(sop or "unknown SOP class"))
    if "PixelData" not in header:
        return f"no pixel data ({sop_name})"
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if k not in header]
    if missing:
        return f"incomplete image header (no {', '.join(missing)})"
    modality = str(header.get("Modality", ""))
    if modality == "RTDOSE":
        return "an RT dose grid (values need DoseGridScaling), not an image"
    if int(header.BitsAllocated) == 1:
        return f"1-bit pixels ({sop_name}): a binary mask, not intensities"
    photometric = str(header.get("PhotometricInterpretation", ""))
    if photometric == "PALETTE COLOR":
        return "PALETTE COLOR: the stored values are indices into a colour table, not intensities"
    if photometric not in _SHOWABLE_PHOTOMETRIC:
        return f"PhotometricInterpretation {photometric or '(missing)'} is not one this course displays"
    rows, columns = int(header.Rows), int(header.Columns)
    if min(rows, columns) < min_size:
        return f"too small ({rows} x {columns} pixels; the lessons need at least {min_size})"
    if transfer_syntax is None:
        return "no TransferSyntaxUID in the file meta: the pixel encoding is unknown"
    try:
        from pydicom.pixels import get_decoder

        decoder = get_decoder(transfer_syntax)
    except (NotImplementedError, ValueError):
        return f"no pixel decoder exists in pydicom for {getattr(transfer_syntax, 'name', transfer_syntax)}"
    if not decoder.is_available:
        needs = ", ".join(dict.fromkeys(d.split(" - ")[0] for d in decoder.missing_dependencies))
        return f"compressed as {transfer_syntax.name}; no decoder installed (one of: {needs})"
    return None


def describe_file(path, *, min_size: int = 32) -> dict:
    """What an image file is and whether the lessons can use it, from its header alone.

    DICOM files are read with ``stop_before_pixels`` (no pixel decoding); PNG, JPEG,
    TIFF and BMP files through their image header. Nothing is decoded, so the call
    is fast on any file size; :func:`read_first_frame` then checks that the pixels
    really decode.

    Parameters
    ----------
    path : str or os.PathLike
    min_size : int, default 32
        Smallest accepted number of rows and columns.

    Returns
    -------
    dict
        ``file`` (name), ``format`` (``"DICOM"``, ``"PNG"``...), ``modality`` (``""``
        when the tag is missing), ``sop_class``, ``photometric``, ``samples``,
        ``bits_allocated``, ``bits_stored``, ``signed``, ``frames``, ``rows``,
        ``columns``, ``rescale`` (where the Modality LUT is: ``"top level"``,
        ``"functional groups"``, ``"Modality LUT"`` or ``"none"``), ``slope``,
        ``intercept``, ``rescale_type``, ``voi`` (``"VOI LUT"``, ``"window"`` or
        ``"none"``), ``lossy``, ``burned_in`` (the BurnedInAnnotation value, ``""`` when
        absent), ``image_type``, ``sop_instance_uid``, ``source_uids`` (SOPInstanceUIDs
        the image was derived from), ``kind`` (a short description) and ``problem``
        (why the file is not usable as an image, or None).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.

    Example
    -------
    >>> from course_utils import data
    >>> info = describe_file(data.sample_path("RG1_UNCI.dcm"))     # doctest: +SKIP
    >>> info["kind"], info["problem"]                              # doctest: +SKIP
    ('CR, MONOCHROME1, 15 of 16 bits', None)
    """
    path = _as_path(path)
    _check_file(path)
    info = {
        "file": path.name,
        "format": "DICOM" if is_dicom_file(path) else path.suffix.lstrip(".").upper(),
        "modality": "",
        "sop_class": "",
        "photometric": "",
        "samples": 1,
        "bits_allocated": 0,
        "bits_stored": 0,
        "signed": False,
        "frames": 1,
        "rows": 0,
        "columns": 0,
        "rescale": "none",
        "slope": None,
        "intercept": None,
        "rescale_type": "",
        "voi": "none",
        "lossy": False,
        "burned_in": "",
        "image_type": (),
        "sop_instance_uid": "",
        "source_uids": (),
        "kind": "",
        "problem": None,
    }
    if info["format"] == "DICOM":
        import warnings

        with warnings.catch_warnings():  # odd headers warn; what matters is recorded in "problem"
            warnings.simplefilter("ignore")
            return _describe_dicom(path, info, min_size)
    if path.suffix.lower() == ".dcm":
        info["problem"] = "no DICOM preamble ('DICM' at byte 128): not a DICOM Part 10 file"
        info["kind"] = "not DICOM Part 10"
        return info
    return _describe_picture(path, info, min_size)


def _describe_dicom(path: Path, info: dict, min_size: int) -> dict:
    import pydicom

    try:
        header = pydicom.dcmread(path, stop_before_pixels=False, defer_size=1024)
    except Exception as exc:  # truncated or corrupt headers
        info["problem"] = f"cannot be parsed as DICOM ({type(exc).__name__}: {exc})"
        info["kind"] = "DICOM (unreadable)"
        return info
    transfer_syntax = header.file_meta.get("TransferSyntaxUID", None) if header.file_meta else None
    sop = header.get("SOPClassUID", None)
    try:
        frames = int(header.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        info["problem"] = f"NumberOfFrames {header.get('NumberOfFrames')!r} is not a number"
        info["kind"] = "DICOM (broken header)"
        return info
    rescale, slope, intercept, rescale_type = _rescale_of(header)
    info.update(
        modality=str(header.get("Modality", "") or ""),
        sop_class=getattr(sop, "name", str(sop or "")),
        photometric=str(header.get("PhotometricInterpretation", "") or ""),
        samples=int(header.get("SamplesPerPixel", 1) or 1),
        bits_allocated=int(header.get("BitsAllocated", 0) or 0),
        bits_stored=int(header.get("BitsStored", header.get("BitsAllocated", 0)) or 0),
        signed=int(header.get("PixelRepresentation", 0) or 0) == 1,
        frames=frames,
        rows=int(header.get("Rows", 0) or 0),
        columns=int(header.get("Columns", 0) or 0),
        rescale=rescale,
        slope=slope,
        intercept=intercept,
        rescale_type=rescale_type,
        voi="VOI LUT"
        if "VOILUTSequence" in header
        else ("window" if "WindowCenter" in header else "none"),
        lossy=str(header.get("LossyImageCompression", "00")) == "01",
        burned_in=str(header.get("BurnedInAnnotation", "") or ""),
        image_type=tuple(str(v).strip() for v in (header.get("ImageType", None) or ())),
        sop_instance_uid=str(header.get("SOPInstanceUID", "") or ""),
        source_uids=tuple(
            str(item.get("ReferencedSOPInstanceUID", ""))
            for item in (header.get("SourceImageSequence", None) or ())
        ),
        problem=_dicom_problem(header, transfer_syntax, min_size),
    )
    colour = "colour " if info["samples"] == 3 else ""
    info["kind"] = (
        f"{info['modality'] or 'no Modality'}, {colour}{info['photometric'] or '?'}, "
        f"{info['bits_stored']} of {info['bits_allocated']} bits"
        + (f", {frames} frames" if frames > 1 else "")
    )
    return info


def _describe_picture(path: Path, info: dict, min_size: int) -> dict:
    if path.suffix.lower() not in _IMAGE_SUFFIXES:
        info["problem"] = "neither DICOM nor a PNG/JPEG/TIFF/BMP image"
        info["kind"] = "other file"
        return info
    try:
        import imageio.v3 as iio

        properties = (
            iio.improps(path, index=0)
            if path.suffix.lower() in (".tif", ".tiff")
            else iio.improps(path, plugin="pillow")
        )
    except Exception as exc:
        info["problem"] = f"cannot be read as an image ({type(exc).__name__}: {exc})"
        info["kind"] = f"{info['format']} (unreadable)"
        return info
    shape, dtype = tuple(properties.shape), np.dtype(properties.dtype)
    samples = shape[2] if len(shape) == 3 else 1
    info.update(
        photometric="RGB" if samples in (3, 4) else "MONOCHROME2",
        samples=min(samples, 3),
        bits_allocated=dtype.itemsize * 8,
        bits_stored=dtype.itemsize * 8,
        signed=bool(np.issubdtype(dtype, np.signedinteger)),
        rows=shape[0] if shape else 0,
        columns=shape[1] if len(shape) > 1 else 0,
    )
    if len(shape) not in (2, 3) or samples not in (1, 3, 4):
        info["problem"] = f"shape {shape}: not a 2-D grey or RGB image"
    elif min(shape[:2]) < min_size:
        info["problem"] = (
            f"too small ({shape[0]} x {shape[1]} pixels; the lessons need at least {min_size})"
        )
    info["kind"] = f"{info['format']}, {'colour' if samples > 1 else 'grey'}, {dtype}"
    return info


def read_first_frame(path) -> np.ndarray:
    """The stored values of an image file's first frame (DICOM: decoding that frame only).

    DICOM colour stored as YBR is converted to RGB by pydicom; unused high bits are
    masked. Other formats are read with imageio (the first page of a stack).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the pixels cannot be decoded, or decode to an empty or constant image.

    Example
    -------
    >>> from course_utils import data
    >>> read_first_frame(data.sample_path("MR2_UNCI.dcm")).shape   # doctest: +SKIP
    (1024, 1024)
    """
    path = _as_path(path)
    _check_file(path)
    try:
        if is_dicom_file(path):
            import pydicom
            from pydicom.pixels import pixel_array

            header = pydicom.dcmread(path, stop_before_pixels=True)
            frames = int(header.get("NumberOfFrames", 1) or 1)
            stored = pixel_array(path, index=0 if frames > 1 else None)
        elif path.suffix.lower() in (".tif", ".tiff"):
            stored = _first_tiff_plane(path)
        else:
            import imageio.v3 as iio

            stored = iio.imread(
                path, plugin="pillow", index=0 if path.suffix.lower() == ".gif" else None
            )
    except Exception as exc:
        raise ValueError(
            f"the pixels of {path.name} could not be decoded ({type(exc).__name__}: {exc})"
        ) from exc
    stored = np.asarray(stored)
    if stored.size == 0:
        raise ValueError(f"{path.name} decodes to an empty image (shape {stored.shape})")
    if stored.min() == stored.max():
        raise ValueError(
            f"{path.name} is a constant image (every pixel {stored.min()}): nothing to show"
        )
    return stored


# --------------------------------------------------------------------------- display
def _validate_values(values, name: str = "values") -> np.ndarray:
    array = np.asarray(values)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected an image")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} has dtype {array.dtype}; expected numbers")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ValueError(
            f"{name} contains {int(np.isnan(array).sum())} NaN value(s); "
            "replace them (e.g. np.nan_to_num) or mask them first"
        )
    return array


def window_image(values, centre: float, width: float) -> np.ndarray:
    """Map values through a linear window: ``centre - width/2`` -> 0, ``centre + width/2`` -> 1.

    Values outside the window are clipped. This is the plain linear window of
    most viewers; DICOM's exact VOI LUT formula (PS3.3 C.11.2.1.2) differs by
    half a unit, which is invisible at display precision.

    Parameters
    ----------
    values : array_like
        Modality values (e.g. HU), any shape.
    centre : float
        Window centre (level) in the same units.
    width : float
        Window width, > 0.

    Returns
    -------
    numpy.ndarray of float32 in [0, 1]

    Raises
    ------
    ValueError
        Empty input, NaN values, non-finite centre, or ``width <= 0``.

    Example
    -------
    >>> window_image(np.array([-100.0, 40.0, 200.0]), 40, 80)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    array = _validate_values(values)
    centre = float(centre)
    width = float(width)
    if not np.isfinite(centre):
        raise ValueError(f"window centre must be finite, got {centre}")
    if not np.isfinite(width) or width <= 0:
        raise ValueError(f"window width must be a positive finite number, got {width}")
    lower = centre - width / 2
    scaled = (array.astype(np.float64) - lower) / width
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


def to_display(
    values,
    photometric: str = "MONOCHROME2",
    *,
    centre: float | None = None,
    width: float | None = None,
    percentiles: tuple[float, float] | None = None,
) -> np.ndarray:
    """Display brightness in [0, 1] where 1 is white, honouring MONOCHROME1.

    The value range is chosen by, in order: an explicit window (``centre`` and
    ``width``), ``percentiles`` of the values (robust to a few outliers), or
    the full min-max range. For MONOCHROME1 (radiographs in which *low*
    values are bright) the result is inverted, ``1 - windowed``.

    Parameters
    ----------
    values : array_like
        Stored or modality values.
    photometric : str, default "MONOCHROME2"
        ``"MONOCHROME1"`` or ``"MONOCHROME2"`` (from the DICOM header).
    centre, width : float, optional
        A window in the units of ``values``; give both or neither.
    percentiles : (low, high), optional
        E.g. ``(0.5, 99.5)``.

    Returns
    -------
    numpy.ndarray of float32 in [0, 1]

    Raises
    ------
    ValueError
        Empty input, NaN values, only one of centre/width, an unknown
        photometric interpretation, or a constant image without a window.

    Example
    -------
    >>> to_display(np.array([0.0, 5.0, 10.0]), "MONOCHROME1")
    array([1. , 0.5, 0. ], dtype=float32)
    """
    array = _validate_values(values)
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(
            f"photometric must be 'MONOCHROME1' or 'MONOCHROME2', got {photometric!r}; "
            "colour images are displayed as they are"
        )
    if (centre is None) != (width is None):
        raise ValueError(
            f"give both centre and width or neither, got centre={centre}, width={width}"
        )
    if centre is not None:
        shown = window_image(array, centre, width)
    else:
        if percentiles is not None:
            low_pct, high_pct = percentiles
            if not 0 <= low_pct < high_pct <= 100:
                raise ValueError(
                    f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles}"
                )
            low, high = np.percentile(array, [low_pct, high_pct])
        else:
            low, high = float(array.min()), float(array.max())
        if high <= low:
            raise ValueError(
                f"the image is constant ({low:g}) over the chosen range; "
                "pass centre and width to display it"
            )
        shown = window_image(array, (low + high) / 2, high - low)
    if photometric == "MONOCHROME1":
        shown = 1.0 - shown
    return shown.astype(np.float32)
