package scheduler

import "time"

// Clock is the scheduler's source of time; tests drive a fake one.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// After sends the current time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the real clock.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
