package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/heraldnews/herald/internal/config"
)

// DefaultCatchUp is how late a missed slot may still run when a digest's
// catch_up is zero.
const DefaultCatchUp = 12 * time.Hour

// maxWait caps one sleep of the run loop, so a wall clock that jumps (a
// suspended machine, an NTP step) is noticed within a minute.
const maxWait = time.Minute

// recordTimeout bounds the write that records a finished slot; it runs even
// when the scheduler is stopping.
const recordTimeout = 10 * time.Second

// SlotStore records the last slot run per digest. *store.Store implements it.
type SlotStore interface {
	// LastSlot returns the key and instant of the last slot recorded for
	// digest, or "" and the zero time if there is none.
	LastSlot(ctx context.Context, digest string) (key string, slotAt time.Time, err error)
	// RecordSlot records that the slot key of digest, due at slotAt, ran at
	// ranAt. It never moves a digest's record back to an earlier slot.
	RecordSlot(ctx context.Context, digest, key string, slotAt, ranAt time.Time) error
}

// Job runs one slot of one digest. ctx is cancelled when the scheduler
// stops; a job should then stop at a safe point and return ctx.Err(), and
// the slot is caught up at the next start. Only a nil return records the
// slot as run.
type Job func(ctx context.Context, slot Slot) error

// Option configures a Scheduler.
type Option func(*Scheduler) error

// WithClock replaces the system clock.
func WithClock(c Clock) Option {
	return func(s *Scheduler) error {
		if c == nil {
			return errors.New("scheduler: nil clock")
		}
		s.clock = c
		return nil
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Scheduler) error {
		if l == nil {
			return errors.New("scheduler: nil logger")
		}
		s.log = l
		return nil
	}
}

// Scheduler starts each digest's job at the digest's slots. See the package
// documentation for the rules.
type Scheduler struct {
	store   SlotStore
	job     Job
	clock   Clock
	log     *slog.Logger
	zones   ZoneSource
	units   []*unit // owned by the Run loop once it runs
	locals  []*localDigest
	names   map[string]bool
	started atomic.Bool

	unitsMu sync.Mutex // guards units for Next, which may run beside Run
	mu      sync.Mutex // guards unit.running and unit.queued
	jobs    sync.WaitGroup

	zonesAt time.Time // when the zones in use were last read
}

// unit is one schedule and its run state: a digest, or one zone group of a
// `delivery: local` digest (zone set).
type unit struct {
	name    string // the digest
	zone    string // local delivery: the zone whose wall clock the slots follow
	record  string // the SlotStore key: the digest, or digest@zone
	sched   cron.Schedule
	loc     *time.Location
	catchUp time.Duration

	// Owned by the Run loop.
	cursor  time.Time // instant of the last slot handled; later ones are new
	next    Slot
	hasNext bool

	// Guarded by Scheduler.mu.
	running bool
	queued  *Slot
}

// New returns a scheduler for digests that calls job at their slots and
// records each slot run in store. A digest whose schedule or timezone is bad,
// or whose name repeats, is an error naming it; so is a `delivery: local`
// digest without WithZones.
func New(store SlotStore, digests []config.Digest, job Job, opts ...Option) (*Scheduler, error) {
	if store == nil || job == nil {
		return nil, errors.New("scheduler: nil store or job")
	}
	s := &Scheduler{store: store, job: job, clock: systemClock{}, log: slog.Default(), names: map[string]bool{}}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	for i, d := range digests {
		if s.names[d.Name] || d.Name == "" {
			return nil, fmt.Errorf("scheduler: digests[%d]: empty or repeated name %q", i, d.Name)
		}
		s.names[d.Name] = true
		sched, err := config.ParseSchedule(d.Schedule)
		if err != nil {
			return nil, fmt.Errorf("scheduler: digest %q: schedule: %w", d.Name, err)
		}
		loc := time.UTC
		if d.Timezone != "" {
			if loc, err = time.LoadLocation(d.Timezone); err != nil {
				return nil, fmt.Errorf("scheduler: digest %q: timezone: %w", d.Name, err)
			}
		}
		catchUp := d.CatchUp.D()
		if catchUp <= 0 {
			catchUp = DefaultCatchUp
		}
		u := &unit{name: d.Name, record: d.Name, sched: sched, loc: loc, catchUp: catchUp}
		if d.Local() {
			if s.zones == nil {
				return nil, fmt.Errorf("scheduler: digest %q: delivery local needs the zones readers live in (WithZones)", d.Name)
			}
			u.zone, u.record = loc.String(), d.Name+"@"+loc.String()
			s.locals = append(s.locals, &localDigest{unit: *u, zones: map[string]bool{u.zone: true}})
		}
		s.units = append(s.units, u)
	}
	return s, nil
}

