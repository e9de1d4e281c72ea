"""Coefficients of the fast estimate, fitted against PrusaSlicer 2.5 (non-negative
least squares on relative error) by ``python benchmarks/quote.py --calibrate --write``
on its calibration corpus (44 generated parts, seed 101; the benchmark uses seed 7;
and 15 real parts, the even places of ../shared/testdata/real-parts, each
counted 3 times; the benchmark grades the others)."""

# time features (estimate.TIME_FEATURES), fitted 2026-12-02:
#   external perimeters: 1.0881
#   inner perimeters: 1.0881
#   small perimeters: 1.0993
#   sparse infill: 0.9208
#   solid infill: 0.6551
#   top infill: 0.9280
#   first layer: 1.0039
#   fill turnarounds: 1.1304
#   thin walls (gap fill): 0.5908
#   cooling slowdown: 0.9533
#   loops (travel, retraction): 0.8755
#   layers: 0.0000
#   constant: 0.0000
TIME_COEF = (
    1.0881,
    1.0881,
    1.09929,
    0.920829,
    0.655109,
    0.927999,
    1.00385,
    1.13042,
    0.590842,
    0.95334,
    0.875528,
    0,
    0,
)
# volumes: perimeters, skins, infill, skirt
FILAMENT_COEF = (1.06838, 1.00809, 0.921376, 1)
