package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/heraldnews/herald/internal/config"
)

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func mustSched(tb testing.TB, spec string) cron.Schedule {
	tb.Helper()
	s, err := config.ParseSchedule(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

// fmtSlot is how tests compare slots: the key and the instant in UTC.
func fmtSlot(key string, at time.Time) string {
	return key + " at " + at.UTC().Format("2006-01-02 15:04Z")
}

// TestRobfigNextAtDSTTransitions pins what robfig/cron v3.0.1's own Next
// does in a zone with daylight saving time, the reason this package converts
// wall-clock slots to instants itself.
func TestRobfigNextAtDSTTransitions(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	spec := *mustSched(t, "30 1 * * *").(*cron.SpecSchedule)
	spec.Location = london
	tests := []struct {
		name string
		from time.Time
		want []string
	}{
		{"autumn: fires twice in the repeated hour", utc(2026, 10, 24, 12, 0),
			[]string{"2026-10-25 00:30Z", "2026-10-25 01:30Z", "2026-10-26 01:30Z"}},
		{"spring: skips the slot in the gap", utc(2026, 3, 28, 12, 0),
			[]string{"2026-03-30 00:30Z", "2026-03-31 00:30Z", "2026-04-01 00:30Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for at := tt.from; len(got) < len(tt.want); {
				at = spec.Next(at)
				got = append(got, at.UTC().Format("2006-01-02 15:04Z"))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("robfig Next: got %v, want %v", got, tt.want)
			}
		})
	}
}

// dstCase is a schedule across a DST transition and every slot it must run,
// each once, at the instant given.
type dstCase struct {
	name     string
	spec, tz string
	from, to time.Time
	want     []string
}

var dstCases = []dstCase{
	{"London 01:30 spring: gap slot runs at 02:00 BST", "30 1 * * *", "Europe/London", utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0), []string{
		"2026-03-29T01:30 Europe/London at 2026-03-29 01:00Z",
		"2026-03-30T01:30 Europe/London at 2026-03-30 00:30Z",
	}},
	{"London 01:30 autumn: repeated hour runs once, first occurrence", "30 1 * * *", "Europe/London", utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 12, 0), []string{
		"2026-10-25T01:30 Europe/London at 2026-10-25 00:30Z",
		"2026-10-26T01:30 Europe/London at 2026-10-26 01:30Z",
	}},
	{"London 02:30 spring", "30 2 * * *", "Europe/London", utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0), []string{
		"2026-03-29T02:30 Europe/London at 2026-03-29 01:30Z",
		"2026-03-30T02:30 Europe/London at 2026-03-30 01:30Z",
	}},
	{"London 02:30 autumn", "30 2 * * *", "Europe/London", utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 12, 0), []string{
		"2026-10-25T02:30 Europe/London at 2026-10-25 02:30Z",
		"2026-10-26T02:30 Europe/London at 2026-10-26 02:30Z",
	}},
	{"London 07:00 spring", "0 7 * * *", "Europe/London", utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0), []string{
		"2026-03-29T07:00 Europe/London at 2026-03-29 06:00Z",
		"2026-03-30T07:00 Europe/London at 2026-03-30 06:00Z",
	}},
	{"London 07:00 autumn", "0 7 * * *", "Europe/London", utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 12, 0), []string{
		"2026-10-25T07:00 Europe/London at 2026-10-25 07:00Z",
		"2026-10-26T07:00 Europe/London at 2026-10-26 07:00Z",
	}},
	{"London every 15 min spring: gap slots merge into one run", "*/15 0-3 * * *", "Europe/London", utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 4, 0), []string{
		"2026-03-29T00:00 Europe/London at 2026-03-29 00:00Z",
		"2026-03-29T00:15 Europe/London at 2026-03-29 00:15Z",
		"2026-03-29T00:30 Europe/London at 2026-03-29 00:30Z",
		"2026-03-29T00:45 Europe/London at 2026-03-29 00:45Z",
		"2026-03-29T02:00 Europe/London at 2026-03-29 01:00Z", // 01:00-01:45 do not exist
		"2026-03-29T02:15 Europe/London at 2026-03-29 01:15Z",
		"2026-03-29T02:30 Europe/London at 2026-03-29 01:30Z",
		"2026-03-29T02:45 Europe/London at 2026-03-29 01:45Z",
		"2026-03-29T03:00 Europe/London at 2026-03-29 02:00Z",
		"2026-03-29T03:15 Europe/London at 2026-03-29 02:15Z",
		"2026-03-29T03:30 Europe/London at 2026-03-29 02:30Z",
		"2026-03-29T03:45 Europe/London at 2026-03-29 02:45Z",
	}},
	{"London every 15 min autumn: repeated hour once", "*/15 0-3 * * *", "Europe/London", utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 4, 0), []string{
		"2026-10-25T00:00 Europe/London at 2026-10-24 23:00Z",
		"2026-10-25T00:15 Europe/London at 2026-10-24 23:15Z",
		"2026-10-25T00:30 Europe/London at 2026-10-24 23:30Z",
		"2026-10-25T00:45 Europe/London at 2026-10-24 23:45Z",
		"2026-10-25T01:00 Europe/London at 2026-10-25 00:00Z",
		"2026-10-25T01:15 Europe/London at 2026-10-25 00:15Z",
		"2026-10-25T01:30 Europe/London at 2026-10-25 00:30Z",
		"2026-10-25T01:45 Europe/London at 2026-10-25 00:45Z",
		"2026-10-25T02:00 Europe/London at 2026-10-25 02:00Z", // nothing in the second 01:xx
		"2026-10-25T02:15 Europe/London at 2026-10-25 02:15Z",
		"2026-10-25T02:30 Europe/London at 2026-10-25 02:30Z",
		"2026-10-25T02:45 Europe/London at 2026-10-25 02:45Z",
		"2026-10-25T03:00 Europe/London at 2026-10-25 03:00Z",
		"2026-10-25T03:15 Europe/London at 2026-10-25 03:15Z",
		"2026-10-25T03:30 Europe/London at 2026-10-25 03:30Z",
		"2026-10-25T03:45 Europe/London at 2026-10-25 03:45Z",
	}},
	{"New York 02:30 spring: gap slot runs at 03:00 EDT", "30 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0), []string{
		"2026-03-08T02:30 America/New_York at 2026-03-08 07:00Z",
		"2026-03-09T02:30 America/New_York at 2026-03-09 06:30Z",
	}},
	{"New York 01:30 autumn: first occurrence (EDT)", "30 1 * * *", "America/New_York", utc(2026, 10, 31, 12, 0), utc(2026, 11, 2, 12, 0), []string{
		"2026-11-01T01:30 America/New_York at 2026-11-01 05:30Z",
		"2026-11-02T01:30 America/New_York at 2026-11-02 06:30Z",
	}},
	{"New York 07:00 spring", "0 7 * * *", "America/New_York", utc(2026, 3, 7, 0, 0), utc(2026, 3, 9, 0, 0), []string{
		"2026-03-07T07:00 America/New_York at 2026-03-07 12:00Z",
		"2026-03-08T07:00 America/New_York at 2026-03-08 11:00Z",
	}},
	{"New York every 30 min spring", "*/30 1-3 * * *", "America/New_York", utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 9, 0), []string{
		"2026-03-08T01:00 America/New_York at 2026-03-08 06:00Z",
		"2026-03-08T01:30 America/New_York at 2026-03-08 06:30Z",
		"2026-03-08T03:00 America/New_York at 2026-03-08 07:00Z", // 02:00 and 02:30 do not exist
		"2026-03-08T03:30 America/New_York at 2026-03-08 07:30Z",
	}},
	{"New York every 30 min autumn", "*/30 1-3 * * *", "America/New_York", utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 9, 0), []string{
		"2026-11-01T01:00 America/New_York at 2026-11-01 05:00Z",
		"2026-11-01T01:30 America/New_York at 2026-11-01 05:30Z",
		"2026-11-01T02:00 America/New_York at 2026-11-01 07:00Z",
		"2026-11-01T02:30 America/New_York at 2026-11-01 07:30Z",
		"2026-11-01T03:00 America/New_York at 2026-11-01 08:00Z",
		"2026-11-01T03:30 America/New_York at 2026-11-01 08:30Z",
	}},
}

