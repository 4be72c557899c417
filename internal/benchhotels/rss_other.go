//go:build !(linux || darwin)

package benchhotels

import "math"

// PeakRSSMB is not measured on this system: NaN.
func PeakRSSMB() float64 { return math.NaN() }
