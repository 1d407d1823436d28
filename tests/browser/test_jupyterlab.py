"""Each lesson, as a student meets it: opened in JupyterLab in headless Chromium and run there.

For every notebook in ``notebooks/`` the test opens it in a JupyterLab served from a
throw-away copy of the notebooks, clears the stored outputs and runs all cells through the
menus (Edit > Clear Outputs of All Cells, Run > Run All Cells), waits until the kernel is
idle and every non-empty code cell shows a fresh execution count (1, 2, ... in order), then
checks what is on the page:

* no error output (traceback) in any cell, except cells tagged ``raises-exception``;
* every figure rendered: each ``image/png`` output is an ``<img>`` that decoded
  (``naturalWidth > 0``), and there are at least as many as in the committed notebook;
* the lesson's widget is live: ipywidgets controls in the DOM, no "Loading widget..." text,
  no bare repr such as ``interactive(children=...)``; moving one of its controls (a slider
  handle gets three ArrowRight presses, a dropdown is set to another option; the next
  control is tried when a move leaves the picture as it was) changes what the widget's
  output area displays.

A screenshot of each lesson, scrolled to its widget after the move, goes to
``build/screens/<notebook>.png``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest

from course_utils.build.execution import discover_notebooks

from ..conftest import record_notebook_run
from .conftest import committed_image_count

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = discover_notebooks(ROOT / "notebooks")

RUN_TIMEOUT_S = 300  # one lesson, all cells, on a loaded 2-core machine
WIDGET_TIMEOUT_S = 60  # one widget update
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
BARE_WIDGET_REPR = re.compile(
    r"\b(interactive|IntSlider|FloatSlider|FloatRangeSlider|IntRangeSlider|Dropdown|"
    r"SelectionSlider|Checkbox|ToggleButtons|VBox|HBox)\((children|value|options|description)="
)

# The notebook as the application holds it: kernel state, and per cell what the model has
# (execution count, output types) next to what the page shows (the prompt).
STATE_JS = """
() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext || !panel.content.widgets) return null;
  const session = panel.sessionContext.session;
  const kernel = session && session.kernel;
  const cells = panel.content.widgets.map((cell, index) => {
    const model = cell.model;
    const source = model.sharedModel.getSource();
    const info = {
      index: index,
      type: model.type,
      blank: source.trim() === "",
      head: source.split("\\n")[0].slice(0, 80),
      tags: model.getMetadata("tags") || [],
    };
    if (model.type === "code") {
      const prompt = cell.node.querySelector(".jp-InputArea-prompt");
      info.prompt = prompt ? prompt.textContent.trim() : null;
      info.count = model.executionCount;
      info.outputs = model.outputs.toJSON().map((output) => ({
        type: output.output_type,
        mimes: Object.keys(output.data || {}),
        stream: output.name || null,
        text: output.output_type === "error"
          ? `${output.ename}: ${output.evalue}`
          : output.output_type === "stream" ? String(output.text).slice(0, 400) : "",
      }));
    }
    return info;
  });
  return {
    kernel: kernel ? kernel.status : null,
    kernelName: panel.sessionContext.kernelDisplayName,
    busy: panel.sessionContext.isBusy || false,
    indicator: (document.querySelector(".jp-Notebook-ExecutionIndicator") || {dataset: {}})
      .dataset.status || null,
    cells: cells,
  };
}
"""

# Rendered images in the output areas of the current notebook, cell by cell.
IMAGES_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map((cell, index) => {
    const area = cell.node.querySelector(".jp-Cell-outputWrapper");
    const images = area ? Array.from(area.querySelectorAll("img")) : [];
    return {
      index: index,
      images: images.map((img) => ({
        complete: img.complete,
        width: img.naturalWidth,
        height: img.naturalHeight,
        inWidget: !!img.closest(".jupyter-widgets"),
      })),
    };
  });
}
"""


