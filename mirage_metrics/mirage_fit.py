"""Across model sizes: the mirage power-law fit of per-character loss, and what it predicts.

The mirage model (Schaeffer et al. 2023): the per-token loss falls as a power
law, L_CE(N) = (N / c)^α, so the per-token probability p = exp(−L_CE) rises
smoothly, while exact match on L tokens ≈ p^L jumps and token edit distance
≈ L(1 − p) falls smoothly. :func:`fit_mirage` fits it to the per-model summary
of :func:`mirage_metrics.summary.summarise`.

>>> fit = fit_power_law([1e8, 1e9, 1e10], [(n / 2e9) ** -0.5 for n in (1e8, 1e9, 1e10)])
>>> f"{fit.c:.3g} {fit.alpha:.3g}"
'2e+09 -0.5'
>>> mirage_predictions([fit.loss([2e9])[0]], lengths=[1, 2]).round(3).to_dict("list")["accuracy"]
[0.368, 0.135]
"""

from __future__ import annotations

import functools
import numbers
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mirage_metrics.registry import mirage_columns
from mirage_metrics.summary import GROUP_COLUMNS, PER_CHAR_PROB, check_table
from mirage_metrics.task_forms import LIKELIHOOD, task_stem
from mirage_metrics.task_forms import SAMPLED as SAMPLED_FORM

__all__ = [
    "FIT_COLUMNS",
    "SAMPLED_FORM",
    "MIN_FIT_SIZES",
    "INTERVAL_CONFIDENCE",
    "PowerLaw",
    "fit_power_law",
    "PrefixLaw",
    "fit_prefix_law",
    "loss_spread_shape",
    "mirage_predictions",
    "task_stem",
    "MirageFit",
    "fit_mirage",
    "fit_table",
    "mirage_curves",
]

FIT_COLUMNS = [
    "family",
    "task",
    "loss_task",
    "c",
    "alpha",
    "loss_shape",
    "n_fit_models",
    "problem",
    "model",
    "params",
    "metric",
    "length",
    "predicted",
    "predicted_low",
    "predicted_high",
    "observed",
]
#: A power law is fitted through at least this many sizes: through two, any two points make a "law".
MIN_FIT_SIZES = 3
#: Confidence of the prediction intervals of held-out temperature-1 exact match.
INTERVAL_CONFIDENCE = 0.95
_LAW_QUANTILES = 1000  # evenly spaced quantiles of Student's t behind each interval


