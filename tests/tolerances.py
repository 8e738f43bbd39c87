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
