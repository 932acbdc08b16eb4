package proving

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// feedPaths are the feeds the load and traffic tests fetch.
var feedPaths = func() []string {
	var out []string
	for _, f := range []string{"all", "sections/world", "sections/tech", "authors/ann", "authors/bob"} {
		for _, ext := range []string{".rss", ".atom", ".json"} {
			out = append(out, "/feeds/"+f+ext)
		}
	}
	return out
}()

// loadDuration is 30s unless HERALD_LOAD_SECONDS says otherwise.
func loadDuration() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("HERALD_LOAD_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 30 * time.Second
}

// TestFeedLoad is issue 7, item 5: 500 concurrent feed readers on loopback,
// half of them sending If-None-Match.
func TestFeedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30s load run: run without -short")
	}
	const readers = 500
	dur := loadDuration()
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "herald.db"))
	seedContent(t, st, 200)
	st.Close()
	listen := freeAddr(t)
	cfg := writeConfig(t, cfgOpts{dir: dir, listen: listen})
	d := startServe(t, cfg, listen, "serve.log")

	tr := &http.Transport{MaxIdleConns: readers * 2, MaxIdleConnsPerHost: readers * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var (
		ok200, ok304, errs atomic.Int64
		firstErr           atomic.Value
		mu                 sync.Mutex
		lats               []time.Duration
		wg                 sync.WaitGroup
	)
	fail := func(err error) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err)
	}
	start := time.Now()
	stopAt := start.Add(dur)
	for r := range readers {
		wg.Go(func() {
			validators := r%2 == 1
			etags := map[string]string{}
			var mine []time.Duration
			for i := 0; time.Now().Before(stopAt) && i < 1_000_000; i++ {
				p := feedPaths[(r+i)%len(feedPaths)]
				req, _ := http.NewRequest("GET", d.base+p, nil)
				if et := etags[p]; validators && et != "" {
					req.Header.Set("If-None-Match", et)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				switch {
				case err != nil:
					fail(err)
				case resp.StatusCode == 200:
					ok200.Add(1)
					etags[p] = resp.Header.Get("ETag")
				case resp.StatusCode == 304 && validators:
					ok304.Add(1)
				default:
					fail(fmt.Errorf("GET %s: status %d", p, resp.StatusCode))
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	hwm, err := vmHWM(d.pid())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.stop(20 * time.Second); err != nil {
		t.Errorf("serve stop: %v", err)
	}
	n := len(lats)
	p50, p99 := percentile(lats, 50), percentile(lats, 99)
	if e := errs.Load(); e > 0 {
		t.Errorf("%d errors; first: %v", e, firstErr.Load())
	}
	if ok304.Load() == 0 {
		t.Error("no 304 answers to If-None-Match")
	}
	figure(t, "%d readers for %s (half with If-None-Match), 15 feeds of a 200-article site: %d requests (%d × 200, %d × 304), %d errors; %.0f req/s; latency p50 %s, p99 %s; server peak RSS (VmHWM) %.1f MiB",
		readers, dur, n, ok200.Load(), ok304.Load(), errs.Load(), float64(n)/el.Seconds(),
		p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), float64(hwm)/1024)
}
