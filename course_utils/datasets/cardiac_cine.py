"""Synthetic cine MR of the heart, laid out like the Kaggle Second Annual Data Science Bowl.

``generate(out_dir)`` writes, per patient, a short-axis (SAX) cine stack: one folder per
slice position, one MR Image Storage DICOM file per cardiac phase::

    train.csv                                  Id,Systole,Diastole (true LV volumes, mL)
    train/<Id>/study/sax_<n>/IM-<series:04d>-<frame:04d>.dcm
    ground_truth/cases.csv                     Id,n_phases,ed_phase,es_phase,edv_ml,esv_ml,
                                               ef_percent,heart_rate_bpm,wall_thickness_mm
    ground_truth/volumes.csv                   Id,phase,trigger_time_ms,lv_volume_ml
    ground_truth/labels_<Id>.npz               labels, folders, spacing_mm

The anatomy is a beating heart phantom inside a thorax. The left ventricle (LV) is a
truncated prolate ellipsoid (cavity) inside a thicker one (myocardium) whose volume stays
constant over the cycle (the wall thickens in systole); the apex is fixed and the base
plane descends towards it by one slice spacing in systole (through-plane motion: the most
basal LV slice holds LV blood at end-diastole and only atrioventricular junction, left
atrium and outflow at end-systole). A crescent right ventricle (RV) wraps the septum;
left and right atria and the aortic root lie above the base plane; a thin bright layer of
epicardial fat surrounds the heart; around it dark lungs, a chest wall with bright
subcutaneous fat, the liver below the right hemidiaphragm, the spine and the descending
aorta. Contrast imitates balanced SSFP (blood bright, myocardium dark, fat bright).
Edges are analytically antialiased in-plane and averaged over four samples across the
8 mm slice thickness (partial volume); a smooth coil-sensitivity bias field and Rician
noise are applied to the magnitude. The true LV cavity volume of every phase is the exact
analytic volume of the phantom (``ground_truth/volumes.csv``); ``train.csv`` holds the
end-systolic and end-diastolic values as the real competition's file does.

What it looks like: a 1.5 T cine SSFP short-axis stack. What it does not do: no
papillary muscles or trabeculae, no respiratory motion, no flow artefacts, a perfectly
round LV with its long axis exactly perpendicular to the short-axis slices.

Deliberate quirks (deterministic; documented in ``data_manifests/cardiac-cine.yaml``):

* case 1 is clean;
* case 2: one short-axis folder was acquired with 25 phases instead of 30 (the same
  R-R interval, so its trigger times differ from the other folders');
* case 3: a repeated acquisition: two folders at the same slice position; the earlier
  series number has breath-hold ghosting, the later one is the repeat to keep;
* case 4: a four-chamber long-axis folder ``4ch_<n>`` inside ``study/`` (a different
  ImageOrientationPatient; not part of the short-axis stack).

Folder numbers ``sax_<n>`` are not contiguous (a jump in the numbering, as in the real
data) and run from base to apex. The labels in ``labels_<Id>.npz`` are the phantom's own
classes (0 background, 1 LV blood pool, 2 LV myocardium, 3 RV blood pool) at the pixel
centres and the slab centre, for the canonical stack (base to apex, the repeat kept) at
the 30 canonical phases of ``volumes.csv`` (also for the 25-phase folder).

Every number is computed in float64 (transcendental functions only on inputs that do not
depend on the CPU's SIMD path feeding a threshold) and noise is drawn from numpy's
Generator, so the decoded pixels are the same on every CPU.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from course_utils.datasets.brain_mri import _short_element  # the same per-frame element writer

__all__ = ["DEFAULTS", "LABELS", "generate", "lv_volume_ml", "validate_dsb_cardiac"]

LABELS = {0: "background", 1: "LV blood pool", 2: "LV myocardium", 3: "RV blood pool"}

DEFAULTS = {
    "seed": 0,
    "n_patients": 4,  # cases 2-4 carry the quirks; more patients are clean
    "n_phases": 30,  # cardiac phases per cycle (CardiacNumberOfImages)
    "rows": 120,
    "columns": 144,
    "pixel_mm": 1.8,
    "slice_thickness_mm": 8.0,
    "slice_spacing_mm": 10.0,
    "noise": 0.035,  # Rician sigma relative to the blood signal
}

_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
_UID_PREFIX = "1.2.826.0.1.3680043.8.498."
_KAPPA = 0.3  # base plane height above the LV equator, in units of the long semi-axis
_APEX_RATIO = 0.8  # myocardial thickness at the apex relative to the equator

# relative SSFP signal of each tissue
_SIGNAL = {
    "air": 0.0,
    "lung": 0.05,
    "muscle": 0.30,
    "fat": 0.85,
    "soft": 0.38,
    "liver": 0.33,
    "bone": 0.45,
    "csf": 0.90,
    "blood": 1.00,
    "myo": 0.28,
    "epifat": 0.80,
}


def _unit(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    return vector / math.sqrt(float(vector @ vector))


def _cap_factor(b: float, a: float) -> float:
    """Volume of an ellipsoid cap of radius 1, semi-axis ``a``, height ``b`` from the tip / pi."""
    return b * b / a - b**3 / (3.0 * a * a)


def lv_volume_ml(radius_mm: float, base_mm: float) -> float:
    """Analytic LV cavity volume (mL) of the phantom: radius at the equator, apex-to-base length."""
    a = base_mm / (1.0 + _KAPPA)
    return math.pi * radius_mm**2 * _cap_factor(base_mm, a) / 1000.0


def _contraction(tau: float, tau_es: float) -> float:
    """0 at end-diastole, 1 at end-systole; rapid filling, diastasis and atrial kick."""
    if tau <= tau_es:
        return 0.5 * (1.0 - math.cos(math.pi * tau / tau_es))
    fill = 0.32
    if tau <= tau_es + fill:
        s = (tau - tau_es) / fill
        return 0.15 + 0.85 * 0.5 * (1.0 + math.cos(math.pi * s))
    if tau <= 0.84:
        return 0.15
    s = (tau - 0.84) / 0.16
    return 0.15 * 0.5 * (1.0 + math.cos(math.pi * s))


def _case_plan(rng, case_id: int, n_phases: int, spacing: float) -> dict:
    """Anatomy and function of one patient (all lengths in mm, scalar Python maths)."""
    ef_choice = {1: (58.0, 66.0), 2: (25.0, 32.0), 3: (62.0, 70.0), 4: (40.0, 50.0)}
    low, high = ef_choice.get(case_id, (35.0, 68.0))
    ef = float(rng.uniform(low, high))
    edv = float(rng.uniform(200.0, 240.0) if ef < 35 else rng.uniform(115.0, 175.0))
    esv = edv * (1.0 - ef / 100.0)
    length_slices = int(rng.integers(8, 10))  # LV cavity length at ED in slice spacings
    base_ed = length_slices * spacing
    base_es = base_ed - spacing  # the base descends by one slice spacing
    heart_rate = float(rng.uniform(58.0, 82.0))
    thickness = float(rng.uniform(8.0, 12.0))
    tau_es = float(rng.uniform(0.34, 0.40))
    rr_ms = 60000.0 / heart_rate
    plan = {
        "id": case_id,
        "edv": edv,
        "esv": esv,
        "heart_rate": heart_rate,
        "rr_ms": rr_ms,
        "tau_es": tau_es,
        "thickness_ed": thickness,
        "base_ed": base_ed,
        "base_es": base_es,
        "length_slices": length_slices,
        "apical_extra": bool(rng.uniform() < 0.6),  # a slice below the apex
        "gain": float(rng.uniform(500.0, 800.0)),
        "yaw": float(rng.uniform(-0.12, 0.12)),
        "tilt": float(rng.uniform(-0.08, 0.08)),
        "rv_scale": float(rng.uniform(0.9, 1.1)),
        "shift": rng.uniform(-4.0, 4.0, size=3),
        "series_start": int(rng.integers(4, 9)),
        "jump_after": int(rng.integers(2, 6)),
    }
    radius_ed = math.sqrt(edv * 1000.0 / (math.pi * _cap_factor(base_ed, base_ed / (1 + _KAPPA))))
    myo = _outer_volume(radius_ed, base_ed, thickness) - edv * 1000.0
    plan["myo_mm3"] = myo
    plan["radius_ed"] = radius_ed
    phases = []
    for k in range(n_phases):
        tau = k / n_phases
        f = _contraction(tau, tau_es)
        phases.append(_phase_geometry(plan, f, tau))
    plan["phases"] = phases
    volumes = [p["volume_ml"] for p in phases]
    plan["ed_phase"] = int(np.argmax(volumes))
    plan["es_phase"] = int(np.argmin(volumes))
    return plan


def _outer_volume(radius: float, base: float, thickness: float) -> float:
    a = base / (1.0 + _KAPPA)
    apex_t = _APEX_RATIO * thickness
    return math.pi * (radius + thickness) ** 2 * _cap_factor(base + apex_t, a + apex_t)


def _phase_geometry(plan: dict, f: float, tau: float) -> dict:
    """Cavity radius, base position and wall thickness at contraction ``f`` (0 ED .. 1 ES)."""
    base = plan["base_ed"] - (plan["base_ed"] - plan["base_es"]) * f
    volume = plan["edv"] - (plan["edv"] - plan["esv"]) * f
    a = base / (1.0 + _KAPPA)
    radius = math.sqrt(volume * 1000.0 / (math.pi * _cap_factor(base, a)))
    low, high = 0.5 * plan["thickness_ed"], 3.0 * plan["thickness_ed"]
    for _ in range(60):  # incompressible myocardium: solve the wall thickness by bisection
        mid = 0.5 * (low + high)
        if _outer_volume(radius, base, mid) - volume * 1000.0 < plan["myo_mm3"]:
            low = mid
        else:
            high = mid
    thickness = 0.5 * (low + high)
    return {
        "f": f,
        "tau": tau,
        "base": base,
        "a": a,
        "radius": radius,
        "thickness": thickness,
        "volume_ml": lv_volume_ml(radius, base),
        "trigger_ms": tau * plan["rr_ms"],
    }


# --------------------------------------------------------------------------- orientation
def _frames(plan: dict):
    """Unit vectors (LPS patient coordinates) of the heart and short-axis image frames."""
    # long axis from apex (left, anterior, inferior) to base (right, posterior, superior)
    e_w = _unit([-0.62 + plan["yaw"], 0.50 + plan["tilt"], 0.60])
    col = _unit(np.array([0.0, 1.0, 0.0]) - e_w[1] * e_w)  # image down: posterior
    row = np.cross(col, e_w)
    if row[0] < 0:  # image right: patient left (RV on the image left)
        row = -row
    normal = np.cross(row, col)
    return e_w, row, col, normal


def _heart_origin(plan: dict, e_w) -> np.ndarray:
    """Position of the LV apex (endocardial tip) in patient coordinates (mm)."""
    equator = np.array([28.0, -12.0, -40.0]) + plan["shift"]
    return equator - 0.5 * plan["base_ed"] * e_w


# --------------------------------------------------------------------------- tissue maps
def _ramp(distance, edge):
    """Soft membership (1 inside, 0 outside) from a signed distance (negative inside)."""
    return np.clip(0.5 - distance / edge, 0.0, 1.0)


def _ellipse_distance(x, y, ax, ay):
    """Approximate signed distance (mm) to an axis-aligned ellipse."""
    q = np.sqrt((x / ax) ** 2 + (y / ay) ** 2)
    return (q - 1.0) * np.minimum(ax, ay)


def _thorax(points, edge):
    """Signal of the static thorax (without the heart) at (N, 3) patient points."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    body = _ramp(_ellipse_distance(x, y + 5.0, 168.0, 118.0), edge)
    under_fat = _ramp(_ellipse_distance(x, y + 5.0, 154.0, 104.0), edge)
    under_muscle = _ramp(_ellipse_distance(x, y + 5.0, 142.0, 93.0), edge)
    signal = body * _SIGNAL["fat"]
    signal = signal * (1 - under_fat) + under_fat * _SIGNAL["muscle"]
    signal = signal * (1 - under_muscle) + under_muscle * _SIGNAL["soft"]
    # diaphragm domes: the right one higher (liver below it)
    dome_right = -55.0 - 0.0022 * ((x + 70.0) ** 2 + (y - 10.0) ** 2)
    dome_left = -80.0 - 0.0025 * ((x - 70.0) ** 2 + (y - 10.0) ** 2)
    for cx, dome, ax in ((-76.0, dome_right, 68.0), (80.0, dome_left, 62.0)):
        lung = _ramp(_ellipse_distance(x - cx, y - 12.0, ax, 80.0), edge)
        lung = lung * _ramp(dome - z, edge)
        signal = signal * (1 - lung) + lung * _SIGNAL["lung"]
    liver = _ramp(z - dome_right + 4.0, edge) * under_muscle * _ramp(x - 40.0, edge * 4)
    signal = signal * (1 - liver) + liver * _SIGNAL["liver"]
    spine = _ramp(np.sqrt(x**2 + (y - 78.0) ** 2) - 17.0, edge)
    signal = signal * (1 - spine) + spine * _SIGNAL["bone"]
    canal = _ramp(np.sqrt(x**2 + (y - 102.0) ** 2) - 6.5, edge)
    signal = signal * (1 - canal) + canal * _SIGNAL["csf"]
    aorta = _ramp(np.sqrt((x - 24.0) ** 2 + (y - 60.0) ** 2) - 11.0, edge)
    signal = signal * (1 - aorta) + aorta * 0.92
    return signal