def _is_model_size(value) -> bool:
    """Whether ``value`` is a parameter count: a number (not a bool or text), positive and finite."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real) and 0 < float(value) < np.inf


def _model_sizes(values, name: str = "params") -> np.ndarray:
    """``values`` as float parameter counts (see :func:`_is_model_size`); else a ValueError naming the first bad one.

    >>> _model_sizes([1e6, 0])
    Traceback (most recent call last):
    ...
    ValueError: params[1]=0 must be a positive, finite number of parameters (a model size)
    """
    items = np.asarray(values, dtype=object)
    for index, value in enumerate(items.flat):
        if not _is_model_size(value):
            raise ValueError(
                f"{name}[{index}]={value!r} must be a positive, finite number of parameters (a model size)"
            )
    return items.astype(float)


@dataclass(frozen=True)
class PowerLaw:
    """L_CE(N) = (N / c)^alpha, fitted by least squares in log-log space.

    ``log_c`` (derived from ``c`` when not given) keeps predictions finite when a
    nearly flat fit puts c beyond the float range (c is then inf).

    >>> PowerLaw(c=2e9, alpha=-0.5).loss([2e9, 8e9]).round(12).tolist()
    [1.0, 0.5]
    >>> law = PowerLaw(c=float("inf"), alpha=-0.001, log_c=1000.0)
    >>> bool(np.isfinite(law.loss([1e6])).all())
    True
    """

    c: float
    alpha: float
    log_c: float | None = None

    def __post_init__(self) -> None:
        if self.log_c is None:
            object.__setattr__(self, "log_c", float(np.log(self.c)))

    @property
    def problem(self) -> str:
        """Why this law predicts nothing useful (``""`` when it does): a loss that rises or stays flat with size.

        >>> PowerLaw(c=2e9, alpha=-0.5).problem
        ''
        >>> PowerLaw(c=1e3, alpha=0.2).problem
        'the loss rises with size (alpha = 0.2 > 0)'
        """
        if self.alpha > 0:
            return f"the loss rises with size (alpha = {self.alpha:.3g} > 0)"
        if not np.isfinite(self.c):
            return f"the loss is flat with size (alpha = {self.alpha:.3g}, c beyond the float range)"
        return ""

    def loss(self, params) -> np.ndarray:
        """Predicted per-token loss at parameter counts ``params``."""
        return np.exp(self.alpha * (np.log(_model_sizes(params)) - self.log_c))


def fit_power_law(params, loss) -> PowerLaw:
    """Fit L_CE(N) = (N / c)^α to per-token losses: a straight line of log L on log N.

    >>> fit = fit_power_law([1e6, 1e7], [4.0, 2.0])
    >>> round(fit.alpha, 4), f"{fit.loss([1e8])[0]:.3f}"
    (-0.301, '1.000')
    >>> fit_power_law([1e6, 1e7], [1.0, 1.0])
    Traceback (most recent call last):
    ...
    ValueError: loss does not change with params (alpha = 0); the power law L = (N/c)^alpha needs a trend
    """
    x = _model_sizes(params)
    y = np.asarray(loss, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"params and loss must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    if len(np.unique(x)) < 2:
        raise ValueError("params must hold at least two different model sizes to fit a power law")
    if not (np.all(np.isfinite(y)) and np.all(y > 0)):
        raise ValueError(f"loss must be positive and finite per-token cross-entropies, got {y.tolist()}")
    alpha, intercept = np.polyfit(np.log(x), np.log(y), 1)
    if alpha == 0.0:
        raise ValueError("loss does not change with params (alpha = 0); the power law L = (N/c)^alpha needs a trend")
    log_c = float(-intercept / alpha)
    with np.errstate(over="ignore"):
        c = float(np.exp(log_c))
    return PowerLaw(c=c, alpha=float(alpha), log_c=log_c)


@dataclass(frozen=True)
class PrefixLaw:
    """The loss of the answer's first ``length`` characters against size, and how far the fitted sizes stray from it.

    The fitted quantity is ℓ_L(N) = −log(mean over problems of prefix_prob_L) / L, as :func:`fit_power_law`'s
    (N / c)^α. The mean, not the mean of −log: a temperature-1 answer starts with the first L characters with
    probability prefix_prob_L, so its exact match of length L estimates the MEAN of prefix_prob_L over problems
    (:mod:`mirage_metrics.mechanism`), and exp(−L·ℓ_L) gives that mean back exactly (exp of the mean per-sample
    log-probability is the geometric mean, lower by Jensen's gap). Dividing by L keeps the paper's
    per-character scale: when every character has probability p, ℓ_L = −log p = L_CE at each L.

    ``scatter`` is the residual standard deviation of log ℓ_L around the fitted line (n − 2 degrees of
    freedom): the problems' sampling noise at each fitted size and how far the sizes stray from one power law.

    ℓ_L is exactly a power law when every problem's characters share the law's probability (the paper's model;
    its intervals then cover at their nominal rate, ``tests/test_mirage_fit_intervals.py``). When problems differ
    in difficulty, ℓ_L bends even if each problem's loss follows the law (flat over small sizes, steeper later:
    the easy problems' p^L saturates first), so a fit on the small sizes predicts too low at large ones; with
    gamma-spread problem losses of shape 2, 500 problems and a fit on 4 of 8 sizes, the 95% intervals held the
    observed value in about 53% of held-out cells.

    >>> sizes = [1e8, 1e9, 1e10]
    >>> law = fit_prefix_law(sizes, [np.exp(-2 * (n / 2e9) ** -0.5) for n in sizes], length=2)
    >>> round(law.law.alpha, 6), round(law.scatter, 6), round(law.exact_match(2e9)[0], 6)
    (-0.5, 0.0, 0.135335)
    """

    length: int
    law: PowerLaw
    log_params: tuple
    scatter: float

    def exact_match(self, params, n_problems=None, *, confidence: float = INTERVAL_CONFIDENCE):
        """``(predicted, low, high)``: temperature-1 exact match of the first L characters at size ``params``, and
        the ``confidence`` prediction interval of the value observed on ``n_problems`` answers (None: of its mean).

        The interval is predictive. log ℓ_L at the new size follows the least-squares prediction distribution
        ŷ + s·√(1 + h)·T, T Student's t on n − 2 degrees of freedom: the fit's own uncertainty and the new size's
        deviation from the law, both as large as the fitted sizes' scatter. Each value gives p = exp(−L·ℓ), and
        the observed value is the mean of ``n_problems`` temperature-1 answers, Binomial(n, p) / n for problems
        drawn from the same pool (its sampling noise). The bounds are the central ``confidence`` range of that
        mixture, computed (T at evenly spaced quantiles, no simulation) as the smallest count k with
        P(K ≤ k) > tail and the smallest with P(K ≤ k) ≥ 1 − tail, so each tail outside holds at most (1 −
        confidence) / 2.

        >>> law = PrefixLaw(1, PowerLaw(c=2e9, alpha=-0.5), (18.4, 20.7, 23.0), 0.0)
        >>> [round(v, 3) for v in law.exact_match(2e9)], law.exact_match(2e9, 100)[1:]
        ([0.368, 0.368, 0.368], (0.27, 0.46))
        """
        from scipy.special import bdtr, bdtrik

        x = np.log(_model_sizes([params])[0])
        fitted = np.asarray(self.log_params, dtype=float)
        predicted_log_loss = float(np.log(self.law.loss([params])[0]))
        spread = self.scatter * np.sqrt(
            1 + 1 / len(fitted) + (x - fitted.mean()) ** 2 / np.sum((fitted - fitted.mean()) ** 2)
        )
        with np.errstate(over="ignore"):  # a far quantile of T: a loss beyond the float range, probability 0
            p = np.exp(-self.length * np.exp(predicted_log_loss + spread * _t_quantiles(len(fitted) - 2)))
        predicted = float(np.exp(-self.length * np.exp(predicted_log_loss)))
        tail = (1.0 - float(confidence)) / 2.0
        if n_problems is None:
            return predicted, float(np.quantile(p, tail)), float(np.quantile(p, 1.0 - tail))
        n = int(n_problems)

        def first_count(enough, q: float) -> int:  # the smallest k where enough(P(K <= k)) holds (monotone in k)
            # P(K <= k) lies between the binomial CDFs at the largest and the smallest p (p falls along t), and so
            # does the k sought: a bracket (one count wider each side) to halve.
            with np.errstate(invalid="ignore"):
                bounds = bdtrik(q, n, np.array([p[-1], p[0]]))
            low = int(max(0, np.floor(np.nan_to_num(bounds[0], nan=0.0)) - 1))
            high = int(min(n, np.ceil(np.nan_to_num(bounds[1], nan=n)) + 1))
            if not enough(float(bdtr(high, n, p).mean())):
                high = n
            while low < high:
                middle = (low + high) // 2
                low, high = (low, middle) if enough(float(bdtr(middle, n, p).mean())) else (middle + 1, high)
            return low

        return (
            predicted,
            first_count(lambda cdf: cdf > tail, tail) / n,
            first_count(lambda cdf: cdf >= 1.0 - tail, 1.0 - tail) / n,
        )


@functools.lru_cache(maxsize=64)
def _t_quantiles(degrees_of_freedom: int) -> np.ndarray:
    """Student's t at :data:`_LAW_QUANTILES` evenly spaced probabilities (the midpoints of equal slices)."""
    from scipy.special import stdtrit

    quantiles = stdtrit(degrees_of_freedom, (np.arange(_LAW_QUANTILES) + 0.5) / _LAW_QUANTILES)
    quantiles.setflags(write=False)
    return quantiles


def fit_prefix_law(params, mean_prefix_prob, length: int) -> PrefixLaw:
    """Fit :class:`PrefixLaw` at ``length`` L to the sizes' mean ``prefix_prob_L`` (at least 3 sizes).

    >>> fit_prefix_law([1e6, 1e7], [0.2, 0.4], length=1)
    Traceback (most recent call last):
    ...
    ValueError: params holds 2 model size(s); a power law needs at least 3 (any two points fit one exactly)
    """
    x = _model_sizes(params)
    probability = np.asarray(mean_prefix_prob, dtype=float)
    if len(np.unique(x)) < MIN_FIT_SIZES:
        raise ValueError(
            f"params holds {len(np.unique(x))} model size(s); a power law needs at least {MIN_FIT_SIZES} "
            "(any two points fit one exactly)"
        )
    if x.shape != probability.shape or not np.all((probability > 0) & (probability < 1)):
        raise ValueError(
            f"mean_prefix_prob must hold one probability strictly between 0 and 1 per size, got {probability.tolist()}"
        )
    if int(length) < 1:
        raise ValueError(f"length={length} must be a positive number of characters")
    loss = -np.log(probability) / int(length)
    law = fit_power_law(x, loss)
    residuals = np.log(loss) - np.log(law.loss(x))
    scatter = float(np.sqrt(np.sum(residuals**2) / (len(x) - 2)))
    return PrefixLaw(int(length), law, tuple(np.log(x).tolist()), scatter)


def _mean_exp(loss, scale, shape: float):
    """E[exp(−scale·ℓ)] for per-sample losses ℓ ~ Gamma(shape) with mean ``loss``; exp(−scale·loss) at shape inf."""
    if np.isinf(shape):
        return np.exp(-loss) ** scale
    return np.exp(-shape * np.log1p(scale * loss / shape))


def loss_spread_shape(mean_loss: float, mean_prob: float) -> float:
    """Shape k of the gamma distribution of per-sample losses ℓ with mean ``mean_loss`` and E[exp(−ℓ)] = ``mean_prob``.

    The mean of p_i^L over samples is not p^L of the mean loss (Jensen's gap): samples
    that differ in loss lift it. A gamma with the observed mean and E[exp(−ℓ)] keeps
    both; E[exp(−Lℓ)] = (1 + L·mean/k)^(−k). Smaller k: more spread; inf: every sample
    has the mean loss (then E[exp(−ℓ)] = exp(−mean), the paper's p^L).

    >>> round(loss_spread_shape(1.0, 0.5), 3), loss_spread_shape(1.0, float(np.exp(-1.0)))
    (1.0, inf)
    """
    from scipy.optimize import brentq

    mean_loss, mean_prob = float(mean_loss), float(mean_prob)
    if not (np.isfinite(mean_loss) and mean_loss > 0):
        raise ValueError(f"mean_loss={mean_loss} must be a positive mean per-sample loss")
    if not 0 < mean_prob < 1:
        raise ValueError(f"mean_prob={mean_prob} must be a mean per-sample probability strictly between 0 and 1")

    def gap(log_k: float) -> float:  # falls as the shape k grows
        return float(_mean_exp(mean_loss, 1.0, np.exp(log_k))) - mean_prob

    if gap(np.log(1e6)) >= -1e-12 * mean_prob:
        return float("inf")  # no spread to see (the mean of exp(-loss) is exp(-mean loss) up to rounding)
    if gap(np.log(1e-6)) <= 0:
        return 1e-6
    return float(np.exp(brentq(gap, np.log(1e-6), np.log(1e6), xtol=1e-10)))


def mirage_predictions(loss, lengths=(1, 2, 3, 4, 5), *, shape: float = float("inf")) -> pd.DataFrame:
    """The paper's predictions from per-token loss, one row per (loss, length).

    p = exp(−L_CE); accuracy (exact match on L tokens) = p^L; token edit distance
    = L(1 − p); two-choice Brier score (BIG-bench's per-option normalisation) of
    the L-token target = (1 − p^L)². With a finite ``shape`` k (see
    :func:`loss_spread_shape`) the per-sample losses spread as a gamma around
    ``loss``, and p and accuracy are their means over samples: (1 + loss/k)^(−k)
    and (1 + L·loss/k)^(−k).

    >>> mirage_predictions([np.log(2)], lengths=[1, 3]).to_dict("list")
    {'loss': [0.6931471805599453, 0.6931471805599453], 'length': [1, 3], 'p': [0.5, 0.5], 'accuracy': [0.5, 0.125], 'token_edit_distance': [0.5, 1.5], 'brier': [0.25, 0.765625]}
    >>> mirage_predictions([1.0], lengths=[1, 3], shape=1.0)["accuracy"].tolist()
    [0.5, 0.25]
    """
    loss = np.asarray(loss, dtype=float).ravel()
    lengths = np.asarray([int(n) for n in lengths])
    if loss.size == 0 or not np.all(np.isfinite(loss)) or np.any(loss < 0):
        raise ValueError(f"loss must be non-empty, finite and non-negative, got {loss.tolist()}")
    if lengths.size == 0 or np.any(lengths < 1):
        raise ValueError(f"lengths={lengths.tolist()} must be positive integers, e.g. 1..5")
    if not float(shape) > 0:
        raise ValueError(f"shape={shape} must be a positive gamma shape (inf: no spread between samples)")
    loss_grid, length_grid = np.meshgrid(loss, lengths, indexing="ij")
    p = _mean_exp(loss_grid, 1.0, float(shape))
    accuracy = _mean_exp(loss_grid, length_grid, float(shape))
    return pd.DataFrame(
        {
            "loss": loss_grid.ravel(),
            "length": length_grid.ravel(),
            "p": p.ravel(),
            "accuracy": accuracy.ravel(),
            "token_edit_distance": (length_grid * (1.0 - p)).ravel(),
            "brier": ((1.0 - accuracy) ** 2).ravel(),
        }
    )


@dataclass(frozen=True)
class MirageFit:
    """The power law fitted to one family's per-character loss on one task stem, the per-L laws of its prefix
    probabilities (:class:`PrefixLaw`), and held-out checks; with ``law`` None, no law (``refusal`` says why)."""

    family: str
    stem: str
    loss_task: str
    law: PowerLaw | None
    fit_models: tuple
    held_out: pd.DataFrame  # task, model, params, metric, length, c, ..., predicted, predicted_low, ..., observed
    shape: float = float("inf")  # gamma shape of the per-sample losses (loss_spread_shape); inf: no spread
    prefix_laws: tuple = ()  # a PrefixLaw per L with prefix_prob on the loss task
    refusal: str = ""

    @property
    def problem(self) -> str:
        """Why the fit predicts nothing (its :attr:`refusal`, else the law's :attr:`PowerLaw.problem`): when set,
        the per-character law's predictions are withheld (NaN)."""
        return self.refusal or self.law.problem


def _per_model_loss(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (family, task, model) the per-character loss −log(geometric-mean per-char probability)."""
    rows = summary[(summary["metric"] == "per_char_loss") & np.isfinite(summary["mean"])]
    return rows[["family", "task", "model", "params", "mean"]].rename(columns={"mean": "loss"})


def _loss_task(tasks: list[str]) -> str:
    loglikelihood = [t for t in tasks if t.endswith(LIKELIHOOD)]
    return sorted(loglikelihood or tasks)[0]


def _prefix_laws(fit_models, loss_rows: pd.DataFrame) -> dict:
    """Per L with ``prefix_prob`` on the loss task: the :class:`PrefixLaw` fitted on ``fit_models``, or why none."""
    prefix = loss_rows[(loss_rows["metric"] == "prefix_prob") & loss_rows["length"].notna()]
    laws = {}
    for length, rows in prefix.groupby(prefix["length"].astype(int)):
        rows = rows[rows["model"].isin(fit_models) & (rows["mean"] > 0) & (rows["mean"] < 1)]
        if rows["params"].nunique() < MIN_FIT_SIZES:
            laws[length] = (
                f"{rows['params'].nunique()} fitted size(s) with a mean prefix_prob_L{length} strictly between 0 "
                f"and 1; a law needs at least {MIN_FIT_SIZES}"
            )
            continue
        try:
            laws[length] = fit_prefix_law(rows["params"], rows["mean"], length)
        except ValueError as error:  # e.g. the same loss at every size: no trend
            laws[length] = str(error)
    return laws


#: The columns of fit.csv that describe the law behind a row's prediction.
_LAW_COLUMNS = ["c", "alpha", "loss_shape", "n_fit_models", "problem"]


def _law_columns(law: PowerLaw, shape: float, n_fit_models: int, problem: str) -> tuple:
    """The values of :data:`_LAW_COLUMNS` (``loss_shape`` NaN for a :class:`PrefixLaw`, which has none)."""
    return (law.c, law.alpha, shape, n_fit_models, problem)


def _held_out_rows(fit: MirageFit, observed: pd.DataFrame, held_out: pd.DataFrame, prefix_laws: dict) -> pd.DataFrame:
    """Predicted vs observed per held-out model: loss on the loss task; on the stem's temperature-1 task, exact
    match by L (from the :class:`PrefixLaw` of that L with its prediction interval, else the per-character law's
    mean of p_i^L with per-sample losses spread with gamma ``fit.shape``, and no interval) and TED by L (greedy
    accuracy is not p^L, so greedy tasks are not compared). Predictions of a law with a problem are NaN."""
    rows = []
    whole = _law_columns(fit.law, fit.shape, len(fit.fit_models), fit.problem)
    withheld = bool(fit.problem)
    for model in held_out.itertuples(index=False):
        predicted_loss = float(fit.law.loss([model.params])[0])
        rows.append(
            (fit.loss_task, model.model, model.params, "per_char_loss", np.nan, *whole)
            + (np.nan if withheld else predicted_loss, np.nan, np.nan, model.loss)
        )
        by_length = observed[
            (observed["model"] == model.model)
            & observed["length"].notna()
            & observed["task"].str.endswith(SAMPLED_FORM)
            & observed["metric"].isin(list(mirage_columns()))
        ]
        if by_length.empty:
            continue
        lengths = sorted(by_length["length"].astype(int).unique())
        prediction = mirage_predictions([predicted_loss], lengths, shape=fit.shape).set_index("length")
        for row in by_length.itertuples(index=False):
            length = int(row.length)
            prefix = prefix_laws.get(length) if row.metric == "exact_match" else None
            if isinstance(prefix, PrefixLaw):
                n = getattr(row, "n", None)
                law = _law_columns(prefix.law, np.nan, len(prefix.log_params), prefix.law.problem)
                interval = (
                    (np.nan,) * 3
                    if prefix.law.problem
                    else prefix.exact_match(row.params, int(n) if pd.notna(n) and n > 0 else None)
                )
            elif isinstance(prefix, str):  # why this L has no law
                law, interval = (np.nan, np.nan, np.nan, np.nan, prefix), (np.nan,) * 3
            else:
                column = mirage_columns()[row.metric]
                interval = (np.nan if withheld else float(prediction.loc[length, column]), np.nan, np.nan)
                law = whole
            rows.append((row.task, row.model, row.params, row.metric, row.length, *law, *interval, row.mean))
    columns = ["task", "model", "params", "metric", "length", *_LAW_COLUMNS]
    return pd.DataFrame(rows, columns=columns + ["predicted", "predicted_low", "predicted_high", "observed"])


def _spread_shape(fit_on: pd.DataFrame, loss_rows: pd.DataFrame) -> float:
    """Median gamma shape of the fitted models' per-sample losses (inf without ``per_char_prob`` rows)."""
    probs = loss_rows[(loss_rows["metric"] == PER_CHAR_PROB) & loss_rows["length"].isna()].set_index("model")["mean"]
    shapes = [
        loss_spread_shape(row.loss, probs[row.model])
        for row in fit_on.itertuples(index=False)
        if row.model in probs.index and row.loss > 0 and 0 < probs[row.model] < 1
    ]
    return float(np.median(shapes)) if shapes else float("inf")


def _refusal(family: str, stem: str, loss_task: str, curve: pd.DataFrame) -> MirageFit:
    """A fit through fewer than :data:`MIN_FIT_SIZES` sizes: no law, and why."""
    refusal = (
        f"only {curve['params'].nunique()} model size(s) ({', '.join(curve['model'])}) have a per-character loss on "
        f"{loss_task}; a power law through fewer than {MIN_FIT_SIZES} sizes is not fitted (through two, any two "
        "losses make a law)"
    )
    return MirageFit(family, stem, loss_task, None, tuple(curve["model"]), pd.DataFrame(), refusal=refusal)


def fit_mirage(summary: pd.DataFrame, holdout_largest: int = 0) -> list[MirageFit]:
    """Fit the mirage power law per (family, task stem) that has a ``per_char_loss`` curve.

    The loss comes from the stem's ``_ll`` task when there is one. The spread of
    per-sample losses around that mean scales with it: the gamma shape
    (:func:`loss_spread_shape`, from each fitted model's mean ``per_char_prob``) is
    the median over the fitted models, so held-out accuracy is predicted as the mean
    of p_i^L, not as p^L of the mean loss (Jensen's gap). Where the loss task has
    ``prefix_prob`` at L, exact match of length L is predicted instead by the law of
    that L (:class:`PrefixLaw`), with a prediction interval. With
    ``holdout_largest=k`` the fit leaves out the k largest models and compares its
    predictions for them (loss; exact match and token edit distance L(1 − p)
    on the stem's temperature-1 task, ``*_gen_t1``) with what they scored.
    A stem with fewer than :data:`MIN_FIT_SIZES` sizes gets a refusal (``law``
    None, :attr:`MirageFit.refusal` says why); holding out so many that fewer are
    left to fit on is a ValueError. Stems whose losses cannot be fitted (a warning
    says why) get no fit; a fit whose loss rises or stays flat with size is kept
    with its :attr:`MirageFit.problem` set, a warning, and no predictions.
    """
    check_table(summary, GROUP_COLUMNS + ["mean"], "summary")
    if int(holdout_largest) < 0:
        raise ValueError(f"holdout_largest={holdout_largest} must be 0 or a positive number of models")
    losses = _per_model_loss(summary)
    for bad in losses[~losses["params"].map(_is_model_size)].head(1).itertuples(index=False):
        raise ValueError(
            f"summary: params={bad.params!r} of model {bad.model!r} (family {bad.family!r}) must be a positive "
            "number of parameters (a model size); give its count (--param-counts FILE or the family file)"
        )
    fits = []
    for (family, stem), group in losses.groupby(["family", losses["task"].map(task_stem)], sort=True):
        loss_task = _loss_task(group["task"].unique().tolist())
        curve = group[group["task"] == loss_task].sort_values("params")
        if curve["params"].nunique() < MIN_FIT_SIZES:
            if curve["params"].nunique() > 1:  # a single size: nothing across sizes to speak of
                fits.append(_refusal(family, stem, loss_task, curve))
            continue
        fit_on = curve.iloc[: len(curve) - int(holdout_largest)]
        if fit_on["params"].nunique() < MIN_FIT_SIZES:
            raise ValueError(
                f"holdout_largest={holdout_largest} leaves {len(fit_on)} model(s) of family {family!r} "
                f"to fit on task {loss_task!r}; the fit needs at least {MIN_FIT_SIZES} sizes, so hold out fewer"
            )
        try:
            law = fit_power_law(fit_on["params"], fit_on["loss"])
        except ValueError as error:  # e.g. a loss of exactly 0: report the rest without this fit
            warnings.warn(f"no mirage fit for family {family!r}, task {loss_task!r}: {error}", stacklevel=2)
            continue
        if law.problem:
            warnings.warn(
                f"mirage fit for family {family!r}, task {loss_task!r}: {law.problem}; its predictions are withheld",
                stacklevel=2,
            )
        observed = summary[(summary["family"] == family) & (summary["task"].map(task_stem) == stem)]
        loss_rows = observed[observed["task"] == loss_task]
        prefix_laws = _prefix_laws(fit_on["model"], loss_rows)
        fit = MirageFit(
            family,
            stem,
            loss_task,
            law,
            tuple(fit_on["model"]),
            pd.DataFrame(),
            _spread_shape(fit_on, loss_rows),
            tuple(law for law in prefix_laws.values() if isinstance(law, PrefixLaw)),
        )
        held_out = _held_out_rows(fit, observed, curve.iloc[len(fit_on) :], prefix_laws)
        fits.append(replace(fit, held_out=held_out))
    return fits


def fit_table(fits: list[MirageFit]) -> pd.DataFrame:
    """The rows of ``fit.csv``: one per fit, or one per held-out (model, metric, length) comparison, with the
    columns (c, alpha, …) of the law that made the prediction; none for a refused fit (the page says why)."""
    rows = []
    for fit in fits:
        if fit.law is None:
            continue
        head = {
            "family": fit.family,
            "loss_task": fit.loss_task,
            **dict(zip(_LAW_COLUMNS, _law_columns(fit.law, fit.shape, len(fit.fit_models), fit.problem))),
        }
        if fit.held_out.empty:
            rows.append({**head, "task": fit.loss_task})
        rows.extend({**head, **check} for check in fit.held_out.to_dict("records"))
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def mirage_curves(fit: MirageFit, params, lengths) -> pd.DataFrame:
    """Predicted loss, p, accuracy and TED by length along ``params`` (for plotting the fit); accuracy at an L with
    a :class:`PrefixLaw` (and no problem) is that law's.

    >>> law = PowerLaw(c=2e9, alpha=-0.5)
    >>> fit = MirageFit("f", "t", "t_ll", law, ("a", "b"), pd.DataFrame())
    >>> mirage_curves(fit, [3.5e8, 1.75e11], lengths=[1]).round(3)[["params", "p"]].to_dict("list")
    {'params': [350000000.0, 175000000000.0], 'p': [0.092, 0.899]}
    """
    params = _model_sizes(np.ravel(params))
    curves = mirage_predictions(fit.law.loss(params), lengths, shape=fit.shape)
    curves.insert(0, "params", np.repeat(params, len(list(lengths))))
    for prefix in fit.prefix_laws:
        rows = curves["length"] == prefix.length
        if rows.any() and not prefix.law.problem:
            curves.loc[rows, "accuracy"] = np.exp(-prefix.length * prefix.law.loss(curves.loc[rows, "params"]))
            curves.loc[rows, "brier"] = (1.0 - curves.loc[rows, "accuracy"]) ** 2
    return curves
