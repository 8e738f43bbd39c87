#!/usr/bin/env Rscript
# Generates tests/reference/metafor_bimodal.json: data sets whose (restricted) likelihood has two
# local maxima on [0, Inf), and metafor's REML / ML fit started at the best point of a fine grid of
# the likelihood, for tests/test_bimodal.py.
#
# The data sets: the example of the issue (REML; yi = 0.796, 0.751, -0.289; vi = 0.080, 0.054, 0.257),
# case unequal_var of metafor_reference.json (ML), and data sets found by simulation
# (set.seed(20240601); k = 3..10; vi log-uniform on [0.01, 0.5]; tau2 in {0, 0.02, 0.05, 0.2};
# yi ~ N(0.5, vi + tau2)), of which the first N_PER two-peaked ones per k and method are kept.
#
# "Two-peaked" and "best grid point" are decided on a grid of GRID_N points uniform in
# log(tau2 + min vi) from tau2 = 0 to U = max(max vi, 2 RSS / (k - 1)) (ML: 2 RSS / k), beyond
# which the score is negative: a local maximum is tau2 = 0 when the score there is <= 0, and every
# grid cell where the score goes from > 0 to <= 0. The reference fit is
#   rma(yi, vi, method=<m>, test="z", control=list(tau2.init=<best grid point>, threshold=1e-12,
#       maxiter=10000))
# and metafor's default fit (no control) is stored beside it.
#
# Run from the repository root:
#   Rscript validation/metafor/make_bimodal_reference.R
# Deterministic (fixed seed, no timestamps): running it twice gives a byte-identical file.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "metafor_bimodal.json")
if (!dir.exists(dirname(out_path))) stop("Run from the repository root (tests/reference/ not found).")

SEED <- 20240601
D <- 20000L        # simulated data sets per k
KS <- 3:10
N_PER <- 3L        # two-peaked data sets kept per k and method
GRID_N <- 1000L
TIGHT_STR <- "control=list(tau2.init=<best grid point>, threshold=1e-12, maxiter=10000)"

# score of REML / ML for the columns of k x n matrices y, v at tau2 = t (length n)
score <- function(y, v, t, method) {
  w <- 1 / (v + rep(t, each = nrow(y)))
  sw <- colSums(w)
  b <- colSums(w * y) / sw
  r <- y - rep(b, each = nrow(y))
  a <- colSums(w^2 * r^2)
  if (method == "REML") a - sw + colSums(w^2) / sw else a - sw
}
# log (restricted) likelihood up to a constant, one data set, at each tau2 in t
loglik <- function(y, v, t, method) {
  vapply(t, function(tt) {
    w <- 1 / (v + tt); sw <- sum(w); b <- sum(w * y) / sw
    out <- -0.5 * (sum(log(v + tt)) + sum(w * (y - b)^2))
    if (method == "REML") out - 0.5 * log(sw) else out
  }, numeric(1))
}
upper <- function(y, v, method) {
  k <- nrow(y)
  rss <- colSums(sweep(y, 2, colMeans(y))^2)
  pmax(apply(v, 2, max), 2 * rss / (if (method == "REML") k - 1 else k)) * (1 + 1e-6)
}
# grid (GRID_N x n matrix) for the columns
grid_of <- function(y, v, method) {
  m <- apply(v, 2, min); u <- upper(y, v, method)
  s <- seq(0, 1, length.out = GRID_N)
  g <- outer(s, seq_along(m), function(si, j) m[j] * ((u[j] + m[j]) / m[j])^si - m[j])
  g[1, ] <- 0; g[GRID_N, ] <- u
  g
}
# number of local maxima on the grid, per column
n_maxima <- function(y, v, method) {
  g <- grid_of(y, v, method)
  f <- t(matrix(vapply(seq_len(GRID_N), function(i) score(y, v, g[i, ], method), numeric(ncol(y))), nrow = ncol(y)))
  (f[1, ] <= 0) + colSums(f[-GRID_N, , drop = FALSE] > 0 & f[-1, , drop = FALSE] <= 0)
}

