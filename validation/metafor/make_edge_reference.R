#!/usr/bin/env Rscript
# Generates tests/reference/metafor_edge.json: metafor's answers on numerical edge cases
# (k = 1, k = 2 with Knapp-Hartung, all-zero and double-zero event tables, tau2 on the
# boundary, identical studies, huge and tiny sampling variances, and an REML fit that
# does not converge with metafor's default control) for tests/test_edge_cases.py.
#
# Run from the repository root:
#   Rscript validation/metafor/make_edge_reference.R
#
# Deterministic (fixed inputs, no timestamps, no randomness): running it twice gives a
# byte-identical file.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "metafor_edge.json")
if (!dir.exists(dirname(out_path))) {
  stop("Run from the repository root (tests/reference/ not found).")
}

# ---------------------------------------------------------------------------
# helpers (as in make_reference.R)
# ---------------------------------------------------------------------------

num <- function(x) {
  if (is.null(x) || length(x) == 0L) return(NA_real_)
  x <- as.numeric(x)[1L]
  if (!is.finite(x)) NA_real_ else x
}
numv <- function(x) {
  x <- as.numeric(x)
  x[!is.finite(x)] <- NA_real_
  I(x)
}
nonfinite <- function(lst) {
  bad <- character(0)
  for (nm in names(lst)) {
    v <- lst[[nm]]
    if (is.numeric(v) && length(v) >= 1L && any(!is.finite(v))) {
      bad <- c(bad, paste0(nm, "=", paste(format(v[!is.finite(v)]), collapse = ",")))
    }
  }
  I(bad)
}
# evaluate expr, capturing warnings and the error message (if any)
capture <- function(expr) {
  warns <- character(0)
  val <- withCallingHandlers(
    tryCatch(expr, error = function(e) e),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  if (inherits(val, "error")) {
    list(value = NULL, error = conditionMessage(val), warnings = I(unique(warns)))
  } else {
    list(value = val, error = NULL, warnings = I(unique(warns)))
  }
}

TIGHT <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)
TIGHT_STR <- "control=list(tol=1e-12, threshold=1e-12, maxiter=10000)"
# metafor's threshold and tol are absolute: with tau2 ~ 1e-7 (case tiny_vi) 1e-12 still leaves a
# relative error of ~1e-6, so that case is re-fitted with thresholds scaled down accordingly
TIGHTER <- list(tol = 1e-20, threshold = 1e-20, maxiter = 10000)
TIGHTER_STR <- "control=list(tol=1e-20, threshold=1e-20, maxiter=10000)"

# one rma.uni fit + predict(), as a JSON-ready list
fit_entry <- function(case, yi, vi, method, test, control = NULL, control_str = NULL) {
  call_str <- sprintf('rma(yi, vi, method="%s", test="%s"%s)', method, test,
                      if (is.null(control_str)) "" else paste0(", ", control_str))
  res <- capture({
    fit <- if (is.null(control)) rma(yi, vi, method = method, test = test)
           else rma(yi, vi, method = method, test = test, control = control)
    list(fit = fit, pr = predict(fit))
  })
  e <- list(case = case, method = method, test = test, call = call_str,
            control = if (is.null(control_str)) NA else control_str, k = length(yi))
  if (is.null(res$value)) {
    return(c(e, list(error = res$error, warnings = res$warnings)))
  }
  fit <- res$value$fit; pr <- res$value$pr
  raw <- list(beta = c(fit$beta)[1], se = fit$se, zval = fit$zval, pval = fit$pval,
              ci_lb = fit$ci.lb, ci_ub = fit$ci.ub,
              tau2 = if (method == "EE") 0 else fit$tau2,
              I2 = fit$I2, H2 = fit$H2, QE = fit$QE, QEp = fit$QEp,
              pi_lb = pr$pi.lb, pi_ub = pr$pi.ub)
  c(e, lapply(raw, num), list(
    test_used = fit$test,                        # metafor switches knha -> z for k = 1
    dfs = if (fit$test == "knha") num(fit$dfs) else NA,
    error = NA,
    warnings = res$warnings,
    nonfinite_in_R = nonfinite(raw)))
}

# ---------------------------------------------------------------------------
# pooling cases
# ---------------------------------------------------------------------------

methods <- c("REML", "DL", "PM", "ML", "SJ", "HE", "EE")
iterative <- c("REML", "ML", "PM")

