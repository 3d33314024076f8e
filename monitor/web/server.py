"""Serving the app with uvicorn in a thread, so that it runs beside the scheduler in one
process (`rufwacht run`) and in the browser tests; the main thread keeps the signals."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

STARTUP_SECONDS = 30


class WebServer:
    """`with WebServer(app, host, port) as server:` serves until the block ends; port 0 takes
    a free one (`server.url` names it)."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8000) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self.host = host

    @property
    def url(self) -> str:
        port = self._server.servers[0].sockets[0].getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}"

    def start(self) -> WebServer:
        """Serve in the background; raises `OSError` when the address cannot be bound."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(
                    f"the web server could not listen on {self.host}:"
                    f"{self._server.config.port} (in use, or not an address of this machine)"
                )
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
