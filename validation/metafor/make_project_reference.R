#!/usr/bin/env Rscript
# Generates tests/reference/metafor_project.json: metafor on the project's own data.
#
#  * escalc on the raw input rows behind every two-arm effect size in
#    results/tables/effect_sizes.csv (SMD from one ketamine and one control arm's
#    means/SDs, log RR / log OR from their responder counts, PLO for single arms);
#  * rma.uni (REML + knha, the primary model) and predict() for every primary
#    analysis in results/tables/pooled.csv with k >= 2, on the yi/vi the pipeline
#    entered.
#
# Run from the repository root after `snakemake -c2`:
#   Rscript validation/metafor/make_project_reference.R
# Deterministic: no timestamps; a second run gives a byte-identical file.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "metafor_project.json")
es <- read.csv("results/tables/effect_sizes.csv", stringsAsFactors = FALSE)
pooled <- read.csv("results/tables/pooled.csv", stringsAsFactors = FALSE)
cont <- read.csv("data/extracted/outcomes_continuous.csv", stringsAsFactors = FALSE)
bin <- read.csv("data/extracted/outcomes_binary.csv", stringsAsFactors = FALSE)
arms <- read.csv("data/extracted/arms.csv", stringsAsFactors = FALSE)

num <- function(x) { x <- as.numeric(x)[1L]; if (is.finite(x)) x else NA_real_ }
# "outcomes_continuous.csv:12;..." -> spreadsheet rows -> data-frame rows (header is row 1)
rows_of <- function(src, table) {
  parts <- strsplit(src, ";", fixed = TRUE)[[1]]
  parts <- parts[startsWith(parts, paste0(table, ".csv:"))]
  as.integer(sub(".*:", "", parts)) - 1L
}
role_of <- function(study, arm) arms$role[arms$study_id == study & arms$arm_id == arm]

escalc_cases <- list()
for (i in seq_len(nrow(es))) {
  r <- es[i, ]
  if (r$effect == "smd" && startsWith(r$source_rows, "outcomes_continuous")) {
    idx <- rows_of(r$source_rows, "outcomes_continuous")
    if (length(idx) != 2L) next
    d <- cont[idx, ]
    if (any(is.na(d$sd))) next  # SD derived from SE: checked in the Python tests instead
    k <- d[sapply(seq_len(2), function(j) role_of(d$study_id[j], d$arm_id[j])) == "ketamine", ]
    c <- d[sapply(seq_len(2), function(j) role_of(d$study_id[j], d$arm_id[j])) == "control", ]
    if (nrow(k) != 1L || nrow(c) != 1L) next
    e <- escalc("SMD", m1i = c$mean, sd1i = c$sd, n1i = c$n, m2i = k$mean, sd2i = k$sd, n2i = k$n)
    escalc_cases[[length(escalc_cases) + 1L]] <- list(
      study_id = r$study_id, outcome = r$outcome, time_bin = r$time_bin, effect = r$effect,
      group = r$group, measure = "SMD", call = "escalc('SMD', m1i=control, m2i=ketamine)",
      args = list(m1i = c$mean, sd1i = c$sd, n1i = c$n, m2i = k$mean, sd2i = k$sd, n2i = k$n),
      yi = num(e$yi), vi = num(e$vi))
  } else if (r$effect %in% c("log_rr", "log_or") && r$outcome != "relapse") {
    idx <- rows_of(r$source_rows, "outcomes_binary")
    if (length(idx) != 2L) next
    d <- bin[idx, ]
    roles <- sapply(seq_len(2), function(j) role_of(d$study_id[j], d$arm_id[j]))
    k <- d[roles == "ketamine", ]; c <- d[roles == "control", ]
    if (nrow(k) != 1L || nrow(c) != 1L) next
    m <- if (r$effect == "log_rr") "RR" else "OR"
    e <- escalc(m, ai = k$events, n1i = k$total, ci = c$events, n2i = c$total)
    escalc_cases[[length(escalc_cases) + 1L]] <- list(
      study_id = r$study_id, outcome = r$outcome, time_bin = r$time_bin, effect = r$effect,
      group = r$group, measure = m, call = sprintf("escalc('%s', ai=ketamine, ci=control)", m),
      args = list(ai = k$events, n1i = k$total, ci = c$events, n2i = c$total),
      yi = num(e$yi), vi = num(e$vi))
  } else if (r$effect == "logit_p") {
    idx <- rows_of(r$source_rows, "outcomes_binary")
    if (length(idx) != 1L) next
    d <- bin[idx, ]
    e <- escalc("PLO", xi = d$events, ni = d$total)
    escalc_cases[[length(escalc_cases) + 1L]] <- list(
      study_id = r$study_id, outcome = r$outcome, time_bin = r$time_bin, effect = r$effect,
      group = r$group, measure = "PLO", call = "escalc('PLO', xi, ni)",
      args = list(xi = d$events, ni = d$total),
      yi = num(e$yi), vi = num(e$vi))
  }
}

fits <- list()
prim <- pooled[pooled$subset == "primary" & pooled$k >= 2, ]
for (i in seq_len(nrow(prim))) {
  p <- prim[i, ]
  sel <- es[es$primary == "True" & es$outcome == p$outcome & es$effect == p$effect &
              es$group == p$group & es$time_bin == p$time_bin, ]
  if (p$route != "all") sel <- sel[sel$route == p$route, ]
  yi <- sel$yi; vv <- sel$vi  # (named so metafor's SE-name heuristic does not warn)
  fit <- rma(yi, vv, method = "REML", test = "knha",
             control = list(tol = 1e-12, threshold = 1e-12, maxiter = 10000))
  pr <- predict(fit)
  fits[[length(fits) + 1L]] <- list(
    analysis_id = p$analysis_id, k = fit$k, yi = I(yi), vi = I(vv),
    beta = num(fit$beta), se = num(fit$se), ci_lb = num(fit$ci.lb), ci_ub = num(fit$ci.ub),
    tau2 = num(fit$tau2), I2 = num(fit$I2), QE = num(fit$QE), QEp = num(fit$QEp),
    pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub))
}

x <- list(
  source = list(
    script = "validation/metafor/make_project_reference.R",
    command = "Rscript validation/metafor/make_project_reference.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    inputs = "results/tables/effect_sizes.csv, results/tables/pooled.csv, data/extracted/outcomes_*.csv, data/extracted/arms.csv",
    control = "rma(method='REML', test='knha', control=list(tol=1e-12, threshold=1e-12, maxiter=10000)); predict() defaults"),
  escalc = escalc_cases,
  rma = fits)
write_json(x, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null")
cat(sprintf("wrote %s: %d escalc cases, %d fits\n", out_path, length(escalc_cases), length(fits)))
