"""``report.html``: content, links, determinism, and the page as a browser renders it.

The page is built by the test itself from the committed results tables (``results/``), with the
figures copied beside it, into pytest's temporary folder; the browser test opens that file in
headless Chromium (Debian: ``apt-get install -y chromium chromium-driver``) and fails, never skips,
when Chromium is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import ROOT
from markupsafe import escape

from ketamine_meta.core.settings import Config
from ketamine_meta.outputs import report, report_blocks

RESULTS = ROOT / "results"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = (
    "headless Chromium is needed for the report test: install it with "
    "`apt-get update && apt-get install -y chromium chromium-driver` (Debian; .ci/run does this)"
)
SCREENSHOT = ROOT / "tests" / "artifacts" / "report.png"


class Page(HTMLParser):
    """Ids, internal links, images and claim rows of a rendered page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, class)
        self.images: list[str] = []
        self.image_attrs: list[dict] = []
        self.claim_rows: list[dict] = []
        self.headers: list[str] = []
        self._th = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a" and "href" in a:
            self.links.append((a["href"], a.get("class") or ""))
        if tag == "img":
            self.images.append(a["src"])
            self.image_attrs.append(a)
        if tag == "tr" and "claim" in (a.get("class") or "").split():
            self.claim_rows.append(a)
        self._th = tag == "th"

    def handle_data(self, data):
        if self._th:
            self.headers.append(data.strip())

    def handle_endtag(self, tag):
        self._th = False


#: The claims table's columns when claims.csv carries the multiverse summary (robustness).
CLAIM_HEADERS = ["Claim", "Document", "Quote", "Claimed vs regenerated", "Verdict", "Robustness", "Reason", "Evidence"]


def resolved_config(**overrides) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg.update(overrides)
    return cfg


DOCUMENTS = [
    {"file": "001_f5702f10357af7c1.txt", "title": "Peer Review Request: Ketamine", "author": "Scott Alexander",
     "date": "2021-07-19", "url": "https://www.astralcodexten.com/p/peer-review-request-ketamine"},
    {"file": "002_f33cdbe9e4f2f5e7.txt", "title": "Can excessive ketamine use cause depression?"},
]  # fmt: skip


