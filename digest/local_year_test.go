package digest_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
)

// The zones the issue names: both hemispheres' DST, none, half-hour
// offsets, and Lord Howe's 30-minute DST. Readers of unknown zone follow
// the digest's own timezone, New York (DST too).
var yearZones = []string{"Pacific/Auckland", "America/Sao_Paulo", "Europe/London", "Asia/Kolkata",
	"America/St_Johns", "Australia/Lord_Howe"}

const digestZone = "America/New_York"

// A year of a `delivery: local` digest on a fake clock, driven by the real
// scheduler: every reader gets exactly one digest per local slot, at the
// first instant their clock reads the slot's time (01:45 falls in the DST
// gap or fold of London, New York, St John's and Lord Howe); a reader who
// moves zone four times gets nothing within ZoneChangeGap of their last
// digest, then one per local slot of the new zone; and what each reader
// received, send-nows included, is every article visible in that time,
// each once.
func TestLocalDeliveryAcrossAYear(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated year of slots")
	}
	for _, tc := range []struct {
		spec   string
		hh, mm int
	}{{"0 7 * * *", 7, 0}, {"45 1 * * *", 1, 45}} {
		t.Run(fmt.Sprintf("%02d%02d", tc.hh, tc.mm), func(t *testing.T) {
			t.Parallel()
			runYear(t, tc.spec, tc.hh, tc.mm)
		})
	}
}

// zoneSlots returns the instants of zone's hh:mm slots in (from, to],
// computed independently of the scheduler.
func zoneSlots(t *testing.T, zone string, hh, mm int, from, to time.Time) []time.Time {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for d := from.AddDate(0, 0, -2); !d.After(to.AddDate(0, 0, 2)); d = d.AddDate(0, 0, 1) {
		if at := firstReading(loc, d.Year(), d.Month(), d.Day(), hh, mm); at.After(from) && !at.After(to) {
			out = append(out, at)
		}
	}
	return out
}

type yearEvent struct {
	at time.Time
	do func()
}

func runYear(t *testing.T, spec string, hh, mm int) {
	ctx := context.Background()
	start := time.Date(2026, 1, 2, 12, 17, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 3)
	e := newLocalEnv(t, spec, digestZone, 40)
	e.clock.Set(start)
	e.articlesEvery(start.Add(-72*time.Hour), end, 137*time.Minute)

	type reader struct {
		sub     model.Subscriber
		zone    string // the zone group whose slots they get
		section string
		from    time.Time // subscribed
	}
	var readers []reader
	for _, z := range yearZones {
		readers = append(readers, reader{sub: e.reader("r@"+z[len(z)-4:]+".example.com", z), zone: z, from: start})
	}
	readers = append(readers,
		reader{sub: e.reader("sport@example.com", "America/Sao_Paulo", "sport"), zone: "America/Sao_Paulo", section: "sport", from: start},
		reader{sub: e.reader("nowhere@example.com", ""), zone: digestZone, from: start})
	nomad := e.reader("nomad@example.com", "Europe/London")
	moves := []struct {
		at   time.Time
		zone string
	}{
		{start, "Europe/London"},
		{start.AddDate(0, 2, 0).Add(-17 * time.Minute), "Pacific/Auckland"},             // 12:00Z: Auckland's next slot is hours after London's
		{start.AddDate(0, 5, 0).Add(-9*time.Hour - 17*time.Minute), "America/St_Johns"}, // 03:00Z
		{start.AddDate(0, 8, 7).Add(8 * time.Hour), "Asia/Kolkata"},
		{start.AddDate(0, 10, 1).Add(-3 * time.Hour), "Australia/Lord_Howe"},
	}

	var events []yearEvent
	for _, mv := range moves[1:] {
		events = append(events, yearEvent{mv.at, func() { e.setZone(nomad, mv.zone) }})
	}
	late := reader{zone: "Asia/Kolkata", from: start.AddDate(0, 3, 10).Add(-2 * time.Hour)}
	events = append(events, yearEvent{late.from, func() {
		late.sub = e.reader("late@example.com", "Asia/Kolkata")
		readers = append(readers, late)
	}})
	for at := start.Add(3*time.Hour + 24*time.Hour); at.Before(end); at = at.AddDate(0, 0, 7) {
		events = append(events, yearEvent{at, func() {
			if _, err := e.svc.SendNow(ctx, digest.SendNowRequest{}); err != nil {
				t.Fatalf("send-now at %s: %v", at, err)
			}
		}})
	}

	// Every slot of every zone group, merged with the events.
	groups := append([]string{digestZone}, yearZones...)
	type tick struct {
		at    time.Time
		slots int
		do    []func()
	}
	byAt := map[time.Time]*tick{}
	at := func(u time.Time) *tick {
		if byAt[u] == nil {
			byAt[u] = &tick{at: u}
		}
		return byAt[u]
	}
	var wantRuns []string
	for _, z := range groups {
		for _, u := range zoneSlots(t, z, hh, mm, start, end) {
			at(u).slots++
			wantRuns = append(wantRuns, u.Format(time.RFC3339)+" "+z)
		}
	}
	for _, ev := range events {
		at(ev.at).do = append(at(ev.at).do, ev.do)
	}
	ticks := make([]*tick, 0, len(byAt))
	for _, tk := range byAt {
		ticks = append(ticks, tk)
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].at.Before(ticks[j].at) })

	d := startDaemon(t, e)
	for _, tk := range ticks {
		d.to(tk.at, tk.slots)
		for _, do := range tk.do {
			do()
		}
	}
	d.stop()

	// The scheduler ran each zone group's slot once, at its instant.
	var gotRuns []string
	for _, r := range d.runs() {
		gotRuns = append(gotRuns, r.At.UTC().Format(time.RFC3339)+" "+r.Zone)
	}
	sort.Strings(gotRuns)
	sort.Strings(wantRuns)
	if fmt.Sprint(gotRuns) != fmt.Sprint(wantRuns) {
		t.Errorf("runs: %d, want %d", len(gotRuns), len(wantRuns))
	}

	// One digest per local slot, for each reader who stayed in a zone.
	for _, r := range readers {
		want := zoneSlots(t, r.zone, hh, mm, r.from, end)
		checkScheduled(t, e, r.sub, want)
		checkUnion(t, e, r.sub, r.section)
	}

	// The nomad: each new zone's slots, less those within ZoneChangeGap
	// of their last digest.
	var want []time.Time
	var last time.Time
	for i, mv := range moves {
		until := end
		if i+1 < len(moves) {
			until = moves[i+1].at
		}
		moved := i > 0
		for _, u := range zoneSlots(t, mv.zone, hh, mm, mv.at, until) {
			if moved && u.Sub(last) < digest.ZoneChangeGap {
				continue
			}
			want, last, moved = append(want, u), u, false
		}
	}
	checkScheduled(t, e, nomad, want)
	checkUnion(t, e, nomad, "")
}

