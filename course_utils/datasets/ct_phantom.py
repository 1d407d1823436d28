"""Generator of the ``ct-phantom`` dataset: an abdominal CT series in Hounsfield units.

The phantom imitates a contrast-enhanced (late arterial / portal-inflow phase)
CT of the upper abdomen of an adult lying supine, head first, on the scanner
table. Anatomy is defined in millimetres, so any matrix size and voxel spacing
sample the same body; the default matrix is small (48 x 256 x 256) to keep
the course fast, with anisotropic voxels (2.5 mm slices, 1.4 mm pixels).

Tissues and their Hounsfield units (before noise and partial-volume blur):

=====================  ========  =============================================
tissue                 HU        where
=====================  ========  =============================================
air                    -1000     outside the body, stomach gas, bowel gas
lung                   -850      lung bases in the upper (superior) slices
fat                    -100      subcutaneous and visceral fat
water / bile / urine   0..20     bowel fluid, stomach fluid
spinal canal (CSF)     10        inside the vertebral arch
skin                   40        outer 2 mm of the body
muscle                 50        abdominal wall, paraspinal muscles, psoas
spleen                 50
liver                  60
kidney medulla         80
inferior vena cava     120       less enhanced than the aorta
portal / hepatic vein  170
kidney cortex          180       enhancing cortex
aorta                  280       contrast-filled
cancellous bone        280       inside the vertebral bodies
rib                    650
cortical bone          1200      shell of the vertebral bodies, posterior arch
table shell            300       carbon-fibre shell of the patient table
table core             -800      foam core of the table
=====================  ========  =============================================

Edges are partial-volume blurred (structures are sampled at three positions
across each slice thickness and smoothed in-plane) and Gaussian noise of
``noise_hu`` (spatially correlated over about a pixel) is added, as in a
filtered-back-projection reconstruction.

Files: ``CT-<n>.dcm`` with ``n`` the InstanceNumber, *not* zero-padded, so a
text sort (``CT-1, CT-10, CT-11, ..., CT-2``) is not the geometric order.
InstanceNumber 1 is the most superior slice (the scanner moved from head to
feet); ImagePositionPatient z therefore *decreases* with InstanceNumber.
Coordinates follow DICOM's patient system (LPS: x towards the patient's left,
y towards the back, z towards the head). Stored values are unsigned 16-bit
with RescaleSlope 1 and RescaleIntercept -1024, so ``HU = stored - 1024``.
Every file passes dicom3tools' ``dciodvfy`` without errors.

Example
-------
>>> from course_utils import data
>>> folder = data.dataset_path("ct-phantom")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULTS",
    "TISSUE_HU",
    "anatomy_to_patient",
    "generate",
    "render_hu",
    "probe_points_mm",
]

DEFAULTS = {
    "seed": 0,
    "shape": (48, 256, 256),
    "spacing_mm": (2.5, 1.4, 1.4),
    "noise_hu": 12.0,
}
"""Generator parameters: ``shape`` and ``spacing_mm`` are (slices, rows, columns)."""

TISSUE_HU = {
    "air": -1000.0,
    "lung": -850.0,
    "fat": -100.0,
    "bowel_fluid": 15.0,
    "csf": 10.0,
    "skin": 40.0,
    "muscle": 50.0,
    "spleen": 50.0,
    "liver": 60.0,
    "kidney_medulla": 80.0,
    "ivc": 120.0,
    "portal_vein": 170.0,
    "kidney_cortex": 180.0,
    "aorta": 280.0,
    "cancellous_bone": 280.0,
    "rib": 650.0,
    "cortical_bone": 1200.0,
    "disc": 80.0,
    "table_shell": 300.0,
    "table_core": -800.0,
}
"""Nominal Hounsfield units of the phantom's tissues (before blur and noise)."""

RESCALE_INTERCEPT = -1024.0
_TABLE_TOP_MM = 128.0  # y of the table top (posterior of the body's centre), mm
_Z_CENTRE_MM = -250.0  # patient z (DICOM) of the scan's centre, mm
_STATION = "COURSE_PHANTOM"


