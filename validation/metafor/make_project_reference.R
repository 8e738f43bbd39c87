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
  library(clubSandwich)
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
  # crossover SMDs use the Handbook's paired formula (tests/test_comparisons.py), not escalc
  if (r$effect == "smd" && startsWith(r$source_rows, "outcomes_continuous") && r$crossover != "True") {
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
  } else if (r$effect %in% c("log_rr", "log_or", "rd") && r$outcome != "relapse") {
    idx <- rows_of(r$source_rows, "outcomes_binary")
    if (length(idx) != 2L) next
    d <- bin[idx, ]
    roles <- sapply(seq_len(2), function(j) role_of(d$study_id[j], d$arm_id[j]))
    k <- d[roles == "ketamine", ]; c <- d[roles == "control", ]
    if (nrow(k) != 1L || nrow(c) != 1L) next
    m <- c(log_rr = "RR", log_or = "OR", rd = "RD")[[r$effect]]
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
# Mantel-Haenszel rows (mh_or, mh_rr) are checked against rma.mh in make_methods_reference.R
prim <- pooled[pooled$subset == "primary" & pooled$k >= 2 & !startsWith(pooled$effect, "mh_"), ]
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

# --- moderators: rma(yi, vi, mods = ~ factor(level)) per row group of moderators.csv -----------
cfg <- jsonlite::fromJSON(".work/results/config.json", simplifyVector = FALSE)
mods_tab <- read.csv("results/tables/moderators.csv", stringsAsFactors = FALSE)
mod_fits <- list()
groups <- unique(mods_tab[, c("moderator", "outcome", "effect", "time_bin")])
for (i in seq_len(nrow(groups))) {
  g <- groups[i, ]
  spec <- cfg$moderators[[g$moderator]]
  sel <- es[es$primary == "True" & es$group == "contrast" & es$outcome == g$outcome & es$effect == g$effect &
              es$time_bin == g$time_bin, ]
  lev <- as.character(sel[[spec$column]])
  if (!is.null(spec$recode)) for (from in names(spec$recode)) lev[lev == from] <- spec$recode[[from]]
  levs <- c(spec$reference, sort(setdiff(unique(lev), spec$reference)))
  levs <- levs[levs %in% lev]
  f <- factor(lev, levels = levs)
  yi <- sel$yi; vv <- sel$vi
  for (tt in c("knha")) {
    fit <- rma(yi, vv, mods = ~ f, method = "REML", test = tt,
               control = list(tol = 1e-12, threshold = 1e-12, maxiter = 10000))
    mod_fits[[length(mod_fits) + 1L]] <- list(
      moderator = g$moderator, outcome = g$outcome, effect = g$effect, time_bin = g$time_bin, test = tt,
      levels = I(levs), level_of = I(as.character(f)), yi = I(yi), vi = I(vv),
      beta = I(as.numeric(fit$beta)), se = I(as.numeric(fit$se)), QM = num(fit$QM), QMp = num(fit$QMp),
      tau2 = num(fit$tau2))
  }
}

# --- time course: robust(rma(yi, vi, mods = ~ t + t^2), cluster = study, clubSandwich = TRUE) -----
tc <- es[es$primary == "True" & es$group == "contrast" & es$outcome == "depression" & es$effect == "smd" &
           es$time_bin %in% names(cfg$time_bins), ]
robust_fits <- list()
for (route in c("all", sort(unique(tc$route)))) {
  d <- if (route == "all") tc else tc[tc$route == route, ]
  if (length(unique(d$study_id)) < 3 || nrow(d) < 4 || length(unique(d$time_h)) < 3) next
  t <- log(d$time_h / 24); yi <- d$yi; vv <- d$vi
  fit <- rma(yi, vv, mods = ~ t + I(t^2), method = "REML",
             control = list(tol = 1e-12, threshold = 1e-12, maxiter = 10000))
  rob <- robust(fit, cluster = d$study_id, clubSandwich = TRUE)
  nominal <- sapply(cfg$time_bins, function(b) b$nominal_h)
  C <- cbind(1, log(nominal / 24), log(nominal / 24)^2)
  lc <- linear_contrast(fit, vcov = "CR2", cluster = d$study_id, contrasts = C, test = "Satterthwaite")
  robust_fits[[length(robust_fits) + 1L]] <- list(
    route = route, yi = I(yi), vi = I(vv), time_h = I(d$time_h), cluster = I(d$study_id),
    beta = I(as.numeric(rob$beta)), se = I(as.numeric(rob$se)), df = I(as.numeric(rob$ddf)),
    pval = I(as.numeric(rob$pval)), tau2 = num(fit$tau2),
    contrast_h = I(as.numeric(nominal)), contrast_est = I(as.numeric(lc$Est)), contrast_se = I(as.numeric(lc$SE)),
    contrast_df = I(as.numeric(lc$df)), contrast_ci_lb = I(as.numeric(lc$CI_L)), contrast_ci_ub = I(as.numeric(lc$CI_U)))
}

# --- dose-response: rma(yi, vi, mods = ~ dose) per row of dose_response.csv ------------------------
dose_tab <- read.csv("results/tables/dose_response.csv", stringsAsFactors = FALSE)
dose_fits <- list()
for (i in seq_len(nrow(dose_tab))) {
  g <- dose_tab[i, ]
  sel <- es[es$primary == "True" & es$group == "contrast" & es$outcome == g$outcome & es$effect == g$effect &
              es$time_bin == g$time_bin & !is.na(es$dose_mg_per_kg), ]
  yi <- sel$yi; vv <- sel$vi; dose <- sel$dose_mg_per_kg
  fit <- rma(yi, vv, mods = ~ dose, method = "REML", test = "knha",
             control = list(tol = 1e-12, threshold = 1e-12, maxiter = 10000))
  dose_fits[[length(dose_fits) + 1L]] <- list(
    outcome = g$outcome, effect = g$effect, time_bin = g$time_bin, yi = I(yi), vi = I(vv), dose = I(dose),
    slope = num(fit$beta[2]), se = num(fit$se[2]), ci_lb = num(fit$ci.lb[2]), ci_ub = num(fit$ci.ub[2]),
    pval = num(fit$pval[2]))
}

x <- list(
  source = list(
    script = "validation/metafor/make_project_reference.R",
    command = "Rscript validation/metafor/make_project_reference.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    inputs = "results/tables/effect_sizes.csv, results/tables/pooled.csv, data/extracted/outcomes_*.csv, data/extracted/arms.csv",
    control = "rma(method='REML', test='knha', control=list(tol=1e-12, threshold=1e-12, maxiter=10000)); predict() defaults",
    robust = "robust(rma(yi, vi, mods = ~ t + I(t^2)), cluster = study_id, clubSandwich = TRUE); clubSandwich::linear_contrast(vcov='CR2', test='Satterthwaite')",
    clubSandwich_version = as.character(packageVersion("clubSandwich"))),
  escalc = escalc_cases,
  rma = fits,
  moderators = mod_fits,
  robust = robust_fits,
  dose = dose_fits)
write_json(x, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null")
cat(sprintf("wrote %s: %d escalc cases, %d fits, %d moderator fits, %d robust fits, %d dose fits\n", out_path,
            length(escalc_cases), length(fits), length(mod_fits), length(robust_fits), length(dose_fits)))
