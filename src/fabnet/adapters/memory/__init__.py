"""In-memory store and blob store: the fakes the unit tests and simulator use."""

from fabnet.adapters.memory.store import InMemoryBlobStore, InMemoryDatabase, InMemoryUnitOfWork

__all__ = ["InMemoryBlobStore", "InMemoryDatabase", "InMemoryUnitOfWork"]
