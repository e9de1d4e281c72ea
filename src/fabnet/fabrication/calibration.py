"""Coefficients of the fast estimate, fitted against PrusaSlicer 2.5 (non-negative least
squares on relative error) by ``python benchmarks/quote.py --calibrate`` on its
calibration corpus (seeds apart from the benchmark's). Before any fit they are 1."""

TIME_COEF = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0)
FILAMENT_COEF = (1.0, 1.0, 1.0, 1.0)
