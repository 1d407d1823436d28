"""Data access: manifests, package samples, generated datasets, real datasets.

Three kinds of dataset are described in ``data_manifests/*.yaml``:

``package-sample``
    Real files shipped inside PyPI packages (pydicom-data, pydicom,
    scikit-image). :func:`sample_path` finds a file and verifies its sha256.
``generated``
    Deterministic synthetic datasets that imitate the layout and quirks of a
    public dataset. :func:`dataset_path` builds them on first use into a cache
    folder (``data/`` beside the course, or ``$BIOMED_COURSE_DATA``).
``external``
    Real public datasets the course never downloads. :func:`validate` checks a
    user's copy against the manifest; :func:`resolve_data_dir` is what every
    notebook calls with its ``data_dir`` parameter.

Example
-------
>>> from course_utils import data
>>> ct_file = data.sample_path("693_UNCI.dcm")      # doctest: +SKIP
>>> study = data.dataset_path("brain-mri-study")    # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

__all__ = [
    "DATA_ENV",
    "INTENSITY_ROLES",
    "Finding",
    "ImageChoice",
    "ImageRole",
    "choose_images",
    "ValidationReport",
    "cache_root",
    "dataset_path",
    "fingerprint",
    "is_built",
    "list_datasets",
    "load_manifest",
    "manifest_names",
    "resolve_data_dir",
    "resolve_output_dir",
    "atomic_write_bytes",
    "sample_path",
    "sha256_file",
    "validate",
    "verify",
]

DATA_ENV = "BIOMED_COURSE_DATA"
KINDS = ("package-sample", "generated", "external")
_COMPLETE_MARKER = ".complete.json"

_PACKAGE_ROOT = Path(__file__).resolve().parent
COURSE_ROOT = _PACKAGE_ROOT.parent


# --------------------------------------------------------------------------- manifests
def manifests_dir() -> Path:
    """Folder holding the dataset manifests (``data_manifests/`` of the course).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If the course checkout has no ``data_manifests`` folder.
    """
    folder = COURSE_ROOT / "data_manifests"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no data_manifests/ folder beside the package (looked in {folder}); "
            "install course_utils in editable mode from the course checkout (make install)"
        )
    return folder


def manifest_names(kind: str | None = None) -> list[str]:
    """Names of all datasets with a manifest, optionally only of one ``kind``.

    Example
    -------
    >>> "ct-phantom" in manifest_names("generated")   # doctest: +SKIP
    True
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    names = []
    for path in sorted(manifests_dir().glob("*.yaml")):
        manifest = _read_manifest(path)
        if kind is None or manifest["kind"] == kind:
            names.append(manifest["name"])
    return names


