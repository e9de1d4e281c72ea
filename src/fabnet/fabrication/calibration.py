"""Coefficients of the fast estimate, fitted against PrusaSlicer 2.5 (non-negative
least squares on relative error) by ``python benchmarks/quote.py --calibrate --write``
on its calibration corpus (44 parts, seed 101; the benchmark uses seed 7)."""

# time features (estimate.TIME_FEATURES), fitted 2026-11-21:
#   external perimeters: 0.9587
#   inner perimeters: 0.9587
#   small perimeters: 1.0759
#   sparse infill: 1.0062
#   solid infill: 0.5383
#   top infill: 0.9539
#   first layer: 1.0374
#   fill turnarounds: 1.1138
#   thin walls (gap fill): 0.4882
#   cooling slowdown: 0.9657
#   loops (travel, retraction): 1.0047
#   layers: 0.0000
#   constant: 0.0000
TIME_COEF = (
    0.958686,
    0.958686,
    1.07595,
    1.00619,
    0.538335,
    0.953929,
    1.03738,
    1.11377,
    0.488238,
    0.965746,
    1.00472,
    0,
    0,
)
# volumes: perimeters, skins, infill, skirt
FILAMENT_COEF = (1.02571, 0.99034, 0.963307, 0)
