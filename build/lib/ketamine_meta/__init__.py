"""ketamine-meta: a reproducible meta-analysis that checks popular claims about ketamine for
depression against the trials they rest on.

Layers, each importing only those below it (docs/architecture.md; tests/test_architecture.py):
``pipeline`` (workflow steps) > ``outputs`` (figures, captions, report) > ``claims`` (metric keys,
metrics, verdicts, certainty, multiverse) > ``evidence`` (effect sizes, analyses, relapse, adverse
events) > ``stats`` (the pooling engine) > ``data`` (the contract and its loader) > ``core``
(config, errors).
"""
