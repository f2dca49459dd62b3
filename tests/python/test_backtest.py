"""The backtest (docs/backtest.md): the scores agree with an independent pandas
recomputation from the per-entity periods, the North Star leads on demo-shaped data, a
candidate drawn at random is reported as not leading, and `northstar backtest` reads it.

The recomputation starts from intermediate.int_entity_periods (the per-entity values every
metric is built from), not from the backtest's own pairs, so a wrong pairing (an off-by-one
lag, an unobservable outcome counted, a payer counted as a conversion) fails here.
"""

from __future__ import annotations

import json
import subprocess

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import BIN, PROJECT_DIR, PROJECT_ENTRIES
from spec_yaml import raw_spec

from northstar.errors import NotFoundError
from northstar.query.backtest import load

QUANTILES = 5
MAX_LAG = 8
CANDIDATES = ["messages_sent", "files_shared", "searches_performed"]
# A candidate drawn at random: the share of an entity's shared files larger than the
# generator's median size (e^11.5 bytes). The generator draws each file's size from the
# event's own hash, independently of the team, so this level is a coin flip per file with
# no link to the team's retention or spending.
RANDOM_CANDIDATE = {
    "name": "coin_flip_files",
    "label": "Share of files above the median size (random)",
    "kind": "ratio",
    "numerator": {
        "kind": "count",
        "events": ["file_shared"],
        "where": {"property": "size_bytes", "op": ">", "value": 98715},
    },
    "denominator": {"kind": "count", "events": ["file_shared"]},
}


