"""Links to the channel atlas (pages/8_Channel.py, URL path /Channel) from the other pages."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from ui.i18n import tr
from ui.present import presenting

ATLAS_PAGE = "pages/8_Channel.py"


def atlas_query(layer: str, channel: int) -> dict[str, str]:
    """The atlas's query for ``channel`` of ``layer`` (and presentation mode, when on)."""
    query = {"layer": str(layer), "channel": str(int(channel))}
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
