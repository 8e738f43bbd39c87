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
steps — neither seen on finite data) falls back to DL; :func:`estimate` reports which columns did.
"""

from __future__ import annotations

import numpy as np

METHODS = ("REML", "DL", "PM", "ML", "SJ", "HE", "EE")
TESTS = ("z", "knha")

_RHO = 1.2  # largest ratio (τ²_{g+1} + min v) / (τ²_g + min v) of consecutive grid points
_MAX_NEWTON = 200  # safeguarded Newton on a finite bracket: ~5 steps, at worst ~60 halvings
_PROBES = 4  # rounds of probes that extend a proof of unimodality before the grid takes over
_CERT_EPS = 1e-9  # margin of every inequality of the unimodality proof (log scale; rounding is ~1e-15)
_COMPACT = 256  # Newton drops finished columns from a batch only above this many (see _refine)
_GRID_CELLS = 1 << 19  # grid points x studies x columns evaluated at once (memory bound, ~4 MB)


def _colsum(x):
    """Sum over the studies (axis -2), always in study order, so that a fit does not change in the
    last bit with the fits that share its batch: NumPy adds the rows of a C-ordered (k, n ≥ 2)
    array in order but a lone or column-major column pairwise, so the evaluators keep C order
    (``sub`` copies) and a lone column is summed by ``np.add.accumulate`` (in order). The ufunc
    methods are called directly: ``x.sum`` and ``np.cumsum`` add ~0.3-2 µs of Python per call, and
    a small batch makes thousands of these calls."""
    if x.shape[-1] == 1:
        return np.add.accumulate(x, axis=-2)[..., -1, :]
    return np.add.reduce(x, axis=-2)


class Intercept:
    """Intercept-only models, one per column of validated (k, D) arrays (absent: y = 0, v = ∞)."""

    p = 1

    def __init__(self, y, v, m, k):
        y, v, m = (np.ascontiguousarray(a) for a in (y, v, m))  # C order: see _colsum
        self.y, self.v, self.m, self.k = y, v, m, k
        present = m > 0
        self.vmin = np.where(present, v, np.inf).min(axis=0)
        self.vmax = np.where(present, v, 0.0).max(axis=0)
        # centred on the unweighted mean (absent studies stay 0): the same equations, less cancellation
        self.ybar = _colsum(y * m) / np.maximum(k, 1)
        self.y = (y - self.ybar) * m
        self.rss = _colsum(self.y**2)

    @property
    def size(self):
        return self.y.shape[1]

    def sub(self, cols) -> Intercept:
        """The columns ``cols`` (repeats allowed) as a new evaluator."""
        new = object.__new__(Intercept)
        for name in ("y", "v", "m"):
            setattr(new, name, np.ascontiguousarray(getattr(self, name)[:, cols]))  # see _colsum
        for name in ("k", "vmin", "vmax", "ybar", "rss"):
            setattr(new, name, getattr(self, name)[cols])
        return new

    def closed(self, method):
        """DL, HE or SJ (closed forms) per column."""
        y, v, m, k = self.y, self.v, self.m, self.k
        if method == "DL":
            w = 1 / v
            sw = _colsum(w)
            beta = _colsum(w * y) / sw
            q = _colsum(w * (y - beta) ** 2)
            return np.maximum(0.0, (q - (k - 1)) / (sw - _colsum(w * w) / sw))
        if method == "HE":
            # tr(H diag v) with H = I - 11'/k is Σ v (1 - 1/k)
            trhv = _colsum(np.where(m > 0, v, 0.0)) * (1 - 1 / k)
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
        ``D = Σ w²`` (ML); used by the proof of one peak (:func:`_certify`)."""
        f, _, parts = self._eval(method, t, True, True)
        return f, parts

    def _eval(self, method, t, deriv, parts):
        """One pass over the studies: ``f``, ``f'`` (if ``deriv``) and, if ``parts``, ``(A, B, C, D)``
        with ``f = A - B`` and ``f' = -2C + D`` (``A = y'P²y``, ``C = y'P³y``; REML: ``B = tr(P)``,
        ``D = tr(P²)``; ML: ``B = Σ w``, ``D = Σ w²``)."""
        y, v = self.y, self.v
        w = 1 / (v + t[..., None, :])
        sw = _colsum(w)
        beta = _colsum(w * y) / sw
        r = y - beta[..., None, :]  # only ever used multiplied by w, which is 0 for absent studies
        a = w * r  # Py
        aa = _colsum(a * a)  # y'P²y
        if method == "PM":
            return _colsum(a * r) - (self.k - 1), -aa, None
        w2 = w * w
        sw2 = _colsum(w2)
        f = aa - sw + sw2 / sw if method == "REML" else aa - sw
        if not deriv:
            return f, None, None
        wa = w * a
        swa = _colsum(wa)
        apa = _colsum(wa * a) - swa * swa / sw  # y'P³y
        if method == "REML":
            tr2 = sw2 - 2 * _colsum(w2 * w) / sw + (sw2 / sw) ** 2  # tr(P²)
            return f, -2 * apa + tr2, ((aa, sw - sw2 / sw, apa, tr2) if parts else None)
        return f, -2 * apa + sw2, ((aa, sw, apa, sw2) if parts else None)

    def loglik(self, method, t):
        """Log (restricted) likelihood without its constant, per column, at τ² = ``t`` (D,)."""
        vv = np.where(self.m > 0, self.v, 1.0)
        w = 1 / (self.v + t)
        sw = _colsum(w)
        beta = _colsum(w * self.y) / sw
        q = _colsum(w * (self.y - beta) ** 2)
        out = -0.5 * (_colsum(self.m * np.log(vv + t)) + q)
        return out - 0.5 * np.log(sw) if method == "REML" else out

    def grid_eq(self, method, T):
        """``f`` on a grid ``T`` of shape (G, D), in blocks that bound the memory used."""
        g, d = T.shape
        step = max(1, _GRID_CELLS // (g * self.y.shape[0]))
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


def _upper(ev, method):
    """``U`` of step 1 in the module docstring, nudged up so that ``f(U) < 0`` strictly."""
    df = ev.k - ev.p
    if method == "REML":
        u = np.maximum(ev.vmax, 2 * ev.rss / df)
    elif method == "ML":
        u = np.maximum(ev.vmax, 2 * ev.rss / ev.k)
    else:
        u = np.maximum(ev.rss / df - ev.vmin, 0.0)
    return u * (1 + 1e-6)


def _refine(ev, method, lo, hi, x0):
    """Root of ``f`` in each bracket ``(lo, hi)`` with ``f(lo) > 0 ≥ f(hi)``, column by column of ``ev``.

    Safeguarded Newton: the bracket shrinks to the last points with ``f > 0`` and ``f ≤ 0``; a step
    that leaves it is replaced by the midpoint. A column stops when a Newton step is below
    ``10⁻¹⁰ τ²`` (Newton's error after a step ``s`` is ``O(s²)``: the root is then exact to machine
    precision) or the bracket is narrower than ``10⁻¹³ (τ² + min v)``. Returns the roots and
    whether each converged within ``_MAX_NEWTON`` steps.
    """
    n = lo.size
    x = np.clip(x0, lo, hi)
    x = np.where((x > lo) & (x < hi), x, 0.5 * (lo + hi))
    out, ok = np.full(n, np.nan), np.zeros(n, dtype=bool)
    scale = np.resize(ev.vmin, n)  # a Dense evaluator has one min v for all its brackets
    # the pairs held by `work` (all at first); finished ones stay in (their iterates are ignored)
    # until dropping them pays: masks cost a few operations a pass, gathering the live ones a dozen
    held, work, live = np.arange(n), ev, np.ones(n, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # once: a context costs ~3 µs
        for _ in range(_MAX_NEWTON):
            if held.size > _COMPACT and np.count_nonzero(live) < 0.5 * held.size:
                # copying costs about one evaluation: worth it only once most pairs are done
                keep = np.flatnonzero(live)
                held, work, live = held[keep], ev.sub(held[keep]), live[keep]
                x, lo, hi, scale = x[keep], lo[keep], hi[keep], scale[keep]
            f, d = work.eq(method, x, deriv=True)
            pos, zero = f > 0, f == 0
            lo, hi = np.where(pos, x, lo), np.where(pos, hi, x)
            step = f / d  # NaN or ±inf when d = 0: every comparison below is then False
            newton = x - step
            tol = 1e-13 * (x + scale)
            # a converged x is itself an end of the bracket, so a vanishing step must count as done
            # before the bracket test (else the midpoint would throw the root away)
            done = zero | (np.abs(step) <= 1e-10 * x + tol) | (hi - lo <= tol)
            step_ok = (newton >= lo) & (newton <= hi)
            x = np.where(zero, x, np.where(step_ok, newton, 0.5 * (lo + hi)))
            bad = ~np.isfinite(f)
            fin = live & done & ~bad
            if fin.any():
                idx = np.flatnonzero(fin)
                out[held[idx]], ok[held[idx]] = x[idx], True
            live &= ~(done | bad)
            if not live.any():
                break
    return out, ok


def _grid_max(ev, method, f0):
    """REML/ML τ² per column: the best of the boundary and every interior maximum on the grid
    (module docstring, steps 1-4); the reference that :func:`_global_max` falls back to."""
    d = ev.size
    u, m = _upper(ev, method), ev.vmin
    with np.errstate(divide="ignore"):
        need = np.ceil(np.log1p(u / m) / np.log(_RHO)).astype(int) + 1
    need = np.clip(need, 3, None)
    bucket = -(-need // 8) * 8  # columns with similar grids share one (G, D) evaluation
    pair_col, pair_lo, pair_hi = [], [], []
    for g in np.unique(bucket):
        cols = np.flatnonzero(bucket == g)
        s = np.linspace(0.0, 1.0, g)[:, None]
        T = m[cols] * ((u[cols] + m[cols]) / m[cols]) ** s - m[cols]
        T[0], T[-1] = 0.0, u[cols]
        f = ev.grid_eq(method, T) if cols.size == d else ev.sub(cols).grid_eq(method, T)
        f[0] = f0[cols]  # the boundary's sign exactly as decided below (same number, maybe other rounding)
        gi, ji = np.nonzero((f[:-1] > 0) & (f[1:] <= 0))
        pair_col.append(cols[ji])
        pair_lo.append(T[gi, ji])
        pair_hi.append(T[gi + 1, ji])
    pc, lo, hi = (np.concatenate(a) for a in (pair_col, pair_lo, pair_hi))
    order = np.argsort(pc, kind="stable")
    pc, lo, hi = pc[order], lo[order], hi[order]
    sub = ev if (pc.size == d and np.array_equal(pc, np.arange(d))) else ev.sub(pc)
    root, root_ok = _refine(sub, method, lo, hi, 0.5 * (lo + hi))
    boundary = f0 <= 0
    n_cand = np.bincount(pc, minlength=d) + boundary
    ok = (n_cand > 0) & (np.bincount(pc, weights=(~root_ok).astype(float), minlength=d) == 0)
    tau2 = np.zeros(d)
    one = np.flatnonzero(n_cand == 1)
    single = np.isin(pc, one)
    tau2[pc[single]] = root[single]  # boundary-only columns keep 0
    many = np.flatnonzero((n_cand > 1) & ok)
    if many.size:
        # compare log-likelihoods: candidates are (column, τ²) pairs, the boundary included
        sel = np.isin(pc, many)
        cc = np.concatenate([pc[sel], many[boundary[many]]])
        ct = np.concatenate([root[sel], np.zeros(int(boundary[many].sum()))])
        ll = ev.sub(cc).loglik(method, ct)
        best = np.lexsort((ct, -ll, cc))
        first = np.unique(cc[best], return_index=True)[1]
        tau2[cc[best][first]] = ct[best][first]
    return np.where(ok, tau2, np.nan), ok


def _c1(t, m, M):
    """``c₁(τ²) = 2 log(max v + τ²) - log(min v + τ²)``: ``L + c₁`` is nonincreasing (:func:`_certify`)."""
    return 2 * np.log(M + t) - np.log(m + t)


def _c2(t, m, M):
    """``c₂(τ²) = 2 log(min v + τ²) - log(max v + τ²)``: ``L + c₂`` is nondecreasing (:func:`_certify`)."""
    return 2 * np.log(m + t) - np.log(M + t)


def _roots(b, c):
    """Roots ``(small, large)`` of ``t² - b t + c = 0`` without cancellation; ``-∞`` for both if none."""
    disc = b * b - 4 * c
    sq = np.sqrt(np.maximum(disc, 0.0))
    big = 0.5 * (b + np.copysign(sq, b))  # the root of larger modulus: no cancellation
    other = np.where(big != 0, c / np.where(big != 0, big, 1.0), 0.0)
    small, large = np.minimum(big, other), np.maximum(big, other)
    return np.where(disc >= 0, small, -np.inf), np.where(disc >= 0, large, -np.inf)


def _c2_inverse(kappa, m, M):
    """The ``τ²`` with ``c₂(τ²) = κ`` (``c₂`` increases): the larger root of ``(m + τ²)² = e^κ (M + τ²)``."""
    e = np.exp(kappa)
    return _roots(e - 2 * m, m * m - e * M)[1]


def _c1_inverse(kappa, m, M):
    """Where ``c₁ = κ``: ``(falling, rising)``, the roots of ``(M + τ²)² = e^κ (m + τ²)`` on either
    side of ``c₁``'s minimum at ``M - 2m``; ``(-∞, -∞)`` where ``c₁ > κ`` everywhere."""
    e = np.exp(kappa)
    return _roots(e - 2 * M, M * M - e * m)


def _window(m, p, parts, side):
    """The end of the interval beyond ``p`` (``side`` -1: left, +1: right) on which ``f' < 0``,
    from ``C(p)``, ``D(p)`` (:func:`_certify`); ``p`` itself where ``f'(p)`` is not surely negative."""
    rho = 2 * parts[2] / parts[3] * (1 - _CERT_EPS)
    edge = (m + p) / np.sqrt(rho) - m if side < 0 else (m + p) * np.cbrt(rho) - m
    return np.where(rho > 1, edge, p)


def _certify(ev, method, l0, x, parts, interior):
    """Which columns provably have one maximum: at the root ``x`` (``interior``) or at ``x = 0``.

    ``interior``: ``f`` changes sign only at ``x``; else ``f ≤ 0`` at 0 and ``f < 0`` on ``(0, ∞)``.
    ``parts`` are ``(A, B, C, D)`` at ``x`` and ``l0 = L(0)``.

    With ``L = log A - log B`` (``f = A - B``, :meth:`Intercept.pieces`), ``m = min v``,
    ``M = max v``: the nonzero eigenvalues of ``P`` lie in ``[1/(M + τ²), 1/(m + τ²)]`` (the
    compression of ``W`` to the complement of ``1``), ``A' = -2 y'P³y`` and ``B' = -tr(P²)``
    (ML: ``-Σ w²``), so ``L' ∈ [-c₂', -c₁']`` and

    * ``L + c₁`` is nonincreasing, ``L + c₂`` nondecreasing (:func:`_c1`, :func:`_c2`): from a point
      ``p``, ``L > 0`` left of it while ``c₁ < c₁(p) + L(p)`` and right of it while
      ``c₂ < c₂(p) + L(p)``; ``L < 0`` right of it while ``c₁ > c₁(p) + L(p)``. ``c₁`` falls
      until ``M - 2m``, then rises;
    * ``C = y'P³y`` and ``D = tr(P²)`` (ML: ``Σ w²``) decrease, ``C (m + τ²)³`` and ``D (m + τ²)²``
      do not, so ``f' = -2C + D < 0`` from ``p`` to ``t_L`` and ``t_R`` with ``(m + p)/(m + t_L) =
      ρ^{1/2}``, ``(m + t_R)/(m + p) = ρ^{1/3}``, ``ρ = 2C(p)/D(p)`` (:func:`_window`).

    Certified (``f > 0`` on ``[0, x)``, ``f < 0`` on ``(x, ∞)``): the window around the root, then
    up to ``_PROBES`` rounds that evaluate ``f`` at the two frontiers of the proven region and
    extend it (the window and the reach from each frontier) until it covers ``[0, ∞)`` (left:
    ``[0, r₀)`` is proven by ``L(0) > 0`` via ``c₂``). Every inequality keeps a margin of
    ``_CERT_EPS`` on the log scale, so rounding cannot certify a column; a column that fails goes
    to the grid. tests/test_fast_path.py checks that both give the same τ².

    metafor has no equivalent: ``rma`` runs Fisher scoring from its start value and reports the
    maximum it reaches, which is this one whenever the proof succeeds (one maximum exists).

    Parameters
    ----------
    ev : :class:`Intercept` of the D columns.
    method : ``"REML"`` or ``"ML"``.
    l0 : ``L(0) = log A(0) - log B(0)`` per column (``-∞`` when ``y'P²y = 0``).
    x : the Newton root (``interior``) or 0, per column; NaN where Newton failed (not certified).
    parts : ``(A, B, C, D)`` at ``x`` per column (:meth:`Intercept.pieces`).
    interior : bool per column, ``f(0) > 0``.

    Returns
    -------
    bool array (D,): True where the column has exactly one maximum, at ``x``.
    """
    m, M = ev.vmin, ev.vmax
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lx = np.log(parts[0]) - np.log(parts[1])  # L(x): ~1e-16 at a root
        r0 = _c2_inverse(_c2(0.0, m, M) + l0 - _CERT_EPS, m, M)  # L > 0 on [0, r0)
        c1x = _c1(x, m, M)
        w_lo, w_hi = _window(m, x, parts, -1), _window(m, x, parts, 1)
        # frontiers: f > 0 is proven on (lo, x), f < 0 on (x, hi) and on (rise, ∞)
        lo = np.where(w_lo < x, np.minimum(w_lo, _c1_inverse(c1x + lx - _CERT_EPS, m, M)[0]), x)
        hi = np.where(w_hi > x, w_hi, x)
        rise = _c1_inverse(c1x + lx + _CERT_EPS, m, M)[1]
        left, right = ~interior | (lo <= r0), hi >= rise
        act = np.flatnonzero(~(left & right) & (left | (lo < x)) & (hi > x))
        for _ in range(_PROBES):
            if act.size == 0:
                break
            work = ev.sub(act)
            mm, MM = work.vmin, work.vmax
            pts = np.stack([np.maximum(lo[act], 0.0), hi[act]])
            a, b, c, d = work.pieces(method, pts)[1]
            lp = np.log(a) - np.log(b)
            # left frontier p, f(p) > 0: f > 0 through its window and while c₁ < c₁(p) + L(p)
            pl, ll = pts[0], lp[0] - _CERT_EPS
            reach = _c1_inverse(_c1(pl, mm, MM) + ll, mm, MM)[0]
            new_lo = np.minimum(np.minimum(_window(mm, pl, (a[0], b[0], c[0], d[0]), -1), reach), pl)
            lo[act] = np.where(left[act], lo[act], np.where(ll > 0, new_lo, np.nan))
            # right frontier q, f(q) < 0: f < 0 through its window and while c₁ > c₁(q) + L(q)
            q, lq = pts[1], lp[1] + _CERT_EPS
            fall, up = _c1_inverse(_c1(q, mm, MM) + lq, mm, MM)
            new_hi = np.maximum(np.maximum(_window(mm, q, (a[1], b[1], c[1], d[1]), 1), fall), q)
            hi[act] = np.where(right[act], hi[act], np.where(lq < 0, new_hi, np.nan))
            rise[act] = np.where(lq < 0, np.minimum(rise[act], up), rise[act])
            left[act], right[act] = left[act] | (lo[act] <= r0[act]), hi[act] >= rise[act]
            act = act[~(left[act] & right[act]) & ~np.isnan(lo[act]) & ~np.isnan(hi[act])]
        return left & right & np.isfinite(x)


def _global_max(ev, method, f0, parts0, start):
    """REML/ML τ² per column: the global maximum, by a proof of unimodality where one is cheap.

    Most likelihoods have one peak, and a few evaluations prove it (:func:`_certify`); the grid
    (:func:`_grid_max`) would then see the same single sign change (or none, with ``f(0) ≤ 0``) and
    refine the same root, so its ~16-40 evaluations per column are skipped. Columns with
    ``f(0) > 0`` are first solved by safeguarded Newton on ``[0, U]`` from ``start`` (DL, metafor's
    default start), which costs ~5 evaluations; columns with ``f(0) ≤ 0`` are checked at ``τ² = 0``.
    Every column that is not proven (two peaks, or a proof that needs more than ``_PROBES``
    rounds: ~0.1-0.5 % of ketamine-like data at k = 3-10, none at k = 50) gets the grid, the
    reference. metafor: ``rma(yi, vi, method="REML")``, whose Fisher scoring from the DL-type start
    reaches the same root whenever the likelihood has one peak.

    Parameters
    ----------
    ev : evaluator with ``pieces`` (:class:`Intercept`).
    method : ``"REML"`` or ``"ML"``.
    f0, parts0 : ``f(0)`` and ``(A, B, C, D)`` at 0 per column (:meth:`Intercept.pieces`).
    start : Newton's start per column (the DL estimate).

    Returns
    -------
    tau2, converged : arrays (D,), as :func:`_grid_max`.
    """
    d = ev.size
    interior = f0 > 0
    x, parts = np.zeros(d), [p.copy() for p in parts0]
    inner = np.flatnonzero(interior)
    if inner.size:
        sub = ev if inner.size == d else ev.sub(inner)
        # DL is 0 for ~10 % of these columns at k = 3-10 (DL truncates, f(0) > 0 all the same): start
        # those at Newton's step from 0 (f'(0) = D - 2C from the parts), not at the midpoint of
        # [0, U], which cost them 3-4 more iterations and every column of a small batch with them
        with np.errstate(divide="ignore", invalid="ignore"):
            from0 = f0[inner] / (2 * parts0[2][inner] - parts0[3][inner])
        x0 = np.where(start[inner] > 0, start[inner], from0)
        root, conv = _refine(sub, method, np.zeros(inner.size), _upper(sub, method), x0)
        x[inner] = np.where(conv, root, np.nan)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for whole, at_root in zip(parts, sub.pieces(method, np.where(conv, root, 0.0))[1]):
                whole[inner] = at_root
    with np.errstate(divide="ignore", invalid="ignore"):
        l0 = np.log(parts0[0]) - np.log(parts0[1])
    ok = _certify(ev, method, l0, x, parts, interior)
    tau2 = np.where(ok, x, 0.0)
    rest = np.flatnonzero(~ok)
    if rest.size:
        tau2[rest], ok[rest] = _grid_max(ev if rest.size == d else ev.sub(rest), method, f0[rest])
    return tau2, ok


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
            u = _upper(ev, method)[need]
            sub = ev if need.size == ev.size else ev.sub(need)
            tau2[need], converged[need] = _refine(sub, method, np.zeros(need.size), u, dl[need])
    elif parts0 is None:
        tau2, converged = _grid_max(ev, method, f0)
    else:
        tau2, converged = _global_max(ev, method, f0, parts0, dl)
    converged &= np.isfinite(tau2)
    return np.where(converged, tau2, dl), dl, converged
