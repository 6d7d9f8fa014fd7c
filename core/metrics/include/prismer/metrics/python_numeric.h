/// \file python_numeric.h
/// Floating-point helpers that reproduce the reference Python tools bit for bit where it matters.
#pragma once

#include <vector>

namespace prismer::metrics {

/// numpy.mean of a float64 vector: numpy's pairwise summation (8-way unrolled blocks of up to 128),
/// divided by the count. Returns NaN for an empty vector, like numpy.
double numpy_mean(const std::vector<double>& values);

/// Python's sum() over floats: a plain left-to-right sum starting from 0.
double python_sum(const std::vector<double>& values);

/// Python 3 round(x, ndigits): the correctly rounded decimal value, exact binary ties to even.
double python_round(double x, int ndigits);

}  // namespace prismer::metrics
