"""A classifier plugin that always raises (fault isolation test)."""

from gesturekit import hookimpl


@hookimpl
def gesturekit_classify(frame):
    raise ZeroDivisionError("bad classifier exploded")
