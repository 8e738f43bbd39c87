#!/usr/bin/env Rscript
# Generates tests/reference/metafor_reference.json: pinned metafor reference
# values (escalc effect sizes, rma.uni fits across estimators/tests, and a
# categorical meta-regression + subgroup fits) for the Python test-suite.
#
# Run from the repository root:
#   Rscript validation/metafor/make_reference.R
#
# The output is deterministic (no timestamps, fixed inputs); running twice
# must give a byte-identical file.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "metafor_reference.json")
if (!dir.exists(dirname(out_path))) {
  stop("Run from the repository root (tests/reference/ not found).")
}

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

# numeric scalar -> JSON-safe value (non-finite -> NA -> null)
num <- function(x) {
  if (is.null(x) || length(x) == 0L) return(NA_real_)
  x <- as.numeric(x)[1L]
  if (!is.finite(x)) NA_real_ else x
}
# numeric vector -> JSON array (non-finite -> null); I() keeps length-1 arrays
numv <- function(x) {
  x <- as.numeric(x)
  x[!is.finite(x)] <- NA_real_
  I(x)
}
# record which fields were non-finite in R (so nulls are explained)
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

# evaluate expr, capturing warnings and errors
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
    list(value = NULL, error = conditionMessage(val), warnings = unique(warns))
  } else {
    list(value = val, error = NULL, warnings = unique(warns))
  }
}

# ---------------------------------------------------------------------------
# escalc cases
# ---------------------------------------------------------------------------

escalc_cases <- list()
add_escalc <- function(case, measure, args, purpose) {
  es <- do.call(escalc, c(list(measure = measure), args))
  jargs <- lapply(args, function(a) if (is.numeric(a) && length(a) > 1L) I(a) else a)
  escalc_cases[[length(escalc_cases) + 1L]] <<- list(
    case = case,
    measure = measure,
    purpose = purpose,
    args = jargs,
    yi = numv(es$yi),
    vi = numv(es$vi)
  )
  invisible(es)
}

count_defaults <- list(add = 1/2, to = "only0", drop00 = FALSE)

# BCG vaccine data
bcg <- dat.bcg
bcg_args <- c(list(ai = bcg$tpos, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg),
              count_defaults)
es_bcg_rr <- add_escalc("bcg_rr", "RR", bcg_args,
  "dat.bcg log risk ratios (ai=tpos, bi=tneg, ci=cpos, di=cneg); no zero cells.")
add_escalc("bcg_or", "OR", bcg_args,
  "dat.bcg log odds ratios; no zero cells.")

# synthetic 2x2 with zero cells
zc_ai  <- c(0, 0, 5, 12, 10)
zc_n1i <- c(20, 15, 30, 40, 10)
zc_ci  <- c(3, 0, 10, 8, 10)
zc_n2i <- c(20, 15, 30, 40, 10)
zc_args <- c(list(ai = zc_ai, bi = zc_n1i - zc_ai, ci = zc_ci, di = zc_n2i - zc_ci),
             count_defaults)
zc_purpose <- paste(
  "Synthetic 2x2: study1 single zero cell (ai=0); study2 double-zero (0 events both arms,",
  "kept because drop00=FALSE default, so 0.5 is added); studies 3-4 no zero cells (no",
  "correction with to='only0'); study5 all-events in both arms (bi=di=0, corrected).")
es_zc_rr <- add_escalc("zero_cells_rr", "RR", zc_args, zc_purpose)
add_escalc("zero_cells_or", "OR", zc_args, zc_purpose)
add_escalc("zero_cells_rr_drop00", "RR",
  modifyList(zc_args, list(drop00 = TRUE)),
  paste("Same as zero_cells_rr but drop00=TRUE: the double-zero study gets yi/vi = null (NA).",
        "Correction 0.5 still added to the other tables with a zero cell."))

# Normand 1999 SMD
nd <- dat.normand1999
nd_args <- list(m1i = nd$m1i, sd1i = nd$sd1i, n1i = nd$n1i,
                m2i = nd$m2i, sd2i = nd$sd2i, n2i = nd$n2i, vtype = "LS")
es_nd <- add_escalc("normand_smd", "SMD", nd_args,
  "dat.normand1999 standardized mean differences (Hedges' g, exact bias correction, default vtype='LS').")

