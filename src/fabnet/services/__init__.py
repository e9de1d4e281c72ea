"""Use cases. Each handler is one transaction; every outside system is a port."""
