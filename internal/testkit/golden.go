package testkit

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// update is the -update flag of every test binary that imports testkit.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Golden compares got with the file at path (under the package's
// testdata), or rewrites the file with -update. Byte for byte: golden
// files pin deterministic output (mail, feeds) exactly.
func Golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -run %s -update)", err, tb.Name())
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs from the golden file; run go test -run %s -update and review the diff", path, tb.Name())
	}
}

// Clock is an injectable clock that moves only when told: Now for the
// code under test, Add to move it, Sleep to stand in for waiting.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// Sleep advances the clock instead of waiting (a digest.Options.Sleep).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.Add(d)
	}
	return ctx.Err()
}
