"""The notice a student sees after a replica died and HAProxy moved the browser to another one."""

from __future__ import annotations

import streamlit as st

FAILOVER = ("**You are on another server now.** The server this page was running on stopped, so "
            "you were moved to another one. What only that server knew is lost: your uploaded photo "
            "and any setting not in the page's link. The page shows the link's image and settings; "
            "upload your photo again if you need it.")


def failover_notice() -> None:
    """Behind ``python -m deploy``'s HAProxy: say once per session that the browser was moved from
    a dead replica to this one. HAProxy sends the replica the browser's stickiness cookie as
    ``X-Replica-Before`` and the replica's own name as ``X-Replica``; they differ only after a
    failover. Without the proxy neither header exists and nothing is shown."""
    headers = st.context.headers
    before, now = headers.get("X-Replica-Before"), headers.get("X-Replica")
    if before and now and before != now and not st.session_state.get("_failover_said"):
        st.session_state["_failover_said"] = True
        st.warning(FAILOVER, icon="🔁")
