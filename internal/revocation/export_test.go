package revocation

// BuildCRL exposes buildCRL to the benchmarks.
var BuildCRL = buildCRL
