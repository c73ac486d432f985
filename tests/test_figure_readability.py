"""Every figure the report draws reads at a glance: each legend entry points at a visible curve, no two curves share
colour and marker or hide one another, every x axis with data has labelled ticks, no legend covers data points and no
y label runs into a title. Checked on the matplotlib figures themselves (recorded as they are saved), on a small
report built here and, in a slow test, on every figure ``mirage demo --quick`` produces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from conftest import sample_line, write_run
from mirage_metrics.report import build_report

NO_MARKER = (None, "None", "none", "", " ")


@pytest.fixture
def saved_figures(monkeypatch) -> list[Figure]:
    """Every matplotlib figure saved while the test runs, drawn on an Agg canvas so that extents can be measured."""
    saved = []
    original = Figure.savefig

    def recording(figure, *args, **kwargs):
        original(figure, *args, **kwargs)
        FigureCanvasAgg(figure).draw()
        saved.append(figure)

    monkeypatch.setattr(Figure, "savefig", recording)
    return saved


def _name(figure: Figure) -> str:
    return figure._suptitle.get_text() if figure._suptitle is not None else "a figure without title"


def _caplines(axes) -> set[int]:
    return {
        id(line) for container in axes.containers if isinstance(container, ErrorbarContainer) for line in container[1]
    }


def _label(axes, line: Line2D) -> str:
    """The line's legend label, or that of the error-bar container it belongs to."""
    for container in axes.containers:
        if isinstance(container, ErrorbarContainer) and container.lines[0] is line:
            return container.get_label()
    return line.get_label()


def _curves(axes) -> list[Line2D]:
    """The lines that stand for data: with markers or a legend label (not error-bar caps or unlabelled guides)."""
    caps = _caplines(axes)
    return [
        line
        for line in axes.get_lines()
        if id(line) not in caps
        and line.get_visible()
        and (line.get_marker() not in NO_MARKER or not _label(axes, line).startswith("_"))
    ]


def _shown(artist) -> bool:
    alpha = artist.get_alpha()
    return artist.get_visible() and (alpha is None or alpha > 0)


def _display_points(axes, artist) -> np.ndarray:
    """The artist's data points inside the axes, in display coordinates."""
    if isinstance(artist, Line2D):
        points = np.asarray(artist.get_xydata(), float)
        transform = artist.get_transform()
    else:
        points = np.asarray(artist.get_offsets(), float)
        transform = artist.get_offset_transform()
    if not len(points):
        return np.empty((0, 2))
    points = points[np.isfinite(points).all(axis=1)]
    if axes.get_xscale() == "log":
        points = points[points[:, 0] > 0]
    if axes.get_yscale() == "log":
        points = points[points[:, 1] > 0]
    display = transform.transform(points) if len(points) else np.empty((0, 2))
    box = axes.bbox
    inside = (
        (display[:, 0] >= box.x0 - 1)
        & (display[:, 0] <= box.x1 + 1)
        & (display[:, 1] >= box.y0 - 1)
        & (display[:, 1] <= box.y1 + 1)
    )
    return display[inside]


def _artists_named(axes, label: str) -> list:
    found = [line for line in axes.get_lines() if line.get_label() == label]
    found += [c for c in axes.collections if c.get_label() == label]
    for container in axes.containers:
        if container.get_label() == label and isinstance(container, ErrorbarContainer):
            found.append(container.lines[0] if container.lines[0] is not None else container)
    return found


def _marker_of(handle) -> str | None:
    if isinstance(handle, Line2D):
        return handle.get_marker()
    if isinstance(handle, ErrorbarContainer) and handle.lines[0] is not None:
        return handle.lines[0].get_marker()
    return None