// Next returns the instant of the named digest's next slot after now (the
// earliest of its zone groups' for a local digest), or the zero time for an
// unknown digest or one with no slot within five years.
func (s *Scheduler) Next(name string) time.Time {
	now := s.clock.Now()
	var first time.Time
	s.unitsMu.Lock()
	defer s.unitsMu.Unlock()
	for _, u := range s.units {
		if u.name != name {
			continue
		}
		if next, ok := NextSlot(u.sched, u.loc, now); ok && (first.IsZero() || next.At.Before(first)) {
			first = next.At
		}
	}
	return first
}

// Run catches up missed slots, then starts each slot as it falls due until
// ctx is done; it then waits for running jobs (their ctx is cancelled) and
// returns nil. It returns an error only if the store cannot be read at start
// or Run was already called.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("scheduler: Run called twice")
	}
	defer s.jobs.Wait()
	now := s.clock.Now()
	if len(s.locals) > 0 {
		if err := s.refreshZones(ctx, now); err != nil {
			return err
		}
	}
	type record struct {
		key string
		at  time.Time
	}
	records := make([]record, len(s.units))
	for i, u := range s.units {
		key, at, err := s.store.LastSlot(ctx, u.record)
		if err == nil && key == "" && u.zone != "" {
			// A zone group never recorded: what the digest last ran (in
			// any zone, or before it went local) counts for it.
			key, at, err = s.store.LastSlot(ctx, u.name)
		}
		if err != nil {
			return fmt.Errorf("scheduler: digest %q: %w", u.record, err)
		}
		records[i] = record{key, at}
	}
	for i, u := range s.units {
		s.catchUp(ctx, u, now, records[i].key, records[i].at)
		s.schedule(u, now)
	}
	for {
		now := s.clock.Now()
		if len(s.locals) > 0 && now.Sub(s.zonesAt) >= zoneRefresh {
			s.addZones(ctx, now)
		}
		wait := maxWait
		for _, u := range s.units {
			if u.hasNext && !u.next.At.After(now) {
				s.due(ctx, u, now)
			}
			if u.hasNext {
				wait = min(wait, u.next.At.Sub(now))
			}
		}
		select {
		case <-ctx.Done():
			s.log.Info("scheduler stopping")
			return nil
		case <-s.clock.After(wait):
		}
	}
}

// schedule sets u's next slot after now.
func (s *Scheduler) schedule(u *unit, now time.Time) {
	u.cursor = now
	u.next, u.hasNext = NextSlot(u.sched, u.loc, now)
	switch {
	case !u.hasNext:
		s.log.Warn("digest has no slot within five years", "digest", u.name, "zone", u.zone)
	case u.zone != "":
		s.log.Debug("zone group scheduled", "digest", u.name, "zone", u.zone, "next_slot", u.next.Key, "next_at", u.next.At)
	default:
		s.log.Info("digest scheduled", "digest", u.name, "next_slot", u.next.Key, "next_at", u.next.At)
	}
}

// catchUp runs, at start, the most recent slot due at or before now if it is
// within the digest's catch-up window and not recorded as run.
func (s *Scheduler) catchUp(ctx context.Context, d *unit, now time.Time, lastKey string, lastAt time.Time) {
	slot, ok := PreviousSlot(d.sched, d.loc, now.Add(time.Nanosecond))
	if !ok || slot.Key == lastKey || !lastAt.Before(slot.At) {
		return
	}
	if late := now.Sub(slot.At); late > d.catchUp {
		s.log.Warn("missed slot not caught up", "digest", d.name, "slot", slot.Key,
			"late", late.String(), "catch_up", d.catchUp.String())
		return
	}
	slot.Digest, slot.Zone = d.name, d.zone
	s.log.Info("catching up missed slot", "digest", d.name, "slot", slot.Key, "last_slot", lastKey)
	s.start(ctx, d, slot)
}

