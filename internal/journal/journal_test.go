package journal

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// results returns n varied results: sent with articles, retried, failed
// with a bounce, hostile strings.
func results(rng *rand.Rand, n int) []Result {
	replies := []string{"250 2.0.0 Ok: queued as 4Xy", "", "451 4.3.0 try later ☃", strings.Repeat("x", 300)}
	out := make([]Result, n)
	for i := range out {
		d := model.Delivery{
			ID:           rng.Int64N(1 << 40),
			SubscriberID: rng.Int64N(1 << 30),
			Attempts:     1 + rng.IntN(9),
			LastReply:    replies[rng.IntN(len(replies))],
			Relay:        "127.0.0.1:2525",
		}
		switch rng.IntN(3) {
		case 0:
			d.Status, d.MessageID = model.DeliverySent, "<1.2@herald.example>"
			d.SentAt = time.Unix(1_790_000_000+rng.Int64N(1e6), 0).UTC()
			for range rng.IntN(12) {
				d.ArticleIDs = append(d.ArticleIDs, rng.Int64N(1<<33))
			}
		case 1:
			d.Status = model.DeliveryPending
			d.NextAttemptAt = time.Unix(1_790_000_000+rng.Int64N(1e6), 0).UTC()
		default:
			d.Status = model.DeliveryFailed
		}
		out[i] = Result{D: d, Bounce: d.Status == model.DeliveryFailed && rng.IntN(2) == 0}
	}
	return out
}

func TestAppendReplayRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := At(filepath.Join(t.TempDir(), "herald.db.journal"))
	if eds, err := dir.Editions("daily"); err != nil || len(eds) != 0 {
		t.Fatalf("before any segment: %v, %v", eds, err)
	}
	var want []Result
	// Two segments of edition 7, one of edition 3.
	for _, ed := range []int64{7, 7, 3} {
		w, err := dir.Create("daily", ed)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			rs := results(rng, 1+rng.IntN(5))
			if err := w.Append(rs); err != nil {
				t.Fatal(err)
			}
			if ed == 7 {
				want = append(want, rs...)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	eds, err := dir.Editions("daily")
	if err != nil || !reflect.DeepEqual(eds, []int64{3, 7}) {
		t.Fatalf("Editions = %v, %v; want [3 7]", eds, err)
	}
	var got []Result
	calls := 0
	n, err := dir.Replay("daily", 7, func(rs []Result) error { calls++; got = append(got, rs...); return nil })
	if err != nil || n != len(want) || calls != 2 {
		t.Fatalf("Replay = %d, %v in %d calls; want %d in 2", n, err, calls, len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("replayed results differ from those appended")
	}
	if eds, _ := dir.Editions("daily"); !reflect.DeepEqual(eds, []int64{3}) {
		t.Fatalf("after replay Editions = %v; want [3]: replayed segments are removed", eds)
	}
}

// A segment cut anywhere (the process died inside a write) replays every
// record written whole before the cut and nothing after it.
func TestTornTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var (
		b      []byte
		bounds []int // byte offset after each record
		counts []int // results up to each record
	)
	total := 0
	for range 30 {
		rs := results(rng, 1+rng.IntN(4))
		b = appendRecord(b, rs)
		total += len(rs)
		bounds, counts = append(bounds, len(b)), append(counts, total)
	}
	for cut := 0; cut <= len(b); cut++ {
		whole := 0
		for i, end := range bounds {
			if end <= cut {
				whole = counts[i]
			}
		}
		rs, err := Decode(b[:cut])
		if len(rs) != whole {
			t.Fatalf("cut at %d: %d results, want %d", cut, len(rs), whole)
		}
		atBound := cut == 0
		for _, end := range bounds {
			atBound = atBound || end == cut
		}
		if atBound != (err == nil) || (err != nil && !errors.Is(err, ErrTorn)) {
			t.Fatalf("cut at %d (on a record boundary: %v): err %v", cut, atBound, err)
		}
	}
	// A flipped bit in the last record is a torn write; in one with more
	// after it, damage that no write of herald's leaves: an error.
	last := append([]byte(nil), b...)
	last[bounds[len(bounds)-2]+header+2] ^= 0x10
	if rs, err := Decode(last); !errors.Is(err, ErrTorn) || len(rs) != counts[len(counts)-2] {
		t.Fatalf("bit flip in the last record: %d results, %v; want %d and ErrTorn", len(rs), err, counts[len(counts)-2])
	}
	bad := append([]byte(nil), b...)
	bad[bounds[4]+header+2] ^= 0x10
	if rs, err := Decode(bad); err == nil || errors.Is(err, ErrTorn) || len(rs) != counts[4] {
		t.Fatalf("bit flip in record 6 of 30: %d results, %v; want %d and an error other than ErrTorn", len(rs), err, counts[4])
	}
	// A length past any record's is an error, not an allocation or a
	// panic (on 32-bit too: it is compared before it becomes an int).
	huge := binary.LittleEndian.AppendUint32(nil, 0xFFFFFFF0)
	huge = append(huge, make([]byte, 20)...)
	if _, err := Decode(huge); err == nil || errors.Is(err, ErrTorn) {
		t.Fatalf("a 4 GB length: %v", err)
	}
	// A count no payload of that size can hold is refused before any
	// allocation.
	if _, err := decodePayload(binary.AppendUvarint(nil, 1<<40)); err == nil {
		t.Fatal("a count of 2^40 results in 6 bytes decoded")
	}
}

// A segment a live Writer holds is not replayed (a lease taken from a
// process that still runs); once closed, it is.
func TestLiveSegmentIsBusy(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	dir := At(t.TempDir())
	w, err := dir.Create("daily", 4)
	if err != nil {
		t.Fatal(err)
	}
	rs := results(rng, 3)
	if err := w.Append(rs); err != nil {
		t.Fatal(err)
	}
	applied := 0
	apply := func(r []Result) error { applied += len(r); return nil }
	if _, err := dir.Replay("daily", 4, apply); !errors.Is(err, ErrBusy) || applied != 0 {
		t.Fatalf("Replay of a live segment = %v after %d results; want ErrBusy and none", err, applied)
	}
	w.Close()
	if n, err := dir.Replay("daily", 4, apply); err != nil || n != 3 || applied != 3 {
		t.Fatalf("Replay after Close = %d, %v; want 3", n, err)
	}
}

// Damage in the middle of a segment stops the replay with an error naming
// the file, and the segment stays for the operator.
func TestReplayRefusesDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	dir := At(t.TempDir())
	w, err := dir.Create("daily", 8)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := w.Append(results(rng, 2)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	b, _ := os.ReadFile(w.path)
	b[header+3] ^= 0x01 // the first record's payload
	os.WriteFile(w.path, b, 0o600)
	_, err = dir.Replay("daily", 8, func([]Result) error { return nil })
	if err == nil || !strings.Contains(err.Error(), filepath.Base(w.path)) {
		t.Fatalf("Replay of a damaged segment = %v; want an error naming it", err)
	}
	if eds, _ := dir.Editions("daily"); len(eds) != 1 {
		t.Fatal("the damaged segment was removed")
	}
}

// Replay applies a torn segment's whole records and removes it; an apply
// error leaves the segment for the next replay.
func TestReplayTornAndFailedApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := At(t.TempDir())
	w, err := dir.Create("daily", 1)
	if err != nil {
		t.Fatal(err)
	}
	rs := results(rng, 3)
	if err := w.Append(rs); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, results(rng, 2))[:11]) // torn
	f.Close()

	boom := errors.New("database busy")
	if _, err := dir.Replay("daily", 1, func([]Result) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Replay with a failing apply = %v; want it", err)
	}
	if eds, _ := dir.Editions("daily"); len(eds) != 1 {
		t.Fatal("a segment whose apply failed was removed")
	}
	var got []Result
	if n, err := dir.Replay("daily", 1, func(r []Result) error { got = append(got, r...); return nil }); err != nil || n != 3 {
		t.Fatalf("Replay = %d, %v; want the 3 whole results", n, err)
	}
	if !reflect.DeepEqual(got, rs) {
		t.Fatal("torn segment replayed wrong results")
	}
	if eds, _ := dir.Editions("daily"); len(eds) != 0 {
		t.Fatalf("segments left: %v", eds)
	}
}

