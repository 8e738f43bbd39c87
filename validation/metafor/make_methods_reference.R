#!/usr/bin/env Rscript
# Generates tests/reference/metafor_methods.json: metafor reference values for the
# effect-size methods of session 2 (issue "effect sizes a methodologist would accept"):
#   * Mantel-Haenszel OR and RR (rma.mh), the RevMan default for dichotomous outcomes;
#   * binomial-normal GLMM pooling of proportions (rma.glmm, measure = "PLO", ML), used for
#     relapse proportions, with lme4's adaptive quadrature at nAGQ = 25.
# Run from the repository root: Rscript validation/metafor/make_methods_reference.R
# Deterministic (fixed inputs, no timestamps): running twice gives a byte-identical file.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
out_path <- file.path("tests", "reference", "metafor_methods.json")
if (!dir.exists(dirname(out_path))) stop("Run from the repository root.")

mh_cases <- list(
  nozero = list(a = c(12, 8, 30, 5), n1 = c(17, 20, 47, 10), c = c(1, 3, 7, 2), n2 = c(17, 18, 25, 10)),
  zeros = list(a = c(0, 4, 9), n1 = c(10, 12, 20), c = c(2, 0, 3), n2 = c(11, 12, 19)),
  two = list(a = c(19, 40), n1 = c(35, 114), c = c(10, 25), n2 = c(31, 112))
)
mh <- lapply(mh_cases, function(cs) {
  res <- cs
  for (m in c("OR", "RR")) {
    r <- rma.mh(ai = cs$a, n1i = cs$n1, ci = cs$c, n2i = cs$n2, measure = m)
    res[[m]] <- list(beta = as.numeric(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub)
  }
  res
})

glmm_cases <- list(
  k2 = list(x = c(6, 3), n = c(11, 5)),
  k4 = list(x = c(9, 3, 14, 2), n = c(13, 5, 20, 10)),
  zero_cell = list(x = c(0, 3, 5), n = c(10, 8, 12)),
  k5_heterogeneous = list(x = c(2, 8, 1, 9, 4), n = c(20, 10, 15, 12, 30))
)
glmm <- lapply(glmm_cases, function(cs) {
  r <- rma.glmm(xi = cs$x, ni = cs$n, measure = "PLO", method = "ML", control = list(nAGQ = 25))
  c(cs, list(beta = as.numeric(r$beta), se = r$se, tau2 = r$tau2, ci_lb = r$ci.lb, ci_ub = r$ci.ub))
})

out <- list(
  source = list(
    script = "validation/metafor/make_methods_reference.R",
    calls = c("rma.mh(ai, n1i, ci, n2i, measure = 'OR' | 'RR')",
              "rma.glmm(xi, ni, measure = 'PLO', method = 'ML', control = list(nAGQ = 25))"),
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    metafor_version = as.character(packageVersion("metafor")),
    lme4_version = as.character(packageVersion("lme4"))
  ),
  mh = mh,
  glmm = glmm
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), out_path)