def _heart(u, v, w, geometry: dict, plan: dict, directions, edge, *, labels=False):
    """Heart paint at heart-frame coordinates: list of (alpha, signal, label) layers.

    ``u, v`` in-plane (mm from the LV axis, u towards the RV), ``w`` along the long axis
    from the apical endocardial tip. Painted in order over the thorax.
    """
    radius, a, base, t = geometry["radius"], geometry["a"], geometry["base"], geometry["thickness"]
    apex_t = _APEX_RATIO * t
    rho = np.sqrt(u * u + v * v)
    # LV cavity and outer surface: ellipsoids with the same centre (w = a), truncated at base
    zc = (w - a) / a
    r_cav = radius * np.sqrt(np.clip(1.0 - zc * zc, 0.0, None))
    zo = (w - a) / (a + apex_t)
    r_out = (radius + t) * np.sqrt(np.clip(1.0 - zo * zo, 0.0, None))
    below = _ramp(w - base, edge)
    cavity = _ramp(rho - r_cav, edge) * below * (w > 0.0)
    outer = _ramp(rho - r_out, edge) * below * (w > -apex_t)
    r_base = (radius + t) * math.sqrt(1.0 - ((base - a) / (a + apex_t)) ** 2)
    # atrioventricular junction: a dome of dark fibrous/muscular tissue above the base plane
    height = (w - base) / 26.0
    r_dome = r_base * np.sqrt(np.clip(1.0 - height * height, 0.0, None))
    junction = _ramp(rho - r_dome, edge) * (1.0 - below)
    f = geometry["f"]
    ro_eq = (plan["radius_ed"] + plan["thickness_ed"]) * plan["rv_scale"]
    rv_size = 1.0 - 0.22 * f
    taper = np.clip((w - 10.0) / (0.45 * plan["base_ed"] - 10.0), 0.0, 1.0) ** 0.6
    p, q = u, v
    rv_a = (0.95 * ro_eq * rv_size) * taper + 1e-3
    rv_b = (1.40 * ro_eq * rv_size) * taper + 1e-3
    rv_c = 0.52 * ro_eq
    rv_top = _ramp(w - base - 12.0, edge)
    rv_cav = _ramp(_ellipse_distance(p - rv_c, q, rv_a, rv_b), edge) * rv_top
    rv_wall = _ramp(_ellipse_distance(p - rv_c, q, rv_a + 3.5, rv_b + 3.5), edge) * rv_top
    lv_envelope = np.maximum(outer, junction)
    rv_cav = rv_cav * (1.0 - lv_envelope)
    rv_wall = rv_wall * (1.0 - lv_envelope)
    # atria and aortic root above the base plane (in-plane offsets from the LV axis)
    la_dir, ra_dir, ao_dir = directions
    along = u * la_dir[0] + v * la_dir[1] - 28.0
    across = -u * la_dir[1] + v * la_dir[0]
    la = _ramp(
        (np.sqrt((along / 21.0) ** 2 + (across / 30.0) ** 2 + ((w - base - 15.0) / 15.0) ** 2) - 1)
        * 15.0,
        edge,
    )
    du, dv = u - 44.0 * ra_dir[0], v - 44.0 * ra_dir[1]
    ra = _ramp(
        (np.sqrt((du / 20.0) ** 2 + (dv / 18.0) ** 2 + ((w - base - 24.0) / 18.0) ** 2) - 1) * 18.0,
        edge,
    )
    du, dv = u - 21.0 * ao_dir[0], v - 21.0 * ao_dir[1]
    aorta = _ramp(np.sqrt(du * du + dv * dv) - 11.5, edge) * _ramp(base - w + 1.0, edge)
    aorta = aorta * _ramp(w - base - 32.0, edge)
    envelope = np.maximum.reduce([lv_envelope, rv_wall, la, ra, aorta])
    if labels:
        out = np.zeros(u.shape, dtype=np.uint8)
        out[rv_cav > 0.5] = 3
        out[outer > 0.5] = 2
        out[cavity > 0.5] = 1
        return out
    # epicardial fat: a thin layer just outside the heart's envelope
    r_env = np.where(w > base, r_dome, r_out)
    fat_r = _ramp(rho - (r_env + 3.0), edge) * (r_env > 0.0)
    rv_fat = _ramp(_ellipse_distance(p - rv_c, q, rv_a + 6.0, rv_b + 6.0), edge) * rv_top
    rv_fat = rv_fat * (taper > 0.0)
    epifat = np.maximum(fat_r, rv_fat) * (1.0 - envelope)
    return [
        (epifat, _SIGNAL["epifat"]),
        (rv_wall, _SIGNAL["myo"]),
        (rv_cav, _SIGNAL["blood"]),
        (junction, _SIGNAL["myo"]),
        (outer, _SIGNAL["myo"]),
        (cavity, _SIGNAL["blood"]),
        (la, 0.97),
        (ra, 0.96),
        (aorta, 0.95),
    ]