def _legend_problems(figure: Figure, legend, axes_list) -> list[str]:
    problems = []
    for text, handle in zip(legend.texts, legend.legend_handles):
        label = text.get_text()
        artists = [artist for axes in axes_list for artist in _artists_named(axes, label)]
        if not artists:  # a proxy entry (e.g. "0 measured"): some artist of the same marker must be drawn
            marker = _marker_of(handle)
            artists = [
                artist
                for axes in axes_list
                for artist in [*axes.get_lines(), *axes.collections]
                if marker is not None
                and (
                    (isinstance(artist, Line2D) and artist.get_marker() == marker)
                    or (isinstance(artist, PathCollection) and marker in NO_MARKER + ("v",))
                )
            ]
        visible = [
            artist
            for axes in axes_list
            for artist in artists
            if artist in [*axes.get_lines(), *axes.collections]
            and _shown(artist)
            and len(_display_points(axes, artist))
        ]
        if not visible:
            problems.append(f"{_name(figure)}: legend entry {label!r} points at nothing visible")
    return problems


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _tick_labels_in_view(axes) -> list:
    """The x tick labels (Text) drawn inside the view."""
    low, high = sorted(axes.get_xlim())
    shown = []
    for locs, ticks in (
        (axes.xaxis.get_majorticklocs(), axes.xaxis.get_major_ticks()),
        (axes.xaxis.get_minorticklocs(), axes.xaxis.get_minor_ticks()),
    ):
        for loc, tick in zip(locs, ticks):
            text = tick.label1.get_text().strip()
            if tick.label1.get_visible() and text and low * (1 - 1e-9) <= loc <= high * (1 + 1e-9):
                shown.append(tick.label1)
    return shown


def _hidden_markers(axes, where: str) -> list[str]:
    """Scatter markers (e.g. measured zeros) of one collection that all lie within 2 pixels of another's."""
    problems, drawn = [], []
    for collection in axes.collections:
        if isinstance(collection, PathCollection) and _shown(collection):
            points = _display_points(axes, collection)
            for other, other_points in drawn:
                if len(points) and len(other_points):
                    gaps = np.abs(points[:, None, :] - other_points[None, :, :]).max(axis=2).min(axis=1)
                    if (gaps < 2).all():
                        problems.append(
                            f"{where}: the markers of {collection.get_label()!r} lie under {other.get_label()!r}"
                        )
            drawn.append((collection, points))
    return problems


def readability_problems(figure: Figure) -> list[str]:
    """What reads badly in ``figure`` (drawn): one line per problem."""
    name, problems = _name(figure), []
    renderer = figure.canvas.get_renderer()
    panels = [axes for axes in figure.axes if axes.get_visible() and axes.has_data()]
    for axes in panels:
        where = f"{name} [{axes.get_title() or axes.get_ylabel()}]"
        curves = _curves(axes)
        styles, data = {}, {}
        for line in curves:
            label = _label(axes, line)
            key = (to_hex(line.get_color()), str(line.get_marker()))
            if key in styles:
                problems.append(f"{where}: {label!r} and {styles[key]!r} share colour and marker {key}")
            styles.setdefault(key, label)
            xy = np.asarray(line.get_xydata(), float)
            signature = xy.round(12).tobytes() if len(xy) else None
            if signature is not None and signature in data:
                problems.append(f"{where}: {label!r} lies exactly on {data[signature]!r}")
            if signature is not None:
                data.setdefault(signature, label)
        problems += _hidden_markers(axes, where)
        if axes.get_legend() is not None:
            legend = axes.get_legend()
            problems += _legend_problems(figure, legend, [axes])
            box = legend.get_window_extent(renderer)

            def name_of(artist):
                return _label(axes, artist) if isinstance(artist, Line2D) else artist.get_label()

            for artist in [*curves, *[c for c in axes.collections if isinstance(c, PathCollection)]]:
                if isinstance(artist, Line2D) and artist.get_marker() in NO_MARKER:
                    continue
                points = _display_points(axes, artist)
                covered = (
                    (points[:, 0] > box.x0)
                    & (points[:, 0] < box.x1)
                    & (points[:, 1] > box.y0)
                    & (points[:, 1] < box.y1)
                )
                if covered.any():
                    problems.append(f"{where}: the legend covers {covered.sum()} point(s) of {name_of(artist)!r}")
        siblings = axes.get_shared_x_axes().get_siblings(axes)
        if not any(len(_tick_labels_in_view(other)) >= 2 for other in siblings if other.get_visible()):
            problems.append(f"{where}: fewer than two labelled x ticks")
        ticks = [(label.get_window_extent(renderer), label.get_text()) for label in _tick_labels_in_view(axes)]
        ticks.sort(key=lambda tick: tick[0].x0)
        for (left, left_text), (right, right_text) in zip(ticks, ticks[1:]):
            if _boxes_overlap(left, right):
                problems.append(f"{where}: x tick labels {left_text!r} and {right_text!r} overlap")
        label = axes.yaxis.label
        if label.get_text().strip():
            extent = label.get_window_extent(renderer)
            titles = [figure._suptitle] if figure._suptitle is not None else []
            titles += [other.title for other in panels if other.title.get_text()]
            for title in titles:
                if _boxes_overlap(extent, title.get_window_extent(renderer)):
                    problems.append(f"{where}: the y label runs into the title {title.get_text()!r}")
    for legend in figure.legends:
        problems += _legend_problems(figure, legend, panels)
    figure_box = figure.bbox
    for legend in [axes.get_legend() for axes in panels if axes.get_legend() is not None] + list(figure.legends):
        box = legend.get_window_extent(renderer)
        if box.x1 > figure_box.x1 + 2 or box.y0 < figure_box.y0 - 2 or box.x0 < figure_box.x0 - 2:
            problems.append(f"{name}: a legend lies outside the figure")
    return problems


