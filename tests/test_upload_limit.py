"""The server refuses what the app refuses: Streamlit's own upload limit (server.maxUploadSize,
200 MB by default) is the app's 20 MB, so a class uploading at once cannot fill the server's memory.
The real server is tested in tests/browser/test_first_launch_browser.py."""

from __future__ import annotations

import ast
import tomllib

from data.uploads import MAX_BYTES
from tests.conftest import PROJECT

MB = 1024 * 1024  # Streamlit's maxUploadSize is in these megabytes (starlette_routes: * 1024 * 1024)


def server_limit_bytes() -> int:
    with open(PROJECT / ".streamlit" / "config.toml", "rb") as f:
        return tomllib.load(f)["server"]["maxUploadSize"] * MB


def test_the_server_limit_is_the_apps_limit():
    assert server_limit_bytes() == MAX_BYTES == 20 * MB


def test_no_uploader_asks_for_more_than_the_server_takes():
    """Every st.file_uploader passes max_upload_size (shown in the browser, which refuses larger
    files before sending them), and none above the server's limit."""
    calls = []
    for path in [PROJECT / "dashboard.py", *sorted((PROJECT / "pages").glob("*.py")),
                 *sorted((PROJECT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "file_uploader":
                sizes = [k.value for k in node.keywords if k.arg == "max_upload_size"]
                assert sizes, f"{path.name}:{node.lineno}: file_uploader without max_upload_size"
                calls.append(ast.unparse(sizes[0]))
    assert len(calls) >= 3  # the sidebar's photo, the playground's and the Lecture page's deck file
    # Photos: the server's limit in MB; any other upload (a deck file) a literal number of MB below it.
    photo = "MAX_BYTES // (1024 * 1024)"
    assert photo in calls
    assert all(c == photo or (c.isdigit() and 0 < int(c) <= server_limit_bytes() // MB) for c in calls), calls