def committed_widget_cells(path: Path) -> list[int]:
    """Indices of the cells whose committed outputs include a widget."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        index
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
        and any(WIDGET_MIME in output.get("data", {}) for output in cell.get("outputs", []))
    ]


def code_cells(state: dict) -> list[dict]:
    return [cell for cell in state["cells"] if cell["type"] == "code"]


def error_outputs(state: dict) -> list[str]:
    """Tracebacks in cells that are not expected to raise."""
    found = []
    for cell in code_cells(state):
        if "raises-exception" in cell["tags"]:
            continue
        for output in cell["outputs"]:
            if output["type"] == "error":
                found.append(f"cell {cell['index']} ({cell['head']!r}): {output['text']}")
            elif (
                output["type"] == "stream" and "Traceback (most recent call last)" in output["text"]
            ):
                found.append(f"cell {cell['index']} ({cell['head']!r}): {output['text'][:300]}")
    return found


def run_finished(state: dict | None) -> bool:
    """Kernel idle and every non-empty code cell numbered 1..N in order on the page."""
    if not state or state["kernel"] != "idle" or state["busy"]:
        return False
    expected = [cell for cell in code_cells(state) if not cell["blank"]]
    prompts = [cell["prompt"] for cell in expected]
    return prompts == [f"[{number}]:" for number in range(1, len(expected) + 1)]


def describe_progress(state: dict | None) -> str:
    if not state:
        return "no notebook panel found"
    pending = [
        f"cell {cell['index']} prompt {cell['prompt']!r} ({cell['head']!r})"
        for cell in code_cells(state)
        if not cell["blank"] and not re.fullmatch(r"\[\d+\]:", cell["prompt"] or "")
    ]
    return (
        f"kernel {state['kernel']!r} ({state['kernelName']}), indicator {state['indicator']!r}; "
        f"{len(pending)} cells not run: " + "; ".join(pending[:5])
    )


def wait_for_state(page, predicate, timeout_s: float, poll_s: float = 0.5):
    """Poll the notebook state until ``predicate(state)`` holds; returns the last state."""
    deadline = time.monotonic() + timeout_s
    state = page.evaluate(STATE_JS)
    while time.monotonic() < deadline:
        if predicate(state):
            return state
        if state and error_outputs(state):  # Run All stops at the first error: fail fast
            return state
        page.wait_for_timeout(int(poll_s * 1000))
        state = page.evaluate(STATE_JS)
    return state


def accept_kernel_dialog_if_any(page) -> None:
    """Safety net: a 'Select Kernel' dialog is answered with the notebook's own kernel."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and "Select Kernel" in dialog.first.inner_text():
        dialog.locator("button.jp-mod-accept").click()


def click_menu(page, menu: str, command: str) -> None:
    """Open a main-menu entry and click the item bound to a JupyterLab command."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]').first
    item.wait_for(state="visible", timeout=10_000)
    assert "lm-mod-disabled" not in (item.get_attribute("class") or ""), (
        f"menu item {menu} > {command} is disabled"
    )
    item.click()


def widget_output_html(page, cell_index: int) -> str:
    """What the lesson's interactive widget currently displays (its output area)."""
    return page.evaluate(
        """(index) => {
          const cell = window.jupyterapp.shell.currentWidget.content.widgets[index].node;
          const interact = cell.querySelector(".widget-interact");
          const scope = interact || cell.querySelector(".jp-Cell-outputWrapper");
          const outputs = scope.querySelectorAll(".widget-output, .jupyter-widgets-output-area");
          if (outputs.length) return Array.from(outputs).map((node) => node.innerHTML).join("\\n");
          return Array.from(scope.querySelectorAll("img, .widget-html-content, pre"))
            .map((node) => node.outerHTML).join("\\n");
        }""",
        cell_index,
    )


# Scroll the notebook (only its own scroll container, never the JupyterLab shell) so that a
# node sits at the top (offset 0) or in the middle (offset "center") of the visible area.
SCROLL_JS = """
([node, where]) => {
  const scroller = node.closest(".jp-WindowedPanel-outer") || node.closest(".jp-Notebook");
  for (let up = scroller.parentElement; up; up = up.parentElement) {
    up.scrollTop = 0;  // undo any scroll of the shell (e.g. by a scrollIntoView)
    up.scrollLeft = 0;
  }
  const box = node.getBoundingClientRect();
  const view = scroller.getBoundingClientRect();
  const target = where === "center" ? (view.height - box.height) / 2 : 8;
  scroller.scrollTop += box.top - view.top - Math.max(target, 0);
}
"""


def scroll_notebook_to(locator, where: str = "top") -> None:
    locator.evaluate(f"(node) => ({SCROLL_JS})([node, {json.dumps(where)}])")


def widget_controls(cell_locator) -> list:
    """The widget's controls a student would move: sliders first, then dropdowns, checkboxes."""
    scope = cell_locator.locator(".widget-interact")
    if not scope.count():
        scope = cell_locator.locator(".jp-Cell-outputWrapper")
    found = []
    for selector in (".noUi-handle, input[type=range]", "select", "input[type=checkbox]"):
        group = scope.locator(selector)
        found.extend(group.nth(i) for i in range(group.count()))
    return found