func TestSlotsAcrossDST(t *testing.T) {
	for _, tt := range dstCases {
		t.Run(tt.name, func(t *testing.T) {
			sched, loc := mustSched(t, tt.spec), mustLoc(t, tt.tz)
			var got []Slot
			for at := tt.from; ; {
				s, ok := NextSlot(sched, loc, at)
				if !ok || s.At.After(tt.to) {
					break
				}
				got = append(got, s)
				at = s.At
			}
			var keys []string
			for i, s := range got {
				keys = append(keys, fmtSlot(s.Key, s.At))
				// PreviousSlot walks the same sequence backwards.
				p, ok := PreviousSlot(sched, loc, s.At)
				if !ok || !p.At.Equal(s.Previous) {
					t.Errorf("%s: PreviousSlot at %v, Previous %v", s.Key, p.At, s.Previous)
				}
				if i > 0 && (p.Key != got[i-1].Key || !s.Previous.Equal(got[i-1].At)) {
					t.Errorf("%s: previous slot %s, want %s", s.Key, p.Key, got[i-1].Key)
				}
			}
			if fmt.Sprint(keys) != fmt.Sprint(tt.want) {
				t.Errorf("slots:\n got %q\nwant %q", keys, tt.want)
			}
		})
	}
}

func TestDefaultLookback(t *testing.T) {
	tests := []struct {
		name, spec, tz string
		at             time.Time // the slot's instant
		want           time.Duration
	}{
		{"weekday 07:00 on Monday", "0 7 * * 1-5", "Europe/London", utc(2026, 11, 30, 7, 0), 72 * time.Hour},
		{"weekday 07:00 on Tuesday", "0 7 * * 1-5", "Europe/London", utc(2026, 12, 1, 7, 0), 24 * time.Hour},
		{"weekday 07:00 on Monday after spring forward", "0 7 * * 1-5", "Europe/London", utc(2026, 3, 30, 6, 0), 71 * time.Hour},
		{"weekday 07:00 on Monday in New York", "0 7 * * mon-fri", "America/New_York", utc(2026, 11, 30, 12, 0), 72 * time.Hour},
		{"daily after fall back", "0 7 * * *", "Europe/London", utc(2026, 10, 25, 7, 0), 25 * time.Hour},
		{"London 02:30 after the 01:30 gap slot", "30 1,2 * * *", "Europe/London", utc(2026, 3, 29, 1, 30), 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, loc := mustSched(t, tt.spec), mustLoc(t, tt.tz)
			s, ok := NextSlot(sched, loc, tt.at.Add(-time.Second))
			if !ok || !s.At.Equal(tt.at) {
				t.Fatalf("slot at %v, want %v", s.At, tt.at)
			}
			if got := s.At.Sub(s.Previous); got != tt.want {
				t.Errorf("lookback %v, want %v (previous %v)", got, tt.want, s.Previous)
			}
		})
	}
}