// due handles a digest whose next slot has come: it starts the most recent
// slot due by now (older ones a jump of the clock passed over are dropped,
// as at start) and moves the cursor past it.
func (s *Scheduler) due(ctx context.Context, d *unit, now time.Time) {
	slot := d.next
	if latest, ok := PreviousSlot(d.sched, d.loc, now.Add(time.Nanosecond)); ok && latest.At.After(slot.At) {
		s.log.Warn("slots passed over by a clock jump", "digest", d.name, "from_slot", slot.Key, "to_slot", latest.Key)
		slot = latest
	}
	d.cursor = slot.At
	d.next, d.hasNext = NextSlot(d.sched, d.loc, d.cursor)
	if late := now.Sub(slot.At); late > d.catchUp {
		s.log.Warn("missed slot not caught up", "digest", d.name, "slot", slot.Key,
			"late", late.String(), "catch_up", d.catchUp.String())
		return
	}
	slot.Digest, slot.Zone = d.name, d.zone
	s.start(ctx, d, slot)
}

// start runs slot now, or queues it behind the digest's running job.
func (s *Scheduler) start(ctx context.Context, d *unit, slot Slot) {
	s.mu.Lock()
	if d.running {
		if d.queued != nil {
			s.log.Warn("queued slot superseded", "digest", d.name, "slot", d.queued.Key, "by", slot.Key)
		}
		d.queued = &slot
		s.mu.Unlock()
		s.log.Warn("slot queued behind running job", "digest", d.name, "slot", slot.Key)
		return
	}
	d.running = true
	s.mu.Unlock()
	s.jobs.Add(1)
	go s.work(ctx, d, slot)
}

// work runs slot, then any slot queued meanwhile, one at a time.
func (s *Scheduler) work(ctx context.Context, d *unit, slot Slot) {
	defer s.jobs.Done()
	for {
		s.runOne(ctx, d, slot)
		s.mu.Lock()
		q := d.queued
		d.queued = nil
		if q == nil || ctx.Err() != nil {
			d.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		slot = *q
		if late := s.clock.Now().Sub(slot.At); late > d.catchUp {
			s.log.Warn("missed slot not caught up", "digest", d.name, "slot", slot.Key,
				"late", late.String(), "catch_up", d.catchUp.String())
			s.mu.Lock()
			d.running = false
			s.mu.Unlock()
			return
		}
	}
}

// runOne calls the job for slot and records the slot if it succeeded.
func (s *Scheduler) runOne(ctx context.Context, d *unit, slot Slot) {
	began := s.clock.Now()
	level := slog.LevelInfo
	if d.zone != "" {
		level = slog.LevelDebug // one per zone group: the digest logs the editions it makes
	}
	s.log.Log(ctx, level, "slot started", "digest", d.name, "slot", slot.Key, "slot_at", slot.At, "previous_at", slot.Previous)
	if err := s.call(ctx, slot); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			s.log.Info("slot interrupted by shutdown", "digest", d.name, "slot", slot.Key)
			return
		}
		s.log.Error("slot failed", "digest", d.name, "slot", slot.Key, "err", err)
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := s.store.RecordSlot(rctx, d.record, slot.Key, slot.At, began); err != nil {
		s.log.Error("slot not recorded", "digest", d.record, "slot", slot.Key, "err", err)
		return
	}
	if d.record != d.name { // the digest's own record: the latest slot of any group
		if err := s.store.RecordSlot(rctx, d.name, slot.Key, slot.At, began); err != nil {
			s.log.Error("slot not recorded", "digest", d.name, "slot", slot.Key, "err", err)
		}
	}
	s.log.Log(ctx, level, "slot done", "digest", d.name, "slot", slot.Key, "took", s.clock.Now().Sub(began).String())
}

// call runs the job, turning a panic into an error.
func (s *Scheduler) call(ctx context.Context, slot Slot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("job panicked", "digest", slot.Digest, "slot", slot.Key, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("scheduler: job panicked: %v", r)
		}
	}()
	return s.job(ctx, slot)
}
