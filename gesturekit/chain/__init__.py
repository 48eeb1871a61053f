"""The chain: plugins (through pluggy, each isolated), the per-frame pipeline and the builder
that turns settings into a running source -> tracker -> classifiers -> temporal -> bus -> sinks."""