# synthetic SMD: small n, both signs, change-score-like rows with negative means
syn_args <- list(
  m1i  = c(12.1, 3.4, -4.2, -1.5, 25.0, 0.8),
  sd1i = c(4.0, 1.2, 3.1, 2.2, 9.5, 0.5),
  n1i  = c(8, 15, 22, 30, 60, 12),
  m2i  = c(10.0, 4.1, -2.0, -1.9, 20.5, 1.0),
  sd2i = c(3.5, 1.5, 2.8, 2.5, 10.0, 0.6),
  n2i  = c(9, 14, 25, 28, 55, 10),
  vtype = "LS")
add_escalc("synthetic_smd", "SMD", syn_args,
  paste("Six hand-made studies, n 8..60, positive and negative differences; rows 3-4 are",
        "change-score-like (negative means). Small n makes the bias correction matter."))
add_escalc("synthetic_md", "MD", syn_args[c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "vtype")],
  "Same data as synthetic_smd, raw mean difference (vtype='LS': vi = sd1^2/n1 + sd2^2/n2).")

# PLO with xi = 0 and xi = ni
plo_args <- c(list(xi = c(0, 8, 17, 30, 5), ni = c(10, 18, 24, 40, 5)), count_defaults)
plo_args$drop00 <- NULL
add_escalc("plo", "PLO", plo_args,
  "Logit proportions; study1 xi=0 and study5 xi=ni get +0.5 to xi and ni-xi (to='only0').")

# ---------------------------------------------------------------------------
# rma grid
# ---------------------------------------------------------------------------

methods <- c("REML", "DL", "PM", "ML", "SJ", "HE", "EE")
tests <- c("z", "knha")

rma_data <- list(
  list(case = "bcg_rr", yi = as.numeric(es_bcg_rr$yi), vi = as.numeric(es_bcg_rr$vi),
       purpose = "Classic k=13 example with substantial heterogeneity."),
  list(case = "normand_smd", yi = as.numeric(es_nd$yi), vi = as.numeric(es_nd$vi),
       purpose = "k=9 SMDs with large heterogeneity."),
  list(case = "zero_cells_rr", yi = as.numeric(es_zc_rr$yi), vi = as.numeric(es_zc_rr$vi),
       purpose = "k=5 log RRs from zero-cell tables (continuity-corrected, double-zero kept)."),
  list(case = "k2", yi = c(0.2, 0.9), vi = c(0.04, 0.09),
       purpose = "Two studies: knha df=1, estimator edge cases."),
  list(case = "homogeneous", yi = c(0.5, 0.5, 0.5, 0.5, 0.5), vi = c(0.1, 0.2, 0.05, 0.3, 0.15),
       purpose = "Identical yi: QE=0, tau2 at the 0 boundary; knha scale factor is 0."),
  list(case = "unequal_var", yi = c(0.1, 0.8, -0.3, 1.2, 0.45, 0.6, 0.05),
       vi = c(0.001, 0.5, 0.02, 0.9, 0.05, 0.3, 0.2),
       purpose = "Very unequal vi (0.001..0.9): estimators differ strongly."),
  list(case = "k10",
       yi = c(-0.12, 0.35, 0.58, 0.21, 0.90, 0.44, -0.05, 0.67, 0.30, 1.10),
       vi = c(0.045, 0.030, 0.060, 0.020, 0.110, 0.025, 0.050, 0.080, 0.015, 0.140),
       purpose = "Ten synthetic studies with moderate heterogeneity.")
)