def _bias(points, centre) -> np.ndarray:
    """Smooth receive-coil sensitivity: brighter anteriorly and towards the left chest."""
    rel = (points - centre) / 150.0
    field = 1.0 - 0.22 * rel[:, 1] + 0.08 * rel[:, 0] - 0.05 * rel[:, 2]
    field = field - 0.06 * (rel[:, 0] ** 2 + rel[:, 1] ** 2)
    return np.clip(field, 0.4, 1.6)


# --------------------------------------------------------------------------- rendering
_OFFSETS = np.array([-3.0, -1.0, 1.0, 3.0])  # through-plane samples across 8 mm


def _render_plane(
    plan, origin, e_w, axes_uv, centre, row_dir, col_dir, params, phases, rng, *, ghost=False
):
    """Noisy magnitude images (n_phases, rows, cols) of one plane, and labels if asked."""
    rows, cols, pixel = params["rows"], params["columns"], params["pixel_mm"]
    thickness = params["slice_thickness_mm"]
    normal = np.cross(row_dir, col_dir)
    jj, ii = np.meshgrid(np.arange(cols, dtype=np.float64), np.arange(rows, dtype=np.float64))
    first = centre - (cols - 1) / 2.0 * pixel * row_dir - (rows - 1) / 2.0 * pixel * col_dir
    plane = first + (jj.reshape(-1, 1) * pixel) * row_dir + (ii.reshape(-1, 1) * pixel) * col_dir
    offsets = _OFFSETS * (thickness / 8.0)
    noise = rng.standard_normal((len(phases), 2, rows * cols))  # drawn before any maths
    edge = pixel
    thorax = np.zeros(rows * cols)
    for offset in offsets:
        thorax += _thorax(plane + offset * normal, edge)
    thorax /= len(offsets)
    u_dir, v_dir = axes_uv
    rel = plane - origin
    near = (np.hypot(rel @ u_dir, rel @ v_dir) < 90.0) & (rel @ e_w > -25.0)
    near &= rel @ e_w < plan["base_ed"] + 75.0
    local = [plane[near] + offset * normal - origin for offset in offsets]
    local = [(r @ u_dir, r @ v_dir, r @ e_w) for r in local]
    images = np.repeat(thorax[None, :], len(phases), axis=0)
    for k, geometry in enumerate(phases):
        total = np.zeros(int(near.sum()))
        for u, v, w in local:
            value = thorax[near].copy()
            for alpha, signal in _heart(u, v, w, geometry, plan, plan["atria_dirs"], edge):
                value = value * (1.0 - alpha) + alpha * signal
            total += value
        images[k, near] = total / len(offsets)
    clean = images * _bias(plane, centre)[None, :]
    if ghost:  # breath-hold failure: a faint copy displaced along the phase-encoding direction
        shifted = np.roll(clean.reshape(len(phases), rows, cols), rows // 3, axis=1)
        clean = 0.8 * clean + 0.2 * shifted.reshape(len(phases), -1)
    sigma = params["noise"]
    noisy = np.sqrt((clean + sigma * noise[:, 0]) ** 2 + (sigma * noise[:, 1]) ** 2)
    stored = np.clip(np.rint(noisy * plan["gain"]), 0, 4095).astype(np.uint16)
    return stored.reshape(len(phases), rows, cols), first


# --------------------------------------------------------------------------- DICOM
def _uid(*parts) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(prefix=_UID_PREFIX, entropy_srcs=["cardiac-cine", *map(str, parts)])


def _ds_number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text[:16]


_FAMILY = ("DOE", "ROE", "SMITH", "NOVAK", "MEYER", "ROSSI", "BERG", "COSTA", "LEE", "HALL")
_GIVEN = ("ALEX", "SAM", "MARIA", "JOHN", "EVA", "OMAR", "LINA", "PAUL", "NORA", "IVAN")


def _identity(rng, case_id):
    age = int(rng.integers(25, 80))
    study = np.datetime64("2014-01-01") + np.timedelta64(int(rng.integers(0, 1500)), "D")
    birth = study - np.timedelta64(int(age * 365.25 + rng.integers(1, 360)), "D")
    return {
        "PatientName": f"{rng.choice(_FAMILY)}^{rng.choice(_GIVEN)}",
        "PatientID": f"MRN{int(rng.integers(1_000_000, 9_999_999))}",
        "PatientBirthDate": str(birth).replace("-", ""),
        "PatientSex": "F" if rng.uniform() < 0.45 else "M",
        "PatientAge": f"{age:03d}Y",
        "StudyDate": str(study).replace("-", ""),
        "StudyTime": f"{int(rng.integers(8, 18)):02d}{int(rng.integers(0, 60)):02d}00",
        "AccessionNumber": f"ACC{int(rng.integers(10_000_000, 99_999_999))}",
        "InstitutionName": "COURSE SYNTHETIC HEART CENTRE",
        "ReferringPhysicianName": f"{rng.choice(_FAMILY)}^{rng.choice(_GIVEN)}",
        "StudyID": f"{int(rng.integers(1000, 9999))}",
        "id": case_id,
    }


def _write_series(
    folder,
    identity,
    plan,
    seed,
    series_number,
    description,
    stored,
    first,
    row_dir,
    col_dir,
    params,
    trigger_ms,
):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    folder.mkdir(parents=True, exist_ok=True)
    normal = np.cross(row_dir, col_dir)
    key = (seed, identity["id"])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _MR_IMAGE_STORAGE
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.SOPClassUID = _MR_IMAGE_STORAGE
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = identity["StudyDate"]
    ds.StudyTime = identity["StudyTime"]
    ds.SeriesTime = ds.AcquisitionTime = f"{identity['StudyTime'][:2]}{series_number % 60:02d}00"
    ds.AccessionNumber = identity["AccessionNumber"]
    ds.Modality = "MR"
    ds.Manufacturer = "COURSE SYNTHETIC"
    ds.InstitutionName = identity["InstitutionName"]
    ds.ReferringPhysicianName = identity["ReferringPhysicianName"]
    ds.StudyDescription = "CARDIAC MRI CINE"
    ds.SeriesDescription = description
    ds.ManufacturerModelName = "PHANTOM MR"
    ds.PatientName = identity["PatientName"]
    ds.PatientID = identity["PatientID"]
    ds.PatientBirthDate = identity["PatientBirthDate"]
    ds.PatientSex = identity["PatientSex"]
    ds.PatientAge = identity["PatientAge"]
    ds.BodyPartExamined = "HEART"
    ds.ScanningSequence = "GR"
    ds.SequenceVariant = "SS"
    ds.ScanOptions = "CG"
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "*tfi2d1"
    ds.SliceThickness = _ds_number(params["slice_thickness_mm"])
    ds.RepetitionTime = "3.1"
    ds.EchoTime = "1.3"
    ds.NumberOfAverages = "1"
    ds.ImagingFrequency = "63.676"
    ds.ImagedNucleus = "1H"
    ds.MagneticFieldStrength = "1.5"
    ds.SpacingBetweenSlices = _ds_number(params["slice_spacing_mm"])
    ds.EchoTrainLength = "1"
    ds.FlipAngle = "60"
    ds.HeartRate = str(int(round(plan["heart_rate"])))
    ds.CardiacNumberOfImages = len(stored)
    ds.NominalInterval = str(int(round(plan["rr_ms"])))
    ds.BeatRejectionFlag = "N"
    ds.ProtocolName = description
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = _uid(*key, "study")
    ds.SeriesInstanceUID = _uid(*key, series_number, "series")
    ds.StudyID = identity["StudyID"]
    ds.SeriesNumber = series_number
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [_ds_number(v) for v in first]
    ds.ImageOrientationPatient = [_ds_number(v) for v in (*row_dir, *col_dir)]
    ds.FrameOfReferenceUID = _uid(*key, "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = _ds_number(float(first @ normal))
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape[1:]
    ds.PixelSpacing = [_ds_number(params["pixel_mm"])] * 2
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    high = float(np.percentile(stored[0], 99.5))
    ds.WindowCenter = _ds_number(round(high * 0.5))
    ds.WindowWidth = _ds_number(round(high * 1.1))
    # Encode the header once; per frame only four short elements and the pixels change.
    uids = [
        f"{_UID_PREFIX}{seed}.{identity['id']}.{series_number}.{100 + f}"
        for f in range(1, len(stored) + 1)
    ]
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = uids[0]
    ds.InstanceNumber = 1
    ds.TriggerTime = _ds_number(round(trigger_ms[0], 2))
    ds.ContentTime = f"{ds.SeriesTime[:4]}01"
    ds.PixelData = np.ascontiguousarray(stored[0], dtype="<u2").tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    template = buffer.getvalue()
    pixel_at = template.rindex(b"\xe0\x7f\x10\x00OW")
    head = template[: pixel_at + 12]
    pieces, cursor = [], 0
    for tag in (0x00080018, 0x00080033, 0x00181060, 0x00200013):
        marker = (tag >> 16).to_bytes(2, "little") + (tag & 0xFFFF).to_bytes(2, "little")
        start = head.index(marker, 132 + 4)
        while head[start + 4 : start + 6] not in (b"UI", b"TM", b"DS", b"IS"):
            start = head.index(marker, start + 1)
        length = int.from_bytes(head[start + 6 : start + 8], "little")
        pieces.append(head[cursor:start])
        cursor = start + 8 + length
    pieces.append(head[cursor:])
    for frame, pixels in enumerate(stored, start=1):
        uid = uids[frame - 1]
        parts = [
            pieces[0].replace(uids[0].encode(), uid.encode()),
            _short_element(0x00080018, "UI", uid),
            pieces[1],
            _short_element(0x00080033, "TM", f"{ds.SeriesTime[:4]}{frame % 60:02d}"),
            pieces[2],
            _short_element(0x00181060, "DS", _ds_number(round(trigger_ms[frame - 1], 2))),
            pieces[3],
            _short_element(0x00200013, "IS", str(frame)),
            pieces[4],
            np.ascontiguousarray(pixels, dtype="<u2").tobytes(),
        ]
        (folder / f"IM-{series_number:04d}-{frame:04d}.dcm").write_bytes(b"".join(parts))


# --------------------------------------------------------------------------- generator
def generate(out_dir, **params) -> None:
    """Write the cardiac-cine dataset into the existing empty folder ``out_dir``.

    Parameters are those of :data:`DEFAULTS`; see the module docstring for the layout.

    Example
    -------
    >>> from course_utils import data
    >>> root = data.dataset_path("cardiac-cine")   # doctest: +SKIP
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown parameter(s) {sorted(unknown)}; accepted: {sorted(DEFAULTS)}")
    params = {**DEFAULTS, **params}
    if params["n_patients"] < 1:
        raise ValueError("n_patients must be at least 1")
    out = Path(out_dir)
    seed, n_phases, spacing = params["seed"], params["n_phases"], params["slice_spacing_mm"]
    (out / "ground_truth").mkdir(parents=True, exist_ok=True)
    train_rows, case_rows, volume_rows = [], [], []
    for case_id in range(1, params["n_patients"] + 1):
        rng = np.random.default_rng([seed, case_id])
        plan = _case_plan(rng, case_id, n_phases, spacing)
        identity = _identity(rng, case_id)
        e_w, row_dir, col_dir, normal = _frames(plan)
        origin = _heart_origin(plan, e_w)
        # heart-frame in-plane axes: u towards the RV (patient right-anterior), v completes
        u_dir = _unit(np.array([-1.0, -0.55, 0.0]) - (np.array([-1.0, -0.55, 0.0]) @ e_w) * e_w)
        v_dir = np.cross(e_w, u_dir)

        plan["atria_dirs"] = (
            _in_plane([0.3, 1.0, 0.0], u_dir, v_dir),  # left atrium: posterior
            _in_plane([-1.0, 0.3, 0.0], u_dir, v_dir),  # right atrium: patient right
            _in_plane([-0.3, -1.0, 0.0], u_dir, v_dir),  # aortic root: anterior
        )
        # slice centres along the long axis (w from the apical tip), base to apex
        first_w = -0.5 * spacing if plan["apical_extra"] else 0.5 * spacing
        centres_w = np.arange(plan["base_ed"] + 0.5 * spacing, first_w - 1e-6, -spacing)
        n_slices = len(centres_w)
        numbers, number = [], plan["series_start"]
        for index in range(n_slices):
            if index == plan["jump_after"]:
                number += 1 + (case_id % 2)
            numbers.append(number)
            number += 1
        labels = np.zeros((n_slices, n_phases, params["rows"], params["columns"]), np.uint8)
        study = out / "train" / str(case_id) / "study"
        trig = [p["trigger_ms"] for p in plan["phases"]]
        folders = []
        duplicate_index = n_slices // 2 if case_id == 3 else None
        short_index = n_slices - 3 if case_id == 2 else None
        next_series = numbers[-1] + 3
        for index, w_c in enumerate(centres_w):
            centre = origin + w_c * e_w
            phases = plan["phases"]
            trigger = trig
            if index == short_index:
                n_short = n_phases - 5
                phases = [
                    _phase_geometry(plan, _contraction(k / n_short, plan["tau_es"]), k / n_short)
                    for k in range(n_short)
                ]
                trigger = [p["trigger_ms"] for p in phases]
            uv = (u_dir, v_dir)
            if index == duplicate_index:
                ghost_pixels, ghost_first = _render_plane(
                    plan,
                    origin,
                    e_w,
                    uv,
                    centre,
                    row_dir,
                    col_dir,
                    params,
                    phases,
                    rng,
                    ghost=True,
                )
                _write_series(
                    study / f"sax_{numbers[index]}",
                    identity,
                    plan,
                    seed,
                    numbers[index],
                    "sax cine",
                    ghost_pixels,
                    ghost_first,
                    row_dir,
                    col_dir,
                    params,
                    trigger,
                )
                series = next_series
                next_series += 1
            else:
                series = numbers[index]
            pixels, first = _render_plane(
                plan, origin, e_w, uv, centre, row_dir, col_dir, params, phases, rng
            )
            _render_labels(plan, origin, e_w, uv, centre, row_dir, col_dir, params, labels[index])
            name = f"sax_{series}"
            folders.append(name)
            _write_series(
                study / name,
                identity,
                plan,
                seed,
                series,
                "sax cine",
                pixels,
                first,
                row_dir,
                col_dir,
                params,
                trigger,
            )
        if case_id == 4:
            # four-chamber long-axis view: image down = long axis towards the base
            row4 = -u_dir
            col4 = e_w
            centre4 = origin + 0.55 * plan["base_ed"] * e_w
            pixels, first = _render_plane(
                plan,
                origin,
                e_w,
                (u_dir, v_dir),
                centre4,
                row4,
                col4,
                params,
                plan["phases"],
                rng,
            )
            series = next_series
            _write_series(
                study / f"4ch_{series}",
                identity,
                plan,
                seed,
                series,
                "4ch cine",
                pixels,
                first,
                row4,
                col4,
                params,
                trig,
            )
        np.savez_compressed(
            out / "ground_truth" / f"labels_{case_id}.npz",
            labels=labels,
            folders=np.array(folders),
            spacing_mm=np.array([spacing, params["pixel_mm"], params["pixel_mm"]]),
        )
        ed, es = plan["ed_phase"], plan["es_phase"]
        edv, esv = plan["phases"][ed]["volume_ml"], plan["phases"][es]["volume_ml"]
        train_rows.append([case_id, f"{esv:.3f}", f"{edv:.3f}"])
        case_rows.append(
            [
                case_id,
                n_phases,
                ed,
                es,
                f"{edv:.3f}",
                f"{esv:.3f}",
                f"{100.0 * (edv - esv) / edv:.2f}",
                f"{plan['heart_rate']:.1f}",
                f"{plan['thickness_ed']:.2f}",
            ]
        )
        for k, geometry in enumerate(plan["phases"]):
            volume_rows.append(
                [case_id, k, f"{geometry['trigger_ms']:.2f}", f"{geometry['volume_ml']:.3f}"]
            )
    _write_csv(out / "train.csv", ["Id", "Systole", "Diastole"], train_rows)
    _write_csv(
        out / "ground_truth" / "cases.csv",
        [
            "Id",
            "n_phases",
            "ed_phase",
            "es_phase",
            "edv_ml",
            "esv_ml",
            "ef_percent",
            "heart_rate_bpm",
            "wall_thickness_mm",
        ],
        case_rows,
    )
    _write_csv(
        out / "ground_truth" / "volumes.csv",
        ["Id", "phase", "trigger_time_ms", "lv_volume_ml"],
        volume_rows,
    )


def _in_plane(vector, u_dir, v_dir) -> np.ndarray:
    """Unit 2-D direction (u, v) of a patient-space direction projected on the short-axis plane."""
    vector = np.asarray(vector, dtype=np.float64)
    d = np.array([vector @ u_dir, vector @ v_dir])
    return d / math.sqrt(float(d @ d))


def _render_labels(plan, origin, e_w, axes_uv, centre, row_dir, col_dir, params, out):
    rows, cols, pixel = params["rows"], params["columns"], params["pixel_mm"]
    jj, ii = np.meshgrid(np.arange(cols, dtype=np.float64), np.arange(rows, dtype=np.float64))
    first = centre - (cols - 1) / 2.0 * pixel * row_dir - (rows - 1) / 2.0 * pixel * col_dir
    plane = first + (jj.reshape(-1, 1) * pixel) * row_dir + (ii.reshape(-1, 1) * pixel) * col_dir
    rel = plane - origin
    u, v, w = rel @ axes_uv[0], rel @ axes_uv[1], rel @ e_w
    near = np.hypot(u, v) < 90.0
    u, v, w = u[near], v[near], w[near]
    flat = out.reshape(len(out), -1)
    for k, geometry in enumerate(plan["phases"]):
        flat[k, near] = _heart(u, v, w, geometry, plan, plan["atria_dirs"], 1e-6, labels=True)


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


_NEEDED_TAGS = (
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "TriggerTime",
    "InstanceNumber",
    "SeriesNumber",
)


def validate_dsb_cardiac(root, report) -> None:
    """Check a folder in the Data Science Bowl cardiac layout (or the cardiac-cine build).

    Expects ``train.csv`` (Id,Systole,Diastole) and ``train/<Id>/study/sax_<n>/*.dcm``.
    Adds :class:`course_utils.data.Finding` objects to ``report`` and counts to
    ``report.summary``. Reads DICOM headers only; never writes.

    Errors: a missing ``train.csv`` or ``train/`` folder, a bad header line or row, a case
    without ``study/`` or without short-axis folders, an unreadable DICOM file or one that
    lacks a geometry or timing tag, an id listed in ``train.csv`` whose folder is missing.
    Notes (the known quirks of the real data; the folder stays usable): a short-axis folder
    whose phase count differs from the case's other folders, two folders at the same slice
    position (a repeated acquisition: keep the later SeriesNumber), a short-axis folder in
    another orientation, long-axis folders (``2ch_``/``4ch_``), a case folder without a
    ``train.csv`` row.

    Parameters
    ----------
    root : pathlib.Path
    report : course_utils.data.ValidationReport

    Example
    -------
    >>> from course_utils import data
    >>> print(data.validate("dsb-cardiac", "/data/second-annual-data-science-bowl"))  # doctest: +SKIP
    """
    import pydicom

    from course_utils.data import Finding

    root = Path(root)

    def add(severity, where, message):
        report.findings.append(Finding(severity, where, message))

    listed: dict[str, tuple[float, float]] = {}
    labels_csv = root / "train.csv"
    if not labels_csv.is_file():
        add("error", "train.csv", "missing; expected columns Id,Systole,Diastole (volumes in mL)")
    else:
        with open(labels_csv, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            if [h.strip() for h in header] != ["Id", "Systole", "Diastole"]:
                add("error", "train.csv", f"header {header}; expected Id,Systole,Diastole")
            for number, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    listed[str(int(row[0]))] = (float(row[1]), float(row[2]))
                except (ValueError, IndexError):
                    add("error", f"train.csv line {number}", f"malformed row {row}")
    train = root / "train"
    if not train.is_dir():
        add("error", "train/", "folder missing; expected train/<Id>/study/sax_<n>/*.dcm")
        return
    cases = sorted((p for p in train.iterdir() if p.is_dir()), key=lambda p: (len(p.name), p.name))
    n_sax = n_files = 0
    for case in cases:
        where = f"train/{case.name}"
        if case.name not in listed and listed:
            add("note", where, "no row in train.csv (no volumes to compare with)")
        study = case / "study"
        if not study.is_dir():
            add("error", where, "no study/ folder")
            continue
        folders = sorted(p for p in study.iterdir() if p.is_dir())
        sax = [p for p in folders if p.name.startswith("sax_")]
        for other in folders:
            if other not in sax:
                add(
                    "note",
                    f"{where}/study/{other.name}",
                    "long-axis (or other) series, not part of the short-axis stack",
                )
        if not sax:
            add("error", where, "no sax_<n> folders")
            continue
        info = {}
        for folder in sax:
            headers = []
            for path in sorted(folder.glob("*.dcm")):
                n_files += 1
                try:
                    ds = pydicom.dcmread(path, stop_before_pixels=True)
                except Exception as exc:
                    add(
                        "error",
                        f"{where}/study/{folder.name}/{path.name}",
                        f"unreadable DICOM ({type(exc).__name__})",
                    )
                    continue
                missing = [tag for tag in _NEEDED_TAGS if tag not in ds]
                if missing:
                    add(
                        "error",
                        f"{where}/study/{folder.name}/{path.name}",
                        f"lacks {', '.join(missing)}",
                    )
                    continue
                headers.append(ds)
            if not headers:
                add("error", f"{where}/study/{folder.name}", "no readable DICOM files")
                continue
            n_sax += 1
            first = headers[0]
            orientation = tuple(round(float(v), 3) for v in first.ImageOrientationPatient)
            normal = np.cross(np.array(orientation[:3]), np.array(orientation[3:]))
            position = float(np.dot(np.array(first.ImagePositionPatient, dtype=float), normal))
            info[folder.name] = (len(headers), orientation, position, int(first.SeriesNumber))
        if not info:
            continue
        counts = [v[0] for v in info.values()]
        usual = max(set(counts), key=counts.count)
        orientations = [v[1] for v in info.values()]
        usual_orientation = max(set(orientations), key=orientations.count)
        for name, (count, orientation, _, _) in info.items():
            if count != usual:
                add(
                    "note",
                    f"{where}/study/{name}",
                    f"{count} phases where the case's other "
                    f"folders have {usual}; resample by TriggerTime before summing slices",
                )
            if orientation != usual_orientation:
                add(
                    "note",
                    f"{where}/study/{name}",
                    "ImageOrientationPatient differs from the case's other short-axis folders",
                )
        by_position: dict[float, list[tuple[int, str]]] = {}
        for name, (_, orientation, position, series) in info.items():
            if orientation == usual_orientation:
                by_position.setdefault(round(position, 1), []).append((series, name))
        for entries in by_position.values():
            if len(entries) > 1:
                entries.sort()
                names = ", ".join(name for _, name in entries)
                add(
                    "note",
                    f"{where}/study",
                    f"{names} at the same slice position (a repeated "
                    f"acquisition); keep {entries[-1][1]}, the later SeriesNumber",
                )
    present = {p.name for p in cases}
    for case_id in listed:
        if case_id not in present:
            add("error", f"train/{case_id}", "listed in train.csv but the folder is missing")
    report.summary["cases"] = len(cases)
    report.summary["listed_in_train_csv"] = len(listed)
    report.summary["sax_folders"] = n_sax
    report.summary["dicom_files"] = n_files
