package digest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// SendNowRequest is one send-now: the CLI's flags or the API's JSON body.
type SendNowRequest struct {
	Digest   string        `json:"digest"`   // "" for the first digest
	Sections []string      `json:"sections"` // only these sections' articles, and their followers
	Authors  []string      `json:"authors"`  // only these authors' articles, and their followers
	Since    time.Duration `json:"-"`        // lookback; 0: the digest's
	// Wait is how long to keep retrying temporary failures before
	// returning with some left for retry (0: one pass, no waiting).
	Wait time.Duration `json:"-"`
	// Progress, when set, is called as planning and sending advance.
	Progress func(Progress) `json:"-"`
}

// Progress reports an edition's advance.
type Progress struct {
	EditionID int64
	Phase     string // planning, sending
	Total     int    // deliveries to send in this run (sending)
	Sent      int
	Skipped   int
	Failed    int
	Retry     int // temporary failures waiting for a retry
	Pending   int // planning: planned to send
}

// SendNowResult is what a send-now did.
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
	ctx, release, err := s.lease(ctx, d.Name)
	if err != nil {
		return SendNowResult{}, err
	}
	defer release()
	return s.sendNowLeased(ctx, d, req)
}

// StartSendNow is SendNow for the daemon's API: it takes the lease (or
// returns ErrLeaseHeld) and chooses the edition before returning its id,
// then works in the background until done or ctx ends; done receives the
// result.
func (s *Service) StartSendNow(ctx context.Context, req SendNowRequest) (editionID int64, done <-chan SendNowResult, err error) {
	d, err := s.digest(req.Digest)
	if err != nil {
		return 0, nil, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return 0, nil, err
	}
	lctx, release, err := s.lease(ctx, d.Name)
	if err != nil {
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
		defer release()
		res, err := s.sendNowLeased(lctx, d, req)
		if err != nil {
			s.log.Error("send-now failed", "digest", d.Name, "err", err)
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
	if e, ok, err := s.store.UnfinishedEdition(ctx, d.Name); err != nil {
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

// Resume finishes one edition (planning what is left, sending what is
// pending) under its digest's lease.
func (s *Service) Resume(ctx context.Context, editionID int64, wait time.Duration, prog func(Progress)) (SendNowResult, error) {
	e, err := s.store.Edition(ctx, editionID)
	if err != nil {
		return SendNowResult{}, err
	}
	if e.Status == model.EditionDone || e.Status == model.EditionCancelled {
		return SendNowResult{}, fmt.Errorf("%w: edition %d is %s", ErrEditionFinished, e.ID, e.Status)
	}
	d, err := s.digest(e.Digest)
	if err != nil {
		return SendNowResult{}, err
	}
	ctx, release, err := s.lease(ctx, d.Name)
	if err != nil {
		return SendNowResult{}, err
	}
	defer release()
	r, err := s.runEdition(ctx, d, e, s.now().Add(wait), prog)
	res := SendNowResult{ResumedID: e.ID}
	res.add(r)
	return res, err
}

// Cancel stops an edition: its pending deliveries become cancelled. It
// waits for nobody: a process sending it notices at its next page.
func (s *Service) Cancel(ctx context.Context, editionID int64) error {
	e, err := s.store.Edition(ctx, editionID)
	if err != nil {
		return err
	}
	if e.Status == model.EditionDone || e.Status == model.EditionCancelled {
		return fmt.Errorf("%w: edition %d is %s", ErrEditionFinished, e.ID, e.Status)
	}
	return s.store.SetEditionStatus(ctx, editionID, model.EditionCancelled)
}

// Editions lists recent editions (of digest, or all when ""), newest first,
// with their deliveries counted by status.
func (s *Service) Editions(ctx context.Context, digest string, limit int) ([]model.Edition, error) {
	return s.store.Editions(ctx, digest, limit)
}

// lease takes the digest's lease and keeps renewing it; the returned
// context ends if the lease is lost. release gives it up.
func (s *Service) lease(ctx context.Context, digest string) (lctx context.Context, release func(), err error) {
	s.activeMu.Lock()
	if s.active[digest] {
		s.activeMu.Unlock()
		return ctx, nil, fmt.Errorf("%w: %s (by this process)", ErrLeaseHeld, digest)
	}
	if s.active == nil {
		s.active = map[string]bool{}
	}
	s.active[digest] = true
	s.activeMu.Unlock()
	done := func() {
		s.activeMu.Lock()
		delete(s.active, digest)
		s.activeMu.Unlock()
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	ok, err := s.store.AcquireLease(ctx, digest, s.opt.Holder, 0, s.opt.LeaseTTL)
	if err != nil {
		return ctx, nil, err
	}
	if !ok {
		// A holder on this machine whose process is gone (killed, crashed)
		// need not be waited for until its lease expires.
		if holder, _, err := s.store.LeaseHolder(ctx, digest); err == nil && holderDead(holder, s.opt.Holder) {
			if ok, err = s.store.TakeOverLease(ctx, digest, holder, s.opt.Holder, s.opt.LeaseTTL); err != nil {
				return ctx, nil, err
			}
			if ok {
				s.log.Warn("took over the lease of a dead process", "digest", digest, "holder", holder)
			}
		}
	}
	if !ok {
		return ctx, nil, fmt.Errorf("%w: %s", ErrLeaseHeld, digest)
	}
	lctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(s.opt.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-lctx.Done():
				return
			case <-t.C:
				ok, err := s.store.AcquireLease(lctx, digest, s.opt.Holder, 0, s.opt.LeaseTTL)
				if err == nil && !ok {
					s.log.Error("digest lease lost", "digest", digest)
					cancel(fmt.Errorf("%w: lease lost", ErrLeaseHeld))
					return
				}
				if err != nil {
					s.log.Warn("digest lease renewal failed", "digest", digest, "err", err)
				}
			}
		}
	})
	release = func() {
		close(stop)
		wg.Wait()
		cancel(nil)
		if err := s.store.ReleaseLease(context.WithoutCancel(ctx), digest, s.opt.Holder); err != nil {
			s.log.Warn("digest lease release failed", "digest", digest, "err", err)
		}
		done()
	}
	return lctx, release, nil
}

type runResult struct {
	counts       map[string]int
	sent, failed int
	articles     int
}

// runEdition plans an edition if needed, then sends its pending deliveries
// in passes until none is left or the next retry falls after deadline.
func (s *Service) runEdition(ctx context.Context, d config.Digest, e model.Edition, deadline time.Time, prog func(Progress)) (runResult, error) {
	var res runResult
	cache := newArticleCache(s)
	if e.Status == model.EditionPlanning {
		cands, err := s.candidates(ctx, d, e)
		if err != nil {
			return res, err
		}
		res.articles = len(cands)
		cache.add(cands)
		if err := s.plan(ctx, d, e, cands, prog); err != nil {
			return res, err
		}
		e.Status = model.EditionSending
	}
	r := newRenderer(s.cfg, d, s.tmpl, e.Cutoff)
	counts, err := s.store.EditionCounts(ctx, e.ID)
	if err != nil {
		return res, err
	}
	p := Progress{EditionID: e.ID, Phase: "sending", Total: counts[model.DeliveryPending], Skipped: counts[model.DeliverySkipped]}
	for {
		if err := s.pass(ctx, d, e, r, cache, &p, prog); err != nil {
			res.sent, res.failed = p.Sent, p.Failed
			res.counts, _ = s.store.EditionCounts(context.WithoutCancel(ctx), e.ID)
			return res, err
		}
		next, ok, err := s.store.NextAttempt(ctx, e.ID)
		if err != nil {
			return res, err
		}
		if !ok {
			cur, err := s.store.Edition(ctx, e.ID)
			if err != nil {
				return res, err
			}
			if cur.Status == model.EditionSending {
				if err := s.store.SetEditionStatus(ctx, e.ID, model.EditionDone); err != nil {
					return res, err
				}
			}
			s.log.Info("edition done", "digest", d.Name, "edition", e.ID, "sent", p.Sent, "failed", p.Failed, "skipped", p.Skipped)
			break
		}
		if next.After(deadline) {
			s.log.Info("deliveries left for retry", "digest", d.Name, "edition", e.ID, "next_attempt", next)
			break
		}
		if err := s.sleep(ctx, next.Sub(s.now())); err != nil {
			return res, err
		}
	}
	res.sent, res.failed = p.Sent, p.Failed
	res.counts, err = s.store.EditionCounts(ctx, e.ID)
	return res, err
}

// outcome is one finished attempt on its way to the marker.
type outcome struct {
	d      model.Delivery // with its new state
	bounce bool
	retry  bool
}

// pass sends every delivery of e due now once. Workers send; one marker
// goroutine commits results in batches of MarkBatch or every MarkInterval.
func (s *Service) pass(ctx context.Context, d config.Digest, e model.Edition, r *renderer, cache *articleCache, p *Progress, prog func(Progress)) error {
	if s.sender == nil {
		return errors.New("digest: no sender configured")
	}
	workers := max(s.sender.Workers(), 1)
	jobs := make(chan model.Delivery, workers)
	results := make(chan outcome, workers)
	markErr := make(chan error, 1)
	go func() { markErr <- s.marker(ctx, d, results, p, prog) }()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for del := range jobs {
				if ctx.Err() != nil {
					// Stopping: a delivery not yet started stays pending,
					// its attempts untouched, for the next run.
					continue
				}
				results <- s.attempt(ctx, w, d, e, r, cache, del)
			}
		})
	}
	feedErr := s.feed(ctx, e, cache, jobs)
	close(jobs)
	wg.Wait()
	close(results)
	return errors.Join(feedErr, <-markErr)
}