fit_case <- function(case, source, yi, vi, method) {
  y <- matrix(yi); v <- matrix(vi)
  g <- grid_of(y, v, method)[, 1]
  ll <- loglik(yi, vi, g, method)
  best <- g[which.max(ll)]
  f <- rma(yi, vi, method = method, test = "z",
           control = list(tau2.init = best, threshold = 1e-12, maxiter = 10000))
  d <- tryCatch(rma(yi, vi, method = method, test = "z"), error = function(e) e)
  list(case = case, source = source, method = method, k = length(yi),
       yi = I(yi), vi = I(vi),
       grid_points = GRID_N, grid_local_maxima = n_maxima(y, v, method),
       score_at_0 = score(y, v, 0, method), best_grid_tau2 = best,
       call = sprintf('rma(yi, vi, method="%s", test="z", control=list(tau2.init=%s, threshold=1e-12, maxiter=10000))',
                      method, format(best, digits = 17)),
       tau2 = f$tau2, beta = c(f$beta), se = f$se, ci_lb = f$ci.lb, ci_ub = f$ci.ub,
       logLik = as.numeric(logLik(f)),
       default_tau2 = if (inherits(d, "error")) NA else d$tau2,
       default_logLik = if (inherits(d, "error")) NA else as.numeric(logLik(d)),
       default_error = if (inherits(d, "error")) conditionMessage(d) else NA)
}

cases <- list()
issue <- list(yi = c(0.796, 0.751, -0.289), vi = c(0.080, 0.054, 0.257))
cases[[length(cases) + 1L]] <- fit_case("issue_example", "the issue's example data set", issue$yi, issue$vi, "REML")
uv <- list(yi = c(0.10, 0.80, -0.30, 1.20, 0.45, 0.60, 0.05), vi = c(0.001, 0.5, 0.02, 0.9, 0.05, 0.3, 0.2))
cases[[length(cases) + 1L]] <- fit_case("unequal_var", "case unequal_var of tests/reference/metafor_reference.json",
                                        uv$yi, uv$vi, "ML")

set.seed(SEED)
for (k in KS) {
  v <- matrix(exp(runif(k * D, log(0.01), log(0.5))), k, D)
  tau2 <- sample(c(0, 0.02, 0.05, 0.2), D, replace = TRUE)
  y <- matrix(rnorm(k * D, 0.5, sqrt(v + rep(tau2, each = k))), k, D)
  y <- round(y, 4); v <- round(v, 5)  # short decimals: the JSON holds exactly the data that was fitted
  for (m in c("REML", "ML")) {
    nm <- integer(D)
    for (s in split(seq_len(D), ceiling(seq_len(D) / 2000))) nm[s] <- n_maxima(y[, s, drop = FALSE], v[, s, drop = FALSE], m)
    for (j in head(which(nm >= 2), N_PER)) {
      cases[[length(cases) + 1L]] <- fit_case(sprintf("sim_k%d_%s_%d", k, m, j), sprintf("simulation, k = %d, data set %d", k, j),
                                              y[, j], v[, j], m)
    }
  }
}

x <- list(
  source = list(
    script = "validation/metafor/make_bimodal_reference.R",
    command = "Rscript validation/metafor/make_bimodal_reference.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    seed = SEED, simulated_per_k = D, ks = I(KS), kept_per_k_and_method = N_PER, grid_points = GRID_N,
    control = TIGHT_STR,
    calls = I(c(sprintf("rma(yi, vi, method=<REML|ML>, test=\"z\", %s)", TIGHT_STR),
                "rma(yi, vi, method=<REML|ML>, test=\"z\")  # metafor's default start, stored as default_*")),
    notes = paste(
      "grid: GRID_N points uniform in log(tau2 + min vi) from 0 to U = max(max vi, 2 RSS/(k-1)) (ML: 2 RSS/k),",
      "times 1 + 1e-6; local maxima: tau2 = 0 if the score there is <= 0, and each cell where the score goes",
      "from > 0 to <= 0; best_grid_tau2 maximises the log-likelihood on that grid. logLik is metafor's",
      "logLik() (REML: restricted). Simulated yi are rounded to 4 and vi to 5 decimals before the search.")),
  cases = cases
)
write_json(x, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null")
cat("wrote", out_path, "with", length(cases), "cases\n")
