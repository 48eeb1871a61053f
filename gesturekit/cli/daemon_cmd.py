"""``gesturekit daemon --config FILE``: run the source -> gestures -> sinks chain until stopped."""

from __future__ import annotations

import argparse
import logging


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("daemon", help="run the gesture daemon from a YAML config",
                       description="Run source -> tracker -> classifiers -> sinks from one YAML config. "
                                   "SIGTERM/SIGINT stop it cleanly (queues drained); SIGHUP reloads the config.")
    p.add_argument("--config", "-c", required=True, metavar="FILE", help="the daemon's YAML config")
    p.add_argument("--check", action="store_true",
                   help="validate the config, build the sinks, open and close each one, and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate the config, then run the daemon (or, with ``--check``, open and close the sinks)."""
    from gesturekit.daemon import Daemon
    from gesturekit.settings import load_settings

    config = load_settings(args.config)  # Daemon() refuses what a daemon cannot run
    if not args.verbose:  # the daemon reports reconnects and counters at INFO
        logging.getLogger("gesturekit").setLevel(config.log_level.upper())
    daemon = Daemon(config)
    if args.check:
        daemon.check_sinks()
        if config.health.enabled:
            from gesturekit.daemon.health import check_port_free

            check_port_free(config.health.host, config.health.port)
        print(f"{args.config}: OK (sinks: {', '.join(config.enabled_sinks())})")
        return 0
    return daemon.run()
