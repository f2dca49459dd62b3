"""`northstar alerts`: exit 5 on a breach, text and JSON output, and the webhook (against
a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest
from click.testing import CliRunner
from snapshot_helpers import make_warehouse, publish_ok, setup_env

from northstar.cli import cli
from northstar.query.alerts import redact


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    root = tmp_path_factory.mktemp("alerts")
    with pytest.MonkeyPatch.context() as patch:
        paths = setup_env(root, patch)
        make_warehouse(paths)
        publish_ok(paths)
    return root


@pytest.fixture
def env(shared, monkeypatch):
    return setup_env(shared, monkeypatch)


@pytest.fixture
def healthy(tmp_path, monkeypatch):
    """A snapshot where the churn guardrail is at warning level, nothing in breach."""
    paths = setup_env(tmp_path, monkeypatch)
    make_warehouse(paths)
    con = duckdb.connect(str(paths.warehouse))
    con.execute(
        "update marts.fct_metric_values set value = 0.3, status = 'warn' "
        "where metric_name = 'churn_rate' and period_start = date '2026-09-21'"
    )
    con.close()
    publish_ok(paths)
    return paths


class Hook:
    """A local webhook receiver: records each POST, answers with `status` after `delay`."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                hook.received.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["Content-Type"],
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                time.sleep(delay)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/SECRET-TOKEN"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def run(*args: str):
    result = CliRunner().invoke(cli, ["alerts", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_breach_exits_5_and_names_value_and_threshold(env):
    result = run()
    assert result.exit_code == 5
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Guardrails, week of 2026-09-21 (latest complete week")
    assert lines[1].split()[:3] == ["BREACH", "churn_rate", "40.0%"]
    assert "breach 35.0%" in lines[1] and "warn 20.0%" in lines[1]
    assert lines[2].split()[:3] == ["OK", "error_rate", "1.0%"]
    assert lines[-1] == "1 guardrail(s) in breach: churn_rate"


def test_json_report(env):
    result = run("--format", "json")
    assert result.exit_code == 5
    report = json.loads(result.stdout)
    assert report["status"] == "breach"
    assert report["period_start"] == "2026-09-21"
    assert report["breach_count"] == 1
    assert [(g["metric_name"], g["status"]) for g in report["guardrails"]] == [
        ("churn_rate", "breach"),
        ("error_rate", "ok"),
    ]
    assert report["guardrails"][0]["value"] == 0.4
    assert report["guardrails"][0]["breach_threshold"] == 0.35


def test_no_breach_exits_0_and_still_shows_warnings(healthy):
    result = run()
    assert result.exit_code == 0
    assert "WARN    churn_rate  30.0%" in result.stdout
    assert result.stdout.splitlines()[-1] == "no guardrail in breach"


def test_webhook_receives_the_json_report(env):
    with Hook() as hook:
        result = run("--format", "json", "--webhook", hook.url)
    assert result.exit_code == 5
    assert len(hook.received) == 1
    assert hook.received[0]["content_type"] == "application/json"
    assert hook.received[0]["path"] == "/hooks/SECRET-TOKEN"
    assert hook.received[0]["body"] == json.loads(result.stdout)
    assert "answered HTTP 200" in result.stderr
    assert "SECRET-TOKEN" not in result.stderr  # the path often holds a token


def test_the_payload_has_a_plain_text_summary_for_chat_webhooks(env):
    """Slack and Teams incoming webhooks display `text` and ignore the other keys."""
    with Hook() as hook:
        run("--webhook", hook.url)
    text = hook.received[0]["body"]["text"]
    assert text.splitlines() == [
        "northstar, week of 2026-09-21: 1 guardrail(s) in breach.",
        "- BREACH Churn rate: 40.0% (breach at 35.0%), first week, after 1 week at warning "
        "level; owner lifecycle",
        "North Star up while guardrails are in breach: Messages sent 120 (+9.1%) while Churn "
        "rate is in breach. If guardrails flash red, pause optimisation.",
        f"Snapshot {hook.received[0]['body']['snapshot']['run_id']}.",
    ]
    churn = hook.received[0]["body"]["guardrails"][0]
    assert (churn["periods_in_status"], churn["status_since"]) == (1, "2026-09-21")
    assert churn["flagged_periods"] == 2


def test_the_text_summary_of_a_healthy_snapshot(healthy):
    report = json.loads(run("--format", "json").stdout)
    assert report["text"].splitlines()[:2] == [
        "northstar, week of 2026-09-21: no guardrail in breach; 1 at warning level.",
        "- WARN Churn rate: 30.0% (warn at 20.0%), 2 weeks in a row, since the week of "
        "2026-09-14; owner lifecycle",
    ]
    assert "pause optimisation" not in report["text"]


def test_chat_markup_in_labels_is_escaped():
    from northstar.query.alerts import AlertReport, summary_text

    guardrail = {
        "metric_name": "x",
        "label": "<!channel> & co",
        "owner": None,
        "unit": None,
        "direction": "lower_is_better",
        "period_start": "2026-09-21",
        "status": "warn",
        "value": 2.0,
        "warn_threshold": 1.0,
        "breach_threshold": 3.0,
        "periods_in_status": 1,
        "status_since": "2026-09-21",
        "flagged_periods": 1,
    }
    report = AlertReport("week", "2026-09-21", "2026-09-28", {"run_id": "r"}, [guardrail])
    assert "- WARN &lt;!channel&gt; &amp; co: 2 (warn at 1), first week" in summary_text(report)


def test_webhook_on_controls_when_it_is_called(healthy):
    with Hook() as hook:
        assert run("--webhook", hook.url).exit_code == 0
        assert hook.received == []  # default: only on a breach
        assert run("--webhook", hook.url, "--webhook-on", "warn").exit_code == 0
        assert run("--webhook", hook.url, "--webhook-on", "always").exit_code == 0
    assert [r["body"]["status"] for r in hook.received] == ["warn", "warn"]


def test_webhook_failure_is_reported_breach_still_wins(env, healthy):
    with Hook(status=500) as hook:
        result = run("--webhook", hook.url, "--webhook-on", "always")
    assert result.exit_code == 1  # healthy snapshot: the webhook failure decides
    assert "error: webhook http://127.0.0.1:" in result.stderr
    assert "answered HTTP 500" in result.stderr


def test_webhook_failure_with_a_breach_exits_5(env):
    with Hook(status=503) as hook:
        result = run("--webhook", hook.url)
    assert result.exit_code == 5
    assert "answered HTTP 503" in result.stderr
    assert "BREACH  churn_rate" in result.stdout


def test_unreachable_and_slow_webhooks(env):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = run("--webhook", f"http://127.0.0.1:{closed_port}/x")
    assert result.exit_code == 5
    assert "unreachable" in result.stderr
    with Hook(delay=2.0) as hook:
        started = time.monotonic()
        result = run("--webhook", hook.url, "--webhook-timeout", "0.3")
        assert time.monotonic() - started < 2.0
    assert result.exit_code == 5
    assert "unreachable: timed out" in result.stderr


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "127.0.0.1:80", ""]
)
def test_non_http_webhooks_are_refused_before_anything_runs(env, url):
    result = run("--webhook", url)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "is not an http(s) URL" in result.stderr


def test_unknown_grain(env):
    result = run("--grain", "fortnight")
    assert result.exit_code == 6
    assert "unknown grain 'fortnight'" in result.stderr


def test_redact_keeps_only_scheme_and_host():
    assert redact("https://user:pw@hooks.example.com:8443/services/T0/B0/XYZ?t=1") == (
        "https://hooks.example.com:8443/..."
    )


def test_a_guardrail_is_judged_on_its_own_latest_complete_week(tmp_path, monkeypatch):
    paths = setup_env(tmp_path, monkeypatch)
    make_warehouse(paths)
    con = duckdb.connect(str(paths.warehouse))
    con.execute(
        "update marts.fct_metric_values set is_complete_period = false "
        "where metric_name = 'churn_rate' and period_start = date '2026-09-21'"
    )
    con.close()
    publish_ok(paths)
    result = run()
    assert result.exit_code == 0  # the partial breach is not final
    assert "WARN    churn_rate  25.0%" in result.stdout
    assert "[week of 2026-09-14]" in result.stdout
    report = json.loads(run("--format", "json").stdout)
    assert report["period_start"] == "2026-09-21"
    churn = next(g for g in report["guardrails"] if g["metric_name"] == "churn_rate")
    assert (churn["period_start"], churn["status"]) == ("2026-09-14", "warn")


# A URL that would only fail once the report was computed (urllib's own parser, or the
# socket) must be a usage error before anything runs, like a non-http scheme.
MALFORMED_URLS = [
    "http://exa mple.com/x",
    "http://[::1",
    "http://%00/",
    "http://" + "a" * 100_000 + ".example.com/x",
    "http://host:99999/x",
    "http://host:port/x",
    "http://exa\nmple.com/x",
    "http://example.com/a b",
    "http://example.com/\x00",
    "https://",
    "http://..example.com/",
    "http://ex%41mple.com/",
    "http://exämple.com/x",
    "gopher://example.com/",
]


@pytest.mark.parametrize("url", MALFORMED_URLS, ids=range(len(MALFORMED_URLS)))
def test_malformed_webhook_urls_are_usage_errors_before_anything_runs(env, url):
    result = run("--webhook", url)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Invalid value for '--webhook'" in result.stderr
    # the refused value is shown escaped and shortened: the error stays one line
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and len(error_lines[0]) < 400


@pytest.mark.parametrize("timeout", ["nan", "inf", "-inf", "1e308", "-1", "0", "NaN", "1e400"])
def test_bad_webhook_timeouts_are_usage_errors(env, timeout):
    result = run("--webhook", "http://127.0.0.1:9/x", "--webhook-timeout", timeout)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Invalid value for '--webhook-timeout'" in result.stderr


def test_a_webhook_that_fails_in_any_way_never_hides_the_breach(env, monkeypatch):
    import northstar.query.alerts

    def broken(*_args, **_kwargs):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(northstar.query.alerts.urllib.request, "urlopen", broken)
    result = run("--webhook", "https://hooks.example.com/T0/SECRET")
    assert result.exit_code == 5
    assert "BREACH  churn_rate" in result.stdout
    assert "warning: webhook https://hooks.example.com/... failed" in result.stderr
    assert "SECRET" not in result.stderr