def _read_manifest(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        manifest = yaml.safe_load(handle)
    if not isinstance(manifest, dict) or "name" not in manifest or "kind" not in manifest:
        raise ValueError(f"manifest {path} must be a mapping with at least 'name' and 'kind'")
    if manifest["kind"] not in KINDS:
        raise ValueError(f"manifest {path}: kind must be one of {KINDS}, got {manifest['kind']!r}")
    return manifest


def load_manifest(name: str) -> dict:
    """Return the manifest of dataset ``name`` as a dictionary.

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"brain-mri-study"`` or ``"rsna-miccai"``.

    Raises
    ------
    KeyError
        If no manifest has that name; the message lists the known names.

    Example
    -------
    >>> load_manifest("ct-phantom")["kind"]   # doctest: +SKIP
    'generated'
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"dataset name must be a non-empty string, got {name!r}")
    candidate = manifests_dir() / f"{name}.yaml"
    if candidate.is_file():
        return _read_manifest(candidate)
    for path in sorted(manifests_dir().glob("*.yaml")):
        manifest = _read_manifest(path)
        if manifest["name"] == name:
            return manifest
    raise KeyError(f"no dataset called {name!r}; known datasets: {', '.join(manifest_names())}")


def list_datasets():
    """Table of every dataset: name, kind, modality, description, available locally.

    Returns
    -------
    pandas.DataFrame

    Example
    -------
    >>> list_datasets()[["name", "kind"]].head(2)   # doctest: +SKIP
    """
    import pandas as pd

    rows = []
    for path in sorted(manifests_dir().glob("*.yaml")):
        manifest = _read_manifest(path)
        kind = manifest["kind"]
        if kind == "generated":
            available = _is_complete(cache_root() / manifest["name"])
        elif kind == "package-sample":
            available = importlib.util.find_spec(manifest["package"]) is not None
        else:
            available = False
        rows.append(
            {
                "name": manifest["name"],
                "kind": kind,
                "modality": manifest.get("modality", ""),
                "description": " ".join(str(manifest.get("description", "")).split())[:90],
                "available": available,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- checksums
def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes.

    Example
    -------
    >>> len(sha256_file(__file__))
    64
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cannot checksum {path}: no such file")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- package samples
def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package!r} is not installed; it ships the sample files (run make install)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _sample_entries():
    for name in manifest_names("package-sample"):
        manifest = load_manifest(name)
        for entry in manifest.get("files", []):
            yield manifest, entry


def sample_path(filename: str, *, verify: bool = True) -> Path:
    """Path of a real sample file shipped in a PyPI package, checksum verified.

    Parameters
    ----------
    filename : str
        File name as listed in a package-sample manifest, e.g. ``"693_UNCI.dcm"``,
        ``"CT_small.dcm"``, ``"CT5N"`` (a folder: the 5-slice series) or ``"ihc.png"``.
    verify : bool, default True
        Compare the sha256 with the manifest.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    KeyError
        If no manifest lists the file.
    FileNotFoundError
        If the package or the file is missing.
    ValueError
        If the checksum differs from the manifest (the file is not the one the
        lesson was written for).

    Example
    -------
    >>> import pydicom
    >>> ds = pydicom.dcmread(sample_path("693_UNCI.dcm"))   # doctest: +SKIP
    """
    if not isinstance(filename, str) or not filename:
        raise TypeError(f"filename must be a non-empty string, got {filename!r}")
    known = []
    for manifest, entry in _sample_entries():
        known.append(entry["file"])
        if entry["file"] != filename:
            continue
        path = _package_folder(manifest["package"]) / entry["path"]
        if not path.exists():
            raise FileNotFoundError(
                f"{filename} should be at {path} (package {manifest['package']}) but is missing"
            )
        if verify and "sha256" in entry:
            actual = sha256_file(path)
            if actual != entry["sha256"]:
                raise ValueError(
                    f"checksum mismatch for {filename} ({path}): expected sha256 "
                    f"{entry['sha256']}, got {actual}; the installed package "
                    f"{manifest['package']} does not ship the file this course expects"
                )
        if verify and "files_sha256" in entry:
            for member, expected in entry["files_sha256"].items():
                actual = sha256_file(path / member)
                if actual != expected:
                    raise ValueError(
                        f"checksum mismatch for {filename}/{member}: expected {expected}, got {actual}"
                    )
        return path
    raise KeyError(f"no package sample called {filename!r}; known samples: {', '.join(known)}")


# --------------------------------------------------------------------------- generated datasets
def cache_root() -> Path:
    """Folder where generated datasets are cached.

    ``$BIOMED_COURSE_DATA`` if set, else ``data/`` in the course checkout.
    """
    env = os.environ.get(DATA_ENV)
    root = Path(env).expanduser() if env else COURSE_ROOT / "data"
    return root


def _is_complete(folder: Path, generator: str | None = None) -> bool:
    """True when ``folder`` holds a finished build (of this generator code, if given).

    A build made by an older version of the generator (its source's digest differs)
    counts as incomplete, so a cache from before an update is rebuilt, not trusted.
    """
    marker = folder / _COMPLETE_MARKER
    if not marker.is_file():
        return False
    if generator is None:
        return True
    try:
        recorded = json.loads(marker.read_text()).get("generator")
    except (OSError, ValueError):
        return False
    return recorded == generator


def _generator_digest(module) -> str:
    """Short digest of a generator module's source: changes whenever its code does.

    (Only the module's own file: a change to code it imports does not trigger a rebuild;
    ``python -m course_utils data build --rebuild`` forces one.)
    """
    source = getattr(module, "__file__", None)
    if not source or not Path(source).is_file():  # a module built in memory (tests)
        return "in-memory"
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()[:16]


def _generator_module(name: str):
    from course_utils.datasets import GENERATED

    if name not in GENERATED:
        raise KeyError(f"{name!r} is not a generated dataset; generated: {', '.join(GENERATED)}")
    return importlib.import_module(f"course_utils.datasets.{GENERATED[name]}")


def _params_key(params: dict) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def dataset_path(
    name: str, *, rebuild: bool = False, root: str | os.PathLike | None = None, **params
) -> Path:
    """Folder of generated dataset ``name``, building it on first use.

    Parameters
    ----------
    name : str
        One of the generated datasets (``brain-mri-study``, ``ct-phantom``,
        ``clot-slides``, ``mammo-roi``, ``bone-xray``, ``cardiac-cine``).
    rebuild : bool
        Delete and rebuild the cached copy.
    root : path, optional
        Cache folder; default :func:`cache_root`.
    **params
        Generator parameters that differ from the defaults (e.g. ``n_patients=3``);
        each distinct parameter set is cached in its own folder.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    KeyError
        Unknown dataset name.
    TypeError
        Unknown generator parameter.

    Notes
    -----
    The build goes to a temporary folder that is renamed into place only when
    complete, so an interrupted build never leaves a folder that looks finished.

    Example
    -------
    >>> folder = dataset_path("ct-phantom")   # doctest: +SKIP
    """
    module = _generator_module(name)
    unknown = set(params) - set(module.DEFAULTS)
    if unknown:
        raise TypeError(
            f"unknown parameter(s) {sorted(unknown)} for {name}; "
            f"accepted: {sorted(module.DEFAULTS)}"
        )
    full = {**module.DEFAULTS, **params}
    root = Path(root) if root is not None else cache_root()
    folder_name = name if full == module.DEFAULTS else f"{name}-{_params_key(full)}"
    folder = root / folder_name
    generator = _generator_digest(module)
    if rebuild and folder.exists():
        shutil.rmtree(folder)
    if _is_complete(folder, generator):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    # One builder at a time per dataset (parallel test workers, two notebooks started together).
    with open(root / f".{folder_name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_complete(folder, generator):  # built by another process while we waited
            return folder
        staging = Path(tempfile.mkdtemp(prefix=f".{folder_name}-building-", dir=root))
        try:
            staging.chmod(0o777 & ~_umask())
            module.generate(staging, **full)
            marker = {
                "name": name,
                "params": full,
                "fingerprint": fingerprint(staging),
                "generator": generator,
            }
            (staging / _COMPLETE_MARKER).write_text(json.dumps(marker, indent=2, default=str))
            if folder.exists():  # a stale, incomplete earlier attempt
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return folder


def is_built(name: str) -> bool:
    """True when the default build of generated dataset ``name`` is in the cache and current.

    Example
    -------
    >>> is_built("ct-phantom")   # doctest: +SKIP
    True
    """
    module = _generator_module(name)
    return _is_complete(cache_root() / name, _generator_digest(module))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# --------------------------------------------------------------------------- fingerprints
_DICOM_TAGS = (
    "PatientID",
    "SeriesDescription",
    "InstanceNumber",
    "Rows",
    "Columns",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "RescaleSlope",
    "RescaleIntercept",
    "PhotometricInterpretation",
)


def _fingerprint_file(path: Path, digest) -> None:
    import numpy as np

    suffix = path.suffix.lower()
    if suffix == ".dcm":
        import pydicom

        try:
            ds = pydicom.dcmread(path)
        except Exception as exc:  # deliberately broken files are part of some datasets
            digest.update(f"unreadable:{type(exc).__name__}".encode())
            return
        for tag in _DICOM_TAGS:
            digest.update(f"{tag}={ds.get(tag, '')}".encode())
        if "PixelData" in ds:
            try:
                digest.update(np.ascontiguousarray(ds.pixel_array).tobytes())
            except Exception as exc:
                digest.update(f"pixels-unreadable:{type(exc).__name__}".encode())
    elif suffix in (".tif", ".tiff", ".svs"):
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                for level, series_level in enumerate(tif.series[0].levels):
                    digest.update(f"level{level}:{series_level.shape}".encode())
                smallest = tif.series[0].levels[-1].asarray()
        except Exception as exc:
            digest.update(f"unreadable:{type(exc).__name__}".encode())
            return
        # JPEG decoders may differ by a grey level between platforms: quantise.
        digest.update((smallest.astype(np.int32) // 16).astype(np.uint8).tobytes())
    elif suffix in (".png", ".jpg", ".jpeg"):
        import imageio.v3 as iio

        digest.update(np.ascontiguousarray(iio.imread(path)).tobytes())
    elif suffix == ".npy":
        digest.update(np.ascontiguousarray(np.load(path)).tobytes())
    elif suffix == ".npz":
        with np.load(path) as archive:
            for key in sorted(archive.files):
                digest.update(key.encode())
                digest.update(np.ascontiguousarray(archive[key]).tobytes())
    elif suffix in (".csv", ".json", ".txt", ".yaml"):
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
    else:
        digest.update(path.read_bytes())


def fingerprint(folder: str | os.PathLike) -> str:
    """Fingerprint of a dataset folder computed from *decoded* content.

    DICOM files contribute geometry tags and decoded pixels, TIFF slides their
    level shapes and quantised smallest level, images their pixels, tables
    their text. File names (relative paths) are included; file bytes are not,
    so the same data written by a different codec build keeps its fingerprint.

    Returns
    -------
    str
        16 hex digits.

    Example
    -------
    >>> fingerprint(dataset_path("ct-phantom"))   # doctest: +SKIP
    '3f1c...'
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot fingerprint {folder}: not a folder")
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == _COMPLETE_MARKER:
            continue
        digest.update(rel.encode())
        _fingerprint_file(path, digest)
    for path in sorted(p for p in folder.rglob("*") if p.is_dir() and not any(p.iterdir())):
        digest.update(f"emptydir:{path.relative_to(folder).as_posix()}".encode())
    return digest.hexdigest()[:16]


def verify(names: list[str] | None = None) -> list[tuple[str, str, str]]:
    """Check what is present against the manifests.

    Package samples: every listed file's sha256. Generated datasets that are
    built with default parameters: their fingerprint against the manifest.

    Returns
    -------
    list of (name, status, detail)
        ``status`` is ``"ok"``, ``"FAILED"`` or ``"not built"``.
    """
    results = []
    for name in names or manifest_names():
        manifest = load_manifest(name)
        if manifest["kind"] == "package-sample":
            for entry in manifest.get("files", []):
                try:
                    sample_path(entry["file"])
                    results.append((f"{name}/{entry['file']}", "ok", "sha256 matches"))
                except (FileNotFoundError, ValueError) as exc:
                    results.append((f"{name}/{entry['file']}", "FAILED", str(exc)))
        elif manifest["kind"] == "generated":
            folder = cache_root() / name
            if not _is_complete(folder):
                results.append(
                    (name, "not built", f"run: python -m course_utils data build {name}")
                )
                continue
            expected = str(manifest.get("fingerprint", ""))
            actual = fingerprint(folder)
            if actual == expected:
                results.append((name, "ok", f"fingerprint {actual}"))
            else:
                results.append(
                    (name, "FAILED", f"fingerprint {actual}, manifest says {expected or '(none)'}")
                )
    return results


# --------------------------------------------------------------------------- validation of real datasets
@dataclass(frozen=True)
class Finding:
    """One problem (or note) found while validating a dataset folder.

    ``severity`` is ``"error"`` (the folder or some cases cannot be used as
    they are) or ``"note"`` (worth knowing, e.g. a known-bad case listed in the
    manifest; the folder stays usable).
    """

    severity: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.where}: {self.message}"


@dataclass
class ValidationReport:
    """Outcome of :func:`validate`: the findings and whether the folder is usable."""

    name: str
    root: Path
    findings: list[Finding] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        lines = [
            f"{self.name} at {self.root}: "
            + ("usable" if self.ok else f"{len(self.errors)} problem(s)")
        ]
        for key, value in self.summary.items():
            lines.append(f"  {key}: {value}")
        lines.extend(f"  {finding}" for finding in self.findings)
        return "\n".join(lines)


def validate(name: str, path: str | os.PathLike) -> ValidationReport:
    """Check a real dataset folder against the manifest of external dataset ``name``.

    Reads file headers only and never modifies the folder.

    Parameters
    ----------
    name : str
        ``rsna-miccai``, ``strip-ai``, ``cbis-ddsm``, ``mura`` or ``dsb-cardiac``.
    path : path
        The folder as the dataset's distributor ships it.

    Returns
    -------
    ValidationReport

    Raises
    ------
    KeyError
        Unknown dataset name.
    FileNotFoundError / NotADirectoryError
        If ``path`` does not exist or is not a folder.

    Example
    -------
    >>> report = validate("rsna-miccai", "/data/rsna-miccai")   # doctest: +SKIP
    >>> report.ok
    True
    """
    from course_utils.datasets import EXTERNAL

    if name not in EXTERNAL:
        raise KeyError(f"no validator for {name!r}; external datasets: {', '.join(EXTERNAL)}")
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{name}: folder {root} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"{name}: {root} is a file; expected the dataset's top folder")
    module_name, function_name = EXTERNAL[name]
    module = importlib.import_module(f"course_utils.datasets.{module_name}")
    report = ValidationReport(name=name, root=root)
    getattr(module, function_name)(root, report)
    return report


