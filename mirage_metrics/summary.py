"""Per model: n, mean and confidence interval of every (family, model, params, task, metric, length) group.

Works on the tidy per-sample table of :func:`mirage_metrics.results.read_results`
(columns ``family, model, params, task, metric, length, sample_id, value``); the
intervals come from :mod:`mirage_metrics.bootstrap`. Per-sample formulas live in
:mod:`mirage_metrics.metrics`.
"""

from __future__ import annotations

import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from mirage_metrics.bootstrap import (
    binomial_ci,
    check_confidence,
    check_n_boot,
    is_binary,
    multinomial_means,
    percentile_ci,
    present_values,
    resampled_means,
)
from mirage_metrics.devices import usable_cpus
from mirage_metrics.metrics import per_token_loss

__all__ = [
    "GROUP_COLUMNS",
    "SUMMARY_COLUMNS",
    "BINOMIAL",
    "BOOTSTRAP",
    "PER_CHAR_PROB",
    "concat_tables",
    "with_per_char_loss",
    "summarise_with_resamples",
    "summarise",
    "first_problems",
    "summarise_first_problems",
    "geometric_mean_probability",
]

GROUP_COLUMNS = ["family", "model", "params", "task", "metric", "length"]
SUMMARY_COLUMNS = GROUP_COLUMNS + ["n", "mean", "ci_low", "ci_high", "interval"]
#: ``interval`` of a group whose every value is 0 or 1 (exact match, multiple-choice grade, all-correct, …).
BINOMIAL = "clopper-pearson"
#: ``interval`` of any other group: the percentile bootstrap of the mean.
BOOTSTRAP = "bootstrap"
#: The per-sample metric the mirage fit reads: exp(target log-prob / answer characters).
PER_CHAR_PROB = "per_char_prob"


def _group_seed(seed: int, key: tuple) -> list[int]:
    # A seed per group from its key, so a group's CI does not depend on which other groups are present.
    return [int(seed), zlib.crc32(repr(key).encode("utf-8"))]


