package lease_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/lease"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir()+"/herald.db", store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// One holder at a time: another process's live lease refuses us with
// ErrHeld (code ECONFLICT); so does our own, from a second goroutine; a
// release frees it.
func TestOneHolder(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	// Holders on other hosts: a live process of this host's pid with another
	// nonce would count as a dead earlier incarnation of this one.
	a := lease.New(st, lease.Options{Holder: "host-a.example:1:aaaa", Log: quiet()})
	_, release, err := a.Acquire(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Acquire(ctx, "daily"); !errors.Is(err, lease.ErrHeld) || model.ErrorCode(err) != model.ECONFLICT {
		t.Fatalf("second acquire in the same process: %v", err)
	}
	if _, r2, err := a.Acquire(ctx, "weekly"); err != nil {
		t.Fatalf("another key: %v", err)
	} else {
		r2()
	}
	other := lease.New(st, lease.Options{Holder: "elsewhere.example:1:bbbb", Log: quiet()})
	if _, _, err := other.Acquire(ctx, "daily"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("another process: %v", err)
	}
	release()
	if holder, _, _ := st.LeaseHolder(ctx, "daily"); holder != "" {
		t.Fatalf("released lease still held by %q", holder)
	}
	_, r3, err := other.Acquire(ctx, "daily")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r3()
}

// A lease whose holder was a process on this host that has exited is taken
// over at once; a holder on another host is waited for until it expires.
func TestDeadHolderTakenOver(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1) to make a dead pid")
	}
	host, _ := os.Hostname()
	dead := fmt.Sprintf("%s:%d:dead", host, cmd.Process.Pid)
	if ok, err := st.AcquireLease(ctx, "daily", dead, 0, time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	m := lease.New(st, lease.Options{Log: quiet()})
	_, release, err := m.Acquire(ctx, "daily")
	if err != nil {
		t.Fatalf("a dead holder's lease was not taken over: %v", err)
	}
	release()

	if ok, err := st.AcquireLease(ctx, "daily", "remote.example:1:live", 0, time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, _, err := m.Acquire(ctx, "daily"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("a remote holder's lease was taken: %v", err)
	}
}

// A lease renewed while the work goes on; when someone takes it (it
// expired, say, while this process was stopped), the work's context ends
// with ErrHeld as its cause.
func TestLostLeaseCancelsWork(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	m := lease.New(st, lease.Options{Holder: "me.example:1:me", TTL: 150 * time.Millisecond, Log: quiet()})
	lctx, release, err := m.Acquire(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if ok, err := st.TakeOverLease(ctx, "daily", "me.example:1:me", "thief.example:1:x", time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	select {
	case <-lctx.Done():
		if !errors.Is(context.Cause(lctx), lease.ErrHeld) {
			t.Fatalf("cause %v", context.Cause(lctx))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("work went on after the lease was lost")
	}
}

// A whole key and its parts exclude each other within one process too (the
// database row does that between processes); parts do not.
func TestParts(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	m := lease.New(st, lease.Options{Holder: "host-a.example:1:aaaa", Log: quiet()})
	kolkata, london := lease.Part("daily", "Asia/Kolkata"), lease.Part("daily", "Europe/London")
	if kolkata != "daily@Asia/Kolkata" || lease.Part("daily", "") != "daily" {
		t.Fatalf("Part: %q", kolkata)
	}
	_, r1, err := m.Acquire(ctx, kolkata)
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := m.Acquire(ctx, london)
	if err != nil {
		t.Fatalf("another part: %v", err)
	}
	if _, _, err := m.Acquire(ctx, "daily"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("the whole while parts are held: %v", err)
	}
	r1()
	r2()
	_, r3, err := m.Acquire(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	defer r3()
	if _, _, err := m.Acquire(ctx, london); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("a part while the whole is held: %v", err)
	}
	other := lease.New(st, lease.Options{Holder: "elsewhere.example:1:bbbb", Log: quiet()})
	if _, _, err := other.Acquire(ctx, london); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("a part while another process holds the whole: %v", err)
	}
}