def build_page(out_dir: Path, cfg: dict | None = None, claims_csv: Path | None = None, figures=None) -> Path:
    """The report of the committed results, written to ``out_dir/report.html`` beside a copy of the figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = cfg or resolved_config(results_dir=str(out_dir), work_dir=str(out_dir / "work"))
    (out_dir / "config.json").write_text(json.dumps(cfg, sort_keys=True, indent=2) + "\n")
    if not (out_dir / "figures").exists():
        shutil.copytree(RESULTS / "figures", out_dir / "figures")
    out = out_dir / "report.html"
    cwd = os.getcwd()
    os.chdir(ROOT)  # data_dir and claims_file are relative to the repository, as in the workflow
    try:
        report.build(
            config_path=out_dir / "config.json",
            claims_csv=claims_csv or RESULTS / "claims.csv",
            pooled_csv=RESULTS / "tables" / "pooled.csv",
            metrics_csv=RESULTS / "tables" / "metrics.csv",
            effects_csv=RESULTS / "tables" / "effect_sizes.csv",
            forest_index_csv=RESULTS / "tables" / "forest_index.csv",
            spec_curve_index_csv=RESULTS / "tables" / "spec_curve_index.csv",
            figures_dir=out_dir / "figures",
            out_html=out,
            figures=figures,
        )
    finally:
        os.chdir(cwd)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_page(tmp_path_factory.mktemp("report") / "results")


@pytest.fixture(scope="module")
def page(built) -> Page:
    return Page(built.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return pd.read_csv(RESULTS / "claims.csv", dtype={"claimed": str})


def element(html: str, anchor: str, tag: str) -> str:
    """The markup of the ``tag`` element with id ``anchor`` (not nested in itself)."""
    m = re.search(rf'<{tag}\b[^>]*\bid="{re.escape(anchor)}"[^>]*>(.*?)</{tag}>', html, flags=re.S)
    assert m, f"no <{tag} id={anchor!r}>"
    return m.group(1)


# ------------------------------------------------------------------------------------- static checks


def test_one_claims_row_per_claim_in_registry_order(page, claims):
    assert [r["id"] for r in page.claim_rows] == [f"claim-{c}" for c in claims["claim_id"]]
    assert [r["data-verdict"] for r in page.claim_rows] == list(claims["verdict"])
    assert [r["data-document"] for r in page.claim_rows] == list(claims["document"])


def test_claims_table_columns_and_summary_counts(built, page, claims):
    head = page.headers[page.headers.index("Claim") :][:8]
    assert head == CLAIM_HEADERS
    assert "robustness" in claims.columns  # the column appears because claims.csv carries the multiverse summary
    html = built.read_text(encoding="utf-8")
    summary = element(html, "summary-table", "table")
    for verdict, n in claims["verdict"].value_counts().items():
        assert f"<th>{verdict}</th>" in summary
        assert f"<th>{n}</th>" in summary
    assert f'Showing <strong id="claims-count">{len(claims)}</strong> of {len(claims)} claims' in html


def test_ids_are_unique_and_every_internal_link_lands(page):
    assert len(page.ids) == len(set(page.ids))
    ids = set(page.ids)
    broken = sorted({h for h, _ in page.links if h.startswith("#") and h[1:] not in ids})
    assert not broken, broken[:20]


def test_each_claim_links_its_analysis_figure_and_studies(built, claims):
    html = built.read_text(encoding="utf-8")
    metrics = pd.read_csv(RESULTS / "tables" / "metrics.csv").set_index("metric")
    pooled = pd.read_csv(RESULTS / "tables" / "pooled.csv").set_index("analysis_id")
    figures = {f"figures/{p.relative_to(RESULTS / 'figures').as_posix()}" for p in (RESULTS / "figures").rglob("*.png")}
    n_analysis = 0
    for _, c in claims.iterrows():
        row = element(html, f"claim-{c['claim_id']}", "tr")
        if c["metric"] in metrics.index:
            aid = metrics.loc[c["metric"], "analysis_id"]
            key = aid if isinstance(aid, str) and aid in pooled.index else c["metric"]
            assert f'class="link-analysis" href="#analysis-{key}"' in row, c["claim_id"]
            n_analysis += 1
        else:
            assert "link-analysis" not in row, c["claim_id"]
        if isinstance(c["figure"], str) and c["figure"] in figures:
            assert f'href="#{report.figure_anchor(c["figure"])}"' in row, c["claim_id"]
        studies = c["studies"].split(";") if isinstance(c["studies"], str) else []
        assert re.findall(r'class="link-study" href="#study-([^"]+)"', row) == studies
    assert n_analysis == claims["metric"].isin(metrics.index).sum() > 10


def test_analysis_block_lists_studies_and_effect_sizes(built, claims):
    """The pooled g at 24 h: its numbers, its 9 studies and one effect-size row per study, with data rows."""
    html = built.read_text(encoding="utf-8")
    aid = "depression.smd.contrast.all.h24.primary"
    p = pd.read_csv(RESULTS / "tables" / "pooled.csv").set_index("analysis_id").loc[aid]
    block = element(html, f"analysis-{aid}", "section")
    assert f"{p['estimate']:.3g} [{p['ci_low']:.3g}, {p['ci_high']:.3g}]" in block
    assert f"[{p['pi_low']:.3g}, {p['pi_high']:.3g}]" in block
    studies = p["studies"].split(";")
    listed = re.search(r"Studies \((\d+)\): (.*?)</p>", block, flags=re.S)
    assert int(listed.group(1)) == len(studies) == p["k"] >= 2
    assert re.findall(r'href="#study-([^"]+)"', listed.group(2)) == studies
    es = pd.read_csv(RESULTS / "tables" / "effect_sizes.csv")
    sel = es[
        es["primary"]
        & (es["outcome"] == "depression")
        & (es["effect"] == "smd")
        & (es["group"] == "contrast")
        & (es["time_bin"] == "h24")
    ]
    effects = block[block.index('class="compact effects"') :]
    assert sorted(re.findall(r'<td><a class="link-study" href="#study-([^"]+)"', effects)) == sorted(sel["study_id"])
    for yi in sel["yi"]:
        assert f"<td>{yi:.4g}</td>" in effects
    for ref in ";".join(sel["source_rows"]).split(";"):
        table, row = ref.split(".csv:")
        assert f'href="#row-{table}-{row}"' in effects
    for c in claims.loc[claims["metric"] == "pooled.depression.smd.all.h24", "claim_id"]:
        assert f'href="#claim-{c}"' in block


def test_data_rows_print_source_link_evidence_locator_and_derivation(built):
    """Every row of every study's tables, keyed by its spreadsheet row (header = row 1)."""
    html = built.read_text(encoding="utf-8")
    n = 0
    for name in report_blocks.STUDY_TABLES:
        table = pd.read_csv(ROOT / "data" / "extracted" / f"{name}.csv", dtype=str, keep_default_na=False)
        for i, r in table.iterrows():
            tr = element(html, f"row-{name}-{i + 2}", "tr")
            assert f"<code>{name}.csv:{i + 2}</code>" in tr
            assert str(escape(r["evidence"])) in tr
            assert str(escape(r["locator"])) in tr
            assert str(escape(r.get("derivation", ""))) in tr
            if r["source_url"].startswith("http"):
                assert f'class="source" href="{escape(r["source_url"])}"' in tr
            n += 1
    assert n == sum(len(pd.read_csv(ROOT / "data" / "extracted" / f"{t}.csv")) for t in report_blocks.STUDY_TABLES)
    studies = pd.read_csv(ROOT / "data" / "extracted" / "studies.csv")
    assert len(re.findall(r'<section class="study" id="study-', html)) == len(studies)