// checkScheduled compares the instants of a reader's scheduled digests
// with want; each must have been sent.
func checkScheduled(t *testing.T, e *env, sub model.Subscriber, want []time.Time) {
	t.Helper()
	var gotAt []time.Time
	for _, g := range e.deliveriesOf(sub.ID) {
		if g.kind != model.EditionScheduled {
			continue
		}
		if g.status != model.DeliverySent {
			t.Errorf("%s: digest of %s is %s", sub.Email, g.slot, g.status)
		}
		gotAt = append(gotAt, g.cutoff)
	}
	if len(gotAt) != len(want) {
		t.Errorf("%s: %d scheduled digests, want %d", sub.Email, len(gotAt), len(want))
	}
	for i := range min(len(gotAt), len(want)) {
		if !gotAt[i].Equal(want[i]) {
			t.Errorf("%s: digest %d at %s, want %s", sub.Email, i, gotAt[i], want[i])
			break
		}
	}
}

// checkUnion checks that a reader received every article of their follows
// visible from their first window's start to their last cutoff, each once.
func checkUnion(t *testing.T, e *env, sub model.Subscriber, section string) {
	t.Helper()
	ds := e.deliveriesOf(sub.ID)
	if len(ds) == 0 {
		t.Errorf("%s: no digest", sub.Email)
		return
	}
	got := map[int64]int{}
	for _, g := range ds {
		if g.status != model.DeliverySent {
			continue
		}
		for _, id := range g.articles {
			got[id]++
		}
	}
	var args []string
	if section != "" {
		args = append(args, section)
	}
	want := e.visibleArticles(ds[0].since, ds[len(ds)-1].cutoff, args...)
	missing, twice, extra := 0, 0, 0
	for id := range want {
		if got[id] == 0 {
			missing++
		}
	}
	for id, n := range got {
		if n > 1 {
			twice++
		}
		if !want[id] {
			extra++
		}
	}
	if missing+twice+extra > 0 || len(got) == 0 {
		t.Errorf("%s: received %d articles of %d visible: %d missing, %d twice, %d not visible then",
			sub.Email, len(got), len(want), missing, twice, extra)
	}
}
