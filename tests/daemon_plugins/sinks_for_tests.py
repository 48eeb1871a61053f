"""Sinks and a classifier for the daemon tests (loaded with ``plugin_paths``).

* ``slow_file``: appends each event's JSON to ``path`` after sleeping ``delay`` s (durable, so
  nothing is dropped); ``open_error: MSG`` makes ``open()`` raise ValueError(MSG), as does an
  existing ``fail_open_if`` file; ``connected: false`` reports a peer that is down;
  ``close_delay`` makes ``close()`` hang that long. Any other key is accepted (and ignored).
* ``marker`` classifier: a pulse detection named ``gesture`` on every ``every``-th frame.
* ``gesturekit_configure`` writes what it receives to ``plugins.sinks_for_tests.path``.
"""

import json
import os
import threading
import time

from gesturekit import Detection, hookimpl


class SlowFile:
    durable = True

    def __init__(self, cfg):
        self.path, self.delay = cfg["path"], float(cfg.get("delay", 0.0))
        self.open_error, self.fail_open_if = cfg.get("open_error"), cfg.get("fail_open_if")
        self.close_delay = float(cfg.get("close_delay", 0.0))
        if "connected" in cfg:
            self.connected = bool(cfg["connected"])
        self._f = None
        self._lock = threading.Lock()

    def open(self):
        if self.open_error:
            raise ValueError(self.open_error)
        if self.fail_open_if and os.path.exists(self.fail_open_if):
            raise ValueError(f"{self.fail_open_if} exists")
        self._f = open(self.path, "a")

    def send(self, event):
        time.sleep(self.delay)
        with self._lock:
            if self._f is None:
                raise RuntimeError("send() after close()")
            self._f.write(json.dumps(event.to_dict()) + "\n")
            self._f.flush()

    def close(self):
        time.sleep(self.close_delay)
        with self._lock:
            if self._f is not None:
                self._f.close()
                self._f = None


class Marker:
    def __init__(self, cfg):
        self.gesture, self.every = cfg.get("gesture", "marker"), int(cfg.get("every", 5))

    def classify(self, frame):
        return [Detection(self.gesture, kind="pulse")] if frame.index % self.every == 0 else []


@hookimpl
def gesturekit_register_sinks():
    return {"slow_file": SlowFile}


@hookimpl
def gesturekit_register_classifiers():
    return {"marker": Marker}


@hookimpl
def gesturekit_configure(config, plugin_config):
    dump = plugin_config.get("sinks_for_tests")
    if dump:
        with open(dump["path"], "w") as f:
            json.dump({"config": config, "plugin_config": plugin_config}, f)
