"""`northstar alerts`: exit 5 when a guardrail is in breach; optional webhook."""

from __future__ import annotations

import click

from northstar.commands._common import handle_errors, one_line, snapshot_option
from northstar.commands.params import FiniteFloatRange, WebhookURL
from northstar.errors import GuardrailBreached, WebhookError


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--grain", default="week", show_default=True, help="Period grain to check.")
@click.option(
    "--webhook", type=WebhookURL(), default=None, metavar="URL", help="POST the JSON report here."
)
@click.option(
    "--webhook-on",
    type=click.Choice(["breach", "warn", "always"]),
    default="breach",
    show_default=True,
    help="When to call the webhook: on a breach, on a breach or warning, or always.",
)
@click.option(
    "--webhook-timeout",
    type=FiniteFloatRange(min=0.1, max=3600),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
)
@snapshot_option
@handle_errors
def alerts(
    fmt: str,
    grain: str,
    webhook: str | None,
    webhook_on: str,
    webhook_timeout: float,
    run_id: str | None,
) -> None:
    """Check every guardrail in the latest complete period of the current snapshot.

    \b
    Exit codes: 0 no breach (warnings are printed); 5 at least one guardrail in breach
    (even if the webhook also failed); 1 the webhook failed and nothing is in breach;
    6 no snapshot or no complete period; 2 a malformed --webhook URL or timeout.
    """
    from northstar.publish import reader
    from northstar.query.alerts import (
        evaluate,
        post_webhook,
        redact,
        render_text,
        should_notify,
    )
    from northstar.query.formats import render_json

    snapshot = reader.resolve(run_id=run_id)
    con = reader.connect(snapshot)
    try:
        report = evaluate(con, grain=grain, manifest=snapshot.manifest)
    finally:
        con.close()
    payload = report.to_dict()
    click.echo(render_json(payload) if fmt == "json" else render_text(report))

    failed: WebhookError | None = None
    if webhook is not None and should_notify(report, webhook_on):
        try:
            status = post_webhook(webhook, payload, timeout=webhook_timeout)
            click.echo(f"webhook {redact(webhook)} answered HTTP {status}", err=True)
        except Exception as err:
            # Whatever the webhook does, a breach must still reach the scheduler as exit 5.
            if isinstance(err, WebhookError):
                failed = err
            else:
                detail = str(err).replace(webhook, redact(webhook))
                failed = WebhookError(
                    f"webhook {redact(webhook)} failed: {type(err).__name__}: {detail}"
                )
    if report.breaches:
        if failed is not None:
            click.echo(f"warning: {one_line(str(failed))}", err=True)
        raise GuardrailBreached()
    if failed is not None:
        raise failed
