package digest_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
	"github.com/heraldnews/herald/internal/store"
)

// A reader in Auckland of a local 07:00 digest whose own timezone is
// London gets their digest at 07:00 Auckland time (18:00Z the day before,
// in November), dated by their calendar; a London reader at 07:00 London.
func TestLocalDigestAtSevenInAuckland(t *testing.T) {
	e := newLocalEnv(t, "0 7 * * *", "Europe/London", 10)
	e.clock.Set(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	kiwi := e.reader("kiwi@example.com", "Pacific/Auckland")
	e.reader("londoner@example.com", "")
	e.article("a1", "Overnight story", "world", 3*time.Hour, "ann")
	d := startDaemon(t, e)

	auckland := time.Date(2026, 11, 28, 7, 0, 0, 0, mustZone(t, "Pacific/Auckland"))
	if !auckland.Equal(time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)) {
		t.Fatalf("07:00 Auckland is %s", auckland.UTC())
	}
	d.to(auckland.Add(-time.Minute), 0)
	if n := e.fake.count(); n != 0 {
		t.Fatalf("%d digests before 07:00 Auckland", n)
	}
	d.to(auckland, 1)
	msgs := e.fake.to("kiwi@example.com")
	if len(msgs) != 1 || len(e.fake.to("londoner@example.com")) != 0 {
		t.Fatalf("at 07:00 Auckland: %d to the Auckland reader, %d in all", len(msgs), e.fake.count())
	}
	if !strings.Contains(msgs[0].Subject, "Saturday 28 November 2026") {
		t.Errorf("subject %q: want the reader's date", msgs[0].Subject)
	}
	ds := e.deliveriesOf(kiwi.ID)
	if len(ds) != 1 || ds[0].slot != "2026-11-28T07:00 Pacific/Auckland" || ds[0].zone != "Pacific/Auckland" || !ds[0].cutoff.Equal(auckland) {
		t.Errorf("delivery %+v", ds)
	} else if !plannedID.MatchString(ds[0].messageID) || ds[0].messageID != msgs[0].MessageID {
		t.Errorf("local delivery planned with Message-ID %q, sent with %q", ds[0].messageID, msgs[0].MessageID)
	}
	d.to(time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC), 1) // 07:00 London
	if len(e.fake.to("londoner@example.com")) != 1 || len(e.fake.to("kiwi@example.com")) != 1 {
		t.Errorf("at 07:00 London: %d messages", e.fake.count())
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// slotOf is the scheduler's slot of zone at or before e's clock.
func slotOf(t testing.TB, e *env, zone string) scheduler.Slot {
	t.Helper()
	sched, err := e.cfg.Digests[0].CronSchedule()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := scheduler.PreviousSlot(sched, mustZone(t, zone), e.clock.Now().Add(time.Nanosecond))
	if !ok {
		t.Fatal("no slot")
	}
	s.Digest, s.Zone = "daily", zone
	return s
}

func (e *env) runZone(zone string) {
	e.t.Helper()
	if err := e.svc.RunScheduled(context.Background(), slotOf(e.t, e, zone)); err != nil {
		e.t.Fatal(err)
	}
}

// Articles max_articles left out are not carried to the reader's next
// digest, and a new reader's first window is the lookback.
func TestLocalMaxArticlesNotCarriedOver(t *testing.T) {
	e := newLocalEnv(t, "0 7 * * *", "UTC", 2)
	e.clock.Set(time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC))
	r := e.reader("r@example.com", "UTC")
	e.article("too-old", "Too old", "world", 25*time.Hour)
	for i, ago := range []time.Duration{1, 2, 3, 4} {
		e.article("w"+string(rune('1'+i)), "Window "+string(rune('1'+i)), "world", ago*time.Hour)
	}
	e.runZone("UTC")
	e.clock.Add(24 * time.Hour)
	e.article("next", "Next day", "sport", time.Hour)
	e.runZone("UTC")
	ds := e.deliveriesOf(r.ID)
	if len(ds) != 2 || len(ds[0].articles) != 2 || len(ds[1].articles) != 1 {
		t.Fatalf("deliveries %+v", ds)
	}
	msgs := e.fake.to("r@example.com")
	if got := carries(msgs[1], "Window 3", "Window 4", "Next day"); len(got) != 1 || got[0] != "Next day" {
		t.Errorf("second digest carried %v", got)
	}
	if len(carries(msgs[0], "Too old")) != 0 {
		t.Error("the first window reached past the lookback")
	}
}