# --------------------------------------------------------------------------- geometry primitives
def _ellipse_fraction(x, y, cx, cy, a, b, width_mm, angle_deg=0.0):
    """Fraction (0..1) of each pixel inside an ellipse, with a linear ramp ``width_mm`` wide."""
    if a <= 0 or b <= 0:
        return np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y)))
    dx, dy = x - cx, y - cy
    if angle_deg:
        theta = np.deg2rad(angle_deg)
        dx, dy = dx * np.cos(theta) + dy * np.sin(theta), -dx * np.sin(theta) + dy * np.cos(theta)
    u, v = dx / a, dy / b
    q = np.sqrt(u * u + v * v)
    grad = np.sqrt((u / a) ** 2 + (v / b) ** 2) / np.maximum(q, 1e-9)
    signed_distance = (q - 1.0) / np.maximum(grad, 1e-9)
    return np.clip(0.5 - signed_distance / width_mm, 0.0, 1.0)


def _ellipsoid_scale(z, cz, half_length):
    """Cross-section scale (0..1) of an ellipsoid at height ``z``."""
    t = (z - cz) / half_length
    return np.sqrt(max(0.0, 1.0 - t * t))


class _Canvas:
    """One axial section being painted; shapes are evaluated only in their bounding window."""

    def __init__(self, x_mm, y_mm, width_mm):
        self.x = x_mm  # column centres, increasing
        self.y = y_mm  # row centres, increasing
        self.width = width_mm
        self.hu = np.full((y_mm.size, x_mm.size), TISSUE_HU["air"])

    def _window(self, cx, cy, radius):
        c0, c1 = np.searchsorted(self.x, [cx - radius, cx + radius])
        r0, r1 = np.searchsorted(self.y, [cy - radius, cy + radius])
        return slice(r0, r1), slice(c0, c1)

    def ellipse(self, cx, cy, a, b, angle_deg=0.0):
        """(window, fraction inside the ellipse) for an ellipse centred at (cx, cy) mm."""
        window = self._window(cx, cy, max(a, b) + 2.0 * self.width)
        xs = self.x[window[1]][None, :]
        ys = self.y[window[0]][:, None]
        return window, _ellipse_fraction(xs, ys, cx, cy, a, b, self.width, angle_deg)

    def paint(self, value, cx, cy, a, b, angle_deg=0.0, *, within=None, extra=None):
        """Blend ``value`` into the ellipse; ``within``/``extra`` are full-size fractions to multiply."""
        if a <= 0 or b <= 0:
            return
        window, fraction = self.ellipse(cx, cy, a, b, angle_deg)
        if within is not None:
            fraction = fraction * within[window]
        if extra is not None:
            fraction = fraction * extra[window]
        target = self.hu[window]
        target *= 1.0 - fraction
        target += fraction * value

    def paint_fraction(self, value, fraction):
        """Blend ``value`` with a full-size fraction map."""
        self.hu *= 1.0 - fraction
        self.hu += fraction * value

    def fraction(self, cx, cy, a, b, angle_deg=0.0):
        """Full-size fraction map of an ellipse (zero outside its window)."""
        full = np.zeros_like(self.hu)
        window, fraction = self.ellipse(cx, cy, a, b, angle_deg)
        full[window] = fraction
        return full


def _bowel_loops(seed: int):
    rng = np.random.default_rng([seed, 2])
    loops = []
    for _ in range(14):
        loops.append(
            {
                "x": rng.uniform(-80, 90),
                "y": rng.uniform(-50, 10),
                "z": rng.uniform(-70, 5),
                "r": rng.uniform(9, 16),
                "half_length": rng.uniform(12, 30),
                "gas": rng.random() < 0.35,
            }
        )
    return loops