rma_entries <- list()
tight_control <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)
tight_control_str <- "control=list(tol=1e-12, threshold=1e-12, maxiter=10000)"
for (d in rma_data) {
  for (m in methods) {
    for (tt in tests) {
      call_str <- sprintf('rma(yi, vi, method="%s", test="%s")', m, tt)
      res <- capture({
        fit <- rma(d$yi, d$vi, method = m, test = tt)
        pr <- predict(fit)
        list(fit = fit, pr = pr)
      })
      e <- list(case = d$case, method = m, test = tt,
                yi = numv(d$yi), vi = numv(d$vi), k = length(d$yi))
      if (is.null(res$value)) {
        vals <- list(beta = NA, se = NA, zval = NA, pval = NA, ci_lb = NA, ci_ub = NA,
                     tau2 = NA, se_tau2 = NA, I2 = NA, H2 = NA, QE = NA, QEp = NA,
                     pi_lb = NA, pi_ub = NA, dfs = NA)
        raw <- list()
      } else {
        fit <- res$value$fit; pr <- res$value$pr
        raw <- list(beta = c(fit$beta)[1], se = fit$se, zval = fit$zval, pval = fit$pval,
                    ci_lb = fit$ci.lb, ci_ub = fit$ci.ub,
                    tau2 = if (m == "EE") 0 else fit$tau2,
                    se_tau2 = fit$se.tau2, I2 = fit$I2, H2 = fit$H2, QE = fit$QE, QEp = fit$QEp,
                    pi_lb = pr$pi.lb, pi_ub = pr$pi.ub,
                    dfs = if (tt == "knha") fit$dfs else NA)
        vals <- lapply(raw, num)
      }
      # Extra (not metafor defaults): iterative estimators re-fitted with a tight
      # control, i.e. close to the exact root; useful to separate convergence
      # tolerance from real disagreement.
      tight <- NA
      if (m %in% c("REML", "ML", "PM") && !is.null(res$value)) {
        rt <- capture(rma(d$yi, d$vi, method = m, test = tt, control = tight_control))
        if (!is.null(rt$value)) {
          prt <- predict(rt$value)
          tight <- list(control = tight_control_str, tau2 = num(rt$value$tau2),
                        beta = num(rt$value$beta), se = num(rt$value$se),
                        ci_lb = num(rt$value$ci.lb), ci_ub = num(rt$value$ci.ub),
                        pval = num(rt$value$pval), I2 = num(rt$value$I2),
                        H2 = num(rt$value$H2), pi_lb = num(prt$pi.lb),
                        pi_ub = num(prt$pi.ub))
        }
      }
      nf <- nonfinite(raw[setdiff(names(raw), c("se_tau2", "dfs"))])
      e <- c(e, vals, list(
        call = call_str,
        tight = tight,
        error = if (is.null(res$error)) NA else res$error,
        warnings = I(res$warnings),
        nonfinite_in_R = nf))
      rma_entries[[length(rma_entries) + 1L]] <- e
    }
  }
}

# ---------------------------------------------------------------------------
# meta-regression with a categorical moderator + subgroup fits
# ---------------------------------------------------------------------------

bcg_yi <- as.numeric(es_bcg_rr$yi)
bcg_vi <- as.numeric(es_bcg_rr$vi)
alloc <- as.character(bcg$alloc)

mods_entries <- list()
for (tt in tests) {
  res <- capture(rma(bcg_yi, bcg_vi, mods = ~ factor(alloc), method = "REML", test = tt))
  fit <- res$value
  e <- list(case = "bcg_rr_alloc", method = "REML", test = tt,
            call = sprintf('rma(yi, vi, mods = ~ factor(alloc), method="REML", test="%s")', tt),
            yi = numv(bcg_yi), vi = numv(bcg_vi), alloc = I(alloc), k = length(bcg_yi),
            coef_names = I(rownames(fit$beta)),
            beta = numv(fit$beta), se = numv(fit$se), zval = numv(fit$zval),
            pval = numv(fit$pval), ci_lb = numv(fit$ci.lb), ci_ub = numv(fit$ci.ub),
            QM = num(fit$QM), QMp = num(fit$QMp),
            QMdf = numv(fit$QMdf),
            dfs = if (tt == "knha") num(fit$dfs) else NA,
            tau2 = num(fit$tau2), se_tau2 = num(fit$se.tau2),
            I2 = num(fit$I2), H2 = num(fit$H2), R2 = num(fit$R2),
            QE = num(fit$QE), QEp = num(fit$QEp),
            error = if (is.null(res$error)) NA else res$error,
            warnings = I(res$warnings))
  mods_entries[[length(mods_entries) + 1L]] <- e
}

