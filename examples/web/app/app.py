"""The Schooner web example: a tiny Flask app on port 8080.

GET /         -> {"version": $APP_VERSION, "pod": $HOSTNAME, "message": $MESSAGE}
GET /healthz  -> 200 "ok"
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from types import FrameType

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/")
def index() -> Response:
    return jsonify(
        version=os.environ.get("APP_VERSION", "unknown"),
        pod=os.environ.get("HOSTNAME") or socket.gethostname(),
        message=os.environ.get("MESSAGE", ""),
    )


@app.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    return "ok", 200, {"Content-Type": "text/plain"}


def _terminate(signum: int, frame: FrameType | None) -> None:
    # PID 1 ignores SIGTERM without a handler; exit promptly when the pod stops.
    sys.exit(0)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    port = int(os.environ.get("PORT", "8080"))
    app.run(host="0.0.0.0", port=port, threaded=True)


if __name__ == "__main__":
    main()
