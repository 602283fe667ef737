"""Links to the channel atlas (pages/8_Channel.py, URL path /Channel) from the other pages."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from locales import DEFAULT
from ui.i18n import lang, tr
from ui.present import presenting
from ui.state import IMAGE_KEY

ATLAS_PAGE = "pages/8_Channel.py"


def atlas_query(layer: str, channel: int) -> dict[str, str]:
    """The atlas's query for ``channel`` of ``layer``, the current test image (the link opens a new
    tab, a new session, which would otherwise start at image 0) and presentation mode, when on."""
    query = {"layer": str(layer), "channel": str(int(channel))}
    if IMAGE_KEY in st.session_state:
        query["image"] = str(int(st.session_state[IMAGE_KEY]))
    if lang() != DEFAULT:  # so is the language
        query["lang"] = lang()
    if presenting():
        query["present"] = "1"
    return query


def atlas_url(layer: str, channel: int) -> str:
    """A relative address of the atlas page of ``channel`` (for a table's link column)."""
    return "Channel?" + urlencode(atlas_query(layer, channel))


def atlas_link(layer: str, channel: int, container=None, label: str | None = None) -> None:
    """A page link "Channel N of LAYER in the atlas"."""
    place = container if container is not None else st
    place.page_link(ATLAS_PAGE, label=label or tr("Channel {channel} of {layer} in the atlas", channel=int(channel),
                                                  layer=layer),
                    query_params=atlas_query(layer, channel), icon=":material/travel_explore:")


def atlas_links(layer: str, channels, container=None) -> None:
    """One link per channel, in ``channels``' order (a mosaic's tile order): every tile's channel
    reaches its atlas page. Shown as a compact line of numbers."""
    place = container if container is not None else st
    links = " · ".join(f"[{int(c)}]({atlas_url(layer, c)})" for c in channels)
    place.markdown(tr("Open a channel in the atlas (tiles in the mosaic's order): {links}", links=links))