# --------------------------------------------------------------------------- one axial section
def _render_slice(x_mm, y_mm, z, width, loops):
    """HU of one infinitely thin axial section at height ``z`` (mm, anatomy frame: 0 = scan centre)."""
    T = TISSUE_HU
    canvas = _Canvas(x_mm, y_mm, width)
    ys = y_mm[:, None]

    # Patient table: curved carbon-fibre shell with a foam core, below (posterior to) the body.
    top = _TABLE_TOP_MM
    below_shell = np.clip((top + 22.0 - ys) / width + 0.5, 0, 1) * np.ones((1, x_mm.size))
    below_core = np.clip((top + 19.0 - ys) / width + 0.5, 0, 1) * np.ones((1, x_mm.size))
    canvas.paint(T["table_shell"], 0.0, top + 420.0, 440.0, 420.0, extra=below_shell)
    canvas.paint(T["table_core"], 0.0, top + 420.0, 437.0, 417.0, extra=below_core)

    # Body outline; subcutaneous fat; abdominal wall muscle; the abdominal cavity (visceral fat).
    body_a, body_b, body_cy = 160.0 + 0.05 * z, 112.0, 14.0
    canvas.paint(T["skin"], 0.0, body_cy, body_a, body_b)
    canvas.paint(T["fat"], 0.0, body_cy, body_a - 2.5, body_b - 2.5)
    canvas.paint(T["muscle"], 0.0, body_cy + 6.0, body_a - 22.0, body_b - 18.0)
    cavity = canvas.fraction(0.0, body_cy + 6.0, body_a - 32.0, body_b - 27.0)
    canvas.paint_fraction(T["fat"], cavity)

    # Bowel loops (lower abdomen): fluid- or gas-filled, with a thin wall.
    for loop in loops:
        scale = _ellipsoid_scale(z, loop["z"], loop["half_length"])
        if scale > 0:
            r = loop["r"] * scale**0.5
            content = T["air"] if loop["gas"] else T["bowel_fluid"]
            canvas.paint(T["muscle"], loop["x"], loop["y"], r, r, within=cavity)
            canvas.paint(content, loop["x"], loop["y"], r - 2.0, r - 2.0, within=cavity)

    # Liver (patient's right = -x), large in the upper slices, tapering below, with portal veins.
    scale = _ellipsoid_scale(z, 15.0, 75.0)
    if scale > 0:
        canvas.paint(T["liver"], -52.0, 5.0, 80.0 * scale, 74.0 * scale, -15.0, within=cavity)
        radius_scale = scale**0.3
        for vx, vy, vr in (
            (-40.0, 10.0, 7.0),
            (-75.0, -10.0, 4.0),
            (-60.0, 35.0, 4.5),
            (-30.0, -25.0, 3.5),
        ):
            if scale > 0.35:
                canvas.paint(
                    T["portal_vein"], vx + 0.1 * z, vy, vr * radius_scale, vr * radius_scale
                )

    # Spleen (patient's left, posterior).
    scale = _ellipsoid_scale(z, 25.0, 40.0)
    if scale > 0:
        canvas.paint(T["spleen"], 88.0, 45.0, 26.0 * scale, 44.0 * scale, 30.0, within=cavity)

    # Stomach (left anterior): wall, fluid, and a gas cap anteriorly (the patient is supine).
    scale = _ellipsoid_scale(z, 30.0, 35.0)
    if scale > 0:
        canvas.paint(T["muscle"], 52.0, -30.0, 38.0 * scale, 28.0 * scale, -20.0, within=cavity)
        canvas.paint(
            T["bowel_fluid"], 52.0, -30.0, 33.0 * scale, 23.0 * scale, -20.0, within=cavity
        )
        gas = np.clip((-40.0 - ys) / width + 0.5, 0, 1) * cavity
        canvas.paint(T["air"], 52.0, -30.0, 33.0 * scale, 23.0 * scale, -20.0, within=gas)

    # Lung bases in the posterior costophrenic recesses, above the diaphragm domes.
    for side in (-1, 1):
        dome_z = 22.0 if side < 0 else 16.0  # the right dome is higher (the liver pushes it up)
        extent = float(np.sqrt(np.clip((z - dome_z) / 40.0, 0.0, 1.0)))  # dome: rounded top
        if extent > 0:
            a, b = 18.0 + 42.0 * extent, 22.0 + 38.0 * extent
            canvas.paint(T["lung"], side * 86.0, 66.0, a, b, within=cavity)

    # Kidneys: enhancing cortex, medulla, sinus fat; the right kidney sits lower.
    for side, cz in ((-1, -34.0), (1, -24.0)):
        scale = _ellipsoid_scale(z, cz, 42.0)
        if scale > 0:
            kx, ky, tilt = side * 72.0, 55.0, side * 25.0
            canvas.paint(T["kidney_cortex"], kx, ky, 30.0 * scale, 22.0 * scale, tilt)
            canvas.paint(T["kidney_medulla"], kx, ky, 22.0 * scale, 15.0 * scale, tilt)
            canvas.paint(T["fat"], kx - side * 6.0, ky, 9.0 * scale, 7.0 * scale, tilt)

    # Psoas muscles (grow towards the pelvis) and paraspinal muscles.
    psoas = float(np.clip((-z + 10.0) / 60.0, 0.0, 1.0))
    for side in (-1, 1):
        if psoas > 0:
            canvas.paint(T["muscle"], side * 36.0, 58.0, 8.0 + 12.0 * psoas, 9.0 + 10.0 * psoas)
        canvas.paint(T["muscle"], side * 32.0, 94.0, 24.0, 20.0, side * 10.0)

    # Vertebra: body (cortical shell, cancellous core) or intervertebral disc; posterior arch.
    level = (z + 400.0) % 32.0  # 25 mm vertebral body + 7 mm disc
    if level < 7.0:
        canvas.paint(T["disc"], 0.0, 58.0, 22.0, 18.0)
    elif level < 8.5 or level > 30.5:  # cortical end plates
        canvas.paint(T["cortical_bone"], 0.0, 58.0, 22.0, 18.0)
    else:
        canvas.paint(T["cortical_bone"], 0.0, 58.0, 22.0, 18.0)
        canvas.paint(T["cancellous_bone"], 0.0, 58.0, 19.5, 15.5)
    canvas.paint(T["cortical_bone"], 0.0, 92.0, 16.0, 14.0)  # arch
    canvas.paint(T["csf"], 0.0, 91.0, 9.0, 8.0)  # spinal canal
    canvas.paint(T["cortical_bone"], 0.0, 112.0, 4.0, 12.0)  # spinous process

    # Great vessels: aorta left of the midline in front of the spine, IVC to the right.
    canvas.paint(T["aorta"], 16.0, 28.0, 12.0, 12.0)
    canvas.paint(T["ivc"], -24.0, 26.0, 13.0, 9.0)

    # Ribs in the body wall of the upper slices, repeating along z (rib, intercostal space).
    if z > -25.0 and (z + 400.0) % 24.0 < 11.0:
        for angle in np.deg2rad([-150, -130, -50, -30, 20, 45, 70, 110, 135, 160]):
            rx = np.cos(angle) * (body_a - 26.0)
            ry = body_cy + np.sin(angle) * (body_b - 22.0)
            canvas.paint(T["rib"], rx, ry, 6.0, 5.0, np.rad2deg(angle))
    return canvas.hu


