"""Plotting helpers shared by the lessons.

Small wrappers around matplotlib that enforce the course's figure rules:
every image has a title, a colour bar with units where intensities matter,
and grey or perceptually uniform colour maps. Each function draws and
returns the figure (or axes); the notebook calls ``plt.show()``.

Example
-------
>>> import numpy as np
>>> fig = image_grid([np.eye(4), np.ones((4, 4))], titles=["a", "b"], cbar_label="a.u.")
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "interactive_figure",
    "show_image",
    "image_grid",
    "image_with_histogram",
    "add_scale_bar",
    "use_course_style",
    "orthogonal_views",
    "orientation_letters",
    "add_orientation_markers",
    "slice_browser",
]


def _as_image(image, name: str = "image") -> np.ndarray:
    array = np.asarray(image)
    if array.size == 0:
        raise ValueError(
            f"{name} is empty (shape {array.shape}); expected a 2-D image or an RGB(A) image"
        )
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).any():
        raise ValueError(
            f"{name} (shape {array.shape}) has no finite value (all NaN or infinite); "
            "expected an image with at least one finite value to show"
        )
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        return array
    if array.ndim != 2:
        raise ValueError(
            f"{name} has shape {array.shape}; expected a 2-D image (rows, cols) or RGB(A) (rows, cols, 3|4). "
            "For a volume, pick a slice first."
        )
    return array


def show_image(
    ax,
    image,
    *,
    title: str = "",
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    cbar_label: str | None = None,
    aspect: float | str = "equal",
    axis_off: bool = True,
    extent=None,
):
    """Draw one image on ``ax`` with a title and (optionally) a labelled colour bar.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    image : array_like
        2-D intensities or an RGB(A) image.
    title : str
    cmap : str
        Ignored for RGB images.
    vmin, vmax : float, optional
        Display range; values outside are clipped to the colour map's ends.
    cbar_label : str, optional
        If given (e.g. ``"HU"``), a colour bar with this label is added.
    aspect : float or "equal"
        Row-to-column pixel aspect (row spacing / column spacing) for
        anisotropic pixels.
    axis_off : bool
        Hide ticks (default), or keep them (e.g. with an ``extent`` in mm).
    extent : tuple, optional
        Passed to ``imshow`` (e.g. physical coordinates in mm).

    Returns
    -------
    matplotlib.image.AxesImage

    Example
    -------
    >>> fig, ax = plt.subplots()
    >>> im = show_image(ax, np.eye(3), title="identity", cbar_label="a.u.")
    """
    array = _as_image(image)
    if array.ndim == 2 and array.dtype == bool:
        array = array.astype(np.uint8)
    handle = ax.imshow(
        array,
        cmap=None if array.ndim == 3 else cmap,
        vmin=vmin,
        vmax=vmax,
        aspect=aspect,
        interpolation="nearest" if max(array.shape[:2]) < 128 else "antialiased",
        extent=extent,
    )
    if title:
        ax.set_title(title)
    if axis_off:
        ax.set_axis_off()
    if cbar_label is not None and array.ndim == 2:
        colorbar = ax.figure.colorbar(handle, ax=ax, fraction=0.046, pad=0.04)
        colorbar.set_label(cbar_label)
    return handle


def image_grid(
    images: Sequence,
    *,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    cbar_label: str | None = None,
    panel_size: float = 3.0,
    suptitle: str | None = None,
    shared_cbar: bool = False,
):
    """Show several images side by side, each with its title.

    Parameters
    ----------
    images : sequence of array_like
    titles : sequence of str, optional
        One per image.
    ncols : int, optional
        Columns of the grid (default: all in one row up to 4).
    cmap, vmin, vmax, cbar_label
        As in :func:`show_image`, applied to every panel.
    panel_size : float
        Inches per panel.
    suptitle : str, optional
    shared_cbar : bool, default False
        With ``cbar_label``: one colour bar for the whole grid (every panel uses the
        same ``vmin``/``vmax``) instead of one per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No images, or a number of titles that does not match.

    Example
    -------
    >>> fig = image_grid([np.zeros((3, 3))] * 2, titles=["left", "right"])
    """
    images = list(images)
    if not images:
        raise ValueError("image_grid needs at least one image, got an empty sequence")
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"got {len(titles)} titles for {len(images)} images; expected one title per image"
        )
    ncols = ncols or min(len(images), 4)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows), squeeze=False
    )
    handle = None
    for index, ax in enumerate(axes.flat):
        if index < len(images):
            handle = show_image(
                ax,
                images[index],
                title=titles[index] if titles is not None else "",
                cmap=cmap,
                vmin=vmin,
                vmax=vmax,
                cbar_label=None if shared_cbar else cbar_label,
            )
        else:
            ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    if shared_cbar and cbar_label is not None and handle is not None:
        fig.subplots_adjust(right=0.9)
        colorbar = fig.colorbar(handle, ax=list(axes.flat), fraction=0.02, pad=0.02)
        colorbar.set_label(cbar_label)
    return fig


def image_with_histogram(
    image,
    *,
    title: str = "",
    unit: str = "stored value",
    bins: int = 256,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    log: bool = True,
    mask=None,
    xlim: tuple[float, float] | None = None,
):
    """An image next to the histogram of its values.

    Parameters
    ----------
    image : array_like
        2-D intensities.
    title : str
    unit : str
        Intensity unit for the colour bar and the histogram's x axis (e.g. ``"HU"``).
    bins : int
    cmap, vmin, vmax
        Display settings for the image; the display range is shaded on the histogram.
    log : bool
        Logarithmic count axis (medical images are dominated by background).
    mask : array_like of bool, optional
        Histogram only these pixels.
    xlim : (low, high), optional
        Limits of the histogram's value axis (default: the data's range).

    Returns
    -------
    matplotlib.figure.Figure

    Example
    -------
    >>> fig = image_with_histogram(np.arange(16.0).reshape(4, 4), unit="a.u.", bins=8)
    """
    array = _as_image(image)
    if array.ndim != 2:
        raise ValueError(
            f"image_with_histogram needs a 2-D greyscale image, got shape {array.shape}"
        )
    if xlim is not None:
        xlim = tuple(float(v) for v in xlim)
        if len(xlim) != 2 or not xlim[0] < xlim[1]:
            raise ValueError(f"xlim must be (low, high) with low < high, got {xlim!r}")
    values = array if mask is None else array[np.asarray(mask, dtype=bool)]
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no finite values to histogram (image all NaN or mask empty)")
    fig, (ax_img, ax_hist) = plt.subplots(
        1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1, 1.3]}
    )
    show_image(ax_img, array, title=title, cmap=cmap, vmin=vmin, vmax=vmax, cbar_label=unit)
    ax_hist.hist(values, bins=bins, color="0.3", log=log)
    ax_hist.set_xlabel(f"intensity ({unit})")
    ax_hist.set_ylabel("pixel count" + (" (log scale)" if log else ""))
    ax_hist.set_title("histogram" + (" inside mask" if mask is not None else ""))
    if vmin is not None or vmax is not None:
        low = vmin if vmin is not None else values.min()
        high = vmax if vmax is not None else values.max()
        ax_hist.axvspan(low, high, color="tab:orange", alpha=0.15, label="display range")
        ax_hist.legend(loc="upper right")
    if xlim is not None:
        ax_hist.set_xlim(*xlim)
    fig.tight_layout()
    return fig


def add_scale_bar(
    ax,
    length_units: float,
    pixel_size: float,
    *,
    unit: str = "µm",
    color: str = "white",
    loc: str = "lower right",
):
    """Draw a scale bar of ``length_units`` physical units on an image axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes showing an image in pixel coordinates.
    length_units : float
        Length of the bar in physical units (e.g. 100 for 100 µm).
    pixel_size : float
        Physical size of one displayed pixel (e.g. microns per pixel).
    unit : str
    color : str
    loc : str
        ``"lower right"`` or ``"lower left"``.

    Example
    -------
    >>> fig, ax = plt.subplots(); _ = ax.imshow(np.zeros((100, 100)))
    >>> add_scale_bar(ax, 50, 1.0)
    """
    if pixel_size <= 0 or length_units <= 0:
        raise ValueError(
            f"pixel_size and length_units must be positive, got {pixel_size} and {length_units}"
        )
    x0, x1 = sorted(ax.get_xlim())
    y_bottom, y_top = max(ax.get_ylim()), min(ax.get_ylim())
    length_px = length_units / pixel_size
    margin_x = 0.05 * (x1 - x0)
    margin_y = 0.06 * (y_bottom - y_top)
    start = x1 - margin_x - length_px if loc == "lower right" else x0 + margin_x
    y = y_bottom - margin_y
    ax.plot([start, start + length_px], [y, y], color=color, linewidth=4, solid_capstyle="butt")
    label = f"{length_units:g} {unit}"
    ax.text(
        start + length_px / 2,
        y - 0.6 * margin_y,
        label,
        color=color,
        ha="center",
        va="bottom",
        fontsize=9,
    )


def use_course_style(dpi: int = 90) -> None:
    """Set the course's matplotlib defaults (small, legible figures; grey images).

    Example
    -------
    >>> use_course_style()
    """
    plt.rcParams.update(
        {
            "figure.dpi": dpi,
            "savefig.dpi": dpi,
            "image.cmap": "gray",
            # displayed fonts of 9 pt or more (spec §5b.8); keep figures <= ~10 in wide
            # so the notebook does not scale them down below that
            "axes.titlesize": 10,
            "axes.labelsize": 9.5,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "figure.autolayout": False,
        }
    )


# --------------------------------------------------------------------------- volumes (lesson 02)
_PLANES = ("axial", "coronal", "sagittal")


def _check_volume(volume, spacing_mm):
    array = np.asarray(volume)
    if array.ndim != 3:
        raise ValueError(f"volume must be 3-D (slice, row, column), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"volume is empty (shape {array.shape})")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).any():
        raise ValueError(
            f"volume (shape {array.shape}) has no finite value (all NaN or infinite); "
            "expected a volume with at least one finite value to show"
        )
    spacing = tuple(float(s) for s in np.ravel(spacing_mm))
    if len(spacing) != 3 or not all(np.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(
            f"spacing_mm must be 3 positive numbers (slice, row, column) in mm, got {spacing_mm!r}"
        )
    return array, spacing


def _plane_image(volume, spacing_mm, plane: str, index: int, physical: bool = True):
    """A 2-D section of ``volume`` and how to draw it: (image, extent, origin, xlabel, ylabel).

    Axial sections keep rows down the screen; coronal and sagittal sections put
    slice index 0 at the bottom (``origin="lower"``), so for a series sorted
    along the slice normal of axial images the head is at the top.
    """
    n_slices, n_rows, n_cols = volume.shape
    dz, dy, dx = spacing_mm
    if plane not in _PLANES:
        raise ValueError(f"plane must be one of {_PLANES}, got {plane!r}")
    limit = {"axial": n_slices, "coronal": n_rows, "sagittal": n_cols}[plane]
    if not 0 <= int(index) < limit:
        raise ValueError(f"{plane} index {index} is outside 0..{limit - 1}")
    index = int(index)

    def label(letter, name):  # an index is not a length: "mm along j", or "column index j"
        return f"mm along {letter}" if physical else f"{name} index {letter} (voxel index)"

    # Axes are named after the array index that runs along them: j (column index) across
    # an axial image, i (row index) down it, k (slice index) through the stack.
    if plane == "axial":
        image = volume[index]
        extent = (0, n_cols * dx, n_rows * dy, 0) if physical else None
        return image, extent, "upper", label("j", "column"), label("i", "row")
    if plane == "coronal":
        image = volume[:, index, :]
        extent = (0, n_cols * dx, 0, n_slices * dz) if physical else None
        return image, extent, "lower", label("j", "column"), label("k", "slice")
    image = volume[:, :, index]
    extent = (0, n_rows * dy, 0, n_slices * dz) if physical else None
    return image, extent, "lower", label("i", "row"), label("k", "slice")


_LPS_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))


def orientation_letters(direction_lps) -> str:
    """Anatomical letters of a direction given in DICOM patient coordinates (LPS+).

    DICOM's patient axes point to the patient's Left (+x), Posterior (+y) and
    Superior (+z). The letters of the components larger than 0.3 of the
    direction's length are listed, largest first, so an oblique direction
    reads e.g. ``"LA"``.

    Parameters
    ----------
    direction_lps : sequence of 3 float
        A non-zero vector in LPS+ (e.g. a column of a DICOM affine).

    Returns
    -------
    str
        One to three of R/L, A/P, I/S.

    Raises
    ------
    ValueError
        If the vector does not have 3 finite components or is zero.

    Example
    -------
    >>> orientation_letters([0, 0, 2.5]), orientation_letters([-1, 0, 0]), orientation_letters([0.7, -0.7, 0])
    ('S', 'R', 'LA')
    """
    vector = np.asarray(direction_lps, dtype=float).ravel()
    if vector.size != 3 or not np.all(np.isfinite(vector)):
        raise ValueError(f"direction_lps must be 3 finite numbers, got {direction_lps!r}")
    length = float(np.linalg.norm(vector))
    if length == 0:
        raise ValueError("direction_lps is the zero vector; expected a direction")
    unit = vector / length
    order = np.argsort(-np.abs(unit))
    letters = [_LPS_LETTERS[a][int(unit[a] > 0)] for a in order if abs(unit[a]) > 0.3]
    return "".join(letters)


def add_orientation_markers(
    ax, right_lps, up_lps, *, color: str = "tab:orange", fontsize: float = 10, box: bool = False
):
    """Write the anatomical direction (R/L, A/P, S/I) at the four edges of an image axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    right_lps, up_lps : sequence of 3 float
        Patient direction (LPS+) that points to the right of the screen and up the
        screen in this axes (e.g. for an axial DICOM image drawn with row 0 at the
        top: the row direction and minus the column direction).
    color, fontsize : text style.
    box : bool, default False
        Draw each letter on a small dark box, so it stays readable over bright
        anatomy (bone, a white spine).

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.imshow(np.zeros((4, 4)))
    >>> _ = add_orientation_markers(ax, [1, 0, 0], [0, -1, 0])   # axial: L on the right, A at the top
    """
    right = np.asarray(right_lps, dtype=float)
    up = np.asarray(up_lps, dtype=float)
    style = {"color": color, "fontsize": fontsize, "fontweight": "bold", "transform": ax.transAxes}
    if box:
        style["bbox"] = {
            "boxstyle": "round,pad=0.15",
            "facecolor": "black",
            "alpha": 0.6,
            "linewidth": 0,
        }
    ax.text(0.98, 0.5, orientation_letters(right), ha="right", va="center", **style)
    ax.text(0.02, 0.5, orientation_letters(-right), ha="left", va="center", **style)
    ax.text(0.5, 0.98, orientation_letters(up), ha="center", va="top", **style)
    ax.text(0.5, 0.02, orientation_letters(-up), ha="center", va="bottom", **style)
    return ax


def _screen_directions(affine, plane: str):
    """(right, up) patient directions of a plane drawn by :func:`_plane_image`."""
    a = np.asarray(affine, dtype=float)
    slice_step, row_step, column_step = a[:3, 0], a[:3, 1], a[:3, 2]
    if plane == "axial":  # origin upper: row index grows down the screen
        return column_step, -row_step
    if plane == "coronal":
        return column_step, slice_step
    return row_step, slice_step


def orthogonal_views(
    volume,
    spacing_mm,
    *,
    index=None,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    cbar_label: str | None = None,
    title: str | None = None,
    physical: bool = True,
    crosshair: bool = True,
    height: float = 3.2,
    affine=None,
    marker_box: bool = False,
):
    """Axial, coronal and sagittal sections of a volume drawn with the right proportions.

    With ``physical=True`` each section is drawn on axes in millimetres
    (``extent`` from the voxel spacing), so anisotropic voxels keep their true
    shape. ``physical=False`` draws every voxel as a square in index units:
    the common mistake that squashes coronal and sagittal views of a series
    with thick slices.

    Parameters
    ----------
    volume : array_like, shape (slices, rows, columns)
    spacing_mm : sequence of 3 float
        (slice, row, column) spacing in mm.
    index : tuple of 3 int, optional
        Voxel (slice, row, column) where the three planes cross; default the centre.
    cmap, vmin, vmax : display settings shared by the three panels.
    cbar_label : str, optional
        Unit of the intensities (e.g. ``"HU"``); adds one colour bar.
    title : str, optional
        Figure title.
    physical : bool
        Axes in mm with the true aspect (default) or square voxels in index units.
    crosshair : bool
        Mark where the other two planes cut each section.
    height : float
        Figure height in inches.
    affine : array_like, shape (4, 4), optional
        Voxel (slice, row, column) -> patient LPS mm. When given, each panel gets
        orientation markers (R/L, A/P, S/I) at its edges, so the viewer sees
        which side is the patient's left, and is titled by the anatomical plane
        it really shows (an axial series: axial, coronal, sagittal; a sagittal
        series: sagittal, coronal, axial).
    marker_box : bool, default False
        Draw the orientation letters on dark boxes (see :func:`add_orientation_markers`).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Not a 3-D volume, empty, bad spacing, ``index`` outside the volume, or an
        affine that is not 4 x 4.

    Example
    -------
    >>> fig = orthogonal_views(np.random.rand(10, 32, 32), (2.5, 0.7, 0.7), cbar_label="a.u.")
    """
    array, spacing = _check_volume(volume, spacing_mm)
    if index is None:
        index = tuple(n // 2 for n in array.shape)
    index = tuple(int(i) for i in index)
    if len(index) != 3:
        raise ValueError(f"index must be (slice, row, column), got {index}")
    if affine is not None:
        affine = np.asarray(affine, dtype=float)
        if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
            raise ValueError(f"affine must be a finite 4 x 4 matrix, got shape {affine.shape}")
    n_slices, n_rows, n_cols = array.shape
    dz, dy, dx = spacing if physical else (1.0, 1.0, 1.0)
    widths = [n_cols * dx, n_cols * dx, n_rows * dy]
    heights = [n_rows * dy, n_slices * dz, n_slices * dz]
    # Figure width so that the tallest panel fills ``height``.
    scale = height / max(heights)
    fig_width = max(6.0, 1.25 * scale * sum(widths) + (1.2 if cbar_label else 0.4))
    fig, axes = plt.subplots(
        1, 3, figsize=(fig_width, height + 0.9), width_ratios=widths, layout="constrained"
    )
    handle = None
    positions = {"axial": index[0], "coronal": index[1], "sagittal": index[2]}
    for ax, plane in zip(axes, _PLANES, strict=True):
        image, extent, origin, xlabel, ylabel = _plane_image(
            array, spacing, plane, positions[plane], physical
        )
        handle = ax.imshow(
            image,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            extent=extent,
            origin=origin,
            aspect="equal",
            interpolation="nearest" if max(image.shape) < 128 else "antialiased",
        )
        shown = plane
        if affine is not None:
            right, up = _screen_directions(affine, plane)
            add_orientation_markers(ax, right, up, box=marker_box)
            # Name the panel after the anatomical plane it really shows (a sagittal series'
            # images are sagittal, whatever their array axis is called).
            shown = ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(np.cross(right, up))))]
        ax.set_title(f"{shown} (index {positions[plane]})")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if crosshair:
            step_z, step_y, step_x = (dz, dy, dx) if physical else (1.0, 1.0, 1.0)
            half = 0.5 if physical else 0.0
            cz, cy, cx = (
                (index[0] + half) * step_z,
                (index[1] + half) * step_y,
                (index[2] + half) * step_x,
            )
            style = {"color": "tab:orange", "linewidth": 0.8, "linestyle": "--", "alpha": 0.8}
            if plane == "axial":
                ax.axhline(cy, **style)
                ax.axvline(cx, **style)
            elif plane == "coronal":
                ax.axhline(cz, **style)
                ax.axvline(cx, **style)
            else:
                ax.axhline(cz, **style)
                ax.axvline(cy, **style)
    if cbar_label is not None:
        colorbar = fig.colorbar(handle, ax=list(axes), fraction=0.03, pad=0.02)
        colorbar.set_label(cbar_label)
    if title:
        fig.suptitle(title)
    return fig


def slice_browser(
    volume,
    spacing_mm,
    *,
    presets: dict | None = None,
    cmap: str = "gray",
    cbar_label: str | None = None,
    title: str = "",
    height: float = 4.0,
    affine=None,
    marker_box: bool = False,
):
    """An ipywidgets slice browser: plane, slice index and display-window preset.

    Sections are drawn in millimetres with the true aspect ratio (as in
    :func:`orthogonal_views`). Run it in a live notebook; in papermill runs and
    printed handouts show a static figure as well.

    Parameters
    ----------
    volume : array_like, shape (slices, rows, columns)
    spacing_mm : sequence of 3 float
        (slice, row, column) spacing in mm.
    presets : dict of str -> (vmin, vmax), optional
        Display windows, e.g. ``{"abdomen": (-160, 240), "bone": (-500, 1300)}``.
        Default: one preset spanning the 1st to 99th percentile.
    cmap : str
    cbar_label : str, optional
        Intensity unit for the colour bar (e.g. ``"HU"``).
    title : str
        Prefix of each panel title.
    height : float
        Figure height in inches.
    affine : array_like, shape (4, 4), optional
        Voxel (slice, row, column) -> patient LPS mm. When given, each choice of the
        plane menu is named after the anatomical plane it really shows (for a
        sagittal series, ``volume[k]`` is "sagittal", not "axial") and every image
        gets orientation markers (R/L, A/P, S/I) at its edges, as in
        :func:`orthogonal_views`. Without it the menu names the array sections as
        for an axial series and no markers are drawn.
    marker_box : bool, default False
        Draw the orientation letters on dark boxes (see :func:`add_orientation_markers`).

    Returns
    -------
    ipywidgets.VBox
        The widget (display it by making it the last expression of a cell).

    Raises
    ------
    ValueError
        Not a 3-D volume, empty, bad spacing, a preset that is not (low, high) with
        low < high, or an affine that is not a finite 4 x 4 matrix.

    Example
    -------
    >>> browser = slice_browser(np.random.rand(8, 16, 16), (2.5, 1.0, 1.0))   # doctest: +SKIP
    """
    import ipywidgets as widgets

    array, spacing = _check_volume(volume, spacing_mm)
    if presets is None:
        finite = array[np.isfinite(array)]
        low, high = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
        presets = {
            "1st-99th percentile": (float(low), float(high) if high > low else float(low) + 1.0)
        }
    for name, window in presets.items():
        if len(window) != 2 or not window[0] < window[1]:
            raise ValueError(
                f"preset {name!r} must be (vmin, vmax) with vmin < vmax, got {window!r}"
            )
    if affine is not None:
        affine = np.asarray(affine, dtype=float)
        if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
            raise ValueError(f"affine must be a finite 4 x 4 matrix, got shape {affine.shape}")
    sizes = {"axial": array.shape[0], "coronal": array.shape[1], "sagittal": array.shape[2]}
    # The menu's labels name the plane each array section shows; its values stay the
    # array-section keys of _plane_image ("axial" = volume[k], ...).
    labels = {key: key for key in _PLANES}
    if affine is not None:
        sections = ("volume[k]", "volume[:, i, :]", "volume[:, :, j]")
        for key, section in zip(_PLANES, sections, strict=True):
            right, up = _screen_directions(affine, key)
            shown = ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(np.cross(right, up))))]
            labels[key] = f"{shown} ({section})"
    plane = widgets.Dropdown(
        options=[(labels[key], key) for key in _PLANES], value="axial", description="plane"
    )
    preset = widgets.Dropdown(options=list(presets), description="window")
    index = widgets.IntSlider(
        value=sizes["axial"] // 2,
        min=0,
        max=sizes["axial"] - 1,
        description="index",
        continuous_update=False,
    )
    picture = widgets.Image(format="png")

    def redraw(*_):
        # Rendered off-screen into PNG bytes: no Output widget, no pyplot state, works in any front end.
        from io import BytesIO

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        image, extent, origin, xlabel, ylabel = _plane_image(
            array, spacing, plane.value, index.value
        )
        vmin, vmax = presets[preset.value]
        fig = Figure(
            figsize=(height * 1.3, height), dpi=plt.rcParams["figure.dpi"], layout="constrained"
        )
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        handle = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, extent=extent, origin=origin)
        ax.set_title(
            f"{title} {labels[plane.value]} {index.value} / {sizes[plane.value] - 1}".strip()
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if affine is not None:
            add_orientation_markers(ax, *_screen_directions(affine, plane.value), box=marker_box)
        if cbar_label is not None:
            fig.colorbar(handle, ax=ax, fraction=0.046, pad=0.04).set_label(cbar_label)
        buffer = BytesIO()
        fig.savefig(buffer, format="png")
        picture.value = buffer.getvalue()

    def change_plane(change):
        index.unobserve(redraw, names="value")
        index.max = sizes[change["new"]] - 1
        index.value = sizes[change["new"]] // 2
        index.observe(redraw, names="value")
        redraw()

    plane.observe(change_plane, names="value")
    index.observe(redraw, names="value")
    preset.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([plane, preset]), index, picture])


def interactive_figure(draw, **controls):
    """Controls plus a figure redrawn into an image whenever a control changes.

    A replacement for ``ipywidgets.interact`` that renders each figure to PNG
    bytes shown by an ``Image`` widget. ``interact`` relies on the ``Output``
    widget and ``clear_output``, which can dead-lock headless executions
    (papermill, nbconvert, nbval) at random; this does not.

    Parameters
    ----------
    draw : callable
        Called with the controls' current values as keyword arguments. It
        returns a matplotlib figure (do not call ``plt.show()``), or a string
        to show as a message instead of a figure.
    **controls
        ipywidgets controls (sliders, dropdowns...), or a list/tuple of choices
        (turned into a dropdown), keyed by ``draw``'s parameter names.

    Returns
    -------
    ipywidgets.VBox
        The controls above the picture; display it as a cell's last expression.

    Raises
    ------
    ValueError
        No controls, or ``draw`` is not callable.

    Example
    -------
    >>> import ipywidgets as widgets
    >>> def draw(gamma):
    ...     fig, ax = plt.subplots()
    ...     ax.imshow(np.linspace(0, 1, 64).reshape(8, 8) ** gamma)
    ...     return fig
    >>> box = interactive_figure(draw, gamma=widgets.FloatSlider(1.0, min=0.2, max=3.0))
    """
    import io

    import ipywidgets as widgets

    if not callable(draw):
        raise ValueError(f"draw must be a function returning a figure, got {type(draw).__name__}")
    if not controls:
        raise ValueError(
            "interactive_figure needs at least one control (e.g. level=widgets.IntSlider(...))"
        )
    widget_controls = {}
    for name, control in controls.items():
        if isinstance(control, (list, tuple)):
            control = widgets.Dropdown(options=list(control), description=name)
        elif not isinstance(control, widgets.ValueWidget):
            raise ValueError(
                f"control {name!r} must be an ipywidgets control or a list of choices, got {control!r}"
            )
        widget_controls[name] = control
    picture = widgets.Image(format="png")
    message = widgets.HTML()

    def redraw(*_):
        was_interactive = plt.isinteractive()
        plt.ioff()
        try:
            result = draw(**{name: control.value for name, control in widget_controls.items()})
        finally:
            if was_interactive:
                plt.ion()
        if isinstance(result, str):
            message.value = f"<pre>{result}</pre>"
            return
        figure = result if result is not None else plt.gcf()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(figure)
        message.value = ""
        png = buffer.getvalue()
        width_px = int.from_bytes(png[16:20], "big")  # PNG header: IHDR width
        picture.layout.width = f"{width_px}px"  # natural size: not stretched to the output's width
        picture.value = png

    for control in widget_controls.values():
        control.observe(redraw, names="value")
    redraw()
    if len(widget_controls) <= 3:
        control_box = widgets.HBox(list(widget_controls.values()))
    else:  # many controls: two columns instead of one very wide row
        layout = widgets.Layout(grid_template_columns="repeat(2, max-content)")
        control_box = widgets.GridBox(list(widget_controls.values()), layout=layout)
    return widgets.VBox([control_box, message, picture])
