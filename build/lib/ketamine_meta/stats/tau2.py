"""τ² estimators of the random-effects model: one implementation for the scalar and batched engines.

:func:`estimate` runs every estimator (metafor's names and definitions, truncated at 0) on an
*evaluator* that knows how to compute the estimating equations at given τ²:

* :class:`Intercept` — many intercept-only meta-analyses at once, one per column of a (k, D)
  array (absent studies: ``y = 0``, ``v = ∞``, so their weight is exactly 0);
* :class:`Dense` — one model with a (k, p) design matrix, with the dense ``P`` matrix.

Both give the same quantities, so the search below is written once. With ``w_i = 1/(v_i + τ²)``,
``W = diag(w)`` and ``P = W - W X (X'WX)⁻¹ X'W`` (``dP/dτ² = -P²``):

* REML: ``f(τ²) = y'P²y - tr(P)``,   ``f' = -2 y'P³y + tr(P²)``,
  ``log L_R = -½ [Σ log(v_i + τ²) + log |X'WX| + y'Py]`` (+ const);
* ML:   ``f(τ²) = y'P²y - Σ w_i``,  ``f' = -2 y'P³y + Σ w_i²``,
  ``log L = -½ [Σ log(v_i + τ²) + y'Py]`` (+ const);
* PM:   ``f(τ²) = y'Py - (k - p)``, ``f' = -y'P²y`` (decreasing: at most one root).

**Global maximum for REML and ML.** The (restricted) likelihood can have two peaks (a boundary
maximum at 0 and an interior one, or two interior ones), so a root of ``f`` is not enough:

1. *A bracket for every maximum.* With RSS the OLS residual sum of squares, ``y'P²y ≤
   RSS/(min v + τ²)²`` and ``tr(P) ≥ (k - p)/(max v + τ²)``, so ``f < 0`` for every
   ``τ² > U = max(max v, 2 RSS/(k - p))`` (ML: ``2 RSS/k``; PM: ``U = RSS/(k - p) - min v``).
   Every maximum lies in ``[0, U]``.
2. *A grid on which the score changes sign at each maximum.* ``f`` is a rational function whose
   poles all lie at ``τ² ≤ -min v`` (at ``-v_i`` and at the zeros of ``Σ w_i``, which are
   negative), so around any ``τ² ≥ 0`` it varies on the scale ``τ² + min v``. The grid is
   therefore uniform in ``log(τ² + min v)`` from ``τ² = 0`` to ``U``, with consecutive points in
   the ratio ``_RHO = 1.2`` or less (on 6,000 simulated two-peaked data sets, k = 3..10, a ratio of
   1.2 picks the same maximum as a 2,000-point grid every time; 1.5 missed 7, all with
   log-likelihoods within 3e-4 of each other).
3. *Every local maximum.* The boundary ``τ² = 0`` is a candidate when ``f(0) ≤ 0``; every grid
   cell where ``f`` goes from ``> 0`` to ``≤ 0`` holds an interior maximum, which safeguarded
   Newton (bisection when a step leaves the cell) finds to machine precision.
4. *The highest.* When a column has more than one candidate, the log-likelihoods are compared;
   a tie (to the last bit) goes to the smaller τ².

What this cannot see: two stationary points inside one grid cell (a peak narrower than 20 % of
``τ² + min v``). metafor's Fisher scoring finds the maximum its start value (by default a DL-type
estimate) leads to, and ``rma(..., control=list(tau2.init=...))`` started at the best grid point
gives the same τ² as this search (``tests/reference/metafor_bimodal.json``).

**The fast path.** Most likelihoods have one peak, and that can be proven with a few evaluations
instead of the grid's G (:func:`_certify`, :func:`_global_max`): the nonzero eigenvalues of ``P``
lie in ``[1/(max v + τ²), 1/(min v + τ²)]``, which bounds how fast ``log(y'P²y / tr(P))`` and the
two parts of ``f'`` can change; from ``f(0)`` and the Newton root (started at DL, as metafor) the
sign of ``f`` is then proven on all of ``[0, ∞)``. A proven column has one maximum, which the grid
would find too (the same root, to ~1e-15 relative); any other column gets the grid. The fast path
works for the intercept-only evaluator; :class:`Dense` (meta-regression) always uses the grid.

A search that fails (a non-finite score, or Newton without convergence after ``_MAX_NEWTON``
steps — neither seen on finite data) falls back to DL; :func:`estimate` reports which columns did."""

from __future__ import annotations

import numpy as np

from ketamine_meta.stats.maximise import GRID_CELLS, colsum, global_max, grid_max, refine, upper

METHODS = ("REML", "DL", "PM", "ML", "SJ", "HE", "EE")


TESTS = ("z", "knha")


