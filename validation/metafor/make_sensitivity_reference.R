#!/usr/bin/env Rscript
# Generates tests/reference/metafor_sensitivity.json: metafor reference values for
# the sensitivity diagnostics in src/ketamine_meta/stats/sensitivity.py and funnel.py
# (leave1out, influence, regtest, cumul and the funnel plot's coordinates).
#
# Run from the repository root:
#   Rscript validation/metafor/make_sensitivity_reference.R
#
# The output is deterministic (no timestamps, fixed inputs); running twice
# must give a byte-identical file.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "metafor_sensitivity.json")
if (!dir.exists(dirname(out_path))) {
  stop("Run from the repository root (tests/reference/ not found).")
}

# numeric vector -> JSON array (non-finite -> null); I() keeps length-1 arrays
numv <- function(x) {
  x <- as.numeric(x)
  x[!is.finite(x)] <- NA_real_
  I(x)
}
# numeric scalar -> JSON-safe value (non-finite -> null)
num <- function(x) {
  if (is.null(x) || length(x) == 0L) return(NA_real_)
  x <- as.numeric(x)[1L]
  if (!is.finite(x)) NA_real_ else x
}

# evaluate expr; any warning is an error here (the reference must be clean)
strict <- function(expr) withCallingHandlers(expr, warning = function(w) stop(conditionMessage(w)))

# ---------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
nd <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
             n2i = n2i, data = dat.normand1999, vtype = "LS")

datasets <- list(
  list(case = "bcg_rr",
       escalc = paste('escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)'),
       yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi),
       labels = paste(dat.bcg$author, dat.bcg$year, sep = ", "),
       order_key = as.numeric(dat.bcg$year), order_key_name = "year",
       purpose = paste("dat.bcg log risk ratios, k=13, large heterogeneity. cumul by year,",
                       "which has a tie (two studies from 1973): metafor keeps tied studies",
                       "in data order (R's order() is stable).")),
  list(case = "normand_smd",
       escalc = paste('escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i,',
                      'n2i=n2i, data=dat.normand1999, vtype="LS")'),
       yi = as.numeric(nd$yi), vi = as.numeric(nd$vi),
       labels = as.character(dat.normand1999$source),
       order_key = sqrt(as.numeric(nd$vi)), order_key_name = "sei",
       purpose = paste("dat.normand1999 Hedges' g, k=9 (metadat has no k=10 two-group",
                       "means/SDs set; this is the SMD set the main reference already uses),",
                       "very large heterogeneity. cumul by standard error, most precise",
                       "study first (no ties)."))
)

# ---------------------------------------------------------------------------
# fits
# ---------------------------------------------------------------------------

tight_control <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
tight_control_str <- "control=list(threshold=1e-12, tol=1e-12, maxiter=10000)"
configs <- list(
  list(method = "REML", test = "knha", tight = TRUE),
  list(method = "REML", test = "z", tight = TRUE),
  list(method = "DL", test = "z", tight = FALSE)
)

fits <- list()
for (d in datasets) {
  for (cfg in configs) {
    yi <- d$yi
    vi <- d$vi
    ord <- d$order_key
    ctrl <- if (cfg$tight) tight_control else list()
    fit <- strict(rma(yi, vi, slab = d$labels, method = cfg$method, test = cfg$test, control = ctrl))
    fit_call <- sprintf('fit <- rma(yi, vi, slab=labels, method="%s", test="%s"%s)',
                        cfg$method, cfg$test, if (cfg$tight) paste0(", ", tight_control_str) else "")

    l1 <- strict(leave1out(fit))
    inf <- strict(influence(fit))
    rt <- strict(regtest(fit))
    cu <- strict(cumul(fit, order = ord))
    pdf(NULL)
    fu <- strict(funnel(fit))
    usr <- par("usr")
    invisible(dev.off())

    stat_name <- if (cfg$test == "z") "zval" else "tval"
    fits[[length(fits) + 1L]] <- list(
      case = d$case, method = cfg$method, test = cfg$test, k = fit$k,
      control = if (cfg$tight) tight_control_str else "default (DL is closed-form)",
      calls = list(
        fit = fit_call,
        leave1out = "leave1out(fit)",
        influence = "influence(fit)",
        regtest = "regtest(fit)  # model=\"rma\", predictor=\"sei\"",
        cumul = sprintf("cumul(fit, order=%s)", d$order_key_name),
        funnel = "pdf(NULL); funnel(fit); par(\"usr\")"),
      fit = list(beta = num(fit$beta), se = num(fit$se), tau2 = num(fit$tau2),
                 I2 = num(fit$I2), QE = num(fit$QE)),
      leave1out = list(
        slab = I(as.character(l1$slab)),
        estimate = numv(l1$estimate), se = numv(l1$se), stat = numv(l1[[stat_name]]),
        pval = numv(l1$pval), ci_lb = numv(l1$ci.lb), ci_ub = numv(l1$ci.ub),
        Q = numv(l1$Q), Qp = numv(l1$Qp), tau2 = numv(l1$tau2), I2 = numv(l1$I2),
        H2 = numv(l1$H2)),
      influence = list(
        slab = I(as.character(inf$inf$slab)),
        rstudent = numv(inf$inf$rstudent), dffits = numv(inf$inf$dffits),
        cook_d = numv(inf$inf$cook.d), cov_r = numv(inf$inf$cov.r),
        tau2_del = numv(inf$inf$tau2.del), QE_del = numv(inf$inf$QE.del),
        hat = numv(inf$inf$hat), weight = numv(inf$inf$weight),
        dfbs = numv(inf$dfbs[[1]]), inf = I(as.character(inf$inf$inf)),
        is_infl = I(as.logical(inf$is.infl))),
      regtest = list(
        stat = num(rt$zval), pval = num(rt$pval), dfs = num(rt$dfs),
        slope = num(rt$fit$beta[2]), slope_se = num(rt$fit$se[2]),
        est = num(rt$est), est_se = num(rt$fit$se[1]),
        ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub), tau2 = num(rt$fit$tau2)),
      cumul = list(
        slab = I(as.character(cu$slab)),
        estimate = numv(cu$estimate), se = numv(cu$se), stat = numv(cu[[stat_name]]),
        pval = numv(cu$pvals), ci_lb = numv(cu$ci.lb), ci_ub = numv(cu$ci.ub),
        Q = numv(cu$Q), Qp = numv(cu$Qp), tau2 = numv(cu$tau2), I2 = numv(cu$I2),
        H2 = numv(cu$H2)),
      funnel = list(
        x = numv(fu$x), y = numv(fu$y), refline = num(fit$beta), usr = numv(usr))
    )
  }
}