def render_hu(shape=DEFAULTS["shape"], spacing_mm=DEFAULTS["spacing_mm"], *, seed=0, noise_hu=12.0):
    """Render the phantom volume in Hounsfield units.

    Parameters
    ----------
    shape : tuple of 3 int
        (slices, rows, columns).
    spacing_mm : tuple of 3 float
        (slice spacing = slice thickness, row spacing, column spacing) in mm.
    seed : int
        Seeds the noise and the placement of bowel loops.
    noise_hu : float
        Standard deviation of the added noise in HU (0 for a noise-free volume).

    Returns
    -------
    hu : numpy.ndarray of float32, shape ``shape``
        Axis 0 runs from the most superior slice (index 0) to the most inferior.
    z_anatomy_mm : numpy.ndarray
        Height of each slice centre in the anatomy frame (0 = scan centre, + = towards the head).

    Raises
    ------
    ValueError
        Wrong number of dimensions, non-positive sizes or spacings, negative noise.

    Example
    -------
    >>> hu, z = render_hu((4, 64, 64), (10.0, 5.6, 5.6), noise_hu=0)
    >>> hu.shape, round(float(hu.min()))
    ((4, 64, 64), -1000)
    """
    from scipy import ndimage

    shape = tuple(int(n) for n in shape)
    spacing_mm = tuple(float(s) for s in spacing_mm)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be 3 positive integers (slices, rows, columns), got {shape}")
    if len(spacing_mm) != 3 or min(spacing_mm) <= 0:
        raise ValueError(
            f"spacing_mm must be 3 positive numbers in mm (slice, row, column), got {spacing_mm}"
        )
    if noise_hu < 0:
        raise ValueError(f"noise_hu must be >= 0 HU, got {noise_hu}")
    n_slices, n_rows, n_cols = shape
    dz, dy, dx = spacing_mm
    x = (np.arange(n_cols) - (n_cols - 1) / 2.0) * dx
    y = (np.arange(n_rows) - (n_rows - 1) / 2.0) * dy + 20.0  # body centred slightly anterior
    x, y = x.astype(np.float32), y.astype(np.float32)
    width = max(dx, dy)
    z_anatomy = ((n_slices - 1) / 2.0 - np.arange(n_slices)) * dz  # index 0 = most superior
    loops = _bowel_loops(seed)
    hu = np.empty(shape, dtype=np.float32)
    offsets = np.array([-1.0, 0.0, 1.0]) * dz / 3.0  # partial volume across the slice thickness
    for index, z in enumerate(z_anatomy):
        hu[index] = np.mean(
            [_render_slice(x, y, z + dz_off, width, loops) for dz_off in offsets], axis=0
        )
    hu = ndimage.gaussian_filter(hu, sigma=(0.0, 0.6, 0.6))
    if noise_hu > 0:
        rng = np.random.default_rng([seed, 1])
        noise = rng.standard_normal(shape).astype(np.float32)
        noise = ndimage.gaussian_filter(noise, sigma=(0.0, 0.7, 0.7))
        noise *= noise_hu / noise.std()
        hu += noise
    return hu, z_anatomy


