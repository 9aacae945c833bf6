"""The ``longpan`` command line: thin commands over the library's service functions."""

from __future__ import annotations

import typer

from longpan.cli import cases as cases_cli
from longpan.cli import data, demo, detection, report, synth
from longpan.cli import serve as serve_cli
from longpan.cli import threat as threat_cli
from longpan.cli import users as users_cli
from longpan.cli import vuln as vuln_cli

app = typer.Typer(
    name="longpan",
    help="龙磐 Longpan — discover, attribute, notify, rectify, verify, measure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(data.init)
app.command()(data.ingest)
app.command()(detection.detect)
app.command()(detection.findings)
app.command("eval")(detection.eval_)
app.command()(data.show)
app.command()(report.report)
app.command()(synth.synth)
app.command()(demo.demo)
cases_cli.register(app)  # longpan batch …, verify, remind, escalation
app.add_typer(threat_cli.app)  # longpan threat …
app.add_typer(vuln_cli.app)  # longpan vuln …
app.add_typer(users_cli.app)  # longpan user add|list
app.command()(serve_cli.serve)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