# ---------------------------------------------------------------------------
# assemble + write
# ---------------------------------------------------------------------------

notes <- c(
  "All intervals at level=95. REML fits use the tight control given in each entry; metafor's helpers refit with the fit's own control (x$control), so every refit is tight too. DL is closed-form.",
  "leave1out/cumul: 'stat' is zval (test z) or tval (test knha); Q/Qp are Cochran's Q of the refit.",
  "cumul step 1 is a k=1 fit: metafor forces test='z' there (warning muffled inside cumul) and reports tau2=0, Q=0, Qp=1, I2=0, H2=1 with a z interval from the study's own variance.",
  "influence (p=1): hat = w/sum(w); weight = 100*w/sum(w) (full-fit weights); tau2_del/QE_del from the refit without study i; s2w is the refit's Knapp-Hartung factor (1 under z); rstudent = (yi - b_(-i)) / sqrt(s2w*(vi + tau2_del) + Var(b_(-i))); dffits = (b - b_(-i)) / sqrt(s2w*hat*(tau2_del + vi)); cook_d = (b - b_(-i))^2 / Var(b); cov_r = Var(b_(-i)) / Var(b); dfbs = (b - b_(-i)) / sqrt(s2w / sum(1/(v + tau2_del))) over all k studies; Var() includes the knha factor.",
  "influence 'inf' is '*' when is_infl: |dffits| > 3*sqrt(p/(k-p)) or pchisq(cook_d, 1) > 0.5 or hat > 3*p/k or |dfbs| > 1.",
  "regtest: Egger's test as regtest(fit) defaults (model='rma', predictor='sei'): rma(yi, vi, mods=~sqrt(vi)) with the fit's method/test/control. stat/pval test the sei slope (t with dfs=k-2 under knha; dfs null under z); est/ci_lb/ci_ub are the intercept (the limit estimate at sei=0) and its interval from the same fit.",
  "funnel: default funnel(fit) (yaxis='sei', addtau2=FALSE): x=yi, y=sqrt(vi), refline=fit beta; pseudo-CI refline +/- qnorm(0.975)*se for se from 0 down to 1.1*max(sei). usr=par('usr') after plotting: metafor sets xlim=[min(refline - 1.96*max(sei), min(yi)), max(refline + 1.96*max(sei), max(yi))] widened by 10% each side and ylim=c(max(sei), 0); R then pads each axis by 4% (xaxs/yaxs='r').",
  "Non-finite R values are written as null."
)

x <- list(
  source = list(
    script = "validation/metafor/make_sensitivity_reference.R",
    command = "Rscript validation/metafor/make_sensitivity_reference.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    metadat_version = as.character(packageVersion("metadat")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    tight_control = tight_control_str,
    calls = I(c(
      'yi/vi: see datasets[].escalc',
      'fit <- rma(yi, vi, slab=labels, method=METHOD, test=TEST[, control=tight])',
      'leave1out(fit)', 'influence(fit)', 'regtest(fit)', 'cumul(fit, order=ORDER_KEY)',
      'pdf(NULL); funnel(fit); par("usr")')),
    notes = I(notes)),
  datasets = lapply(datasets, function(d) list(
    case = d$case, escalc = d$escalc, purpose = d$purpose, k = length(d$yi),
    yi = numv(d$yi), vi = numv(d$vi), labels = I(d$labels),
    order_key_name = d$order_key_name, order_key = numv(d$order_key))),
  fits = fits
)

write_json(x, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE,
           null = "null", na = "null")
cat("wrote", out_path, "\n")
