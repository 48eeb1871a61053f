"""First-party gesturekit plugins. They use only gesturekit's public API."""
