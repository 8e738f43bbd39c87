"""Named tolerances for comparisons with metafor (absolute, on the analysis scale)."""

#: escalc effect sizes and variances: closed-form, so only floating-point noise is allowed
#: (the JSON holds 15 significant digits).
EFFECT_ATOL = 1e-8
#: Closed-form τ² estimators (DL, HE, SJ) and the equal-effects model.
CLOSED_FORM_ATOL = 1e-8
#: Iterative estimators (REML, ML, PM) against metafor run with a tight convergence control
#: (``tight`` block in the JSON): our root finder solves to machine precision.
TIGHT_ATOL = 1e-7
#: Iterative estimators against metafor's *default* control: metafor stops when τ² changes by
#: less than 1e-5, which leaves its own τ² up to ~2.5e-5 from the root (seen on case k10, PM).
ITERATIVE_ATOL = 1e-4

# --- sensitivity diagnostics (tests/test_sensitivity.py, tests/reference/metafor_sensitivity.json) ---
#: leave1out / influence / regtest / cumul / funnel on DL fits: every refit is closed-form, so only
#: floating-point noise (and the JSON's 15 significant digits) separates us from metafor.
SENSITIVITY_CLOSED_FORM_ATOL = 1e-8
#: The same diagnostics on REML fits: each refit re-estimates τ² iteratively. The reference runs
#: metafor with control=list(threshold=1e-12, tol=1e-12, maxiter=10000), which its helpers pass to
#: every refit, and our root finder solves to machine precision; seen differences are <= 1e-10.
SENSITIVITY_TIGHT_ATOL = 1e-7
#: Property tests (tests/test_properties.py) compare a fit with the same fit on reordered studies:
#: only the order of floating-point sums changes, and the τ² root is solved to machine precision,
#: so results agree to a few ulps times the condition of the problem (vi spans 1e-4..1e2 there).
PROPERTY_RTOL = 1e-9
PROPERTY_ATOL = 1e-9
#: Relative tolerance for edge cases whose values are themselves tiny (tests/test_edge_cases.py,
#: case tiny_vi: vi ~ 1e-8, τ² ~ 1e-7), where any absolute tolerance above would accept anything.
#: Against metafor run with thresholds of 1e-20 (its thresholds are absolute) the seen relative
#: differences are <= 6e-11 (PM; our Brent search stops at an absolute 1e-15 in τ²).
SCALED_RTOL = 1e-8

# --- two-peaked likelihoods (tests/test_bimodal.py, tests/reference/metafor_bimodal.json) ---
#: τ² against metafor started at the best point of a 1,000-point grid of the likelihood with
#: threshold=1e-12: both are then at the same (global) maximum; seen differences are <= 1.5e-11.
BIMODAL_TAU2_ATOL = 1e-8
