//go:build !race

package proving

// raceEnabled: the race detector slows everything down unevenly, so
// timing tests skip under it.
const raceEnabled = false