def _check_all(figures: list[Figure]) -> None:
    assert figures, "no figure was saved"
    problems = [problem for figure in figures for problem in readability_problems(figure)]
    assert not problems, "\n".join(problems)


# A report of a family of four models within one power of ten (20k to 70k parameters): the strict and flexible-extract
# filters score the same on the greedy task and differ on the temperature-1 one, greedy_exact_match equals
# greedy_match, and L = 5 exists only for the 5-digit answers.
SIZES = [20_000, 30_000, 45_000, 70_000]
PROBLEMS = 80


def _answers(rng) -> list[str]:
    return [str(int(value)) for value in rng.integers(1000, 19999, PROBLEMS)]


def _by_length(answers, right: list[int], prefix: str, sampled: bool) -> dict:
    """Per problem: exact match and token edit distance of the first L characters, L = 1..5 (NaN past the answer)."""
    values = {}
    for length in range(1, 6):
        match = [
            float(right[i] >= length) if len(answer) >= length else float("nan") for i, answer in enumerate(answers)
        ]
        values[f"{prefix}exact_match_L{length}"] = match
        if not sampled:
            values[f"{prefix}token_edit_distance_L{length}"] = [
                float(length - min(right[i], length)) if len(answer) >= length else float("nan")
                for i, answer in enumerate(answers)
            ]
    return values


def _write_fixture_runs(root) -> None:
    rng = np.random.default_rng(0)
    answers = _answers(rng)
    for index, size in enumerate(SIZES):
        p = 0.35 + 0.15 * index  # per-character probability of the right character
        samples = {}
        for task, sampled in (("mirage_arith_4da_gen", False), ("mirage_arith_4da_gen_t1", True)):
            right = [int(rng.geometric(1 - p)) - 1 for _ in answers]  # correct leading characters
            extracted = [count + (i % 7 == 0 and sampled) for i, count in enumerate(right)]  # t = 1: filters differ
            lines = []
            for filter_name, counts in (("none", right), ("flexible-extract", extracted)):
                values = {
                    "exact_match": [float(counts[i] >= len(answer)) for i, answer in enumerate(answers)],
                    **_by_length(answers, counts, "", sampled),
                }
                if not sampled:
                    values["token_edit_distance"] = [
                        float(len(answer) - min(counts[i], len(answer))) for i, answer in enumerate(answers)
                    ]
                for doc_id in range(PROBLEMS):
                    lines.append(sample_line(doc_id, {name: v[doc_id] for name, v in values.items()}, filter_name))
            samples[task] = lines
        greedy = [float(rng.random() < p**4) for _ in answers]
        ll_lines = []
        for doc_id, answer in enumerate(answers):
            metrics = {
                "per_char_prob": p + 0.05 * rng.standard_normal(),
                "target_log_prob": len(answer) * math.log(p),
                "greedy_match": greedy[doc_id],
                "greedy_exact_match": greedy[doc_id],
                "exact_answer_prob": p ** len(answer),
                **{f"prefix_prob_L{n}": p**n if len(answer) >= n else float("nan") for n in range(1, 6)},
            }
            ll_lines.append(sample_line(doc_id, metrics))
        samples["mirage_arith_4da_ll"] = ll_lines
        write_run(
            root / "toy" / f"m{index}",
            samples,
            model_name=f"org/m{index}",
            model_json={"family": "toy", "model": f"m{index}", "path": f"/ckpt/m{index}", "params": size},
        )


