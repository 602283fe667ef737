"""The deployment's generated HAProxy config and the load generator's bounds (no servers started)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading

import pytest

from deploy import HAPROXY, haproxy_config
from loadgen import _cookie_from, rerun_msg, run_class


def test_haproxy_config_is_valid_and_cookie_sticky(tmp_path):
    text = haproxy_config(18080, [18081, 18082])
    for line in ("balance roundrobin", "cookie SERVERID insert indirect nocache", "option httpchk GET /_stcore/health",
                 "timeout tunnel 1h", "server r1 127.0.0.1:18081 check cookie r1",
                 "server r2 127.0.0.1:18082 check cookie r2", "bind 127.0.0.1:18080"):
        assert line in text
    assert "balance source" not in text  # one NAT address per lecture hall
    if not os.path.exists(HAPROXY):
        pytest.skip("haproxy is not installed")
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    subprocess.run([HAPROXY, "-c", "-q", "-f", str(cfg)], check=True)


def _run_in_own_loop(coro):
    """asyncio.run in a thread of its own: an earlier test (Playwright, AppTest) may leave an event
    loop running in this one, and asyncio.run refuses to start inside it."""
    outcome = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_loadgen_refuses_other_addresses_and_unbounded_runs():
    with pytest.raises(ValueError):
        _run_in_own_loop(run_class("http://10.0.0.1:8080", 1, 0, 1, 0, "Feature_maps"))
    with pytest.raises(ValueError):
        _run_in_own_loop(run_class("http://127.0.0.1:8080", 1000, 0, 1, 0, "Feature_maps"))


def test_rerun_message_names_the_page_and_query():
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(rerun_msg("Feature_maps", "image=7&layer=block3.relu3"))
    assert msg.rerun_script.page_name == "Feature_maps"
    assert msg.rerun_script.query_string == "image=7&layer=block3.relu3"
    assert _cookie_from("SERVERID=r2; path=/; HttpOnly") == "SERVERID=r2"