func TestPreviousSlotEdges(t *testing.T) {
	tests := []struct {
		name, spec, tz string
		t              time.Time
		want           string
	}{
		{"strictly before t", "0 7 * * *", "UTC", utc(2026, 11, 26, 7, 0), "2026-11-25T07:00 UTC at 2026-11-25 07:00Z"},
		{"just after a slot", "0 7 * * *", "UTC", utc(2026, 11, 26, 7, 1), "2026-11-26T07:00 UTC at 2026-11-26 07:00Z"},
		{"yearly, far back", "0 9 1 1 *", "UTC", utc(2026, 11, 26, 7, 0), "2026-01-01T09:00 UTC at 2026-01-01 09:00Z"},
		{"second 01:10 of fall back sees the first 01:45", "*/15 * * * *", "Europe/London", utc(2026, 10, 25, 1, 10), "2026-10-25T01:45 Europe/London at 2026-10-25 00:45Z"},
		{"inside the merged gap run", "*/15 * * * *", "Europe/London", utc(2026, 3, 29, 1, 5), "2026-03-29T02:00 Europe/London at 2026-03-29 01:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := PreviousSlot(mustSched(t, tt.spec), mustLoc(t, tt.tz), tt.t)
			if got := fmtSlot(s.Key, s.At); !ok || got != tt.want {
				t.Errorf("got %q (%v), want %q", got, ok, tt.want)
			}
		})
	}
	if _, ok := NextSlot(mustSched(t, "0 0 30 2 *"), time.UTC, utc(2026, 1, 1, 0, 0)); ok {
		t.Error("30 February: want no next slot")
	}
	if _, ok := PreviousSlot(mustSched(t, "0 0 30 2 *"), time.UTC, utc(2026, 1, 1, 0, 0)); ok {
		t.Error("30 February: want no previous slot")
	}
}