def _frame(warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def _centered_ranks(frame: pd.DataFrame, column: str, by: list[str]) -> pd.Series:
    """average rank - 0.5 within each group (pandas' ranks): the model's score times n."""
    return frame.groupby(by)[column].rank(method="average") - 0.5


def _recomputed_pairs(warehouse) -> pd.DataFrame:
    """(candidate, lag, entity, period) pairs with their outcomes, from the entity periods."""
    periods = _frame(
        warehouse,
        """
        select entity_id, period_start, is_active,
               messages_sent__numerator as messages_sent,
               files_shared__numerator as files_shared,
               searches_performed__numerator as searches_performed,
               coalesce(backtest_revenue_gained__numerator, 0)
                 - coalesce(backtest_revenue_lost__numerator, 0) as revenue_change
        from intermediate.int_entity_periods where grain = 'week'
        """,
    )
    spine = _frame(
        warehouse,
        "select period_start, is_complete_period from intermediate.int_period_spine "
        "where grain = 'week' order by period_start",
    )
    spine["index"] = np.arange(1, len(spine) + 1)
    first = periods.groupby("entity_id")["period_start"].min().rename("first_period")
    grid = (
        first.reset_index()
        .merge(spine, how="cross")
        .query("period_start >= first_period")
        .merge(periods, on=["entity_id", "period_start"], how="left")
        .sort_values(["entity_id", "index"])
    )
    grid["is_active"] = grid["is_active"].fillna(False).astype(bool)
    grid["revenue"] = grid.groupby("entity_id")["revenue_change"].transform(
        lambda s: s.fillna(0).cumsum()
    )
    sources = grid[grid["is_active"] & grid["is_complete_period"]]
    later = grid[["entity_id", "index", "is_active", "is_complete_period", "revenue"]]
    frames = []
    for lag in range(1, MAX_LAG + 1):
        shifted = later.assign(index=later["index"] - lag)
        paired = sources.merge(shifted, on=["entity_id", "index"], how="left", suffixes=("", "_k"))
        for candidate in CANDIDATES:
            frames.append(
                pd.DataFrame(
                    {
                        "candidate_name": candidate,
                        "lag": lag,
                        "period_index": paired["index"],
                        "level": paired[candidate].astype(float),
                        "observable": paired["is_complete_period_k"].fillna(False).astype(bool),
                        "retained": paired["is_active_k"].astype(float),
                        "revenue_before": paired["revenue"],
                        "revenue_after": paired["revenue_k"],
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _scores(pairs: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """rho (pooled within-period average ranks), lift of the top vs bottom quantile."""
    frame = pairs[pairs["observable"]].copy()
    if outcome == "retention":
        frame["y"] = frame["retained"]
    elif outcome == "paid_conversion":
        frame = frame[frame["revenue_before"] <= 0]
        frame["y"] = (frame["revenue_after"] > 0).astype(float)
    else:  # revenue
        frame["y"] = frame["revenue_after"]
    by = ["candidate_name", "lag", "period_index"]
    size = frame.groupby(by)["level"].transform("size")
    x_rank = _centered_ranks(frame, "level", by)
    frame["x_score"] = x_rank / size
    frame["y_score"] = _centered_ranks(frame, "y", by) / size
    frame["quantile"] = np.floor(x_rank * QUANTILES / size) + 1
    rows = []
    for (candidate, lag), group in frame.groupby(["candidate_name", "lag"]):
        top = group[group["quantile"] == QUANTILES]["y"]
        bottom = group[group["quantile"] == 1]["y"]
        rows.append(
            {
                "candidate_name": candidate,
                "lag": lag,
                "pairs": len(group),
                "rho": group["x_score"].corr(group["y_score"]),
                # a bottom group with no outcome at all has no ratio (the model's null)
                "lift": top.mean() / bottom.mean() if bottom.mean() else np.nan,
            }
        )
    excluded = (
        pairs[~pairs["observable"]].groupby(["candidate_name", "lag"]).size().rename("excluded")
    )
    return pd.DataFrame(rows).merge(
        excluded.reset_index(), on=["candidate_name", "lag"], how="left"
    )


@pytest.fixture(scope="module")
def scores(demo) -> pd.DataFrame:
    return _frame(
        demo.warehouse,
        "select * from marts.rpt_north_star_backtest_scores where scope = 'entity' "
        "and window_name = 'all'",
    )


@pytest.mark.parametrize("outcome", ["retention", "paid_conversion", "revenue"])
def test_the_scores_match_a_pandas_recomputation(demo, scores, outcome):
    expected = _scores(_recomputed_pairs(demo.warehouse), outcome)
    built = scores[scores["outcome_name"] == outcome].merge(
        expected, on=["candidate_name", "lag"], suffixes=("", "_expected")
    )
    assert len(built) == len(CANDIDATES) * MAX_LAG
    assert (built["pairs"] == built["pairs_expected"]).all()
    assert (built["excluded_pairs"] == built["excluded"].fillna(0)).all()
    assert np.allclose(built["rho"], built["rho_expected"], atol=1e-9)
    assert np.allclose(built["lift"], built["lift_expected"], atol=1e-9, equal_nan=True)
    # the interval is Fisher's z around rho, se sqrt(1.06 / (n - 3))
    half = 1.96 * np.sqrt(1.06 / (built["pairs"] - 3))
    assert np.allclose(built["ci_low"], np.tanh(np.arctanh(built["rho"]) - half))
    assert np.allclose(built["ci_high"], np.tanh(np.arctanh(built["rho"]) + half))


def test_the_north_star_leads_retention_and_conversion(demo, scores):
    """The generator's latent fit drives both messages and lifetime: teams in the top fifth
    of a week's messages are more often still active, and paying, weeks later."""
    candidates = _frame(demo.warehouse, "select * from marts.rpt_north_star_backtest_candidates")
    north_star = candidates.set_index("candidate_name").loc["messages_sent"]
    assert north_star["status"] == "leading"
    assert north_star["lift"] > 1.5 and north_star["ci_low"] > 0.1
    at_best = scores[scores["lag"] == north_star["best_lag"]].set_index(
        ["candidate_name", "outcome_name"]
    )
    assert at_best.loc[("messages_sent", "paid_conversion"), "lift"] > 1.5
    # not observable yet: every pair whose week k lies past the data
    assert north_star["excluded_pairs"] > 0
    status = _frame(
        demo.warehouse, "select leading_status from marts.dim_metrics where role = 'north_star'"
    )
    assert status["leading_status"].tolist() == ["leading"]
    cohorts = _frame(
        demo.warehouse,
        "select quantile, retained_share, mean_revenue from marts.rpt_north_star_backtest "
        f"where candidate_name = 'messages_sent' and lag = {north_star['best_lag']} "
        "order by quantile",
    )
    assert cohorts["quantile"].tolist() == list(range(1, QUANTILES + 1))
    assert cohorts["retained_share"].iloc[-1] > cohorts["retained_share"].iloc[0]
    assert cohorts["mean_revenue"].iloc[-1] > cohorts["mean_revenue"].iloc[0]


@pytest.fixture(scope="module")
def random_build(demo, tmp_path_factory):
    """The demo's raw data built again with a spec that adds a candidate drawn at random:
    only what the backtest needs (dbt run, no tests), into a warehouse of its own."""
    workdir = tmp_path_factory.mktemp("backtest_random")
    project = workdir / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(PROJECT_DIR / entry)
    spec = raw_spec(PROJECT_DIR)
    spec["candidates"] = [*spec["candidates"], RANDOM_CANDIDATE]
    env = dict(
        demo.env,
        NORTHSTAR_PROJECT_DIR=str(project),
        DBT_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        NORTHSTAR_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
        DBT_TARGET_PATH=str(workdir / "target"),
        DBT_LOG_PATH=str(workdir / "logs"),
    )
    run = subprocess.run(
        [
            str(BIN / "dbt"),
            "run",
            "--select",
            "+rpt_north_star_backtest_candidates",
            "--vars",
            yaml.safe_dump({"northstar": spec}),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    return workdir / "warehouse.duckdb"


def test_a_random_candidate_is_not_leading(random_build):
    candidates = _frame(
        random_build, "select * from marts.rpt_north_star_backtest_candidates"
    ).set_index("candidate_name")
    coin = candidates.loc["coin_flip_files"]
    assert coin["status"] == "not_leading", coin.to_dict()
    assert coin["candidate_rank"] == len(candidates)  # ranked last, never first
    assert abs(coin["rho"]) < 0.1
    assert candidates.loc["messages_sent", "status"] == "leading"
    assert candidates.loc["messages_sent", "is_strongest"]


def test_the_command_prints_the_table_and_writes_json(demo, tmp_path):
    out = tmp_path / "backtest.json"
    result = subprocess.run(
        [str(BIN / "northstar"), "backtest", "--out", str(out)],
        cwd=demo.project,
        env=demo.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "messages_sent (North Star)" in result.stdout
    assert "<- strongest leading" in result.stdout
    assert "Cohorts by quantile of the North Star" in result.stdout
    assert "periods of changes" in result.stdout  # the series scope's caveat
    report = json.loads(out.read_text())
    assert report["candidates"][0]["candidate_name"] == "messages_sent"
    assert {s["scope"] for s in report["scores"]} == {"entity", "series"}
    # the command never touches the spec
    assert "coin_flip_files" not in (PROJECT_DIR / "dbt_project.yml").read_text()


def test_a_snapshot_without_the_backtest_is_not_found(tmp_path):
    from contract_warehouse import make_contract_warehouse

    path = make_contract_warehouse(tmp_path / "fixture.duckdb")
    with duckdb.connect(str(path), read_only=True) as con, pytest.raises(NotFoundError) as err:
        load(con)
    assert "rpt_north_star_backtest_candidates" in str(err.value)


def _verdict(tmp_path, status: str | None, recent_status: str = "leading"):
    from northstar.digest.leading import leading

    path = tmp_path / f"verdict_{status}_{recent_status}.duckdb"
    with duckdb.connect(str(path)) as con:
        if status is not None:
            con.execute(
                "create table rpt_north_star_backtest_candidates as select true as is_north_star, "
                "? as status, ? as recent_status, 3 as best_lag, 'week' as grain, "
                "0.4 as rho, 0.05 as recent_rho",
                [status, recent_status],
            )
        return leading(con)


def test_the_digest_warns_when_the_north_star_stops_leading(tmp_path):
    assert _verdict(tmp_path, None) is None  # a snapshot from before the backtest
    steady = _verdict(tmp_path, "leading")
    assert steady["warning"] is None
    assert "leading for retention 3 weeks later" in steady["sentence"]
    stopped = _verdict(tmp_path, "leading", "not_leading")
    assert "stopped leading retention 3 weeks later over the recent periods" in stopped["warning"]
    never = _verdict(tmp_path, "weak")
    assert "does not lead retention 3 weeks later (weak)" in never["warning"]