// send-now goes to every zone at once and moves each reader's cursor: the
// next local slot carries only what came after it. A filtered send-now
// leaves the cursors alone, so nothing it did not carry is skipped.
func TestLocalSendNowMovesCursors(t *testing.T) {
	e := newLocalEnv(t, "0 7 * * *", "UTC", 10)
	e.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	a := e.reader("a@example.com", "Asia/Kolkata")
	b := e.reader("b@example.com", "America/Sao_Paulo")
	e.article("w1", "Before send-now", "world", time.Hour)
	e.article("s1", "Sport before", "sport", 2*time.Hour)
	res := e.sendNow(digest.SendNowRequest{Sections: []string{"world"}})
	if res.Sent != 2 {
		t.Fatalf("filtered send-now sent %d", res.Sent)
	}
	for _, id := range []int64{a.ID, b.ID} {
		if c, err := e.store.ReaderCursors(context.Background(), "daily", []int64{id}); err != nil || len(c) != 0 {
			t.Fatalf("a filtered send-now moved a cursor: %v %v", c, err)
		}
	}
	e.clock.Add(time.Hour)
	res = e.sendNow(digest.SendNowRequest{})
	if res.Sent != 2 {
		t.Fatalf("send-now sent %d", res.Sent)
	}
	cur, err := e.store.ReaderCursors(context.Background(), "daily", []int64{a.ID, b.ID})
	if err != nil || len(cur) != 2 || !cur[a.ID].Through.Equal(e.clock.Now()) || !cur[a.ID].SlotAt.IsZero() {
		t.Fatalf("cursors %+v %v", cur, err)
	}
	e.clock.Add(2 * time.Hour)
	e.article("w2", "After send-now", "world", time.Hour)
	e.clock.Set(time.Date(2026, 6, 2, 1, 30, 0, 0, time.UTC)) // 07:00 Kolkata
	e.runZone("Asia/Kolkata")
	got := e.deliveriesOf(a.ID)
	last := got[len(got)-1]
	if last.kind != model.EditionScheduled || len(last.articles) != 1 {
		t.Fatalf("Kolkata's digest: %+v", last)
	}
	if m := e.fake.to("a@example.com"); len(carries(m[len(m)-1], "After send-now", "Sport before", "Before send-now")) != 1 {
		t.Errorf("slot after send-now carried %v", carries(m[len(m)-1], "After send-now", "Sport before", "Before send-now"))
	}
}