def check_table(table: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; it needs {columns}")


def concat_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-sample tables one after another, categorical text columns kept categorical (not widened to objects).

    >>> a = pd.DataFrame({"model": pd.Categorical(["a"]), "value": [0.5]})
    >>> b = pd.DataFrame({"model": pd.Categorical(["b"]), "value": [0.25]})
    >>> joined = concat_tables([a, b])
    >>> joined["model"].dtype.name, joined["model"].tolist()
    ('category', ['a', 'b'])
    """
    if len(tables) == 1:
        return tables[0]
    columns = {}
    for column in tables[0].columns:
        parts = [table[column] for table in tables]
        if all(isinstance(part.dtype, pd.CategoricalDtype) for part in parts):
            columns[column] = pd.api.types.union_categoricals(parts)
        else:
            columns[column] = pd.concat(parts, ignore_index=True).to_numpy()
    return pd.DataFrame(columns)


def with_per_char_loss(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` plus ``per_char_loss`` rows, −log of each ``per_char_prob`` sample (the fit's L_CE).

    >>> table = pd.DataFrame({"family": "f", "model": "a", "params": 1.0, "task": "t_ll",
    ...     "metric": "per_char_prob", "length": np.nan, "sample_id": [0, 1], "value": [1.0, np.exp(-2)]})
    >>> with_per_char_loss(table).query("metric == 'per_char_loss'")["value"].tolist()
    [-0.0, 2.0]
    """
    check_table(table, GROUP_COLUMNS + ["value"], "table")
    probs = table[(table["metric"] == PER_CHAR_PROB) & table["value"].notna()]
    if probs.empty:
        return table
    loss = probs.assign(metric="per_char_loss", value=per_token_loss(probs["value"].to_numpy(float)))
    if isinstance(table["metric"].dtype, pd.CategoricalDtype):  # keep read_results' compact categorical column
        table = table.assign(metric=table["metric"].cat.add_categories(["per_char_loss"]))
        loss["metric"] = loss["metric"].astype(table["metric"].dtype)
    return pd.concat([table, loss], ignore_index=True)


def _contiguous_groups(keys: pd.DataFrame, columns) -> list[tuple[tuple, np.ndarray]] | None:
    """The groups of ``keys`` when each one is a single run of rows (as :func:`read_results` lays them out), else
    ``None``; also ``None`` when a key is missing.

    >>> keys = pd.DataFrame({"a": ["x", "x", "y"], "b": [1, 1, 2]})
    >>> [(key, index.tolist()) for key, index in _contiguous_groups(keys, ["a", "b"])]
    [(('x', 1), [0, 1]), (('y', 2), [2])]
    >>> _contiguous_groups(pd.DataFrame({"a": ["x", "y", "x"]}), ["a"]) is None
    True
    """
    rows = len(keys)
    same_as_previous = np.ones(rows, dtype=bool)
    same_as_previous[0] = False
    for column in columns:
        values = keys[column]
        if values.isna().any():
            return None
        values = values.cat.codes.to_numpy() if isinstance(values.dtype, pd.CategoricalDtype) else values.to_numpy()
        same_as_previous[1:] &= values[1:] == values[:-1]
    starts = np.flatnonzero(~same_as_previous)
    run_keys = list(zip(*(keys[column].iloc[starts].tolist() for column in columns)))
    if len(set(run_keys)) != len(run_keys):
        return None
    bounds = np.append(starts, rows)
    return [(key, np.arange(start, stop)) for key, start, stop in zip(run_keys, bounds[:-1], bounds[1:])]


def _group_indices(keys: pd.DataFrame, columns=GROUP_COLUMNS) -> list[tuple[tuple, np.ndarray]]:
    """``keys.groupby(GROUP_COLUMNS, sort=False, observed=True).indices.items()``, faster at millions of rows.

    Groups that are runs of rows are read off directly. Otherwise each column is factorised once, the codes combine
    into one group id, and a stable sort of the ids gives each group's positions in ascending order; keys are the
    same Python scalars pandas gives. Falls back to pandas when a key is missing (pandas drops those rows) or the
    combined id would overflow.

    >>> keys = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 1]})
    >>> [(key, index.tolist()) for key, index in _group_indices(keys, ["a", "b"])]
    [(('x', 1), [0, 2]), (('y', 2), [1])]
    """
    if len(keys) and columns:
        groups = _contiguous_groups(keys, columns)
        if groups is not None:
            return groups
    codes, levels = [], []
    for column in columns:
        column_codes, uniques = pd.factorize(keys[column], sort=False)
        codes.append(column_codes)
        levels.append(list(uniques.tolist()) if hasattr(uniques, "tolist") else list(uniques))
    shape = [max(1, len(level)) for level in levels]
    if any((c < 0).any() for c in codes) or float(np.prod(shape, dtype=float)) >= 2.0**62:
        return list(keys.groupby(columns, sort=False, observed=True).indices.items())
    combined = np.ravel_multi_index(codes, shape) if codes else np.zeros(len(keys), dtype=np.int64)
    ids, firsts = pd.factorize(combined, sort=False)
    order = np.argsort(ids.astype(np.int16) if len(firsts) < 2**15 else ids, kind="stable")
    bounds = np.cumsum(np.bincount(ids, minlength=len(firsts)))[:-1]
    key_codes = np.unravel_index(firsts, shape)
    keys_out = [tuple(level[int(code[g])] for level, code in zip(levels, key_codes)) for g in range(len(firsts))]
    return list(zip(keys_out, np.split(order, bounds)))


def _progress_bar(total: int, shown: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="bootstrap", unit="group", disable=not shown)


def summarise_with_resamples(
    table: pd.DataFrame, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0, progress: bool = False
) -> tuple[pd.DataFrame, dict[tuple, np.ndarray]]:
    """:func:`summarise`, and each group's ``n_boot`` bootstrap means keyed by its (family, model, params, task,
    metric, length) key (length −1.0 where not by length): the replicates from which across-size statistics
    (emergence scores) get their intervals. Groups with no finite mean have none."""
    check_table(table, GROUP_COLUMNS + ["value"], "table")
    confidence, n_boot = check_confidence(confidence), check_n_boot(n_boot)
    keys = table[GROUP_COLUMNS].copy()
    keys["length"] = keys["length"].astype(float).fillna(-1.0)  # groupby keeps NaN groups apart otherwise
    groups = _group_indices(keys)
    values = table["value"].to_numpy(dtype=float)
    bar = _progress_bar(len(groups), progress)
    rows, many_valued, resamples = [], {}, {}
    for key, index in groups:
        group_values, mean = present_values(values[index])
        if not np.isfinite(mean):
            rows.append((*key, group_values.size, mean, float("nan"), float("nan"), BOOTSTRAP))
        else:
            means = multinomial_means(group_values, n_boot, np.random.default_rng(_group_seed(seed, key)))
            if means is None:  # resampled below, with the other many-valued metrics of its model and task
                many_valued.setdefault((*key[:4], group_values.size), []).append((key, group_values, mean))
                continue
            resamples[key] = means
            if is_binary(group_values):
                interval = binomial_ci(int(group_values.sum()), group_values.size, confidence=confidence)
                rows.append((*key, group_values.size, mean, *interval, BINOMIAL))
            else:
                rows.append((*key, group_values.size, mean, *percentile_ci(means, mean, confidence), BOOTSTRAP))
        bar.update()

    def resample(shared_key: tuple, members: list) -> np.ndarray:
        columns = np.column_stack([group_values for _, group_values, _ in members])
        return resampled_means(columns, n_boot, np.random.default_rng(_group_seed(seed, shared_key)))

    # numpy releases the GIL while drawing, counting and multiplying, so threads share the work; every draw has
    # its own seeded stream, so the intervals do not depend on the number of threads.
    with ThreadPoolExecutor(usable_cpus()) as pool:
        for members, resampled in zip(many_valued.values(), pool.map(resample, many_valued, many_valued.values())):
            for (key, group_values, mean), means in zip(members, resampled.T):
                resamples[key] = means
                rows.append((*key, group_values.size, mean, *percentile_ci(means, mean, confidence), BOOTSTRAP))
            bar.update(len(members))
    bar.close()
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["length"] = summary["length"].where(summary["length"] >= 0)
    summary["params"] = summary["params"].astype(float)
    return summary.sort_values(["family", "task", "metric", "length", "params", "model"], ignore_index=True), resamples


def first_problems(n: int) -> int | None:
    """How many problems the resolution view re-scores a task of ``n`` on: the first tenth, from 100 problems up.

    >>> first_problems(500), first_problems(10_000), first_problems(99)
    (50, 1000, None)
    """
    return int(n) // 10 if n >= 100 else None


def summarise_first_problems(table: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """The all-or-nothing metrics of ``table`` (its 0/1 groups) scored on each task's first problems only.

    lm-eval's ``--limit k`` evaluates the first k documents, so for deterministic
    (greedy) outputs this is exactly what a run of :func:`first_problems` of the
    task's problems would have measured: the paper's Fig 4 point that a small test
    set reads 0 where a larger one resolves a small rate. Columns are those of
    :func:`summarise` (Clopper–Pearson intervals) plus ``first_problems``; tasks
    with fewer than 100 problems are left out.

    >>> table = pd.DataFrame({"family": "f", "model": "a", "params": 1.0, "task": "t", "metric": "exact_match",
    ...     "length": np.nan, "sample_id": range(200), "value": [0.0] * 190 + [1.0] * 10})
    >>> summarise_first_problems(table)[["n", "mean", "ci_high", "first_problems"]].round(3).to_dict("records")
    [{'n': 20, 'mean': 0.0, 'ci_high': 0.168, 'first_problems': 20}]
    """
    from mirage_metrics.registry import is_discontinuous

    check_table(table, GROUP_COLUMNS + ["sample_id", "value"], "table")
    metric = table["metric"]
    names = metric.cat.categories if isinstance(metric.dtype, pd.CategoricalDtype) else metric.unique()
    rows = table[metric.isin([name for name in names if is_discontinuous(str(name))]).to_numpy()]
    problems = rows.groupby("task", observed=True, sort=False)["sample_id"].max() + 1
    limits = {task: limit for task, n in problems.items() if (limit := first_problems(n)) is not None}
    limit = rows["task"].map(limits).astype(float).to_numpy()  # NaN for tasks left out: compares False
    rows = rows[rows["sample_id"].to_numpy() < limit]
    if rows.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS + ["first_problems"])
    summary = summarise(rows, n_boot=1, confidence=confidence)
    summary = summary[summary["interval"] == BINOMIAL]  # groups whose values are all 0 or 1
    return summary.assign(first_problems=summary["task"].map(limits).astype(int)).reset_index(drop=True)


def summarise(
    table: pd.DataFrame, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0, progress: bool = False
) -> pd.DataFrame:
    """Per (family, model, params, task, metric, length): n, mean and confidence interval of the per-sample values.

    ``table`` is the tidy per-sample table (``value`` NaN where a sample has no
    value, e.g. a prefix longer than its answer). Rows are sorted by family,
    task, metric, length and params; ``length`` is NaN where not by length.

    The ``interval`` column says how each CI was made: ``clopper-pearson``
    (:func:`~mirage_metrics.bootstrap.binomial_ci`, exact) where every value is 0 or 1, so that 0 of n
    reads "below about 3.7/n" and not ``[0, 0]``; ``bootstrap`` (percentile,
    ``n_boot`` resamples) otherwise.

    Each group is resampled with a seed from its key alone, so its CI does not
    depend on which other groups are present. Metrics with many distinct values
    (log-probabilities, per-character probabilities and losses) share their
    resamples within a (family, model, task) and count of values: the same
    resampled rows for each, a paired bootstrap over the documents of an
    ``_ll`` task, drawn once instead of once per metric. Those draws run in
    threads, one per core; the intervals do not depend on how many.

    >>> table = pd.DataFrame({"family": "f", "model": ["a"] * 4 + ["b"] * 4, "params": [1.0] * 4 + [2.0] * 4,
    ...     "task": "t", "metric": "exact_match", "length": np.nan, "sample_id": list(range(4)) * 2,
    ...     "value": [0, 0, 0, 1, 1, 1, 1, 1]})
    >>> summarise(table)[["model", "n", "mean", "ci_high", "interval"]].round(3).to_dict("list")
    {'model': ['a', 'b'], 'n': [4, 4], 'mean': [0.25, 1.0], 'ci_high': [0.806, 1.0], 'interval': ['clopper-pearson', 'clopper-pearson']}
    """
    return summarise_with_resamples(table, n_boot=n_boot, confidence=confidence, seed=seed, progress=progress)[0]


def geometric_mean_probability(summary: pd.DataFrame, metric: str = "target_log_prob") -> pd.DataFrame:
    """Summary rows of a log-probability ``metric`` mapped through exp (mean and CI bounds).

    exp(mean log p) is the geometric-mean probability of the target: a measure of
    the same outputs with no resolution floor, to set beside greedy accuracy.

    >>> summary = pd.DataFrame({"metric": ["target_log_prob"], "mean": [np.log(0.5)],
    ...     "ci_low": [np.log(0.25)], "ci_high": [0.0]})
    >>> geometric_mean_probability(summary)[["metric", "mean", "ci_low", "ci_high"]].to_dict("records")
    [{'metric': 'exp_target_log_prob', 'mean': 0.5, 'ci_low': 0.25, 'ci_high': 1.0}]
    """
    rows = summary[summary["metric"] == metric].copy()
    for column in ("mean", "ci_low", "ci_high"):
        rows[column] = np.exp(rows[column].astype(float))
    rows["metric"] = f"exp_{metric}"
    return rows
