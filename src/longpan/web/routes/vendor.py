"""Third-party front-end files, served read-only from node_modules (installed by
`npm ci` at setup, never committed). Only the files listed here are reachable."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from starlette.responses import FileResponse

router = APIRouter(include_in_schema=False)

# The repository root of an editable install (src/longpan/web/routes → 4 levels up).
NODE_MODULES = Path(__file__).resolve().parents[4] / "node_modules"
VENDOR_FILES: dict[str, tuple[str, str]] = {
    "htmx.min.js": ("htmx.org/dist/htmx.min.js", "text/javascript"),
    "echarts.min.js": ("echarts/dist/echarts.min.js", "text/javascript"),
    # Jiangsu's 13 prefecture-level cities (GeoJSON of ECharts 4's bundled maps).
    "jiangsu.json": ("echarts-v4-maps/map/json/province/jiangsu.json", "application/json"),
    "swagger-ui-bundle.js": ("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui-dist/swagger-ui.css", "text/css"),
}


@router.get("/static/vendor/{name}")
def vendor_file(name: str) -> FileResponse:
    entry = VENDOR_FILES.get(name)
    if entry is None:
        raise HTTPException(404, "Not Found")
    path = NODE_MODULES / entry[0]
    if not path.is_file():
        raise HTTPException(404, f"front-end asset missing: run `npm ci` ({entry[0]})")
    return FileResponse(
        path, media_type=entry[1], headers={"Cache-Control": "public, max-age=86400"}
    )
