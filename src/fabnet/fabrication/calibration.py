"""Coefficients of the fast estimate, fitted against PrusaSlicer 2.5 (non-negative
least squares on relative error) by ``python benchmarks/quote.py --calibrate --write``
on its calibration corpus (44 parts, seed 101; the benchmark uses seed 7)."""

# time features (estimate.TIME_FEATURES), fitted 2026-11-22:
#   external perimeters: 0.9499
#   inner perimeters: 0.9499
#   small perimeters: 1.0148
#   sparse infill: 0.9949
#   solid infill: 0.6645
#   top infill: 0.9268
#   first layer: 1.0351
#   fill turnarounds: 1.1236
#   thin walls (gap fill): 0.5011
#   cooling slowdown: 0.9748
#   loops (travel, retraction): 1.0165
#   layers: 0.0000
#   constant: 0.0000
TIME_COEF = (
    0.949896,
    0.949896,
    1.01475,
    0.99494,
    0.664482,
    0.926761,
    1.03506,
    1.12364,
    0.501079,
    0.974801,
    1.01649,
    0,
    0,
)
# volumes: perimeters, skins, infill, skirt
FILAMENT_COEF = (1.04359, 1.0298, 0.939687, 1)
