"""Entry points: the HTTP API, the CLI and (later) the producer agent."""
