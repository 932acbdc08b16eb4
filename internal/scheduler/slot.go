package scheduler

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Slot is one scheduled run of one digest.
type Slot struct {
	// Digest is the digest's name.
	Digest string
	// Zone is, for a `delivery: local` digest, the zone group whose slot
	// this is: the IANA zone the slot's wall clock is read in ("" for other
	// digests).
	Zone string
	// Key is the slot's local wall-clock time and zone, such as
	// "2026-03-29T01:30 Europe/London": unique per digest, the edition key.
	Key string
	// At is the instant the slot runs for.
	At time.Time
	// Previous is the instant of the digest's slot before this one (zero if
	// there is none within five years). At minus Previous is the default
	// lookback.
	Previous time.Time
}

// KeyLayout formats the wall-clock part of a slot key; the zone's name
// follows it after a space.
const KeyLayout = "2006-01-02T15:04"

// maxSlotsPerInstant bounds the wall-clock slots merged into one instant (a
// minute schedule across a one-day gap is 1440).
const maxSlotsPerInstant = 4 * 24 * 60

// NextSlot returns the first slot of sched in loc whose instant is after t,
// with its Previous set; ok is false when there is none within five years.
// sched is evaluated on wall-clock times: for a *cron.SpecSchedule (what
// config.ParseSchedule returns) its own Location is ignored.
func NextSlot(sched cron.Schedule, loc *time.Location, t time.Time) (s Slot, ok bool) {
	c := newCalendar(sched, loc)
	s.Key, s.At, ok = c.next(t)
	if ok {
		_, s.Previous, _ = c.prev(s.At)
	}
	return s, ok
}

// PreviousSlot returns the last slot of sched in loc whose instant is before
// t, with its Previous set; ok is false when there is none within five
// years. A manual edition at t uses t minus its At as the default lookback.
func PreviousSlot(sched cron.Schedule, loc *time.Location, t time.Time) (s Slot, ok bool) {
	c := newCalendar(sched, loc)
	s.Key, s.At, ok = c.prev(t)
	if ok {
		_, s.Previous, _ = c.prev(s.At)
	}
	return s, ok
}

// calendar maps a cron schedule's wall-clock times in one zone to instants.
type calendar struct {
	sched cron.Schedule // evaluated on wall-clock times written as UTC
	loc   *time.Location
}

func newCalendar(sched cron.Schedule, loc *time.Location) calendar {
	if loc == nil {
		loc = time.UTC
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		wall := *spec
		wall.Location = time.UTC
		sched = &wall
	}
	return calendar{sched: sched, loc: loc}
}

// wallOf is the local wall-clock reading of t in c's zone, written as UTC so
// that arithmetic on it knows no daylight saving time.
func (c calendar) wallOf(t time.Time) time.Time {
	l := t.In(c.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

func (c calendar) key(wall time.Time) string {
	return wall.Format(KeyLayout) + " " + c.loc.String()
}

// instant is the first instant at which the local clock reads wall or
// later. For an ordinary time that is the time itself; in the autumn's
// repeated hour it is the first occurrence; in the spring gap it is the
// instant the gap ends. It is non-decreasing in wall.
//
// Each zone period [start, end) with offset off reads wall at wall-off; the
// earliest instant in the period reading wall or later is max(start,
// wall-off), if that is before end. The answer is the least over the
// periods around wall.
func (c calendar) instant(wall time.Time) time.Time {
	w := wall.Unix()
	const span = 2 * 24 * 3600 // offsets are within ±14h; gaps last at most a day
	best, found := int64(0), false
	t := time.Unix(w-span, 0).In(c.loc)
	for range 64 {
		start, end := t.ZoneBounds()
		_, off := t.Zone()
		u := w - int64(off)
		if !start.IsZero() && u < start.Unix() {
			u = start.Unix()
		}
		if (end.IsZero() || u < end.Unix()) && (!found || u < best) {
			best, found = u, true
		}
		if end.IsZero() || end.Unix() > w+span {
			break
		}
		t = end.In(c.loc)
	}
	if !found { // unreachable for real zones; let the standard library choose
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, c.loc)
	}
	return time.Unix(best, 0).In(c.loc)
}

// group returns the run that starts with the wall-clock slot first: its
// instant, and the key of the latest wall-clock slot sharing that instant
// (only slots in a spring gap share one). after is the wall-clock slot that
// follows the group, or the zero time.
func (c calendar) group(first time.Time) (key string, at, after time.Time) {
	at = c.instant(first)
	last := first
	for range maxSlotsPerInstant {
		after = c.sched.Next(last)
		if after.IsZero() || !c.instant(after).Equal(at) {
			break
		}
		last = after
	}
	return c.key(last), at, after
}

// next returns the first run whose instant is after t.
func (c calendar) next(t time.Time) (key string, at time.Time, ok bool) {
	// A wall-clock slot at or before t's reading has its instant at or before
	// t; later ones may too, in the autumn's repeated hour.
	wall := c.sched.Next(c.wallOf(t))
	for !wall.IsZero() {
		var after time.Time
		key, at, after = c.group(wall)
		if at.After(t) {
			return key, at, true
		}
		wall = after
	}
	return "", time.Time{}, false
}

// prev returns the last run whose instant is before t, searching back
// through widening windows.
func (c calendar) prev(t time.Time) (key string, at time.Time, ok bool) {
	end := c.wallOf(t)
	for _, back := range []time.Duration{2 * time.Hour, 26 * time.Hour, 8 * 24 * time.Hour,
		32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 366 * 24 * time.Hour} {
		wall := c.sched.Next(end.Add(-back))
		for !wall.IsZero() {
			k, a, after := c.group(wall)
			if !a.Before(t) {
				break
			}
			key, at, ok = k, a, true
			wall = after
		}
		if ok {
			return key, at, true
		}
	}
	return "", time.Time{}, false
}
