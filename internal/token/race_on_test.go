//go:build race

package token

// raceEnabled: the race detector drops a quarter of what goes into a
// sync.Pool, so allocation counts mean nothing under it.
const raceEnabled = true