def test_figures_with_captions_linked_relative_to_the_page(built, page):
    pngs = sorted((built.parent / "figures").rglob("*.png"))
    assert len(set(page.images)) == len(pngs) > 10  # an analysis's figure may also show in another analysis
    assert sorted(set(page.images)) == sorted(p.relative_to(built.parent).as_posix() for p in pngs)
    for a in page.image_attrs:  # lazy, with the space reserved (a third of the 300 dpi raster)
        assert a["loading"] == "lazy" and int(a["width"]) > 100 and int(a["height"]) > 50
    html = built.read_text(encoding="utf-8")
    for png in pngs:
        assert (built.parent / png.relative_to(built.parent)).exists()
        caption = png.with_name(png.stem + ".caption.txt").read_text(encoding="utf-8").strip()
        assert str(escape(caption)) in html
    gallery = Page(element(html, "figures", "section")).images  # figures not shown in an analysis
    top = [i for i in gallery if i.count("/") == 1]
    assert top == sorted(top, key=lambda i: [*report.FIGURE_ORDER, i].index(Path(i).stem))
    assert "results/figures/forest/forest_depression_smd_contrast_h24.svg" in html
    ids = set(page.ids)
    assert all(report.figure_anchor(i) in ids for i in page.images)  # every figure has its anchor once


def test_every_analysis_shows_its_figure_in_its_section(built, claims):
    html = built.read_text(encoding="utf-8")
    metrics = pd.read_csv(RESULTS / "tables" / "metrics.csv").set_index("metric")
    blocks = re.findall(r'<section class="analysis" id="([^"]+)">(.*?)</section>', html, flags=re.S)
    assert len(blocks) > 10
    with_figure = 0
    for anchor, body in blocks:
        rows = metrics[[f"analysis-{report.slug(k)}" == anchor for k in metrics["analysis_id"].fillna("")]]
        rows = rows if len(rows) else metrics[[f"analysis-{report.slug(m)}" == anchor for m in metrics.index]]
        figs = {f for f in rows["figure"].dropna() if (RESULTS / f).exists()}
        shown = set(re.findall(r'<img src="([^"]+)"', body))
        if figs & set(claims["figure"].dropna()) or (len(figs) == 1 and len(rows) == 1):
            assert shown and shown <= figs | {f for f in claims["figure"].dropna()}, anchor
            with_figure += 1
    assert with_figure > 10
    block = element(html, "analysis-depression.smd.contrast.all.h24.primary", "section")
    assert '<img src="figures/forest/forest_depression_smd_contrast_h24.png"' in block
    assert 'id="fig-forest-forest_depression_smd_contrast_h24"' in block


