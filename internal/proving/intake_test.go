package proving

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/reader"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/subscription"
)

// TestSubscribeTiming is issue 11, item 2: POST /subscribe must not tell
// by its timing whether an address is subscribed. Before, an active
// address skipped two database writes (median 0.41 ms against 0.69 ms
// for a new one). Now every request is recorded and answered the same
// way, and a worker acts on it. Three rounds of interleaved requests for
// active, pending and unknown addresses, over loopback HTTP, with the
// worker running; it fails only if no round has the three medians within
// 15% of each other.
func TestSubscribeTiming(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a timing measurement: run without -short and -race")
	}
	const perClass = 300
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	st := openStore(t, filepath.Join(dir, "herald.db"))
	defer st.Close()
	seedContent(t, st, 2)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`site: {name: "Timing News", url: "https://news.example.com"}
secret: %q
http: {subscribe_per_hour: 0}
smtp: {host: %q, port: %d, tls: none, from: "News <digest@news.example.com>"}
`, testSecret, srv.Host(), srv.Port())))
	if err != nil {
		t.Fatal(err)
	}
	ml, err := mailer.New(cfg.SMTP, mailer.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	defer ml.Close()
	svc, err := subscription.New(subscription.Options{Config: cfg, Store: st, Content: st, Mailer: ml, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	go svc.Run(ctx)
	pages, err := web.LoadPages(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	h, err := reader.New(reader.Options{Config: cfg, Subscriptions: svc, Pages: pages, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	active := addSubscribers(t, st, "act", "daily", perClass)
	var pending []string
	for i := range perClass {
		addr := fmt.Sprintf("pend%05d@example.com", i)
		if _, _, err := st.UpsertSubscriber(ctx, model.Address(addr), "", model.SubscriberPending); err != nil {
			t.Fatal(err)
		}
		pending = append(pending, addr)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	post := func(addr string) time.Duration {
		body := url.Values{"email": {addr}, "name": {"A Reader"}}.Encode()
		t0 := time.Now()
		resp, err := client.Post(hs.URL+"/subscribe", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /subscribe %s: %d", addr, resp.StatusCode)
		}
		return d
	}
	for range 50 { // warm up connections and caches
		post(fmt.Sprintf("warm%d@example.com", rand.IntN(1e9)))
	}
	rng := rand.New(rand.NewPCG(11, 2))
	var rounds []string
	passed := false
	for round := range 3 {
		kinds := make([]int, 0, 3*perClass)
		for k := range 3 {
			for range perClass {
				kinds = append(kinds, k)
			}
		}
		rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
		var times [3][]time.Duration
		next := [3]int{}
		for _, k := range kinds {
			var addr string
			switch k {
			case 0:
				addr = active[next[0]%len(active)]
			case 1:
				addr = pending[next[1]%len(pending)]
			default:
				addr = fmt.Sprintf("new%d-%05d@example.com", round, next[2])
			}
			next[k]++
			times[k] = append(times[k], post(addr))
		}
		med := [3]time.Duration{percentile(times[0], 50), percentile(times[1], 50), percentile(times[2], 50)}
		lo, hi := min(med[0], med[1], med[2]), max(med[0], med[1], med[2])
		ratio := float64(hi) / float64(lo)
		if ratio <= 1.15 {
			passed = true
		}
		rounds = append(rounds, fmt.Sprintf("round %d: active %s, pending %s, unknown %s (max/min %.3f)", round+1,
			med[0].Round(time.Microsecond), med[1].Round(time.Microsecond), med[2].Round(time.Microsecond), ratio))
	}
	figure(t, "median POST /subscribe over loopback HTTP, %d interleaved requests per class, worker running: %s",
		perClass, strings.Join(rounds, "; "))
	if !passed {
		t.Errorf("every round tells the address's state by timing: %s", strings.Join(rounds, "; "))
	}
}

// TestConfirmationSurvivesKill is issue 11, item 3: a confirmation mail
// is never lost, even when the daemon is killed (SIGKILL) right after it
// answered 202 — before, it was sent from memory after the answer. Each
// trial subscribes a new address and kills the daemon at one of three
// moments: 0-40 ms after the 202 (mostly before the send), from inside
// the server's DATA hook once it holds the message but before the client
// reads the 250, and just after the 250 (before the result is recorded);
// then it starts the daemon again and waits for the confirmation. Lost:
// none; repeats: at most one per SMTP connection of the killed daemon
// (the crash bound).
func TestConfirmationSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process crash trials: run without -short")
	}
	const (
		trials = 12
		conns  = 2
	)
	dir := t.TempDir()
	// A few milliseconds per server reply: a send takes long enough for
	// kills to land before, during and after it.
	srv := smtptest.Start(t, smtptest.Options{Latency: 4 * time.Millisecond})
	db := filepath.Join(dir, "herald.db")
	st := openStore(t, db)
	seedContent(t, st, 1)
	st.Close()
	listen := freeAddr(t)
	cfg := writeConfig(t, cfgOpts{dir: dir, listen: listen, smtp: srv, conns: conns, perHour: 1000})
	rng := rand.New(rand.NewPCG(3, 14))
	modes := []string{"after the 202", "in DATA, before the 250", "just after the 250"}
	lost, dups, inFlight := 0, 0, 0
	seen := map[string]int{}
	for trial := range trials {
		addr := fmt.Sprintf("kill%02d@example.com", trial)
		mode := modes[trial%len(modes)]
		d := startServe(t, cfg, listen, fmt.Sprintf("serve-%d.log", trial))
		var once sync.Once
		kill := func() { once.Do(func() { _ = d.cmd.Process.Kill() }) }
		delay := time.Duration(rng.IntN(40)) * time.Millisecond
		srv.SetHook(func(a *smtptest.Attempt) smtptest.Action {
			if a.Stage != smtptest.StageData || !strings.EqualFold(a.Rcpt, addr) {
				return smtptest.Accept()
			}
			switch mode {
			case modes[1]:
				kill()
				return smtptest.Action{Deliver: true, Drop: true}
			case modes[2]:
				go func() { time.Sleep(delay / 8); kill() }()
			}
			return smtptest.Accept()
		})
		resp, err := http.Post(d.base+"/subscribe", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"email": {addr}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("trial %d: POST /subscribe %d", trial, resp.StatusCode)
		}
		if mode == modes[0] {
			time.Sleep(delay)
			kill()
		}
		select {
		case <-d.done:
			d.done <- nil
		case <-time.After(20 * time.Second):
			kill()
			t.Fatalf("trial %d (%s): the daemon was not killed within 20 s", trial, mode)
		}
		srv.SetHook(nil)
		seen[mode]++
		before := srv.CountFor(addr)
		if before == 0 {
			inFlight++
		}
		d2 := startServe(t, cfg, listen, fmt.Sprintf("serve-%d-again.log", trial))
		deadline := time.Now().Add(20 * time.Second)
		for srv.CountFor(addr) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // a repeat would be on its way by now
		n := srv.CountFor(addr)
		switch {
		case n == 0:
			lost++
			t.Errorf("trial %d (%s): no confirmation for %s after the restart:\n%s", trial, mode, addr, d2.logs())
		case n > 1:
			dups += n - 1
			if n-1 > conns {
				t.Errorf("trial %d (%s): %d repeats, above the crash bound of %d", trial, mode, n-1, conns)
			}
		}
		if err := d2.stop(20 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	figure(t, "%d trials: daemon SIGKILLed %d× 0-40 ms after POST /subscribe answered 202, %d× in the server's DATA hook before the 250, %d× just after the 250 (%d kills before the mail was delivered), then restarted: confirmations lost %d, repeated %d (bound: %d per kill)",
		trials, seen[modes[0]], seen[modes[1]], seen[modes[2]], inFlight, lost, dups, conns)
}
