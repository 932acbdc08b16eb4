// Package lease gives one holder at a time the right to work on a key (a
// digest), across processes and goroutines: a row in the database, renewed
// while the work goes on and taken over once it expires, or at once when its
// holder was a process on this host that no longer runs.
//
// A key may name a part of another: Part("daily", "Asia/Kolkata") is
// "daily@Asia/Kolkata", one zone group of a local digest. A whole and its
// parts exclude each other; different parts of one whole do not.
//
// Data enters as keys and the Store that keeps the rows (internal/store);
// it leaves as a context that ends if the lease is lost, and a release func.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Store keeps one lease row per key. *store.Store implements it.
type Store interface {
	// AcquireLease takes or renews key for holder, unless another holder
	// has it, its whole or one of its parts unexpired; it reports whether
	// holder has it now.
	AcquireLease(ctx context.Context, key, holder string, editionID int64, ttl time.Duration) (bool, error)
	// LeaseHolder returns who holds key and until when ("" when nobody).
	LeaseHolder(ctx context.Context, key string) (string, time.Time, error)
	// TakeOverLease moves key from holder from to holder, if from still has it.
	TakeOverLease(ctx context.Context, key, from, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, key, holder string) error
}

// PartSep separates a whole key from the part it names.
const PartSep = "@"

// Part returns the key of part of whole (whole itself when part is "").
func Part(whole, part string) string {
	if part == "" {
		return whole
	}
	return whole + PartSep + part
}

// overlap reports whether keys a and b exclude each other: the same key,
// or a whole and one of its parts.
func overlap(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+PartSep) || strings.HasPrefix(b, a+PartSep)
}

// ErrHeld means another holder is working on the key: another process (the
// daemon, a send-now, the API) or another goroutine of this one.
var ErrHeld = &model.Error{Code: model.ECONFLICT, Message: "another process is sending this digest"}

// Options configure a Manager.
type Options struct {
	// Holder names this process in lease rows (default host:pid:random).
	Holder string
	// TTL is how long a lease lives without renewal (default 2m); it is
	// renewed every TTL/3.
	TTL time.Duration
	Log *slog.Logger
}

// Manager takes and renews leases for one process.
type Manager struct {
	store  Store
	holder string
	ttl    time.Duration
	log    *slog.Logger

	// active is the keys this process holds. The database row keeps other
	// processes out; this keeps a second goroutine of this process (which
	// shares the holder name) from re-entering a held lease.
	mu     sync.Mutex
	active map[string]bool
}

// New returns a Manager over store.
func New(store Store, opt Options) *Manager {
	if opt.Holder == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		opt.Holder = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opt.TTL <= 0 {
		opt.TTL = 2 * time.Minute
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Manager{store: store, holder: opt.Holder, ttl: opt.TTL, log: opt.Log, active: map[string]bool{}}
}

// Acquire takes key's lease and keeps renewing it until release is called.
// The returned context ends, with ErrHeld as its cause, if the lease is
// lost. Acquire returns an error wrapping ErrHeld when someone else has it.
func (m *Manager) Acquire(ctx context.Context, key string) (lctx context.Context, release func(), err error) {
	m.mu.Lock()
	for k := range m.active {
		if overlap(k, key) {
			m.mu.Unlock()
			return ctx, nil, fmt.Errorf("%w: %s (by this process)", ErrHeld, k)
		}
	}
	m.active[key] = true
	m.mu.Unlock()
	done := func() {
		m.mu.Lock()
		delete(m.active, key)
		m.mu.Unlock()
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	ok, err := m.store.AcquireLease(ctx, key, m.holder, 0, m.ttl)
	if err != nil {
		return ctx, nil, err
	}
	if !ok {
		// A holder on this machine whose process is gone (killed, crashed)
		// need not be waited for until its lease expires.
		if holder, _, err := m.store.LeaseHolder(ctx, key); err == nil && holderDead(holder, m.holder) {
			if ok, err = m.store.TakeOverLease(ctx, key, holder, m.holder, m.ttl); err != nil {
				return ctx, nil, err
			}
			if ok {
				m.log.Warn("took over the lease of a dead process", "key", key, "holder", holder)
			}
		}
	}
	if !ok {
		return ctx, nil, fmt.Errorf("%w: %s", ErrHeld, key)
	}
	lctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { m.renew(lctx, key, stop, cancel) })
	release = func() {
		close(stop)
		wg.Wait()
		cancel(nil)
		if err := m.store.ReleaseLease(context.WithoutCancel(ctx), key, m.holder); err != nil {
			m.log.Warn("lease release failed", "key", key, "err", err)
		}
		done()
	}
	return lctx, release, nil
}

// renew keeps key's lease alive every TTL/3 until stop closes or ctx ends;
// a lease found lost cancels the work.
func (m *Manager) renew(ctx context.Context, key string, stop <-chan struct{}, cancel context.CancelCauseFunc) {
	t := time.NewTicker(m.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := m.store.AcquireLease(ctx, key, m.holder, 0, m.ttl)
			if err == nil && !ok {
				m.log.Error("lease lost", "key", key)
				cancel(fmt.Errorf("%w: lease lost", ErrHeld))
				return
			}
			if err != nil {
				m.log.Warn("lease renewal failed", "key", key, "err", err)
			}
		}
	}
}

// holderDead reports whether a lease holder named "host:pid:nonce" was a
// process on this host that no longer runs. A holder with our own pid but
// another nonce was an earlier process with that pid (a restarted
// container). Holders on other hosts are never presumed dead: their lease
// expires instead.
func holderDead(holder, self string) bool {
	if holder == self {
		return false
	}
	parts := strings.Split(holder, ":")
	if len(parts) < 3 {
		return false
	}
	host, _ := os.Hostname()
	if strings.Join(parts[:len(parts)-2], ":") != host {
		return false
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	err = p.Signal(syscall.Signal(0))
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH)
}