def move_control(page, control) -> str:
    """Change one control like a student would; returns what was done."""
    scroll_notebook_to(control, "center")
    tag = control.evaluate("(node) => node.tagName.toLowerCase()")
    if tag == "select":
        options = control.locator("option")
        values = [options.nth(i).get_attribute("value") for i in range(options.count())]
        current = control.input_value()
        others = [value for value in values if value != current]
        if not others:
            return f"dropdown with the single option {current!r} left as it is"
        control.select_option(others[-1])
        return f"dropdown set from {current!r} to {others[-1]!r}"
    if tag == "input" and control.get_attribute("type") == "checkbox":
        control.click()
        return "checkbox toggled"
    # a slider: focus its handle and press ArrowRight (ArrowLeft at the maximum), as with the
    # keyboard; drag it with the mouse if the keys do nothing
    before = control.get_attribute("aria-valuenow")
    key = (
        "ArrowLeft" if before and before == control.get_attribute("aria-valuemax") else "ArrowRight"
    )
    control.focus()
    for _ in range(3):
        control.press(key)
    after = control.get_attribute("aria-valuenow")
    if before != after:
        return f"slider moved with {key} from {before} to {after}"
    box = control.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    return f"slider dragged from {before} to {control.get_attribute('aria-valuenow')}"


