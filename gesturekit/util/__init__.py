"""Cross-cutting helpers: native log silencing, retry/backoff, size-limited YAML."""
