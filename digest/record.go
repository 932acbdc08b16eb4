package digest

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/journal"
	"github.com/heraldnews/herald/internal/lease"
	"github.com/heraldnews/herald/internal/model"
)

// Journal keeps results on their way to the database across a process
// crash, in segments per digest and edition (*journal.Dir).
type Journal interface {
	Create(digest string, editionID int64) (*journal.Writer, error)
	Editions(digest string) ([]int64, error)
	Replay(digest string, editionID int64, apply func([]journal.Result) error) (int, error)
}

// recorder makes marks' groups of results survive a crash: record
// returns nil once they would, and close once every one recorded is in
// the database (or has failed to get there: then the pass stops, and
// what is left waits in the journal for the next lease holder).
type recorder interface {
	record(batch []outcome) error
	close() error
}

// commitTries records ds in the database, trying three times: a busy
// database (a long CMS transaction) should not stop a pass at once.
func (s *Service) commitTries(ctx context.Context, ds []model.Delivery, bounced []int64) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = s.opt.Outbox.RecordDeliveries(ctx, ds, bounced); err == nil {
			return nil
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	return err
}

// directRecorder commits each group in its own transaction.
type directRecorder struct {
	s       *Service
	ctx     context.Context
	ds      []model.Delivery
	bounced []int64
}

func (r *directRecorder) record(batch []outcome) error {
	r.ds, r.bounced = r.ds[:0], r.bounced[:0]
	for _, o := range batch {
		r.ds = append(r.ds, o.d)
		if o.bounce {
			r.bounced = append(r.bounced, o.d.SubscriberID)
		}
	}
	return r.s.commitTries(r.ctx, r.ds, r.bounced)
}

func (r *directRecorder) close() error { return nil }

// journalRecorder appends each group to the edition's journal with one
// write and applies the journal to the database a segment at a time, in
// another goroutine, each segment in one transaction: what a connection
// waits for is a write(2), not a commit (a commit per group was a third
// of send-now's CPU, docs/benchmarks.md). Once the journal fails (no
// directory, a full disk) the rest of the pass commits each group
// directly, as herald did before it.
type journalRecorder struct {
	s       *Service
	ctx     context.Context
	digest  string
	edition int64
	stop    context.CancelCauseFunc
	direct  directRecorder
	off     bool // the journal failed: commit directly

	w       *journal.Writer  // the segment being written, nil before the first group
	started time.Time        // when it was created
	ds      []model.Delivery // its results, as RecordDeliveries takes them
	bounced []int64
	scratch []journal.Result // one group, as Append takes it
	jobs    chan applyJob
	done    chan error
	// spare holds a segment's results slice once applied, for the next
	// segment: a new one each time (528 deliveries) was 3 % of what a
	// send-now allocated.
	spare chan []model.Delivery
}

// applyJob is a closed segment and its results.
type applyJob struct {
	w       *journal.Writer
	ds      []model.Delivery
	bounced []int64
}

func (s *Service) newRecorder(ctx context.Context, stop context.CancelCauseFunc, digest string, edition int64) recorder {
	direct := directRecorder{s: s, ctx: ctx}
	if s.opt.Journal == nil {
		return &direct
	}
	r := &journalRecorder{s: s, ctx: ctx, digest: digest, edition: edition, stop: stop, direct: direct,
		jobs: make(chan applyJob), done: make(chan error, 1), spare: make(chan []model.Delivery, 1)}
	go r.apply()
	return r
}

func (r *journalRecorder) record(batch []outcome) error {
	if r.off {
		return r.direct.record(batch)
	}
	if r.w == nil {
		w, err := r.s.opt.Journal.Create(r.digest, r.edition)
		if err != nil {
			r.off = true
			r.s.log.Warn("journal unavailable: this pass commits each group of results directly", "edition", r.edition, "err", err)
			return r.direct.record(batch)
		}
		r.w, r.started = w, r.s.now()
		select {
		case r.ds = <-r.spare:
		default:
			r.ds = make([]model.Delivery, 0, r.s.opt.ApplyBatch+16)
		}
	}
	r.scratch = r.scratch[:0]
	for _, o := range batch {
		r.scratch = append(r.scratch, journal.Result{D: o.d, Bounce: o.bounce})
	}
	if err := r.w.Append(r.scratch); err != nil {
		r.off = true
		r.s.log.Warn("journal write failed: this pass commits each group of results directly", "edition", r.edition, "err", err)
		r.rotate() // what the segment holds is applied as usual
		return r.direct.record(batch)
	}
	for _, o := range batch {
		r.ds = append(r.ds, o.d)
		if o.bounce {
			r.bounced = append(r.bounced, o.d.SubscriberID)
		}
	}
	if r.w.Len() >= r.s.opt.ApplyBatch || r.s.now().Sub(r.started) >= r.s.opt.ApplyEvery {
		r.rotate()
	}
	return nil
}