// A zone group's edition takes its own lease: groups run side by side, a
// send-now (the whole digest) waits for them, and a group waits for it.
func TestLocalLeasePerZoneGroup(t *testing.T) {
	e := newLocalEnv(t, "0 7 * * *", "UTC", 10)
	e.clock.Set(time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC))
	e.reader("utc@example.com", "UTC")
	e.reader("gmt@example.com", "Africa/Abidjan")
	e.article("w1", "Story", "world", time.Hour)
	ctx := context.Background()
	if ok, err := e.store.AcquireLease(ctx, "daily@Africa/Abidjan", "elsewhere:1:x", 0, time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	e.runZone("UTC")
	if len(e.fake.to("utc@example.com")) != 1 {
		t.Fatal("a held zone group blocked another")
	}
	if _, err := e.svc.SendNow(ctx, digest.SendNowRequest{}); !errors.Is(err, digest.ErrLeaseHeld) {
		t.Fatalf("send-now while a zone group is held: %v", err)
	}
	if err := e.store.ReleaseLease(ctx, "daily@Africa/Abidjan", "elsewhere:1:x"); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.store.AcquireLease(ctx, "daily", "elsewhere:1:x", 0, time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := e.svc.RunSlot(ctx, "daily", "k", e.clock.Now(), e.clock.Now().Add(-24*time.Hour), 0); !errors.Is(err, digest.ErrLeaseHeld) {
		t.Fatalf("zone group while the digest is held: %v", err)
	}
}

// A slot of a zone nobody of this digest lives in makes no edition; the
// digest's own zone group also has the readers of unknown zone.
func TestLocalZoneGroups(t *testing.T) {
	e := newLocalEnv(t, "0 7 * * *", "Europe/London", 10)
	e.clock.Set(time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)) // 07:00 BST
	e.reader("known@example.com", "Europe/London")
	e.reader("unknown@example.com", "")
	gone := e.reader("gone@example.com", "Asia/Tokyo")
	if err := e.store.SetSubscriberStatus(context.Background(), gone.ID, model.SubscriberBounced); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.W.Exec(`UPDATE subscribers SET timezone = 'Mars/Olympus_Mons' WHERE email = 'unknown@example.com'`); err != nil {
		t.Fatal(err)
	}
	e.article("w1", "Story", "world", time.Hour)
	e.runZone("Europe/London")
	if len(e.fake.to("known@example.com")) != 1 || len(e.fake.to("unknown@example.com")) != 1 {
		t.Errorf("London group: %d messages", e.fake.count())
	}
	e.clock.Set(time.Date(2026, 6, 1, 22, 0, 0, 0, time.UTC)) // 07:00 Tokyo
	e.runZone("Asia/Tokyo")
	eds, err := e.store.Editions(context.Background(), "daily", 10)
	if err != nil || len(eds) != 1 || eds[0].Zone != "Europe/London" {
		t.Errorf("editions %+v %v: want only London's", eds, err)
	}
}

// localService is a service over e's store and fake sender with pages of
// 3 and local, in place of the store, as its LocalStore.
func (e *env) localService(t *testing.T, local digest.LocalStore) *digest.Service {
	t.Helper()
	svc, err := digest.New(digest.Options{Config: e.cfg, Editions: e.store, Plans: e.store, Outbox: e.store, Readers: e.store,
		Content: e.store, Leases: e.store, Local: local, Mailer: e.fake, Now: e.clock.Now, Sleep: e.clock.Sleep, PageSize: 3,
		MarkInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// failingLocal is the store, failing InsertLocalDeliveries once after n
// successful calls: a planner that stops half-way.
type failingLocal struct {
	*store.Store
	n     int32
	calls atomic.Int32
}

func (f *failingLocal) InsertLocalDeliveries(ctx context.Context, editionID int64, digest string, moves []model.CursorMove, zone string, through int64) ([]int64, error) {
	if f.calls.Add(1) == f.n+1 {
		return nil, errors.New("disk full")
	}
	return f.Store.InsertLocalDeliveries(ctx, editionID, digest, moves, zone, through)
}

// A zone group's planning that stops half-way (one page written) resumes
// at its cursor: every reader of the group, across its zones, planned once.
func TestLocalPlanningResumes(t *testing.T) {
	e := newLocalEnv(t, "0 7 * * *", "UTC", 10)
	svc := e.localService(t, &failingLocal{Store: e.store, n: 1})
	e.clock.Set(time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC))
	var ids []int64
	for i, tz := range []string{"UTC", "", "UTC", "", "UTC", "", "UTC"} {
		ids = append(ids, e.reader(string(rune('a'+i))+"@example.com", tz).ID)
	}
	e.article("w1", "Story", "world", time.Hour)
	slot := slotOf(t, e, "UTC")
	if err := svc.RunScheduled(context.Background(), slot); err == nil {
		t.Fatal("planning did not stop")
	}
	if err := svc.RunScheduled(context.Background(), slot); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if ds := e.deliveriesOf(id); len(ds) != 1 || ds[0].status != model.DeliverySent {
			t.Errorf("reader %d: %+v", id, ds)
		}
	}
	if e.fake.count() != len(ids) {
		t.Errorf("%d messages for %d readers", e.fake.count(), len(ids))
	}
}
