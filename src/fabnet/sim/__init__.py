"""The digital twin: drives the real services with simulated machines in compressed time."""
