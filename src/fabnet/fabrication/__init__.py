"""Fabrication knowledge, pure: mesh facts, FDM profiles, the fast estimate,
printability per machine and pricing. No framework, no numpy: scalars in, scalars out;
the heavy geometry runs in adapters/geometry and hands over a ``MeshFacts``."""
