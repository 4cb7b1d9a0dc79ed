"""A browser-less studio user: speaks Streamlit's own websocket protocol to a running `genlab studio`
(ws://HOST:PORT/_stcore/stream, protobuf BackMsg up, ForwardMsg down), as the browser does.

A session connects, asks for a script run (the browser's first message), reads the page's widgets
from the deltas it gets back (each widget id ends with the page's key), then sets widget values and
presses buttons by sending the next run's widget states. :func:`generate` is one Text to image
request: set the prompt, press Generate, wait for the run to finish, check the page said "N images
for “PROMPT”", fetch the picture from the server's media endpoint (as the browser does) and decode it.
The load bench (``python -m bench studio``) and the studio tests drive the server with it.
"""

from __future__ import annotations

import asyncio
import io
import time
import urllib.request
from dataclasses import dataclass, field

from PIL import Image
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class Page:
    """What one script run put on the page."""

    widgets: dict = field(default_factory=dict)  # user key -> widget id
    alerts: list = field(default_factory=list)  # (format name, body)
    images: list = field(default_factory=list)  # media URLs
    exceptions: list = field(default_factory=list)
    status: str = ""

    def texts(self, kind: str) -> list[str]:
        return [body for fmt, body in self.alerts if fmt == kind]


class StudioSession:
    """One user's websocket connection; ``await StudioSession.open(url)``, then :meth:`run`."""

    def __init__(self, base_url: str, ws):
        self.base_url, self.ws = base_url.rstrip("/"), ws
        self.page_hash = ""
        self.widgets: dict[str, str] = {}  # user key -> widget id, from every run so far

    @classmethod
    async def open(cls, base_url: str, timeout: float = 120):
        from websockets.asyncio.client import connect

        ws_url = base_url.rstrip("/").replace("http://", "ws://", 1) + "/_stcore/stream"
        ws = await connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=timeout, ping_interval=None)
        self = cls(base_url, ws)
        self.first = await self.run({}, timeout=timeout)
        return self

    async def close(self) -> None:
        await self.ws.close()

    async def run(self, states: dict, timeout: float = 300) -> Page:
        """One script run with these widget values ({key: value}; True presses a button);
        returns what it drew, once the server says the run finished."""
        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.page_hash
        for key, value in states.items():
            w = msg.rerun_script.widget_states.widgets.add()
            w.id = self.widgets[key]
            if value is True:
                w.trigger_value = True
            elif isinstance(value, str):
                w.string_value = value
            elif isinstance(value, int):
                w.int_value = value
            elif isinstance(value, (list, tuple)):
                w.double_array_value.data.extend(value)
            else:
                raise TypeError(f"no widget state for {value!r}")
        await self.ws.send(msg.SerializeToString())
        page = Page()
        async with asyncio.timeout(timeout):
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await self.ws.recv())
                kind = fwd.WhichOneof("type")
                if kind == "new_session" and fwd.new_session.page_script_hash:
                    self.page_hash = fwd.new_session.page_script_hash
                elif kind == "navigation" and fwd.navigation.page_script_hash:
                    self.page_hash = fwd.navigation.page_script_hash
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    self._read_element(fwd.delta.new_element, page)
                elif kind == "script_finished":
                    status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                    if status != "FINISHED_EARLY_FOR_RERUN":
                        page.status = status
                        self.widgets.update(page.widgets)
                        return page

    @staticmethod
    def _read_element(el, page: Page) -> None:
        kind = el.WhichOneof("type")
        widget = getattr(el, kind, None)
        wid = getattr(widget, "id", "") if kind not in ("imgs", "alert", "exception") else ""
        if wid.startswith("$$ID-") and wid.count("-") >= 2:
            page.widgets[wid.split("-", 2)[2]] = wid  # "$$ID-<hash>-<user key>"
        if kind == "alert":
            page.alerts.append((Alert.Format.Name(el.alert.format), el.alert.body))
        elif kind == "imgs":
            page.images.extend(img.url for img in el.imgs.imgs)
        elif kind == "exception":
            page.exceptions.append(f"{el.exception.type}: {el.exception.message}")

    def fetch(self, url: str) -> bytes:
        with urllib.request.urlopen(url if "://" in url else self.base_url + url, timeout=60) as r:
            return r.read()


async def generate(
    session: StudioSession, prompt: str, seed: int = 0, n: int = 16, timeout: float = 300
) -> tuple[float, str | None]:
    """One Text to image request; returns (seconds until the picture arrived, None) or (seconds, what went wrong)."""
    t0 = time.perf_counter()
    page = await session.run({"t2i-prompt": prompt, "t2i-n": [n], "t2i-seed": seed, "t2i-generate": True}, timeout)
    problems = page.exceptions + page.texts("ERROR")
    done = [s for s in page.texts("SUCCESS") if f"{n} images for “{prompt[:80]}”" in s]
    if problems or not done or not page.images:
        return time.perf_counter() - t0, "; ".join(problems) or f"no images ({page.status}; {page.texts('SUCCESS')})"
    data = await asyncio.to_thread(session.fetch, page.images[0])
    try:
        Image.open(io.BytesIO(data)).verify()
    except Exception as e:  # noqa: BLE001 - any decoding failure is a broken picture
        return time.perf_counter() - t0, f"the picture at {page.images[0]} does not decode ({e})"
    return time.perf_counter() - t0, None