def resolve_data_dir(
    data_dir: str | os.PathLike | None,
    *,
    default: str,
    external: str | None = None,
    verbose: bool = True,
) -> Path:
    """What every notebook calls with its ``data_dir`` parameter.

    Parameters
    ----------
    data_dir : path or None
        None means the course's default dataset; a path is a user's folder.
    default : str
        Name of the generated dataset (or package sample set) used when
        ``data_dir`` is None.
    external : str, optional
        Name of the external dataset whose layout a user's folder should have.
        When given, the folder is validated and a short report is printed;
        problems are reported but do not stop the lesson (it skips bad cases).
    verbose : bool
        Print where the data comes from.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError / NotADirectoryError
        If ``data_dir`` does not exist or is not a folder.

    Example
    -------
    >>> root = resolve_data_dir(None, default="ct-phantom")   # doctest: +SKIP
    """
    if data_dir is None or str(data_dir) == "":
        manifest = load_manifest(default)
        if manifest["kind"] == "generated":
            folder = dataset_path(default)
        else:
            folder = _package_folder(manifest["package"])
        if verbose:
            print(f"Using the course's {manifest['kind']} dataset '{default}'.")
        return folder
    folder = Path(data_dir).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"data_dir {folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"data_dir {folder} is a file; expected a folder")
    if external is not None:
        report = validate(external, folder)
        if verbose:
            n_err = len(report.errors)
            state = (
                "looks usable"
                if report.ok
                else f"has {n_err} problem(s); bad cases will be skipped"
            )
            print(f"Using your folder {folder} as {external}: {state}.")
            for finding in report.findings[:10]:
                print(f"  {finding}")
            if len(report.findings) > 10:
                print(
                    f"  ... and {len(report.findings) - 10} more (python -m course_utils data validate {external} PATH)"
                )
    elif verbose:
        print(f"Using your folder {folder}.")
    return folder


