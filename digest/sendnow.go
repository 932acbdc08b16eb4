package digest

import (
	"context"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// SendNowRequest is one send-now: the CLI's flags or the API's JSON body.
type SendNowRequest struct {
	Digest   string        // "" for the first digest
	Sections []string      // only these sections' articles, and their followers
	Authors  []string      // only these authors' articles, and their followers
	Since    time.Duration // lookback; 0: the digest's
	// Wait is how long to keep retrying temporary failures before
	// returning with some left for retry (0: one pass, no waiting).
	Wait time.Duration
	// Progress, when set, is called as planning and sending advance.
	// Planning runs beside the sending, so it may be called from two
	// goroutines at once (phases "planning" and "sending").
	Progress func(Progress)
}

// Progress reports an edition's advance.
type Progress struct {
	EditionID int64
	Phase     string // resuming, planning, sending
	Total     int    // deliveries to send in this run (sending)
	Sent      int
	Skipped   int
	Failed    int
	Retry     int // temporary failures waiting for a retry
	Pending   int // planning: planned to send
}

// SendNowResult is what a send-now (or a scheduled slot, or a resume) did.
type SendNowResult struct {
	EditionID int64          // the edition planned now; 0 when a resumed one is unfinished
	ResumedID int64          // the unfinished edition resumed first, if any
	Counts    map[string]int // deliveries by status of the last edition worked on
	Sent      int            // sent by this run (both editions)
	Skipped   int            // skipped (nothing new) in the editions worked on
	Failed    int            // failed permanently in this run
	Left      int            // still pending for retry
	Articles  int            // candidate articles of the new edition
}

// Done reports whether nothing was left for retry.
func (r SendNowResult) Done() bool { return r.Left == 0 }

func (r *SendNowResult) add(o runResult) {
	r.Counts = o.counts
	r.Sent += o.sent
	r.Failed += o.failed
	r.Skipped += o.counts[model.DeliverySkipped]
	r.Left = o.counts[model.DeliveryPending]
	if o.articles > 0 {
		r.Articles = o.articles
	}
}

// SendNow runs design.md's send-now for one digest: under the digest's
// lease, it first resumes an unfinished edition, then plans and sends a new
// manual edition. It returns ErrLeaseHeld when another process has the
// digest. Temporary failures are retried with backoff for up to req.Wait;
// what is still pending after that is reported in Left (a later send-now
// or the daemon finishes it).
func (s *Service) SendNow(ctx context.Context, req SendNowRequest) (SendNowResult, error) {
	d, err := s.digest(req.Digest)
	if err != nil {
		return SendNowResult{}, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return SendNowResult{}, err
	}
	ctx, release, err := s.acquire(ctx, d.Name, "")
	if err != nil {
		return SendNowResult{}, err
	}
	defer release()
	start := time.Now()
	res, err := s.sendNowLeased(ctx, d, req)
	s.observe(res, start)
	return res, err
}

// StartSendNow is SendNow for the daemon's API: it takes the lease (or
// returns ErrLeaseHeld) and chooses the edition before returning its id,
// then works in the background until done; done receives the result. The
// edition outlives ctx (a request's): while Run runs it lives as long as the
// service (a graceful stop waits for it to put its connection down),
// otherwise until it is done.
func (s *Service) StartSendNow(ctx context.Context, req SendNowRequest) (editionID int64, done <-chan SendNowResult, err error) {
	d, err := s.digest(req.Digest)
	if err != nil {
		return 0, nil, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return 0, nil, err
	}
	life := context.WithoutCancel(ctx)
	s.bgMu.Lock()
	if s.bg != nil {
		life = s.bg
	}
	s.bgWait.Add(1)
	s.bgMu.Unlock()
	lctx, release, err := s.acquire(life, d.Name, "")
	if err != nil {
		s.bgWait.Done()
		return 0, nil, err
	}
	type started struct {
		id  int64
		err error
	}
	first := make(chan started, 1)
	out := make(chan SendNowResult, 1)
	user := req.Progress
	var once sync.Once
	req.Progress = func(p Progress) {
		once.Do(func() { first <- started{id: p.EditionID} })
		if user != nil {
			user(p)
		}
	}
	go func() {
		defer s.bgWait.Done()
		defer release()
		start := time.Now()
		res, err := s.sendNowLeased(lctx, d, req)
		s.observe(res, start)
		if err != nil {
			s.log.Error("send-now failed", "digest", d.Name, "err", err)
		} else {
			s.log.Info("send-now finished", "edition", res.EditionID, "resumed", res.ResumedID, "sent", res.Sent,
				"skipped", res.Skipped, "failed", res.Failed, "left_for_retry", res.Left)
		}
		once.Do(func() { first <- started{id: res.EditionID, err: err} })
		out <- res
	}()
	select {
	case st := <-first:
		return st.id, out, st.err
	case <-ctx.Done():
		return 0, out, ctx.Err()
	}
}

func (s *Service) sendNowLeased(ctx context.Context, d config.Digest, req SendNowRequest) (SendNowResult, error) {
	var res SendNowResult
	deadline := s.now().Add(req.Wait)
	if e, ok, err := s.opt.Editions.UnfinishedEdition(ctx, d.Name); err != nil {
		return res, err
	} else if ok {
		res.ResumedID = e.ID
		s.log.Info("resuming unfinished edition", "digest", d.Name, "edition", e.ID)
		if req.Progress != nil {
			req.Progress(Progress{EditionID: e.ID, Phase: "resuming"})
		}
		r, err := s.runEdition(ctx, d, e, deadline, req.Progress)
		res.add(r)
		if err != nil || res.Left > 0 {
			return res, err
		}
	}
	e, err := s.newManualEdition(ctx, d, req)
	if err != nil {
		return res, err
	}
	res.EditionID = e.ID
	if req.Progress != nil {
		req.Progress(Progress{EditionID: e.ID, Phase: "planning"})
	}
	r, err := s.runEdition(ctx, d, e, deadline, req.Progress)
	res.add(r)
	return res, err
}

// Resume finishes one edition (planning what is left, sending what is
// pending) under its digest's lease (its zone group's, for a local
// digest's scheduled edition).
func (s *Service) Resume(ctx context.Context, editionID int64, wait time.Duration, prog func(Progress)) (SendNowResult, error) {
	e, err := s.opt.Editions.Edition(ctx, editionID)
	if err != nil {
		return SendNowResult{}, err
	}
	if e.Status == model.EditionDone || e.Status == model.EditionCancelled {
		return SendNowResult{}, ErrEditionFinished.With("edition %d is %s", e.ID, e.Status)
	}
	d, err := s.digest(e.Digest)
	if err != nil {
		return SendNowResult{}, err
	}
	ctx, release, err := s.acquire(ctx, d.Name, e.Zone)
	if err != nil {
		return SendNowResult{}, err
	}
	defer release()
	start := time.Now()
	r, err := s.runEdition(ctx, d, e, s.now().Add(wait), prog)
	res := SendNowResult{ResumedID: e.ID}
	res.add(r)
	s.observe(res, start)
	return res, err
}

// Cancel stops an edition: its pending deliveries become cancelled. It
// waits for nobody: a process sending it notices within a few messages.
func (s *Service) Cancel(ctx context.Context, editionID int64) error {
	e, err := s.opt.Editions.Edition(ctx, editionID)
	if err != nil {
		return err
	}
	if e.Status == model.EditionDone || e.Status == model.EditionCancelled {
		return ErrEditionFinished.With("edition %d is %s", e.ID, e.Status)
	}
	return s.opt.Editions.SetEditionStatus(ctx, editionID, model.EditionCancelled)
}

func (s *Service) observe(res SendNowResult, start time.Time) {
	if s.opt.Observe != nil {
		s.opt.Observe(res, time.Since(start))
	}
}
