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

// NowFunc is a Clock that reads the time from a func (the program's
// injected clock) and waits with real timers: herald serve passes its
// Main.Now, so a clock set for a test or a demo reaches the scheduler too.
type NowFunc func() time.Time

// Now calls f.
func (f NowFunc) Now() time.Time { return f() }

// After waits d on a real timer.
func (NowFunc) After(d time.Duration) <-chan time.Time { return time.After(d) }
