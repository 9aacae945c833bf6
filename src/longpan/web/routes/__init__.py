"""One module per page group; each has ``router`` (pages) and maybe ``api`` (JSON)."""
