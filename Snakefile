# ketamine-meta: table of contents. Rules live in workflow/rules/, one file per output family;
# config/README.md explains every key. Run: snakemake -c2 [--config data_dir=... results_dir=...]


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/pooling.smk"
include: "workflow/rules/multiverse.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report_html.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/simulation.smk"


onerror:
    report_failure(log)
    stop_rescheduling_timers()


rule all:
    default_target: True
    input:
        rules.publish.output,
