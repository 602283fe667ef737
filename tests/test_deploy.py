"""The deployment's generated HAProxy config and the load generator's bounds (no servers started)."""

from __future__ import annotations

import os
import subprocess

import pytest

from deploy import HAPROXY, haproxy_config
from loadgen import _cookie_from, rerun_msg, run_class
from tests.conftest import run_in_own_loop


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


def test_loadgen_refuses_other_addresses_and_unbounded_runs():
    with pytest.raises(ValueError):
        run_in_own_loop(run_class("http://10.0.0.1:8080", 1, 0, 1, 0, "Feature_maps"))
    with pytest.raises(ValueError):
        run_in_own_loop(run_class("http://127.0.0.1:8080", 1000, 0, 1, 0, "Feature_maps"))


def test_rerun_message_names_the_page_and_query():
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(rerun_msg("Feature_maps", "image=7&layer=block3.relu3"))
    assert msg.rerun_script.page_name == "Feature_maps"
    assert msg.rerun_script.query_string == "image=7&layer=block3.relu3"
    assert _cookie_from("SERVERID=r2; path=/; HttpOnly") == "SERVERID=r2"
