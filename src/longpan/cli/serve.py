"""``longpan serve``: the web platform under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from longpan.cli.common import err, handle_errors, workspace


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="worker processes")] = 1,
) -> None:
    """Serve the web UI and the API (the database is migrated first)."""
    import uvicorn

    workspace().close()  # brings the schema up to date, or fails with a clear message
    err.print(f"龙磐 Longpan: http://{host}:{port}/  (Ctrl+C to stop)")
    # By import string (cli never imports web); the factory reads the same settings.
    uvicorn.run(
        "longpan.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
    )