def resolve_output_dir(output_dir: str | os.PathLike | None, lesson: str) -> Path:
    """Folder where a notebook writes its outputs (created if missing).

    Parameters
    ----------
    output_dir : path or None
        None means ``build/outputs/<lesson>`` in the course checkout.
    lesson : str
        Short lesson name, e.g. ``"03_dicom_eda"``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    NotADirectoryError
        If ``output_dir`` exists and is a file.

    Example
    -------
    >>> out = resolve_output_dir(None, "01_intensities")   # doctest: +SKIP
    """
    if not isinstance(lesson, str) or not lesson:
        raise ValueError(f"lesson must be a non-empty string, got {lesson!r}")
    folder = (
        COURSE_ROOT / "build" / "outputs" / lesson
        if output_dir in (None, "")
        else Path(output_dir).expanduser()
    )
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"output_dir {folder} is a file; expected a folder for the lesson's outputs"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` via a temporary file and an atomic rename.

    An interrupted run never leaves a half-written file under the final name.

    Example
    -------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write_bytes(target, b"abc").read_bytes()
    b'abc'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".partial", dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- choosing images by role
@dataclass(frozen=True)
class ImageRole:
    """One kind of image a lesson needs, how to recognise it, and the packaged file used by default.

    ``rank(info, chosen)`` receives :func:`course_utils.dicom.describe_file`'s description of a
    usable file and the descriptions already chosen for earlier roles (by role name). It
    returns an int when the file fits (lower is better), a str saying why a file of that kind
    does *not* fit (printed for files no role takes), or None when the file is not that kind.
    ``required`` roles fall back to ``default`` (with a printed note) when no file fits.
    """

    name: str
    what: str
    default: str
    rank: object
    required: bool = False


def _grey_dicom(info: dict) -> bool:
    return info["format"] == "DICOM" and info["samples"] == 1


def _is_ct(info: dict) -> bool:
    return info["modality"] == "CT" or (not info["modality"] and "CT Image" in info["sop_class"])


def _rank_ct(info: dict, chosen: dict):
    if not (_grey_dicom(info) and _is_ct(info)):
        return None
    if info["rescale"] == "functional groups":
        return "an enhanced CT: its rescale is in the functional groups, the lesson reads classic CT files"
    if info["rescale"] != "top level":
        return "a CT without RescaleSlope/RescaleIntercept: its HU are unknown"
    if info["rescale_type"] not in ("", "HU"):
        return f"a CT with RescaleType {info['rescale_type']}: its values are not HU"
    if "LOCALIZER" in info["image_type"]:
        return "a CT localizer (a projection scout), not a slice in HU"
    return 1 if info["lossy"] else 0


def _rank_ct_lossy(info: dict, chosen: dict):
    ct = chosen.get("ct")
    if ct is None or not _grey_dicom(info) or info is ct:
        return None
    if ct["sop_instance_uid"] and ct["sop_instance_uid"] in info["source_uids"] and info["lossy"]:
        return 0
    return None


def _rank_mr(info: dict, chosen: dict):
    if not (_grey_dicom(info) and info["modality"] == "MR"):
        return None
    if info["rescale"] != "top level" or info["slope"] in (None, 1.0):
        return "an MR without a RescaleSlope other than 1: nothing to show about the slope"
    return 0


def _rank_radiograph(info: dict, chosen: dict):
    if not _grey_dicom(info):
        return None
    projection = info["modality"] in _projection_modalities()
    if projection and info["photometric"] == "MONOCHROME1":
        return 0
    if projection:
        return 1
    if info["bits_stored"] > 8:
        return 2
    return 3


def _rank_second_radiograph(info: dict, chosen: dict):
    first = chosen.get("radiograph")
    if not _grey_dicom(info) or info["photometric"] != "MONOCHROME1":
        return None
    if first is not None and first["path"] == info["path"]:
        return None
    return 0


def _rank_picture(info: dict, chosen: dict):
    if info["format"] != "DICOM":
        return 0 if info["bits_allocated"] == 8 else None
    if info["bits_allocated"] != 8:
        return None
    if info["burned_in"] == "NO":
        return 1
    return 2 if info["burned_in"] == "" else 3  # text burned into the pixels joins the histogram


def _projection_modalities():
    from course_utils.dicom import PROJECTION_MODALITIES

    return PROJECTION_MODALITIES


#: The images lesson 01 (intensities and histograms) needs, in the order they are chosen.
INTENSITY_ROLES = (
    ImageRole("ct", "CT in Hounsfield units", "693_J2KR.dcm", _rank_ct),
    ImageRole("ct_lossy", "lossy copy of that CT", "693_UNCI.dcm", _rank_ct_lossy),
    ImageRole("mr", "MR with a rescale slope", "MR2_UNCI.dcm", _rank_mr),
    ImageRole(
        "radiograph", "high-bit grey radiograph", "RG1_UNCI.dcm", _rank_radiograph, required=True
    ),
    ImageRole(
        "second_radiograph", "second MONOCHROME1 image", "RG3_UNCI.dcm", _rank_second_radiograph
    ),
    ImageRole("picture", "8-bit picture", "microaneurysms.png", _rank_picture),
)


@dataclass
class ImageChoice:
    """Which file plays which role, and what happened to every file looked at.

    ``paths`` maps role name -> path (None: no file fits; that part of the lesson is
    skipped); ``files`` is a table with one row per file examined: ``file`` (relative to
    the folder), ``what it is`` and ``used as`` (role names, or why not used).
    ``choice["ct"]`` is ``choice.paths["ct"]``.
    """

    source: str
    roles: tuple
    paths: dict
    files: object
    notes: list = field(default_factory=list)

    def __getitem__(self, role: str):
        if role not in self.paths:
            raise KeyError(f"no role {role!r}; roles: {', '.join(self.paths)}")
        return self.paths[role]

    def __str__(self) -> str:
        width = max(len(role.what) for role in self.roles)
        lines = [f"Images from {self.source}:"]
        for role in self.roles:
            path = self.paths[role.name]
            shown = path.name if path else "(none: that part is skipped)"
            lines.append(f"  {role.what:<{width}}  {shown}")
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.files is not None and len(self.files):
            lines.append(f"Files examined ({len(self.files)}):")
            for row in self.files.itertuples(index=False):
                lines.append(f"  {row[0]} ({row[1]}): {row[2]}")
        return "\n".join(lines)


def _usable_first_frame(path: Path) -> str | None:
    """None when the first frame decodes to a non-constant image, else why not."""
    from course_utils.dicom import read_first_frame

    try:
        read_first_frame(path)
    except ValueError as exc:
        return str(exc).replace(f"{path.name} ", "", 1)
    return None


def choose_images(
    data_dir: str | os.PathLike | None,
    roles=INTENSITY_ROLES,
    *,
    limit: int = 20,
    min_size: int = 32,
) -> ImageChoice:
    """Pick one file per role from ``data_dir`` (or the packaged samples), saying why for each file.

    Headers are read without pixels (:func:`course_utils.dicom.describe_file`); only a file
    about to be given a role has its first frame decoded, to prove that it decodes to a
    non-constant image. Files are visited in sorted path order; the search stops after
    ``limit`` usable files (or ``10 * limit`` files in all), so a folder of any size is fine.

    Parameters
    ----------
    data_dir : path or None
        None: each role's packaged ``default`` file (checksums verified).
    roles : sequence of ImageRole, default :data:`INTENSITY_ROLES`
    limit : int, default 20
        Usable files to look at.
    min_size : int, default 32
        Smallest accepted number of rows and columns.

    Returns
    -------
    ImageChoice
        ``print(choice)`` shows the roles and a table of every file examined with the
        role it got or why it got none.

    Raises
    ------
    FileNotFoundError / NotADirectoryError
        If ``data_dir`` does not exist or is a file.
    ValueError
        If ``limit`` is not a positive int or ``roles`` is empty.

    Example
    -------
    >>> choice = choose_images(None)                  # doctest: +SKIP
    >>> choice["ct"].name                            # doctest: +SKIP
    '693_J2KR.dcm'
    """
    import pandas as pd

    from course_utils.dicom import describe_file

    roles = tuple(roles)
    if not roles or not all(isinstance(role, ImageRole) for role in roles):
        raise ValueError(f"roles must be a non-empty sequence of ImageRole, got {roles!r}")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a positive int, got {limit!r}")
    if data_dir is None or str(data_dir) == "":
        paths = {role.name: sample_path(role.default) for role in roles}
        return ImageChoice("the course's packaged sample files", roles, paths, pd.DataFrame())

    folder = resolve_data_dir(data_dir, default="pydicom-data", verbose=False)
    described, usable = [], 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name.startswith(".") or path.name == "DICOMDIR":
            continue
        info = {**describe_file(path, min_size=min_size), "path": path}
        described.append(info)
        usable += info["problem"] is None
        if usable >= limit or len(described) >= 10 * limit:
            break
    chosen: dict = {}
    verdicts: dict = {}  # path -> decode problem or None, checked once
    why_not: dict = {}
    for role in roles:
        candidates = []
        for order, info in enumerate(described):
            if info["problem"] is not None:
                continue
            rank = role.rank(info, chosen)
            if isinstance(rank, str):
                why_not.setdefault(info["path"], rank)
            elif rank is not None:
                candidates.append((rank, order, info))
        for _, _, info in sorted(candidates, key=lambda item: item[:2]):
            if info["path"] not in verdicts:
                verdicts[info["path"]] = _usable_first_frame(info["path"])
                if verdicts[info["path"]] is not None:
                    info["problem"] = verdicts[info["path"]]
            if verdicts[info["path"]] is None:
                chosen[role.name] = info
                break
    paths = {
        role.name: chosen[role.name]["path"] if role.name in chosen else None for role in roles
    }
    notes = []
    for role in roles:
        if role.required and paths[role.name] is None:
            paths[role.name] = sample_path(role.default)
            notes.append(
                f"no file in your folder fits '{role.what}': the packaged {role.default} is used instead"
            )
    if usable >= limit or len(described) >= 10 * limit:
        notes.append(f"stopped after {len(described)} files (limit={limit} usable files)")
    rows = []
    for info in described:
        used = [role.name for role in roles if chosen.get(role.name) is info]
        if used:
            decision = "used as " + " and ".join(role.what for role in roles if role.name in used)
        elif info["problem"] is not None:
            decision = "skipped: " + info["problem"]
        elif info["path"] in why_not:
            decision = "not used: " + why_not[info["path"]]
        else:
            decision = "not used: the roles it fits are taken"
        extras = []
        if info["frames"] > 1 and used:
            extras.append("first frame only")
        if used and info["samples"] == 3:
            extras.append("colour, converted to grey")
        if used and "picture" in used and info["burned_in"] != "NO" and info["format"] == "DICOM":
            extras.append(
                f"BurnedInAnnotation {info['burned_in'] or 'not stated'}: text in the pixels counts"
            )
        rows.append(
            {
                "file": info["path"].relative_to(folder).as_posix(),
                "what it is": info["kind"],
                "used as / why not": decision + (f" ({'; '.join(extras)})" if extras else ""),
            }
        )
    return ImageChoice(f"your folder {folder.name}/", roles, paths, pd.DataFrame(rows), notes)