subgroups <- list()
for (lvl in sort(unique(alloc))) {
  sel <- alloc == lvl
  res <- capture({
    fit <- rma(bcg_yi[sel], bcg_vi[sel], method = "REML", test = "knha")
    list(fit = fit, pr = predict(fit))
  })
  fit <- res$value$fit; pr <- res$value$pr
  subgroups[[length(subgroups) + 1L]] <- list(
    level = lvl, method = "REML", test = "knha",
    call = sprintf('rma(yi, vi, subset = alloc == "%s", method="REML", test="knha")', lvl),
    k = sum(sel), yi = numv(bcg_yi[sel]), vi = numv(bcg_vi[sel]),
    estimate = num(fit$beta), se = num(fit$se), zval = num(fit$zval), pval = num(fit$pval),
    ci_lb = num(fit$ci.lb), ci_ub = num(fit$ci.ub), dfs = num(fit$dfs),
    tau2 = num(fit$tau2), I2 = num(fit$I2), QE = num(fit$QE), QEp = num(fit$QEp),
    pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub),
    error = if (is.null(res$error)) NA else res$error,
    warnings = I(res$warnings))
}

# ---------------------------------------------------------------------------
# assemble + write
# ---------------------------------------------------------------------------

notes <- paste(
  "All intervals at level=95.",
  "escalc: metafor defaults (add=1/2, to='only0', drop00=FALSE for 2x2/PLO; SMD uses the exact",
  "gamma-function bias correction and vtype='LS').",
  "rma: rma.uni with only method/test changed (control left at metafor defaults).",
  "test='knha' in metafor does NOT truncate the scale factor at 1 (that is test='adhoc');",
  "for knha, zval holds the t statistic and dfs = k - p; for test='z' dfs is null.",
  "pi_lb/pi_ub come from predict(fit) with its defaults (pi.type='default'):",
  "pred +/- crit * sqrt(se^2 + tau2), where crit = qnorm(0.975) for test='z' and",
  "qt(0.975, df=k-p) for test='knha'. For EE fits predict() returns no prediction interval,",
  "so pi_lb/pi_ub are null there (conceptually PI = CI since tau2 = 0).",
  "EE: tau2 written as 0, se_tau2 null; I2 = max(0, 100*(QE-(k-p))/QE), H2 = QE/(k-p)",
  "(so H2 = 0 when QE = 0). EE with test='knha' warns (recorded) but is computed.",
  "SJ in metafor is the one-step (non-iterative) Sidik-Jonkman estimator.",
  "knha with QE = 0 (homogeneous case): metafor sets the scale factor to 0, so se = 0,",
  "t = Inf (written null), pval = 0 and CI/PI collapse to the estimate.",
  "'tight' (REML/ML/PM only, not a metafor default): the same fit with a tight control,",
  "giving tau2/beta/se close to the exact optimum/root.",
  "Random-effects I2 = 100*tau2/(vt+tau2), H2 = tau2/vt + 1 with vt = (k-p)/tr(P_EE)",
  "(the 'typical' within-study variance, Higgins & Thompson).",
  "se_tau2: metafor's reported standard error (null where metafor gives NA, e.g. EE).",
  "Non-finite R values (NaN/Inf/NA) are written as null; 'nonfinite_in_R' lists them with their R value.",
  "'warnings' lists R warnings raised during the fit; 'error' is null for successful fits.")

x <- list(
  source = list(
    script = "validation/metafor/make_reference.R",
    command = "Rscript validation/metafor/make_reference.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    notes = notes),
  rma_control = paste(
    "For REML/ML/PM (iterative estimators) metafor's default control settings are used",
    "(control not changed: tau2.init, threshold=1e-5, maxiter=100, stepadj=1 for REML/ML",
    "Fisher scoring; uniroot with tol=.Machine$double.eps^0.25 for PM), so values are what",
    "users get. With these defaults tau2 is off the exact root by up to ~3e-5 (PM) and",
    "~2e-5 (REML/ML) absolute for the cases here; compare with atol ~1e-4 on tau2 and ~5e-5",
    "on beta, or compare to the 'tight' values of each entry with a small tolerance."),
  escalc = escalc_cases,
  rma = rma_entries,
  rma_mods = list(
    description = paste(
      "Mixed-effects meta-regression on bcg_rr (escalc above) with mods = ~ factor(alloc)",
      "(reference level 'alternate'), REML, test z and knha. QMdf = c(df1, df2); df2 is null",
      "for test='z' (chi-square QM). 'subgroups': separate REML knha fits per alloc level."),
    fits = mods_entries,
    subgroups = subgroups)
)

write_json(x, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE,
           null = "null", na = "null")
cat("wrote", out_path, "\n")