// feed pages through the due deliveries and hands them to the workers.
func (s *Service) feed(ctx context.Context, e model.Edition, cache *articleCache, jobs chan<- model.Delivery) error {
	var after int64
	now := s.now()
	// cancelled reports whether an editor cancelled the edition meanwhile;
	// checked every statusEvery deliveries, so a cancel stops the sending
	// within that many messages rather than after a whole page.
	const statusEvery = 64
	cancelled := func() (bool, error) {
		st, err := s.store.EditionStatus(ctx, e.ID)
		return st == model.EditionCancelled, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		page, err := s.store.DueDeliveries(ctx, e.ID, now, after, s.opt.PageSize)
		if err != nil {
			return err
		}
		// Someone who unsubscribed, bounced or was removed since planning
		// gets nothing, even from a delivery waiting for a retry: the page
		// is checked before it is sent, and read again while that cancels
		// any (the new page may reach past the checked ids).
		for len(page) > 0 {
			n, err := s.store.CancelIneligible(ctx, e.ID, after, page[len(page)-1].ID)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			s.log.Info("deliveries cancelled: subscriber left before sending", "edition", e.ID, "count", n)
			if page, err = s.store.DueDeliveries(ctx, e.ID, now, after, s.opt.PageSize); err != nil {
				return err
			}
		}
		if len(page) == 0 {
			return nil
		}
		if err := cache.load(ctx, page); err != nil {
			return err
		}
		for i, del := range page {
			if i%statusEvery == 0 {
				if c, err := cancelled(); err != nil {
					return err
				} else if c {
					s.log.Info("edition cancelled: sending stopped", "edition", e.ID)
					return nil
				}
			}
			select {
			case jobs <- del:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		after = page[len(page)-1].ID
	}
}

// attempt renders and sends one delivery and works out its new state.
func (s *Service) attempt(ctx context.Context, worker int, d config.Digest, e model.Edition, r *renderer, cache *articleCache, del model.Delivery) outcome {
	arts := cache.views(del.ArticleIDs)
	del.Attempts++
	if len(arts) == 0 {
		del.Status, del.LastReply = model.DeliverySkipped, "articles withdrawn before sending"
		return outcome{d: del}
	}
	msg, err := s.compose(d, r, e, del, arts)
	if err != nil {
		// A template that fails for this data fails every attempt: record it.
		del.Status, del.LastReply = model.DeliveryFailed, sanitize.Line("render: "+err.Error())
		s.log.Error("digest render failed", "edition", e.ID, "delivery", del.ID, "err", err)
		return outcome{d: del}
	}
	// The message a worker is on is finished even when the run is stopping
	// (SIGTERM): aborting it mid-transaction would make it ambiguous. The
	// mailer's own timeout bounds it.
	res := s.send(context.WithoutCancel(ctx), worker, msg)
	del.LastReply = sanitize.Line(res.Reply)
	switch res.Outcome {
	case model.Accepted:
		del.Status, del.MessageID, del.SentAt = model.DeliverySent, msg.MessageID, s.now()
		del.ArticleIDs = make([]int64, len(arts))
		for i, a := range arts {
			del.ArticleIDs[i] = a.ID
		}
		return outcome{d: del}
	case model.Permanent:
		del.Status = model.DeliveryFailed
		return outcome{d: del, bounce: res.Bounce}
	default: // temporary, ambiguous, or unknown: retry while attempts last
		if del.Attempts >= max(s.cfg.SMTP.MaxAttempts, 1) {
			del.Status = model.DeliveryFailed
			del.LastReply = sanitize.Line(fmt.Sprintf("gave up after %d attempts: %s", del.Attempts, del.LastReply))
			return outcome{d: del}
		}
		del.Status = model.DeliveryPending
		del.NextAttemptAt = s.now().Add(s.opt.Backoff(del.Attempts))
		return outcome{d: del, retry: true}
	}
}

// marker commits results in small batches. The crash window: results
// received here but not yet committed (at most MarkBatch, at most
// MarkInterval old), results waiting in the results channel (one slot per
// worker) and the messages the workers are sending (one per worker) are
// the only ones a crash can repeat: at most MarkBatch + 2 × workers
// messages (40 with the defaults and 4 connections; measured worst case 40
// in internal/proving's crash test). Each is still pending in the
// database, so a resumed run sends it again with the same Message-ID.
func (s *Service) marker(ctx context.Context, d config.Digest, results <-chan outcome, p *Progress, prog func(Progress)) error {
	var (
		batch   []model.Delivery
		bounced []int64
		failed  error
	)
	wctx := context.WithoutCancel(ctx)
	flush := func() {
		if len(batch) == 0 || failed != nil {
			return
		}
		var err error
		for try := 0; try < 3; try++ {
			if err = s.store.RecordDeliveries(wctx, d.Name, batch, bounced); err == nil {
				break
			}
			time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
		}
		if err != nil {
			failed = err
			return
		}
		batch, bounced = batch[:0], bounced[:0]
		if prog != nil {
			prog(*p)
		}
	}
	tick := time.NewTicker(s.opt.MarkInterval)
	defer tick.Stop()
	for {
		select {
		case o, ok := <-results:
			if !ok {
				flush()
				return failed
			}
			batch = append(batch, o.d)
			if o.bounce {
				bounced = append(bounced, o.d.SubscriberID)
			}
			switch {
			case o.d.Status == model.DeliverySent:
				p.Sent++
			case o.d.Status == model.DeliverySkipped:
				p.Skipped++
			case o.retry:
				p.Retry++
			default:
				p.Failed++
			}
			if len(batch) >= s.opt.MarkBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// compose builds one delivery's message. Every value a person wrote
// (names, titles, subjects) reaches headers only through sanitize.Line and
// the mailer's encoding; the List-* headers hold only URLs herald built.
func (s *Service) compose(d config.Digest, r *renderer, e model.Edition, del model.Delivery, arts []*ArticleView) (*model.Message, error) {
	unsub := s.tokens.Make(token.Unsubscribe, del.SubscriptionID, UnsubscribeTTL)
	mgmt := s.tokens.Make(token.Manage, del.SubscriberID, ManageTTL)
	name := sanitize.Line(del.Name)
	subject, text, html, err := r.render(arts, part{name: name, email: del.Email, unsubTok: unsub, mgmtTok: mgmt})
	if err != nil {
		return nil, err
	}
	msg := &model.Message{
		MessageID: s.messageID(e.ID, del.SubscriberID),
		Date:      s.now(),
		From:      s.cfg.SMTP.From,
		ReplyTo:   s.cfg.SMTP.ReplyTo,
		ToAddr:    del.Email,
		ToName:    name,
		Subject:   subject,
		Text:      text,
		HTML:      html,
		Headers:   s.listHeaders(d, unsub),
	}
	return msg, nil
}

// listHeaders are the RFC 2369/2919/8058 headers of a digest message.
func (s *Service) listHeaders(d config.Digest, unsubToken string) []model.Header {
	lu := "<" + s.cfg.HTTP.BaseURL + "/unsubscribe?token=" + unsubToken + ">"
	if to := strings.TrimSpace(s.cfg.SMTP.UnsubscribeTo); to != "" && !strings.ContainsAny(to, "<>\r\n ,") {
		lu += ", <mailto:" + to + "?subject=unsubscribe>"
	}
	return []model.Header{
		{Name: "List-Id", Value: strings.Trim(strings.NewReplacer("<", "", ">", "", "\"", "").Replace(sanitize.Line(d.Title))+" <"+listAtom(d.Name)+"."+s.domain+">", " ")},
		{Name: "List-Unsubscribe", Value: lu},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		{Name: "Precedence", Value: "bulk"},
	}
}

// listAtom makes a digest name usable as the left part of a List-Id.
func listAtom(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "digest"
	}
	return b.String()
}

// articleCache holds an edition's cleaned articles by id, loading those a
// page of deliveries needs and does not have yet.
type articleCache struct {
	s    *Service
	mu   sync.RWMutex
	byID map[int64]*ArticleView
	miss map[int64]bool // ids that are gone (retracted, deleted)
}

func newArticleCache(s *Service) *articleCache {
	return &articleCache{s: s, byID: map[int64]*ArticleView{}, miss: map[int64]bool{}}
}

func (c *articleCache) add(arts []*ArticleView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range arts {
		c.byID[a.ID] = a
	}
}

func (c *articleCache) load(ctx context.Context, page []model.Delivery) error {
	var want []int64
	seen := map[int64]bool{}
	c.mu.RLock()
	for _, d := range page {
		for _, id := range d.ArticleIDs {
			if c.byID[id] == nil && !c.miss[id] && !seen[id] {
				seen[id] = true
				want = append(want, id)
			}
		}
	}
	c.mu.RUnlock()
	if len(want) == 0 {
		return nil
	}
	arts, err := c.s.store.ArticlesByID(ctx, want)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range arts {
		if cl, ok := c.s.clean.Article(a); ok {
			c.byID[a.ID] = newArticleView(cl)
		}
	}
	for _, id := range want {
		if c.byID[id] == nil {
			c.miss[id] = true
		}
	}
	return nil
}

// views returns the cached articles for ids, in order, leaving out missing ones.
func (c *articleCache) views(ids []int64) []*ArticleView {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*ArticleView, 0, len(ids))
	for _, id := range ids {
		if a := c.byID[id]; a != nil {
			out = append(out, a)
		}
	}
	return out
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

// send is Sender.Send, holding worker 0 exclusively while it is used.
func (s *Service) send(ctx context.Context, worker int, msg *model.Message) model.SendResult {
	if worker == 0 {
		s.worker0.Lock()
		defer s.worker0.Unlock()
	}
	return s.sender.Send(ctx, worker, msg)
}
