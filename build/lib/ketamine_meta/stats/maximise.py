"""The global maximum of the (restricted) log-likelihood in tau^2 on [0, inf): safeguarded Newton on
a bracket, a proof of unimodality where one can be given cheaply, and a grid over the whole range
where it cannot (see :func:`global_max`). Shared by the single-fit and the batched paths through
:func:`ketamine_meta.stats.tau2.estimate`.
"""

from __future__ import annotations

import numpy as np

_RHO = 1.2  # largest ratio (τ²_{g+1} + min v) / (τ²_g + min v) of consecutive grid points


_MAX_NEWTON = 200  # safeguarded Newton on a finite bracket: ~5 steps, at worst ~60 halvings


_PROBES = 4  # rounds of probes that extend a proof of unimodality before the grid takes over


_CERT_EPS = 1e-9  # margin of every inequality of the unimodality proof (log scale; rounding is ~1e-15)


_COMPACT = 256  # Newton drops finished columns from a batch only above this many (see refine)


GRID_CELLS = 1 << 19  # grid points x studies x columns evaluated at once (memory bound, ~4 MB)


def colsum(x):
    """Sum over the studies (axis -2), always in study order, so that a fit does not change in the
    last bit with the fits that share its batch: NumPy adds the rows of a C-ordered (k, n ≥ 2)
    array in order but a lone or column-major column pairwise, so the evaluators keep C order
    (``sub`` copies) and a lone column is summed by ``np.add.accumulate`` (in order). The ufunc
    methods are called directly: ``x.sum`` and ``np.cumsum`` add ~0.3-2 µs of Python per call, and
    a small batch makes thousands of these calls."""
    if x.shape[-1] == 1:
        return np.add.accumulate(x, axis=-2)[..., -1, :]
    return np.add.reduce(x, axis=-2)


def upper(ev, method):
    """``U`` of step 1 in the module docstring, nudged up so that ``f(U) < 0`` strictly."""
    df = ev.k - ev.p
    if method == "REML":
        u = np.maximum(ev.vmax, 2 * ev.rss / df)
    elif method == "ML":
        u = np.maximum(ev.vmax, 2 * ev.rss / ev.k)
    else:
        u = np.maximum(ev.rss / df - ev.vmin, 0.0)
    return u * (1 + 1e-6)


def refine(ev, method, lo, hi, x0):
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


def grid_max(ev, method, f0):
    """REML/ML τ² per column: the best of the boundary and every interior maximum on the grid
    (module docstring, steps 1-4); the reference that :func:`global_max` falls back to."""
    d = ev.size
    u, m = upper(ev, method), ev.vmin
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
    root, root_ok = refine(sub, method, lo, hi, 0.5 * (lo + hi))
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
    """``c₁(τ²) = 2 log(max v + τ²) - log(min v + τ²)``: ``L + c₁`` is nonincreasing (:func:`certify`)."""
    return 2 * np.log(M + t) - np.log(m + t)


def _c2(t, m, M):
    """``c₂(τ²) = 2 log(min v + τ²) - log(max v + τ²)``: ``L + c₂`` is nondecreasing (:func:`certify`)."""
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
    from ``C(p)``, ``D(p)`` (:func:`certify`); ``p`` itself where ``f'(p)`` is not surely negative."""
    rho = 2 * parts[2] / parts[3] * (1 - _CERT_EPS)
    edge = (m + p) / np.sqrt(rho) - m if side < 0 else (m + p) * np.cbrt(rho) - m
    return np.where(rho > 1, edge, p)


def certify(ev, method, l0, x, parts, interior):
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


def global_max(ev, method, f0, parts0, start):
    """REML/ML τ² per column: the global maximum, by a proof of unimodality where one is cheap.

    Most likelihoods have one peak, and a few evaluations prove it (:func:`certify`); the grid
    (:func:`grid_max`) would then see the same single sign change (or none, with ``f(0) ≤ 0``) and
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
    tau2, converged : arrays (D,), as :func:`grid_max`.
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
        root, conv = refine(sub, method, np.zeros(inner.size), upper(sub, method), x0)
        x[inner] = np.where(conv, root, np.nan)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for whole, at_root in zip(parts, sub.pieces(method, np.where(conv, root, 0.0))[1]):
                whole[inner] = at_root
    with np.errstate(divide="ignore", invalid="ignore"):
        l0 = np.log(parts0[0]) - np.log(parts0[1])
    ok = certify(ev, method, l0, x, parts, interior)
    tau2 = np.where(ok, x, 0.0)
    rest = np.flatnonzero(~ok)
    if rest.size:
        tau2[rest], ok[rest] = grid_max(ev if rest.size == d else ev.sub(rest), method, f0[rest])
    return tau2, ok