def test_effect_rows_carry_study_interval_and_weight(built):
    html = built.read_text(encoding="utf-8")
    aid = "depression.smd.contrast.all.h24.primary"
    p = pd.read_csv(RESULTS / "tables" / "pooled.csv").set_index("analysis_id").loc[aid]
    es = pd.read_csv(RESULTS / "tables" / "effect_sizes.csv")
    sel = es[es["primary"] & (es["outcome"] == "depression") & (es["effect"] == "smd") & (es["group"] == "contrast")
             & (es["time_bin"] == "h24")]  # fmt: skip
    block = element(html, f"analysis-{aid}", "section")
    weights = [float(w[:-1]) for w in re.findall(r'<td class="num weight">([\d.]+%)</td>', block)]
    w = 1 / (sel["vi"] + p["tau2"])
    assert sorted(weights) == sorted(round(x, 1) for x in 100 * w / w.sum())
    assert sum(weights) == pytest.approx(100, abs=0.3)
    fu = sel[sel["study_id"] == "fu2020"].iloc[0]
    lo, hi = fu["yi"] - 1.959964 * fu["vi"] ** 0.5, fu["yi"] + 1.959964 * fu["vi"] ** 0.5
    assert f'<td class="num">{fu["yi"]:.2f} [{lo:.2f}, {hi:.2f}]</td>' in block
    assert ">Fu 2020 (ASPIRE I)</a>" in block  # studies by their label


def test_summary_of_findings_lists_the_central_claims(built, claims):
    html = built.read_text(encoding="utf-8")
    sof = element(html, "sof-table", "table")
    central = claims[claims["central"]]
    assert re.findall(r'<tr class="sof" data-claim="([^"]+)">', sof) == list(central["claim_id"])
    r = central.set_index("claim_id").loc["d001_response_24h_ketamine_50pct"]
    row = sof[sof.index('data-claim="d001_response_24h_ketamine_50pct"') :].split("</tr>")[0]
    pct = f"{100 * r['regenerated']:.0f}% (95% CI {100 * r['ci_low']:.0f}% to {100 * r['ci_high']:.0f}%)"
    assert pct in row and '<td data-label="Claimed">50%</td>' in row  # the registry's scalar, as the document says
    assert f">{int(r['k'])} ({int(r['n_participants'])})<" in row
    assert f'class="badge v-{r["verdict"]}">{r["verdict"]}<' in row and r["certainty"] in row
    assert "Neither confirmed nor ruled out: the trials give " + pct in row
    assert html.index('id="summary"') < html.index('id="claims"')


def test_robustness_printed_as_words(built, claims):
    html = built.read_text(encoding="utf-8")
    cells = re.findall(r'<td data-label="Robustness" class="robustness">([^<]*)</td>', html)
    assert len(cells) == len(claims)
    for cell, (_, c) in zip(cells, claims.iterrows()):
        if pd.notna(c["robustness"]):
            assert cell.startswith(f"{c['robustness']:.0%} of {int(c['n_distinct'])} distinct analyses")
    assert not re.search(r">0\.\d{6,}<", html)  # no raw fractions such as 0.1666666667


def test_documents_by_title_with_their_url(tmp_path, claims):
    docs = tmp_path / "documents.yaml"
    docs.write_text(yaml.safe_dump(DOCUMENTS))
    cfg = resolved_config(results_dir=str(tmp_path / "res"), work_dir=str(tmp_path / "work"), documents_file=str(docs))
    html = build_page(tmp_path / "res", cfg=cfg).read_text(encoding="utf-8")
    filters = element(html, "filter-document", "select")
    assert '<option value="001_f5702f10357af7c1.txt">Peer Review Request: Ketamine</option>' in filters
    assert '<option value="002_f33cdbe9e4f2f5e7.txt">Can excessive ketamine use cause depression?</option>' in filters
    assert '<option value="000_92929f1ec0fa9813.txt">000_92929f1ec0fa9813.txt</option>' in filters  # no entry
    row = element(html, "claim-d001_effect_size_0_6_to_1_0", "tr")
    assert (f'<a class="doc-link" href="{DOCUMENTS[0]["url"]}" rel="noopener noreferrer">'
            "Peer Review Request: Ketamine</a>") in row  # fmt: skip
    assert "001_f5702f10357af7c1.txt</span>" in element(html, "sof-table", "table")
    # without the file (absent or ""): file names, and the page is otherwise built the same
    for missing in (str(tmp_path / "nowhere.yaml"), ""):
        cfg["documents_file"] = missing
        html = build_page(tmp_path / "res", cfg=cfg).read_text(encoding="utf-8")
        assert '<option value="001_f5702f10357af7c1.txt">001_f5702f10357af7c1.txt</option>' in html