def probe_points_mm():
    """Points (x, y, z) in the *anatomy frame* (mm) well inside tissues, for tests and lessons.

    The anatomy frame has its origin at the centre of the scanned range in z
    and at the centre of the field of view in x; convert with
    :func:`anatomy_to_patient` for a given geometry.

    Returns
    -------
    dict of str -> tuple(float, float, float)

    Example
    -------
    >>> sorted(probe_points_mm())[:3]
    ['air', 'aorta', 'cancellous_bone']
    """
    return {
        "air": (0.0, -125.0, 0.0),
        "fat": (0.0, -88.0, -10.0),
        "muscle": (32.0, 94.0, -10.0),
        "liver": (-75.0, 20.0, 30.0),
        "aorta": (16.0, 28.0, 0.0),
        "cancellous_bone": (0.0, 58.0, 4.0),
        "kidney_cortex": (95.5, 66.0, -24.0),
        "lung": (85.0, 70.0, 55.0),
    }


def anatomy_to_patient(point_xyz):
    """Convert an anatomy-frame point (x, y, z in mm) to DICOM patient coordinates (LPS, mm).

    Example
    -------
    >>> anatomy_to_patient((0.0, 0.0, 0.0))
    (0.0, 0.0, -250.0)
    """
    x, y, z = point_xyz
    return (float(x), float(y), float(z + _Z_CENTRE_MM))


# --------------------------------------------------------------------------- DICOM writing
def _uid(seed: int, *parts) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=["course-ct-phantom", str(seed), *map(str, parts)])


