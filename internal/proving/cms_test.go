package proving

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
)

// cms writes the content tables the way a newsroom CMS does: its own
// connection, one short transaction per write.
type cms struct {
	db   *sql.DB
	rng  *rand.Rand
	next int
	live []int64 // ids of the articles it inserted and has not deleted
	lat  []time.Duration
	errs int
	busy int // SQLITE_BUSY / locked errors the CMS itself saw
}

func newCMS(t *testing.T, path string, seed uint64) *cms {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(path, false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return &cms{db: db, rng: rand.New(rand.NewPCG(seed, 9))}
}

// write does one insert, update or delete of an article.
func (c *cms) write(ctx context.Context) {
	t0 := time.Now()
	var err error
	now := time.Now().UTC().Format(time.RFC3339)
	switch op := c.rng.IntN(10); {
	case op < 5 || len(c.live) < 5: // insert, with its byline
		c.next++
		var tx *sql.Tx
		if tx, err = c.db.BeginTx(ctx, nil); err != nil {
			break
		}
		var res sql.Result
		res, err = tx.ExecContext(ctx, `INSERT INTO articles (guid, url, title, summary, body_html, section_id, status, published_at)
			VALUES (?, ?, ?, 'A breaking summary.', '<p>Breaking body.</p>', 1 + abs(random()) % 2, 'published', ?)`,
			fmt.Sprintf("cms-%d-%d", time.Now().UnixNano(), c.next), fmt.Sprintf("/cms/%d", c.next), fmt.Sprintf("Breaking %d", c.next), now)
		if err == nil {
			id, _ := res.LastInsertId()
			_, err = tx.ExecContext(ctx, `INSERT INTO article_authors (article_id, author_id) VALUES (?, 1 + abs(random()) % 2)`, id)
			if err == nil {
				c.live = append(c.live, id)
			}
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
	case op < 8: // update
		id := c.live[c.rng.IntN(len(c.live))]
		_, err = c.db.ExecContext(ctx, `UPDATE articles SET title = title || '!', updated_at = ? WHERE id = ?`, now, id)
	default: // delete
		i := c.rng.IntN(len(c.live))
		id := c.live[i]
		c.live = append(c.live[:i], c.live[i+1:]...)
		_, err = c.db.ExecContext(ctx, `DELETE FROM articles WHERE id = ?`, id)
	}
	c.lat = append(c.lat, time.Since(t0))
	if err != nil {
		c.errs++
		if isBusy(err) {
			c.busy++
		}
	}
}

func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked") || strings.Contains(s, "(5)") || strings.Contains(s, "(517)")
}

// probe measures herald's own writes and reads from outside while the CMS
// writes: POST /subscribe (a subscriber upsert and a confirmation email)
// and feed GETs.
type probe struct {
	mu                sync.Mutex
	subLat, feedLat   []time.Duration
	subErrs, feedErrs []string
	n                 atomic.Int64
	// st, when set, is herald's store opened by the test process (as
	// `herald subscribers add` would): its writes are timed without the
	// HTTP and SMTP work of a subscribe request.
	st        *store.Store
	storeLat  []time.Duration
	storeErrs []string
}

func (p *probe) storeWrite() {
	n := p.n.Add(1)
	t0 := time.Now()
	_, _, err := p.st.UpsertSubscriber(context.Background(), model.Address(fmt.Sprintf("store%06d@example.org", n)), "Probe", "pending")
	d := time.Since(t0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.storeErrs = append(p.storeErrs, err.Error())
		return
	}
	p.storeLat = append(p.storeLat, d)
}

func (p *probe) subscribe(base string) {
	n := p.n.Add(1)
	t0 := time.Now()
	resp, err := http.PostForm(base+"/subscribe", url.Values{"email": {fmt.Sprintf("probe%06d@example.org", n)}, "digest": {"daily"}})
	d := time.Since(t0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.subErrs = append(p.subErrs, err.Error())
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		p.subErrs = append(p.subErrs, fmt.Sprintf("POST /subscribe: %d", resp.StatusCode))
		return
	}
	p.subLat = append(p.subLat, d)
}

func (p *probe) feed(base, path string) {
	t0 := time.Now()
	resp, err := http.Get(base + path)
	d := time.Since(t0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.feedErrs = append(p.feedErrs, err.Error())
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		p.feedErrs = append(p.feedErrs, fmt.Sprintf("GET %s: %d", path, resp.StatusCode))
		return
	}
	p.feedLat = append(p.feedLat, d)
}

// run probes until stop: subscribe every 200ms, feeds from 8 readers.
func (p *probe) run(base string, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				p.subscribe(base)
				if p.st != nil {
					p.storeWrite()
				}
			}
		}
	})
	for r := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p.feed(base, feedPaths[(r+i)%len(feedPaths)])
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	return &wg
}

