"""The ``longpan`` command line: thin commands over the library's service functions."""

from __future__ import annotations

import typer

from longpan.cli import data, demo, detection, report, synth

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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
