"""Silence the native libraries' stderr chatter (absl/glog, libpng) around calls into them.

MediaPipe writes INFO/WARNING lines to file descriptor 2 before its logging is initialized,
which no Python setting reaches. Set ``GESTUREKIT_NATIVE_LOGS=1`` to see them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["quiet_native_stderr"]

_lock = threading.Lock()


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Point fd 2 at /dev/null for the duration of the block (Python's sys.stderr is kept)."""
    if os.environ.get("GESTUREKIT_NATIVE_LOGS"):
        yield
        return
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no real fd 2 (e.g. embedded): nothing to silence
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