def wait_for_new_output(page, cell_index: int, before: str, timeout_s: float) -> str:
    """Wait until the widget's output differs from ``before``, then until it settles
    (kernel idle, same content for a second: three slider steps can redraw three times)."""
    deadline = time.monotonic() + timeout_s
    after, settled_since = before, None
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        current = widget_output_html(page, cell_index)
        idle = page.evaluate(STATE_JS)["kernel"] == "idle"
        if current != after or not idle:
            after, settled_since = current, None
        elif after != before:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since >= 1.0:
                break
    return after


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_lesson_runs_in_jupyterlab(notebook, lab_server, lab_context, screen_dir):
    name = notebook.name
    timings: dict[str, float] = {}
    started = time.monotonic()

    # Start the notebook's kernel (python3, from its metadata) before opening it, so the
    # page attaches to that session instead of asking which kernel to use.
    kernelspec = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["kernelspec"]
    session = lab_server.api(
        "POST",
        "/api/sessions",
        {"path": name, "name": name, "type": "notebook", "kernel": {"name": kernelspec["name"]}},
    )
    page = lab_context.new_page()
    page_errors: list[str] = []
    status = "failed"
    try:
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        workspace = urllib.parse.quote(notebook.stem)
        page.goto(lab_server.url(f"/lab/workspaces/{workspace}/tree/{name}?reset"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)

        def kernel_ready(state):
            accept_kernel_dialog_if_any(page)
            return bool(state) and state["kernel"] == "idle" and not state["busy"]

        state = wait_for_state(page, kernel_ready, timeout_s=90)
        assert state and state["kernel"] == "idle", (
            f"{name}: kernel never became idle after opening: {describe_progress(state)}"
        )
        timings["open"] = time.monotonic() - started

        # Clear the committed outputs so that every number and figure below is fresh.
        click_menu(page, "Edit", "editmenu:clear-all")
        state = wait_for_state(
            page,
            lambda s: all(not c["outputs"] and c["prompt"] == "[ ]:" for c in code_cells(s)),
            timeout_s=30,
        )
        leftover = [c["index"] for c in code_cells(state) if c["outputs"] or c["prompt"] != "[ ]:"]
        assert not leftover, f"{name}: outputs not cleared in cells {leftover}"

        # Run all cells through the menu and wait for the kernel to finish.
        run_started = time.monotonic()
        click_menu(page, "Run", "runmenu:run-all")
        state = wait_for_state(page, run_finished, timeout_s=RUN_TIMEOUT_S)
        timings["run"] = time.monotonic() - run_started
        errors = error_outputs(state)
        assert not errors, f"{name}: error output after Run All:\n" + "\n".join(errors)
        assert run_finished(state), (
            f"{name}: Run All did not finish within {RUN_TIMEOUT_S} s: {describe_progress(state)}"
        )
        assert not page.get_by_text("Loading widget...").count(), (
            f"{name}: a widget is stuck at 'Loading widget...'"
        )

        # Figures: every image/png output rendered as a decoded <img>.
        images = {row["index"]: row["images"] for row in page.evaluate(IMAGES_JS)}
        png_outputs = {
            c["index"]: sum("image/png" in o["mimes"] for o in c["outputs"])
            for c in code_cells(state)
        }
        for index, expected in png_outputs.items():
            static = [img for img in images.get(index, []) if not img["inWidget"]]
            assert len(static) >= expected, (
                f"{name}: cell {index} has {expected} image/png outputs but "
                f"{len(static)} <img> on the page"
            )
        broken = [
            (index, img)
            for index, row in images.items()
            for img in row
            if not img["complete"] or img["width"] == 0
        ]
        assert not broken, f"{name}: images that did not render: {broken}"
        rendered = sum(len(row) for row in images.values())
        committed = committed_image_count(notebook)
        assert rendered >= committed, (
            f"{name}: {rendered} figures on the page, fewer than the {committed} "
            "stored in the committed notebook"
        )

        # The lesson's widget: live, and it reacts to its controls.
        widget_cells = [
            c["index"]
            for c in code_cells(state)
            if any(WIDGET_MIME in o["mimes"] for o in c["outputs"])
        ]
        if not widget_cells:
            committed = committed_widget_cells(notebook)
            pytest.fail(
                f"{name}: no widget displayed after Run All"
                + (
                    f" (the committed notebook has one in cells {committed})"
                    if committed
                    else "; CONTRIBUTING.md asks for one per lesson (ipywidgets, in a cell tagged "
                    "nbval-ignore-output)"
                )
            )
        interact_cells = [
            index
            for index in widget_cells
            if page.locator(".jp-Cell").nth(index).locator(".widget-interact").count()
        ]
        target = (interact_cells or widget_cells)[-1]
        cell = page.locator(".jp-Cell").nth(target)
        for index in widget_cells:
            shown = page.locator(".jp-Cell").nth(index).locator(".jp-Cell-outputWrapper")
            assert shown.locator(".jupyter-widgets, .widget-box, .widget-interact").count(), (
                f"{name}: cell {index} has a widget output but no ipywidgets element on the page"
            )
            text = shown.inner_text()
            assert "Loading widget" not in text and "Error displaying widget" not in text, (
                f"{name}: cell {index} shows {text[:200]!r} instead of a live widget"
            )
            assert not BARE_WIDGET_REPR.search(text), (
                f"{name}: cell {index} shows a bare widget repr: {text[:200]!r}"
            )
        scroll_notebook_to(cell.locator(".jp-Cell-outputWrapper"), "top")
        before = widget_output_html(page, target)
        assert before.strip(), f"{name}: the widget in cell {target} displays nothing"
        controls = widget_controls(cell)
        assert controls, f"{name}: the widget in cell {target} has no slider, dropdown or checkbox"
        tried = []
        for control in controls[:3]:  # a move may leave the output as it was: try another
            action = move_control(page, control)
            tried.append(action)
            after = wait_for_new_output(page, target, before, WIDGET_TIMEOUT_S / 2)
            if after != before:
                break
        assert after != before, f"{name}: the widget's output did not change after: " + "; ".join(
            tried
        )
        widget_text = cell.locator(".jp-Cell-outputWrapper").inner_text()
        assert "Traceback" not in widget_text, (
            f"{name}: the widget printed a traceback after '{action}': {widget_text[-600:]}"
        )
        widget_images = cell.locator(".jp-Cell-outputWrapper img")
        for i in range(widget_images.count()):
            width = widget_images.nth(i).evaluate("(img) => img.complete ? img.naturalWidth : 0")
            assert width > 0, f"{name}: widget figure {i} did not render after '{action}'"
        assert not page_errors, f"{name}: JavaScript errors on the page: {page_errors}"

        # Screenshot: the notebook scrolled so that the widget's output starts at the top.
        scroll_notebook_to(cell.locator(".jp-Cell-outputWrapper"), "top")
        page.wait_for_timeout(300)
        page.screenshot(path=str(screen_dir / f"{notebook.stem}.png"))
        timings["total"] = time.monotonic() - started
        print(
            f"{name}: opened in {timings['open']:.1f} s, Run All {timings['run']:.1f} s, "
            f"total {timings['total']:.1f} s; {rendered} figures; widget cell {target}: {'; '.join(tried)}"
        )
        status = "passed"
    finally:
        page.close()
        record_notebook_run(
            "jupyterlab",
            SimpleNamespace(
                name=notebook.stem,
                status=status,
                seconds=time.monotonic() - started,
                peak_mb=lab_server.kernel_peak_mb(session["kernel"]["id"]),
            ),
        )
        lab_server.api("DELETE", f"/api/sessions/{session['id']}")