def test_every_figure_of_a_small_report_reads_at_a_glance(tmp_path, saved_figures):
    _write_fixture_runs(tmp_path / "runs")
    build_report([tmp_path / "runs" / "toy"], tmp_path / "report", holdout_largest=1, n_boot=20)
    names = {_name(figure).split(":")[-1].strip() for figure in saved_figures}
    assert {"by target length", "accuracy, log scale", "every metric", "greedy vs probability"} <= names, names
    _check_all(saved_figures)
    by_title = {_name(figure): figure for figure in saved_figures}
    fig4 = by_title["mirage_arith_4da_gen (toy): accuracy, log scale"].axes[0].get_legend()
    assert " ".join(fig4.get_title().get_text().split()) == (
        "exact_match = exact_match,flexible-extract (identical here)"
    )  # the two filters' identical curves: drawn once, named together
    assert [text.get_text() for text in fig4.texts][:2] == ["full answer", "L = 1"]
    differing = by_title["mirage_arith_4da_gen_t1 (toy): accuracy, log scale"].axes[0].get_legend()
    assert not differing.get_title().get_text()
    assert {"exact_match, full answer", "exact_match,flexible-extract, L = 2"} <= {
        t.get_text() for t in differing.texts
    }
    by_length = by_title["mirage_arith_4da_gen (toy): by length L"]
    assert [axes.get_title() for axes in by_length.axes] == [
        "exact_match = exact_match,flexible-extract (identical here)",
        "token_edit_distance = token_edit_distance,flexible-extract (identical here)",
    ]  # the strict filter (the paper's) is shown
    note = " ".join(by_length._supxlabel.get_text().split())
    assert note.startswith("L = 5 exists only for answers of at least 5 characters")
    assert "48 at L = 5" in note and "80 at L = 1" in note
    everything = by_title["mirage_arith_4da_ll (toy): every metric"]
    titles = [" ".join(axes.get_title().split()) for axes in everything.axes if axes.get_visible()]
    assert "greedy_match (identical to greedy_exact_match here)" in titles
    greedy = by_title["mirage_arith_4da (toy): greedy vs probability"].axes[0]
    labels = [text.get_text() for text in greedy.get_legend().texts]
    assert all("_gen_t1" not in label for label in labels), labels  # temperature-1 sampling is not greedy


def _figure(draw) -> Figure:
    figure = Figure()
    draw(figure.subplots())
    figure.suptitle("a figure")
    FigureCanvasAgg(figure).draw()
    return figure


def test_the_check_finds_what_reads_badly():
    def hidden(axes):
        axes.plot([1e4, 2e4], [0.1, 0.2], marker="o", color="C0", label="a")
        axes.plot([1e4, 2e4], [0.1, 0.2], marker="s", color="C1", label="b")
        axes.set_xscale("log")
        axes.xaxis.set_minor_formatter(NullFormatter())  # within one power of ten: no major tick, so no label
        axes.legend()

    def stacked(axes):
        axes.scatter([1, 2], [0.1, 0.3], marker="v", color="C0", label="a")
        axes.scatter([1, 2], [0.1, 0.3], marker="v", color="C1", label="b")

    def crowded(axes):
        axes.plot([1, 2], [0.1, 0.2], marker="o", label="a")
        axes.set_xticks([1, 1.01, 2], ["a long label", "another long label", "2"])

    def same_style(axes):
        axes.plot([1, 2], [0.1, 0.2], marker="o", color="C0", label="a")
        axes.plot([1, 2], [0.3, 0.4], marker="o", color="C0", label="b")
        axes.legend()

    def nothing(axes):
        axes.plot([1, 2], [0.1, 0.2], marker="o", label="a")
        axes.plot([1, 2], [np.nan, np.nan], marker="s", label="b")
        axes.legend()

    def covered(axes):
        axes.plot([1, 2], [1.0, 1.0], marker="o", label="a")
        axes.plot([1, 2], [0.0, 0.1], marker="s", label="b")
        axes.legend(loc="upper left")

    assert any("lies exactly on" in p for p in readability_problems(_figure(hidden)))
    assert any("fewer than two labelled x ticks" in p for p in readability_problems(_figure(hidden)))
    assert any("x tick labels" in p and "overlap" in p for p in readability_problems(_figure(crowded)))
    assert any("share colour and marker" in p for p in readability_problems(_figure(same_style)))
    assert any("'b' points at nothing" in p for p in readability_problems(_figure(nothing)))
    assert any("legend covers" in p for p in readability_problems(_figure(covered)))
    assert any("lie under" in p for p in readability_problems(_figure(stacked)))


@pytest.mark.slow
def test_every_figure_of_the_quick_demo_reads_at_a_glance(tmp_path, saved_figures):
    from mirage_metrics.demo import run_demo

    run_demo(tmp_path / "demo", quick=True, device="cpu")
    _check_all(saved_figures)