cases <- list(
  list(case = "k1", yi = 0.4, vi = 0.04, methods = c("REML", "DL"), tests = c("z", "knha"),
       purpose = paste("A single study. metafor fits it (tau2 = 0, Q = 0, I2 = 0) and switches",
                       "test='knha' to 'z' with a warning; our library reports the study itself",
                       "with a z interval and no tau2 (NaN), so estimate/se/CI/p are compared.")),
  list(case = "k1_negative", yi = -1.25, vi = 0.3, methods = "REML", tests = "z",
       purpose = "A single study with a negative effect and a wide interval."),
  list(case = "k2_knha", yi = c(-0.35, 0.12), vi = c(0.05, 0.02), methods = methods,
       tests = c("knha", "z"),
       purpose = paste("Two studies under Knapp-Hartung: t with 1 df (crit 12.706), so the CI and",
                       "prediction interval are very wide; every estimator.")),
  list(case = "k2_close", yi = c(0.30, 0.32), vi = c(0.04, 0.05), methods = methods,
       tests = c("knha", "z"),
       purpose = paste("Two nearly equal studies: tau2 = 0 for every estimator except SJ (one-step,",
                       "never exactly 0), and a knha scale factor far below 1 (not truncated).")),
  list(case = "tau2_boundary", yi = c(0.10, 0.15, 0.12, 0.20, 0.05),
       vi = c(0.04, 0.05, 0.03, 0.06, 0.02), methods = methods, tests = c("knha", "z"),
       purpose = paste("Q below its df: REML/ML/PM/DL/HE tau2 on the boundary 0 (REML's score is",
                       "negative at 0); I2 = 0 and the prediction interval equals the CI.")),
  list(case = "identical", yi = rep(0.5, 4), vi = rep(0.1, 4), methods = methods,
       tests = c("knha", "z"),
       purpose = paste("Four identical studies (same yi and vi): QE = 0, tau2 = 0; under knha",
                       "metafor's RSS is below .Machine$double.eps so s2w = 0: se = 0, t = Inf",
                       "(null), p = 0, and CI and PI collapse to the estimate.")),
  list(case = "identical_yi", yi = rep(0.3, 5), vi = c(0.1, 0.2, 0.05, 0.3, 10),
       methods = methods, tests = c("knha", "z"),
       purpose = paste("Five equal effects (0.3, not exact in binary) with unequal variances: the",
                       "weighted mean is 0.3 only up to rounding, yet metafor's QE (from centred",
                       "yi) is 0 and its knha RSS is below .Machine$double.eps, so se = 0 again.")),
  list(case = "huge_tiny_vi", yi = c(0.1, 2.5, -1.3, 0.8, 3.9, -2.2),
       vi = c(1e-8, 1e4, 1e-3, 50, 0.5, 1e-6), methods = methods, tests = c("knha", "z"),
       purpose = paste("Sampling variances from 1e-8 to 1e4 (ratio 1e12): metafor warns that the",
                       "ratio is extremely large; the 1e-8 study dominates the weights.")),
  list(case = "tiny_vi", yi = c(0.2001, 0.2003, 0.1998, 0.2010),
       vi = c(1e-8, 2e-8, 5e-9, 1e-7), methods = methods, tests = c("knha", "z"),
       tight = TIGHTER, tight_str = TIGHTER_STR,
       purpose = paste("Only very precise studies (vi 5e-9..1e-7) with differences of the same",
                       "order: tau2 ~ 1e-7, so metafor's absolute convergence thresholds matter",
                       "(default PM is off by a factor 400); the tight fit uses thresholds 1e-20.")),
  list(case = "huge_vi", yi = c(12, -30, 45, 3), vi = c(1e3, 5e3, 1e4, 2e3),
       methods = methods, tests = c("knha", "z"),
       purpose = "Only very imprecise studies (vi 1e3..1e4): tau2 0 for most estimators."),
  list(case = "reml_nonconvergent",
       yi = c(-2.316, -0.9448, -1.792, -0.227, 0.262, -0.85, 0.3294),
       vi = c(0.4647, 1.941, 10.99, 23.6, 3.476, 2.832, 0.0002953),
       methods = c("REML", "DL"), tests = c("z", "knha"),
       purpose = paste("Found by a seeded search (set.seed(1), 20000 random data sets): metafor's",
                       "REML Fisher scoring does not converge within the default maxiter = 100",
                       "(error recorded); with a tight control it converges to the unique REML",
                       "root. DL is included as the fallback value."))
)

fits <- list()
for (d in cases) {
  for (m in d$methods) {
    for (tt in d$tests) {
      # metafor's default control: what an R user gets
      fits[[length(fits) + 1L]] <- fit_entry(d$case, d$yi, d$vi, m, tt)
      # iterative estimators again with a tight control: close to the exact root
      if (m %in% iterative) {
        ctl <- if (is.null(d$tight)) TIGHT else d$tight
        ctl_str <- if (is.null(d$tight_str)) TIGHT_STR else d$tight_str
        fits[[length(fits) + 1L]] <- fit_entry(d$case, d$yi, d$vi, m, tt, ctl, ctl_str)
      }
    }
  }
}
# the non-convergent case with a few iterations only (the brief's recipe for a failure)
nc <- cases[[length(cases)]]
fits[[length(fits) + 1L]] <- fit_entry(nc$case, nc$yi, nc$vi, "REML", "z",
                                       list(maxiter = 3), "control=list(maxiter=3)")

datasets <- lapply(cases, function(d) list(case = d$case, purpose = d$purpose,
                                           yi = numv(d$yi), vi = numv(d$vi), k = length(d$yi)))