class Intercept:
    """Intercept-only models, one per column of validated (k, D) arrays (absent: y = 0, v = ∞)."""

    p = 1

    def __init__(self, y, v, m, k):
        y, v, m = (np.ascontiguousarray(a) for a in (y, v, m))  # C order: see colsum
        self.y, self.v, self.m, self.k = y, v, m, k
        present = m > 0
        self.vmin = np.where(present, v, np.inf).min(axis=0)
        self.vmax = np.where(present, v, 0.0).max(axis=0)
        # centred on the unweighted mean (absent studies stay 0): the same equations, less cancellation
        self.ybar = colsum(y * m) / np.maximum(k, 1)
        self.y = (y - self.ybar) * m
        self.rss = colsum(self.y**2)

    @property
    def size(self):
        return self.y.shape[1]

    def sub(self, cols) -> Intercept:
        """The columns ``cols`` (repeats allowed) as a new evaluator."""
        new = object.__new__(Intercept)
        for name in ("y", "v", "m"):
            setattr(new, name, np.ascontiguousarray(getattr(self, name)[:, cols]))  # see colsum
        for name in ("k", "vmin", "vmax", "ybar", "rss"):
            setattr(new, name, getattr(self, name)[cols])
        return new

    def closed(self, method):
        """DL, HE or SJ (closed forms) per column."""
        y, v, m, k = self.y, self.v, self.m, self.k
        if method == "DL":
            w = 1 / v
            sw = colsum(w)
            beta = colsum(w * y) / sw
            q = colsum(w * (y - beta) ** 2)
            return np.maximum(0.0, (q - (k - 1)) / (sw - colsum(w * w) / sw))
        if method == "HE":
            # tr(H diag v) with H = I - 11'/k is Σ v (1 - 1/k)
            trhv = colsum(np.where(m > 0, v, 0.0)) * (1 - 1 / k)
            return np.maximum(0.0, (self.rss - trhv) / (k - 1))
        # SJ: metafor starts from the unweighted variance of y with denominator k
        t0 = self.rss / k
        q0 = self.eq("PM", t0)[0] + (k - 1)
        return np.where(t0 == 0, 0.0, np.maximum(0.0, t0 * q0 / (k - 1)))

    def eq(self, method, t, deriv=False):
        """``f(τ²)`` (and ``f'`` if ``deriv``) per column; ``t`` has shape (..., D)."""
        f, d, _ = self._eval(method, t, deriv, False)
        return f, d

    def pieces(self, method, t):
        """``f`` and its parts at ``t`` (shape (..., D)): ``f = A - B``, ``f' = -2C + D`` with
        ``A = y'P²y``, ``C = y'P³y`` and ``B = tr(P)``, ``D = tr(P²)`` (REML) or ``B = Σ w``,
        ``D = Σ w²`` (ML); used by the proof of one peak (:func:`certify`)."""
        f, _, parts = self._eval(method, t, True, True)
        return f, parts

    def _eval(self, method, t, deriv, parts):
        """One pass over the studies: ``f``, ``f'`` (if ``deriv``) and, if ``parts``, ``(A, B, C, D)``
        with ``f = A - B`` and ``f' = -2C + D`` (``A = y'P²y``, ``C = y'P³y``; REML: ``B = tr(P)``,
        ``D = tr(P²)``; ML: ``B = Σ w``, ``D = Σ w²``)."""
        y, v = self.y, self.v
        w = 1 / (v + t[..., None, :])
        sw = colsum(w)
        beta = colsum(w * y) / sw
        r = y - beta[..., None, :]  # only ever used multiplied by w, which is 0 for absent studies
        a = w * r  # Py
        aa = colsum(a * a)  # y'P²y
        if method == "PM":
            return colsum(a * r) - (self.k - 1), -aa, None
        w2 = w * w
        sw2 = colsum(w2)
        f = aa - sw + sw2 / sw if method == "REML" else aa - sw
        if not deriv:
            return f, None, None
        wa = w * a
        swa = colsum(wa)
        apa = colsum(wa * a) - swa * swa / sw  # y'P³y
        if method == "REML":
            tr2 = sw2 - 2 * colsum(w2 * w) / sw + (sw2 / sw) ** 2  # tr(P²)
            return f, -2 * apa + tr2, ((aa, sw - sw2 / sw, apa, tr2) if parts else None)
        return f, -2 * apa + sw2, ((aa, sw, apa, sw2) if parts else None)

    def loglik(self, method, t):
        """Log (restricted) likelihood without its constant, per column, at τ² = ``t`` (D,)."""
        vv = np.where(self.m > 0, self.v, 1.0)
        w = 1 / (self.v + t)
        sw = colsum(w)
        beta = colsum(w * self.y) / sw
        q = colsum(w * (self.y - beta) ** 2)
        out = -0.5 * (colsum(self.m * np.log(vv + t)) + q)
        return out - 0.5 * np.log(sw) if method == "REML" else out

    def grid_eq(self, method, T):
        """``f`` on a grid ``T`` of shape (G, D), in blocks that bound the memory used."""
        g, d = T.shape
        step = max(1, GRID_CELLS // (g * self.y.shape[0]))
        if step >= d:
            return self.eq(method, T)[0]
        return np.concatenate(
            [self.sub(slice(i, i + step)).eq(method, T[:, i : i + step])[0] for i in range(0, d, step)], axis=1
        )


class Dense:
    """One model ``y = Xβ + u + e`` with a dense (k, p) design matrix; arrays of τ² are separate fits."""

    def __init__(self, y, v, X):
        self.y, self.v, self.X = y, v, X
        k, self.p = X.shape
        self.k = np.array([float(k)])
        self.vmin, self.vmax = np.array([v.min()]), np.array([v.max()])
        res = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
        self.rss = np.array([float(res @ res)])

    size = 1

    def sub(self, cols) -> Dense:
        return self  # one model: every "column" is this model at another τ²

    def _p(self, t):
        """``P`` for each τ² in the 1-D array ``t``: shape (len(t), k, k); and the weights."""
        w = 1 / (self.v[None, :] + t[:, None])
        wx = w[:, :, None] * self.X[None]
        xtwx = np.einsum("nki,kj->nij", wx, self.X)
        P = -wx @ np.linalg.solve(xtwx, np.swapaxes(wx, 1, 2))
        idx = np.arange(self.X.shape[0])
        P[:, idx, idx] += w
        return P, w, xtwx

    def closed(self, method):
        y, v, X = self.y, self.v, self.X
        k, p = X.shape
        if method == "DL":
            P0 = self._p(np.zeros(1))[0][0]
            return np.array([max(0.0, (float(y @ P0 @ y) - (k - p)) / float(np.trace(P0)))])
        if method == "HE":
            H = np.eye(k) - X @ np.linalg.pinv(X.T @ X) @ X.T
            return np.array([max(0.0, (float(y @ H @ y) - float(np.trace(H @ np.diag(v)))) / (k - p))])
        # SJ: metafor starts from the unweighted variance of y (denominator k), whatever X is;
        # y'Py >= 0 exactly but rounds to -1e-33 for studies equal up to an ulp: truncate at 0
        tau2_0 = float(np.var(y))
        if tau2_0 == 0:
            return np.zeros(1)
        P = self._p(np.array([tau2_0]))[0][0]
        return np.array([max(0.0, tau2_0 * float(y @ P @ y) / (k - p))])

    def eq(self, method, t, deriv=False):
        shape = np.shape(t)
        t = np.asarray(t, dtype=float).ravel()
        P, w, _ = self._p(t)
        Py = P @ self.y
        k, p = self.X.shape
        if method == "PM":
            return (Py @ self.y - (k - p)).reshape(shape), (-(Py * Py).sum(axis=1)).reshape(shape)
        yp2y = (Py * Py).sum(axis=1)
        f = yp2y - (np.trace(P, axis1=1, axis2=2) if method == "REML" else w.sum(axis=1))
        if not deriv:
            return f.reshape(shape), None
        yp3y = np.einsum("ni,nij,nj->n", Py, P, Py)
        tr2 = np.einsum("nij,nji->n", P, P) if method == "REML" else (w * w).sum(axis=1)
        return f.reshape(shape), (-2 * yp3y + tr2).reshape(shape)

    def loglik(self, method, t):
        t = np.asarray(t, dtype=float).ravel()
        P, _, xtwx = self._p(t)
        out = -0.5 * (np.log(self.v[None, :] + t[:, None]).sum(axis=1) + P @ self.y @ self.y)
        return out - 0.5 * np.linalg.slogdet(xtwx)[1] if method == "REML" else out

    def grid_eq(self, method, T):
        return self.eq(method, T)[0]


def estimate(ev, method):
    """τ² per column of ``ev`` by ``method``, DL where the search failed, and which ones converged.

    Returns
    -------
    tau2, tau2_dl : arrays (D,), the estimate (DL substituted where it failed) and the DL estimate.
    converged : bool array (D,), False where an iterative estimator failed and DL was used.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    dl = ev.closed("DL")
    converged = np.ones(ev.size, dtype=bool)
    if method == "EE":
        return np.zeros(ev.size), dl, converged
    if method == "DL":
        return dl, dl, converged
    if method in ("HE", "SJ"):
        return ev.closed(method), dl, converged
    with np.errstate(over="ignore", invalid="ignore"):
        if method in ("REML", "ML") and hasattr(ev, "pieces"):
            f0, parts0 = ev.pieces(method, np.zeros(ev.size))
        else:
            f0, parts0 = ev.eq(method, np.zeros(ev.size))[0], None
    tau2 = np.zeros(ev.size)
    if method == "PM":
        # Q decreases in τ²: one root, bracketed by (0, U), started at the DL estimate
        need = np.flatnonzero(f0 > 0)
        if need.size:
            u = upper(ev, method)[need]
            sub = ev if need.size == ev.size else ev.sub(need)
            tau2[need], converged[need] = refine(sub, method, np.zeros(need.size), u, dl[need])
    elif parts0 is None:
        tau2, converged = grid_max(ev, method, f0)
    else:
        tau2, converged = global_max(ev, method, f0, parts0, dl)
    converged &= np.isfinite(tau2)
    return np.where(converged, tau2, dl), dl, converged