// rotate hands the segment to the applier (waiting while it applies the
// one before: its backlog is at most one segment) and starts afresh.
func (r *journalRecorder) rotate() {
	if err := r.w.Close(); err != nil {
		r.s.log.Warn("closing journal segment", "edition", r.edition, "err", err)
	}
	r.jobs <- applyJob{r.w, r.ds, r.bounced}
	r.w, r.ds, r.bounced = nil, nil, nil
}

// apply commits each segment handed over, then removes it. After a
// failure it stops the pass and leaves the segments for a replay.
func (r *journalRecorder) apply() {
	var failed error
	for job := range r.jobs {
		if failed != nil {
			continue
		}
		if err := r.s.commitTries(r.ctx, job.ds, job.bounced); err != nil {
			failed = err
			r.s.log.Error("applying the journal failed: the pass stops; the journal keeps the results", "edition", r.edition, "err", err)
			r.stop(err)
			continue
		}
		if err := job.w.Remove(); err != nil {
			r.s.log.Warn("removing applied journal segment", "edition", r.edition, "err", err)
		}
		clear(job.ds) // no result stays reachable through the spare
		select {
		case r.spare <- job.ds[:0]:
		default:
		}
	}
	r.done <- failed
}

func (r *journalRecorder) close() error {
	if r.w != nil {
		r.rotate()
	}
	close(r.jobs)
	return <-r.done
}

// replay applies what a crash left in the journal for the editions of
// digest (of its zone group, when zone is set) before a new lease holder
// plans or sends any: those messages were accepted, and must not be sent
// again or their articles offered again.
func (s *Service) replay(ctx context.Context, digest, zone string) error {
	if s.opt.Journal == nil {
		return nil
	}
	ids, err := s.opt.Journal.Editions(digest)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if zone != "" {
			// A zone group's lease covers only its own editions; the
			// whole digest's lease covers them all. (A local digest's
			// zone-less send-now editions wait for the whole lease: their
			// readers' windows were moved at planning, so a zone edition
			// offers nothing they carried.)
			e, err := s.opt.Editions.Edition(ctx, id)
			if err != nil && model.ErrorCode(err) == model.ENOTFOUND {
				s.log.Warn("journal of an edition that no longer exists: left alone", "edition", id)
				continue
			}
			if err != nil {
				return fmt.Errorf("edition %d: %w", id, err)
			}
			if e.Zone != zone {
				continue
			}
		}
		n, err := s.opt.Journal.Replay(digest, id, func(rs []journal.Result) error {
			ds := make([]model.Delivery, len(rs))
			var bounced []int64
			for i, res := range rs {
				ds[i] = res.D
				if res.Bounce {
					bounced = append(bounced, res.D.SubscriberID)
				}
			}
			return s.commitTries(ctx, ds, bounced)
		})
		if n > 0 {
			s.log.Info("journal replayed: results a stopped process had not yet put in the database", "edition", id, "results", n)
		}
		if err != nil {
			return fmt.Errorf("edition %d, after %d results: %w", id, n, err)
		}
	}
	return nil
}

// acquire takes the lease of digest (of its zone group when zone is set)
// and replays the journal for it: every plan and send starts here.
func (s *Service) acquire(ctx context.Context, digest, zone string) (context.Context, func(), error) {
	lctx, release, err := s.leases.Acquire(ctx, lease.Part(digest, zone))
	if err != nil {
		return nil, nil, err
	}
	if err := s.replay(lctx, digest, zone); err != nil {
		release()
		return nil, nil, fmt.Errorf("digest: replaying the journal of %s: %w", lease.Part(digest, zone), err)
	}
	return lctx, release, nil
}