// New segments follow those a crash left, never overwrite them; names
// that are not segments are ignored.
func TestCreateAfterLeftovers(t *testing.T) {
	dir := At(t.TempDir())
	a, err := dir.Create("daily", 9)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dir.Create("daily", 9)
	if err != nil {
		t.Fatal(err)
	}
	if a.path == b.path {
		t.Fatal("second segment reused the first's name")
	}
	other, err := dir.Create("weekly", 9) // another digest's
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	for _, junk := range []string{"notes.txt", "daily.e0-1.journal", "daily.ex-1.journal", "daily.e5-x.journal",
		"daily.e5-1.journal.tmp", "e5-1.journal", "da ily.e5-1.journal", "../daily.e5-1.journal"} {
		os.WriteFile(filepath.Join(dir.Path(), junk), []byte("x"), 0o600)
	}
	if eds, err := dir.Editions("daily"); err != nil || !reflect.DeepEqual(eds, []int64{9}) {
		t.Fatalf("Editions = %v, %v; want [9]", eds, err)
	}
	a.Close()
	b.Close()
	if err := a.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(); err != nil {
		t.Fatalf("removing a segment twice (a replay took it): %v", err)
	}
}

// An Append that fails leaves the segment as it was, so what follows
// still replays.
func TestAppendFailureLeavesWholeRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dir := At(t.TempDir())
	w, err := dir.Create("daily", 2)
	if err != nil {
		t.Fatal(err)
	}
	first := results(rng, 2)
	if err := w.Append(first); err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the next write fails
	if err := w.Append(results(rng, 2)); err == nil {
		t.Fatal("Append on a closed file succeeded")
	}
	var got []Result
	if _, err := dir.Replay("daily", 2, func(r []Result) error { got = append(got, r...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("replayed %d results; want the %d appended before the failure", len(got), len(first))
	}
}

// FuzzDecode feeds arbitrary bytes both to Decode and, past the
// checksum, to the payload decoder: neither panics, and what decodes
// encodes to a record that decodes to the same results.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	rec := appendRecord(nil, results(rng, 3))
	f.Add(rec)
	f.Add(rec[header:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b)
		rs, err := decodePayload(b)
		if err != nil {
			return
		}
		again, err := Decode(appendRecord(nil, rs))
		if err != nil || len(again) != len(rs) || (len(rs) > 0 && !reflect.DeepEqual(again, rs)) {
			t.Fatalf("re-encoded results differ: %v", err)
		}
	})
}