# ---------------------------------------------------------------------------
# escalc on zero-event tables
# ---------------------------------------------------------------------------

tables <- list(
  list(table = "all_zero",
       ai = c(0, 0, 0), n1i = c(10, 20, 15), ci = c(0, 0, 0), n2i = c(12, 18, 15),
       purpose = "No events in either arm of any study (every table double-zero)."),
  list(table = "mixed_zero",
       ai = c(0, 2, 0, 5, 8), n1i = c(20, 25, 15, 30, 8), ci = c(0, 0, 3, 4, 8), n2i = c(20, 24, 15, 30, 8),
       purpose = paste("Double-zero (study 1), a zero in one arm (2, 3), no zero (4), and all",
                       "events in both arms (5: bi = di = 0, dropped too by drop00=TRUE)."))
)

escalc_entries <- list()
pooled_zero <- list()
for (tb in tables) {
  for (measure in c("RR", "OR")) {
    for (d00 in c(FALSE, TRUE)) {
      call_str <- sprintf(paste0('escalc(measure="%s", ai=ai, bi=n1i-ai, ci=ci, di=n2i-ci, ',
                                 'add=1/2, to="only0", drop00=%s)'), measure, d00)
      es <- escalc(measure = measure, ai = tb$ai, bi = tb$n1i - tb$ai, ci = tb$ci,
                   di = tb$n2i - tb$ci, add = 1/2, to = "only0", drop00 = d00)
      escalc_entries[[length(escalc_entries) + 1L]] <- list(
        table = tb$table, measure = measure, drop00 = d00, call = call_str, purpose = tb$purpose,
        ai = numv(tb$ai), n1i = numv(tb$n1i), ci = numv(tb$ci), n2i = numv(tb$n2i),
        yi = numv(es$yi), vi = numv(es$vi))
      # pooled with REML + knha, tight control, on the rows escalc did not set to NA
      ok <- is.finite(es$yi)
      res <- capture(rma(es$yi[ok], es$vi[ok], method = "REML", test = "knha", control = TIGHT))
      e <- list(table = tb$table, measure = measure, drop00 = d00, k = sum(ok),
                call = paste0("rma(yi, vi, method=\"REML\", test=\"knha\", ", TIGHT_STR,
                              ") on the finite rows"))
      if (is.null(res$value)) {
        e <- c(e, list(error = res$error, warnings = res$warnings))
      } else {
        f <- res$value
        e <- c(e, list(beta = num(f$beta), se = num(f$se), ci_lb = num(f$ci.lb), ci_ub = num(f$ci.ub),
                       tau2 = num(f$tau2), error = NA, warnings = res$warnings))
      }
      pooled_zero[[length(pooled_zero) + 1L]] <- e
    }
  }
}

# ---------------------------------------------------------------------------
# assemble + write
# ---------------------------------------------------------------------------

notes <- paste(
  "All intervals at level=95. 'fits' holds one entry per case x method x test with metafor's",
  "default control (control null), and for REML/ML/PM a second entry with the tight control",
  "(control given). Values are rma.uni's beta, se, zval (t under knha), pval, ci_lb, ci_ub, tau2",
  "(0 written for EE), I2, H2, QE, QEp, and predict()'s pi_lb/pi_ub (null for EE: predict gives",
  "no PI there). 'test_used' is fit$test (metafor uses z for k = 1 whatever test says). A fit",
  "that failed has 'error' (the message) and no values. Non-finite values are null and listed",
  "in nonfinite_in_R. escalc: add=1/2, to='only0'; drop00=FALSE keeps double-zero tables",
  "(0.5 added to all four cells), drop00=TRUE sets their yi/vi to NA (written null), including",
  "tables with all events in both arms. The Python library keeps double-zero tables",
  "(drop00=FALSE, metafor's default).")

x <- list(
  source = list(
    script = "validation/metafor/make_edge_reference.R",
    command = "Rscript validation/metafor/make_edge_reference.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    tight_control = TIGHT_STR,
    tighter_control = paste(TIGHTER_STR, "(case tiny_vi only)"),
    calls = I(c(
      'rma(yi, vi, method=<m>, test=<t>) then predict(fit)',
      sprintf('rma(yi, vi, method=<m>, test=<t>, %s) for REML/ML/PM', TIGHT_STR),
      sprintf('rma(yi, vi, method=<m>, test=<t>, %s) for REML/ML/PM on tiny_vi', TIGHTER_STR),
      'rma(yi, vi, method="REML", test="z", control=list(maxiter=3)) on reml_nonconvergent',
      'escalc(measure=<RR|OR>, ai, bi, ci, di, add=1/2, to="only0", drop00=<FALSE|TRUE>)')),
    notes = notes),
  datasets = datasets,
  fits = fits,
  escalc = escalc_entries,
  escalc_pooled = pooled_zero
)

write_json(x, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE,
           null = "null", na = "null")
cat("wrote", out_path, "\n")