def test_only_declared_figures_are_shown(tmp_path):
    """The workflow names the top-level figures: a stray PNG in figures/ is not picked up."""
    out = tmp_path / "res"
    shutil.copytree(RESULTS / "figures", out / "figures")
    (out / "figures" / "stray.png").write_bytes((RESULTS / "figures" / "relapse.png").read_bytes())
    page = Page(build_page(out, figures=[str(out / "figures" / "timecourse.png")]).read_text(encoding="utf-8"))
    forest = pd.read_csv(RESULTS / "tables" / "forest_index.csv")["figure"]
    curves = pd.read_csv(RESULTS / "tables" / "spec_curve_index.csv")["figure"]
    assert set(page.images) == {"figures/timecourse.png", *forest, *curves}


def test_methods_come_from_the_config_used(tmp_path, monkeypatch):
    # read the config as written, without the cross-key checks (a multiverse block must agree with handling)
    monkeypatch.setattr(report, "load_config", lambda path: Config.from_dict(json.loads(Path(path).read_text())))
    cfg = resolved_config(results_dir="elsewhere/res", work_dir="elsewhere/work")
    cfg["model"].update(method="DL", test="z", level=0.9, add=0.25)
    cfg["handling"].update(multi_arm="split_control", crossover="exclude")
    cfg["subsets"] = {"saline_only": {"control": ["saline"]}}
    html = build_page(tmp_path / "res", cfg=cfg).read_text(encoding="utf-8")
    methods = element(html, "methods", "section")
    prose = methods.split("<details>")[0]  # the full config below lists the multiverse's estimators too
    assert "DerSimonian-Laird (DL)" in prose and "REML" not in prose
    assert "normal (z) intervals" in prose and "Knapp-Hartung" not in prose
    assert "coverage 90%" in methods
    assert 'escalc(add = 0.25, to = "only0")' in methods
    assert "<code>split_control</code>" in methods and "one comparison per ketamine arm" in methods
    assert "Crossover trials (<code>exclude</code>)" in methods
    assert "<code>saline_only</code></td><td>control in [saline]</td>" in methods
    bins = re.findall(r"<tr><td><code>(\w+)</code></td><td>[^<]*</td><td>([\d.]+)</td>", methods)
    assert [b for b, _ in bins][:7] == ["min40", "h2_4", "h24", "d2_3", "d7", "d14", "d21_28"]
    shown = json.loads(str(element(html, "config-json", "pre")).replace("&#34;", '"').replace("&#39;", "'"))
    assert shown["model"]["method"] == "DL" and not {"results_dir", "work_dir"} & shown.keys()
    assert "elsewhere" not in html


def test_same_inputs_give_byte_identical_pages_wherever_written(built, tmp_path):
    other = build_page(tmp_path / "somewhere" / "else")
    assert other.read_bytes() == built.read_bytes()
    text = built.read_text(encoding="utf-8")
    for path in (str(built.parent), str(tmp_path), str(ROOT), str(Path.home())):
        assert path not in text
    assert not re.search(r'(src|href)="(/|file:)', text)


def test_robustness_column_only_when_claims_have_one(tmp_path, claims):
    with_rob = claims.assign(robustness=[f"holds in {i % 4}/4 subsets" for i in range(len(claims))])
    path = tmp_path / "claims.csv"
    with_rob.to_csv(path, index=False)
    html = build_page(tmp_path / "res", claims_csv=path).read_text(encoding="utf-8")
    page = Page(html)
    head = page.headers[page.headers.index("Claim") :][:8]
    assert head == CLAIM_HEADERS
    cells = re.findall(r'<td data-label="Robustness" class="robustness">([^<]*)</td>', html)
    assert cells == list(with_rob["robustness"])