def _slice_dataset(stored, *, seed, index, n_slices, spacing_mm, position, uids):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian

    instance_number = index + 1
    sop_instance_uid = _uid(seed, "instance", instance_number)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "COURSE_UTILS_01"

    ds = Dataset()
    ds.file_meta = meta
    # SOP common
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_instance_uid
    ds.InstanceCreationDate = "20240115"
    ds.InstanceCreationTime = "101500"
    # Patient (fictitious)
    ds.PatientName = "PHANTOM^ABDOMEN"
    ds.PatientID = f"CTPHANTOM{seed:04d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.PatientIdentityRemoved = "NO"
    # General study
    ds.StudyInstanceUID = uids["study"]
    ds.StudyDate = "20240115"
    ds.StudyTime = "101000"
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.StudyDescription = "CT ABDOMEN WITH CONTRAST (COURSE PHANTOM)"
    # General series
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uids["series"]
    ds.SeriesNumber = 2
    ds.SeriesDate = "20240115"
    ds.SeriesTime = "101200"
    ds.SeriesDescription = "ABDOMEN 2.5mm ARTERIAL"
    ds.PatientPosition = "HFS"
    ds.BodyPartExamined = "ABDOMEN"
    # Frame of reference
    ds.FrameOfReferenceUID = uids["frame"]
    ds.PositionReferenceIndicator = ""
    # General equipment
    ds.Manufacturer = "Biomedical Image Analysis in Python course"
    ds.ManufacturerModelName = "ct_phantom generator"
    ds.StationName = _STATION
    ds.SoftwareVersions = "course_utils 0.1.0"
    # General acquisition / general image
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance_number
    ds.ContentDate = "20240115"
    ds.ContentTime = "101200"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BurnedInAnnotation = "NO"
    # Image plane
    ds.PixelSpacing = [f"{spacing_mm[1]:g}", f"{spacing_mm[2]:g}"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [f"{v:.4f}".rstrip("0").rstrip(".") for v in position]
    ds.SliceThickness = f"{spacing_mm[0]:g}"
    ds.SpacingBetweenSlices = f"{spacing_mm[0]:g}"
    ds.SliceLocation = f"{position[2]:.4f}".rstrip("0").rstrip(".")
    # Image pixel
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = stored.tobytes()
    # CT image
    ds.RescaleIntercept = f"{RESCALE_INTERCEPT:g}"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = f"{spacing_mm[2] * stored.shape[1]:.1f}"
    ds.ConvolutionKernel = "STANDARD"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = "250"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = f"{_TABLE_TOP_MM + 40.0:.1f}"
    # VOI LUT: abdomen and bone windows
    ds.WindowCenter = ["40", "400"]
    ds.WindowWidth = ["400", "1800"]
    ds.WindowCenterWidthExplanation = ["ABDOMEN", "BONE"]
    return ds


def generate(out_dir, **params) -> None:
    """Write the ct-phantom DICOM series into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Existing (empty) folder.
    **params
        ``seed``, ``shape`` (slices, rows, columns), ``spacing_mm`` (slice, row,
        column) and ``noise_hu``; see :data:`DEFAULTS`.

    Raises
    ------
    TypeError
        Unknown parameter.
    FileNotFoundError
        ``out_dir`` does not exist.

    Example
    -------
    >>> import tempfile
    >>> generate(tempfile.mkdtemp(), shape=(4, 32, 32), spacing_mm=(10, 11, 11))   # doctest: +SKIP
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(
            f"unknown ct-phantom parameter(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}"
        )
    full = {**DEFAULTS, **params}
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"output folder {out_dir} does not exist")
    seed = int(full["seed"])
    hu, z_anatomy = render_hu(
        full["shape"], full["spacing_mm"], seed=seed, noise_hu=float(full["noise_hu"])
    )
    n_slices, n_rows, n_cols = hu.shape
    dz, dy, dx = (float(s) for s in full["spacing_mm"])
    stored = np.clip(np.rint(hu - RESCALE_INTERCEPT), 0, 4095).astype(np.uint16)
    uids = {key: _uid(seed, key) for key in ("study", "series", "frame")}
    # Centre of pixel (0, 0): x to the patient's left, y to the back (LPS).
    x0 = -(n_cols - 1) / 2.0 * dx
    y0 = -(n_rows - 1) / 2.0 * dy + 20.0
    for index in range(n_slices):
        position = (x0, y0, float(z_anatomy[index]) + _Z_CENTRE_MM)
        ds = _slice_dataset(
            stored[index],
            seed=seed,
            index=index,
            n_slices=n_slices,
            spacing_mm=(dz, dy, dx),
            position=position,
            uids=uids,
        )
        ds.save_as(out_dir / f"CT-{index + 1}.dcm", enforce_file_format=True)