// TestCMSWritingMeanwhile is issue 7, item 3.
func TestCMSWritingMeanwhile(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20s concurrent-writer run: run without -short")
	}
	const (
		subscribers = 500
		burstPhase  = 15 * time.Second
		tightPhase  = 5 * time.Second
	)
	ctx := context.Background()
	dir := t.TempDir()
	public := filepath.Join(dir, "public")
	srv := smtptest.Start(t, smtptest.Options{DiscardData: true, Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData && strings.HasPrefix(a.Rcpt, "c") {
			return smtptest.Stall(80 * time.Millisecond) // the edition lasts through most of the burst phase
		}
		return smtptest.Accept()
	}})
	dbPath := filepath.Join(dir, "herald.db")
	st := openStore(t, dbPath)
	seedContent(t, st, 200)
	emails := addSubscribers(t, st, "c", "daily", subscribers)
	st.Close()
	listen := freeAddr(t)
	cfg := writeConfig(t, cfgOpts{dir: dir, listen: listen, smtp: srv, perHour: 100000, outputDir: public, refresh: "200ms"})
	d := startServe(t, cfg, listen, "serve.log")

	// The static-file reader: parse every feed file in a loop.
	stopReader := make(chan struct{})
	var parsed, torn atomic.Int64
	var tornMsg atomic.Value
	var rwg sync.WaitGroup
	rwg.Go(func() {
		fp := gofeed.NewParser()
		for i := 0; i < 1_000_000; i++ {
			select {
			case <-stopReader:
				return
			default:
			}
			filepath.WalkDir(public, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
					return nil
				}
				switch filepath.Ext(p) {
				case ".rss", ".atom", ".json": // feeds (the archive's included), not its pages
				default:
					return nil
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return nil // removed between the walk and the read
				}
				var perr error
				if strings.HasSuffix(p, ".json") && !json.Valid(b) {
					perr = fmt.Errorf("invalid JSON")
				} else if _, err := fp.ParseString(string(b)); err != nil {
					perr = err
				}
				parsed.Add(1)
				if perr != nil {
					torn.Add(1)
					tornMsg.CompareAndSwap(nil, fmt.Sprintf("%s (%d bytes): %v", p, len(b), perr))
				}
				return nil
			})
		}
	})

	// An edition runs meanwhile.
	req, _ := http.NewRequest("POST", d.base+"/api/send-now", strings.NewReader(`{"digest":"daily"}`))
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("send-now: %d", resp.StatusCode)
	}

	// Phase 1: bursts of up to 50 writes a second, with two static builds.
	c := newCMS(t, dbPath, 3)
	hst := openStore(t, dbPath)
	defer hst.Close()
	p := &probe{st: hst}
	stop := make(chan struct{})
	pw := p.run(d.base, stop)
	var builds []string
	var bwg sync.WaitGroup
	bwg.Go(func() {
		for i := range 2 {
			time.Sleep(time.Duration(3+5*i) * time.Second)
			code, out := runHerald(t, cfg, time.Minute, "build", "--out", filepath.Join(dir, fmt.Sprintf("build%d", i)))
			if code != 0 {
				builds = append(builds, fmt.Sprintf("build %d: exit %d: %s", i, code, out))
			}
		}
	})
	end := time.Now().Add(burstPhase)
	writes := 0
	for time.Now().Before(end) {
		sec := time.Now()
		n := 10 + c.rng.IntN(41) // 10..50 in a burst, then quiet until the next second
		for range n {
			c.write(ctx)
			writes++
		}
		time.Sleep(time.Until(sec.Add(time.Second)))
	}
	bwg.Wait()
	close(stop)
	pw.Wait()
	burstCMS := append([]time.Duration(nil), c.lat...)
	cmsErrs := c.errs
	waitUntil(t, 60*time.Second, "the edition to finish", func() bool {
		counts := srv.Counts() // the probes' confirmation emails are in there too
		for _, em := range emails {
			if counts[em] == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(200 * time.Millisecond) // a straggling duplicate would show now

	for _, b := range builds {
		t.Error(b)
	}
	for _, e := range append(append(p.subErrs, p.feedErrs...), p.storeErrs...) {
		t.Errorf("a user saw: %s", e)
		break
	}
	if cmsErrs > 0 {
		t.Errorf("the CMS saw %d errors (%d busy) at a newsroom's rate", cmsErrs, c.busy)
	}
	counts := srv.Counts()
	for _, em := range emails {
		if counts[em] != 1 {
			t.Errorf("%s got %d digests", em, counts[em])
			break
		}
	}
	subP50, subP99 := percentile(p.subLat, 50), percentile(p.subLat, 99)
	feedP50, feedP99 := percentile(p.feedLat, 50), percentile(p.feedLat, 99)
	stP50, stP99 := percentile(p.storeLat, 50), percentile(p.storeLat, 99)
	if subP99 > 2*time.Second {
		t.Errorf("herald's subscribe request p99 %s, want under 2s while the CMS writes", subP99)
	}
	if stP99 > time.Second {
		t.Errorf("herald's store write p99 %s, want under 1s while the CMS writes", stP99)
	}
	if n := torn.Load(); n > 0 {
		t.Errorf("%d of %d static file reads were torn or invalid; first: %v", n, parsed.Load(), tornMsg.Load())
	}
	if parsed.Load() == 0 {
		t.Error("the static reader parsed nothing")
	}
	figure(t, "CMS bursts up to 50 writes/s for %s (%d writes, CMS write p99 %s) during an edition of %d, 2 static builds and live feeds: herald's writes: %d store upserts p50 %s p99 %s, %d POST /subscribe (upsert + confirmation email) p50 %s p99 %s; %d feed reads p50 %s p99 %s; user-visible errors %d; SQLITE_BUSY in the serve log %d; static files parsed %d, torn %d",
		burstPhase, writes, percentile(burstCMS, 99).Round(10*time.Microsecond), subscribers,
		len(p.storeLat), stP50.Round(10*time.Microsecond), stP99.Round(10*time.Microsecond), len(p.subLat),
		subP50.Round(10*time.Microsecond), subP99.Round(10*time.Microsecond), len(p.feedLat),
		feedP50.Round(10*time.Microsecond), feedP99.Round(10*time.Microsecond), len(p.subErrs)+len(p.feedErrs)+len(p.storeErrs),
		strings.Count(d.logs(), "SQLITE_BUSY")+strings.Count(d.logs(), "database is locked"), parsed.Load(), torn.Load())

	// Phase 2 (reported, not failed): a CMS writing in a tight loop.
	t2 := &probe{st: hst}
	t2.n.Store(p.n.Load())
	c.lat, c.errs, c.busy = nil, 0, 0
	stop2 := make(chan struct{})
	pw2 := t2.run(d.base, stop2)
	end = time.Now().Add(tightPhase)
	tight := 0
	for time.Now().Before(end) {
		c.write(ctx)
		tight++
	}
	close(stop2)
	pw2.Wait()
	close(stopReader)
	rwg.Wait()
	logs := d.logs()
	if err := d.stop(20 * time.Second); err != nil {
		t.Errorf("serve stop: %v", err)
	}
	figureTight(t, tightPhase, tight, c, t2, strings.Count(logs, "SQLITE_BUSY")+strings.Count(logs, "database is locked"))
}

func figureTight(t *testing.T, dur time.Duration, writes int, c *cms, p *probe, logBusy int) {
	t.Helper()
	t.Run("TightLoopWriter", func(t *testing.T) {
		figure(t, "a CMS writing in a tight loop for %s: %d writes (%.0f/s, CMS errors %d); herald meanwhile: %d store upserts p50 %s p99 %s, %d errors; %d POST /subscribe p50 %s p99 %s, %d errors; %d feed reads p50 %s p99 %s, %d errors; SQLITE_BUSY/locked in the serve log %d (reported, not failed)",
			dur, writes, float64(writes)/dur.Seconds(), c.errs,
			len(p.storeLat), percentile(p.storeLat, 50).Round(10*time.Microsecond), percentile(p.storeLat, 99).Round(10*time.Microsecond), len(p.storeErrs),
			len(p.subLat),
			percentile(p.subLat, 50).Round(10*time.Microsecond), percentile(p.subLat, 99).Round(10*time.Microsecond), len(p.subErrs),
			len(p.feedLat), percentile(p.feedLat, 50).Round(10*time.Microsecond), percentile(p.feedLat, 99).Round(10*time.Microsecond),
			len(p.feedErrs), logBusy)
	})
}