@pytest.mark.pipeline
def test_workflow_publishes_the_report_without_run_paths(test_data_run):
    """The rule on the small test data set (the session's shared run): results/report.html, no
    path of this run in it."""
    tmp_path, _ = test_data_run
    html = (tmp_path / "results" / "report.html").read_text(encoding="utf-8")
    assert str(tmp_path) not in html
    page = Page(html)
    c = pd.read_csv(tmp_path / "results" / "claims.csv")
    assert [r["id"] for r in page.claim_rows] == [f"claim-{i}" for i in c["claim_id"]]
    assert all((tmp_path / "results" / src).exists() for src in page.images)
    ids = set(page.ids)
    assert not [h for h, _ in page.links if h.startswith("#") and h[1:] not in ids]


# ------------------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def browser(built, tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[test]'", pytrace=False)
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(120)
    try:
        driver.get(built.as_uri())
        yield driver
    finally:
        driver.quit()


def visible_claims(driver) -> int:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#claims-table tbody tr.claim'))"
        ".filter(function (tr) { return tr.offsetParent !== null; }).length;"
    )


def test_browser_claims_table_and_filters(browser, claims):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    rows = browser.find_elements(By.CSS_SELECTOR, "#claims-table tbody tr.claim")
    assert len(rows) == len(claims) == visible_claims(browser)
    doc = claims["document"].value_counts().index[0]  # the document with most claims
    verdict = "reproduced"
    Select(browser.find_element(By.ID, "filter-document")).select_by_value(doc)
    expected_doc = int((claims["document"] == doc).sum())
    assert visible_claims(browser) == expected_doc == int(browser.find_element(By.ID, "claims-count").text)
    Select(browser.find_element(By.ID, "filter-verdict")).select_by_value(verdict)
    expected = int(((claims["document"] == doc) & (claims["verdict"] == verdict)).sum())
    assert expected > 0
    assert visible_claims(browser) == expected == int(browser.find_element(By.ID, "claims-count").text)
    shown = [r.get_attribute("id") for r in rows if r.is_displayed()]
    want = claims.loc[(claims["document"] == doc) & (claims["verdict"] == verdict), "claim_id"]
    assert shown == [f"claim-{c}" for c in want]
    # every document x verdict pair, through the same change events a reader fires
    for d in sorted(claims["document"].unique()):
        for v in sorted(claims["verdict"].unique()):
            n = browser.execute_script(
                "var d = document.getElementById('filter-document'), v = document.getElementById('filter-verdict');"
                "d.value = arguments[0]; v.value = arguments[1];"
                "d.dispatchEvent(new Event('change')); v.dispatchEvent(new Event('change'));"
                "return document.getElementById('claims-count').textContent;",
                d,
                v,
            )
            assert (
                int(n) == visible_claims(browser) == int(((claims["document"] == d) & (claims["verdict"] == v)).sum())
            )
    Select(browser.find_element(By.ID, "filter-document")).select_by_value("")
    Select(browser.find_element(By.ID, "filter-verdict")).select_by_value("")
    assert visible_claims(browser) == len(claims)


def test_browser_every_image_loaded(browser, built):
    from selenium.webdriver.support.ui import WebDriverWait

    # images are lazy: off-screen ones load when scrolled to; make them all load now
    browser.execute_script("Array.from(document.images).forEach(function (i) { i.loading = 'eager'; });")
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return Array.from(document.images).every(function (i) { return i.complete; });")
    )
    widths = browser.execute_script(
        "return Array.from(document.images).map(function (i) { return [i.getAttribute('src'), i.naturalWidth]; });"
    )
    assert len({src for src, _ in widths}) == len(list((built.parent / "figures").rglob("*.png")))
    assert [src for src, w in widths if not w > 0] == []


def test_browser_every_claim_link_lands_on_an_anchor(browser, claims):
    result = browser.execute_script(
        "var out = {links: 0, broken: []};"
        "document.querySelectorAll('#claims-table tbody tr.claim').forEach(function (tr) {"
        "  tr.querySelectorAll('a[href^=\"#\"]').forEach(function (a) {"
        "    out.links += 1;"
        "    var id = decodeURIComponent(a.getAttribute('href').slice(1));"
        "    if (!document.getElementById(id)) { out.broken.push(tr.id + ' -> ' + id); }"
        "  });"
        "});"
        "return out;"
    )
    assert result["broken"] == []
    n_studies = claims["studies"].dropna().str.split(";").str.len().sum()
    assert result["links"] >= n_studies + claims["figure"].notna().sum() - 1


