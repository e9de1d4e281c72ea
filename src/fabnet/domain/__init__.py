"""Plain-Python core: ids, units, entities, state machines, events and errors."""
