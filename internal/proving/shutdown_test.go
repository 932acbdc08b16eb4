package proving

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/smtptest"
)

// TestShutdownUnderLoad is issue 7, item 4: SIGTERM during an edition and
// during feed traffic, then a restart.
func TestShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process shutdown test: run without -short")
	}
	const (
		subscribers = 1000
		readers     = 50
	)
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{DiscardData: true, Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData {
			return smtptest.Stall(8 * time.Millisecond)
		}
		return smtptest.Accept()
	}})
	st := openStore(t, filepath.Join(dir, "herald.db"))
	seedContent(t, st, 50)
	emails := addSubscribers(t, st, "s", "daily", subscribers)
	st.Close()
	listen := freeAddr(t)
	cfg := writeConfig(t, cfgOpts{dir: dir, listen: listen, smtp: srv})
	d := startServe(t, cfg, listen, "first.log")

	// Feed traffic throughout: before, during and after the stop, and
	// after the restart.
	var (
		phase    atomic.Int32 // 0 running, 1 stopping, 2 stopped, 3 restarted
		okBy     [4]atomic.Int64
		refused  atomic.Int64
		badMu    sync.Mutex
		bad      []string
		inFlight atomic.Int64 // requests started before SIGTERM that ended after it
		quit     = make(chan struct{})
		wg       sync.WaitGroup
	)
	tr := &http.Transport{MaxIdleConnsPerHost: readers}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var sigAt atomic.Int64
	for r := range readers {
		wg.Go(func() {
			for i := 0; i < 200_000; i++ {
				select {
				case <-quit:
					return
				default:
				}
				p := feedPaths[(r+i)%len(feedPaths)]
				t0 := time.Now().UnixNano()
				ph := phase.Load()
				resp, err := client.Get(d.base + p)
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
						time.Sleep(5 * time.Millisecond)
						continue
					}
					badMu.Lock()
					bad = append(bad, fmt.Sprintf("phase %d: %v", ph, err))
					badMu.Unlock()
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					badMu.Lock()
					bad = append(bad, fmt.Sprintf("phase %d: GET %s: %d %v", ph, p, resp.StatusCode, err))
					badMu.Unlock()
					continue
				}
				if s := sigAt.Load(); s != 0 && t0 < s {
					inFlight.Add(1)
				}
				okBy[phase.Load()].Add(1)
			}
		})
	}
	defer func() {
		close(quit)
		wg.Wait()
	}()

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
	waitUntil(t, 60*time.Second, "a third of the edition", func() bool { return len(srv.Counts()) >= subscribers/3 })

	phase.Store(1)
	sigAt.Store(time.Now().UnixNano())
	t0 := time.Now()
	if err := d.stop(30 * time.Second); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, d.logs())
	}
	stopTook := time.Since(t0)
	phase.Store(2)
	atStop := len(srv.Messages())
	if atStop >= subscribers {
		t.Fatalf("the edition finished before the stop (%d messages)", atStop)
	}
	time.Sleep(300 * time.Millisecond) // readers now meet a closed port

	d2 := startServe(t, cfg, listen, "second.log")
	phase.Store(3)
	t1 := time.Now()
	waitUntil(t, 90*time.Second, "the restarted daemon to finish the edition", func() bool { return len(srv.Counts()) >= subscribers })
	resumeTook := time.Since(t1)
	time.Sleep(300 * time.Millisecond) // a straggling duplicate would show now
	if err := d2.stop(30 * time.Second); err != nil {
		t.Errorf("second serve: %v", err)
	}

	counts := srv.Counts()
	lost, dups := 0, 0
	for _, em := range emails {
		n := counts[em]
		if n == 0 {
			lost++
		}
		dups += max(n-1, 0)
	}
	if lost > 0 {
		t.Errorf("%d subscribers got no digest", lost)
	}
	if dups > 0 {
		t.Errorf("%d duplicates after a graceful stop (nothing should be in flight)", dups)
	}
	badMu.Lock()
	if len(bad) > 0 {
		t.Errorf("%d client errors other than connection refused; first: %s", len(bad), bad[0])
	}
	badMu.Unlock()
	if okBy[3].Load() == 0 {
		t.Error("no feed request succeeded after the restart")
	}
	figure(t, "SIGTERM at %d of %d messages with %d feed readers: stopped in %s, exit 0; feed requests ok %d before, %d during the stop (%d begun before SIGTERM), %d after the restart; connection refused while down %d; other client errors %d; restart finished the edition in %s; lost %d, duplicates %d",
		atStop, subscribers, readers, stopTook.Round(time.Millisecond), okBy[0].Load(), okBy[1].Load(), inFlight.Load(),
		okBy[3].Load(), refused.Load(), len(bad), resumeTook.Round(time.Millisecond), lost, dups)
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