def test_browser_evidence_in_two_clicks(browser):
    """Claim -> its analysis -> a data row: the row shows the source link and the text as printed."""
    from selenium.webdriver.common.by import By

    claim = browser.find_element(By.ID, "claim-d001_effect_size_0_6_to_1_0")
    claim.find_element(By.CSS_SELECTOR, "a.link-analysis").click()
    aid = "analysis-depression.smd.contrast.all.h24.primary"
    assert browser.execute_script("return decodeURIComponent(location.hash);") == f"#{aid}"
    block = browser.find_element(By.ID, aid)
    link = block.find_element(By.CSS_SELECTOR, "a.link-row")
    ref = link.text  # e.g. contrasts.csv:3
    link.click()
    table, row = ref.split(".csv:")
    target = browser.find_element(By.ID, f"row-{table}-{row}")
    assert browser.execute_script("return document.querySelector(':target').id;") == target.get_attribute("id")
    data = pd.read_csv(ROOT / "data" / "extracted" / f"{table}.csv", dtype=str, keep_default_na=False)
    expected = data.iloc[int(row) - 2]
    assert target.find_element(By.CSS_SELECTOR, "blockquote.evidence").text == expected["evidence"].strip()
    assert target.find_element(By.CSS_SELECTOR, "a.source").get_dom_attribute("href") == expected["source_url"]


def test_browser_claim_target_clears_the_sticky_header(browser, claims):
    """Following #claim-… scrolls the row to below the table's sticky header, not under it."""
    for cid in (claims["claim_id"].iloc[40], claims["claim_id"].iloc[-1]):
        browser.execute_script("window.location.hash = arguments[0];", f"claim-{cid}")
        geo = browser.execute_script(
            "var tr = document.getElementById(arguments[0]), th = document.querySelector('#claims-table thead th');"
            "return [tr.getBoundingClientRect().top, th.getBoundingClientRect().bottom, window.innerHeight];",
            f"claim-{cid}",
        )
        top, header_bottom, height = geo
        assert header_bottom <= top < height, (cid, geo)
    browser.execute_script("window.location.hash = ''; window.scrollTo(0, 0);")


def test_browser_claims_table_fits_a_phone(browser):
    """At 400 px the claims table is one card per claim: no cell is squeezed, none overlaps another."""
    browser.set_window_size(400, 900)
    try:
        geo = browser.execute_script(
            "var t = document.getElementById('claims-table');"
            "var rows = Array.from(t.querySelectorAll('tr.claim')).slice(0, 30);"
            "return {vw: document.documentElement.clientWidth, page: document.documentElement.scrollWidth,"
            "  table: t.getBoundingClientRect().right, rows: rows.map(function (tr) {"
            "    return Array.from(tr.children).map(function (td) {"
            "      var r = td.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; }); })};"
        )
        assert geo["vw"] <= 400 and geo["page"] <= geo["vw"] and geo["table"] <= geo["vw"]
        for cells in geo["rows"]:
            for left, right, _top, _bottom in cells:
                assert right - left > 0.8 * geo["vw"] - 40  # full width, not one letter per line
            for (_, _, _, b1), (_, _, t2, _) in zip(cells, cells[1:]):
                assert t2 >= b1 - 0.5  # stacked, never overlapping
    finally:
        browser.set_window_size(1400, 1600)


def test_browser_documents_show_titles_when_listed(browser, tmp_path):
    docs = tmp_path / "documents.yaml"
    docs.write_text(yaml.safe_dump(DOCUMENTS))
    cfg = resolved_config(results_dir=str(tmp_path / "res"), work_dir=str(tmp_path / "w"), documents_file=str(docs))
    page = build_page(tmp_path / "res", cfg=cfg)
    browser.get(page.as_uri())
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    options = [o.text for o in Select(browser.find_element(By.ID, "filter-document")).options]
    assert "Peer Review Request: Ketamine" in options and "001_f5702f10357af7c1.txt" not in options
    cell = browser.find_element(By.CSS_SELECTOR, "#claim-d001_effect_size_0_6_to_1_0 td[data-label=Document]")
    assert cell.text == "Peer Review Request: Ketamine"


def test_browser_screenshot(browser):
    browser.execute_script("window.location.hash = ''; window.scrollTo(0, 0);")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    print(f"screenshot: {SCREENSHOT}")
