"""``gesturekit status``: ask a running daemon's status endpoint and print its counters."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request

from gesturekit._exceptions import GestureKitError

DEFAULT_URL = "http://127.0.0.1:8766/status"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show a running daemon's status and per-sink counters",
                       description="Show a running daemon's source, frame and event counts and per-sink counters "
                                   "(delivered, dropped, errors, reconnects, queued) with each sink's state "
                                   "(connected, down, failed or running).")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--config", "-c", metavar="FILE", help="find the status endpoint in this daemon config")
    g.add_argument("--url", help=f"status endpoint (default {DEFAULT_URL})")
    p.add_argument("--token", help="token for a status endpoint that needs one")
    p.add_argument("--json", action="store_true", help="print the raw JSON")
    p.set_defaults(func=run)


def fetch_status(url: str, token: str | None = None, timeout: float = 3.0) -> dict:
    """GET the daemon's status JSON (raises :class:`GestureKitError` with one line when unreachable)."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise GestureKitError(f"the daemon at {url} answered {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise GestureKitError(f"no gesturekit daemon answers at {url} ({reason})") from None


def run(args: argparse.Namespace) -> int:
    from gesturekit.bus import stats_table

    url, token = args.url or DEFAULT_URL, args.token
    if args.config:
        from gesturekit.daemon import load_config

        cfg = load_config(args.config)
        if not cfg.health.enabled:
            raise GestureKitError(f"{args.config} turns the status endpoint off (health.enabled: false)")
        host = cfg.health.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        url = f"http://{host}:{cfg.health.port}/status"
        token = token or cfg.health.token
    st = fetch_status(url, token)
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    src = st.get("source", {})
    print(f"gesturekit daemon pid {st.get('pid')} ({st.get('status')}), up {st.get('uptime_s', 0):.0f} s, "
          f"config {st.get('config')}")
    print(f"source {src.get('name')!s} ({src.get('state')}), reconnects {src.get('reconnects', 0)}, "
          f"frames {st.get('frames')} at {st.get('fps')} fps, events {st.get('events')}")
    if st.get("plugin_errors"):
        print("plugin errors: " + ", ".join(f"{k}={v}" for k, v in st["plugin_errors"].items()))
    print(stats_table(st.get("sinks", {})))
    return 0
