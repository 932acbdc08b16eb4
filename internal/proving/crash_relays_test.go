package proving

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/smtptest"
)

// Crash trials over two relays: TestCrashDuringEdition's kills with
// smtp.relays of two in-process servers, relayConns connections each, and
// in a third of the trials one of them stopped partway through.
const (
	relayTrials = 12
	relayConns  = 2
	relaySeed   = 11
	// relayStopGrace is how long a stopping relay hangs (taking no more
	// commands) before it closes its connections and refuses new ones.
	// A message its hook accepted before the stop has its 250 written
	// within microseconds; the grace keeps the close from cutting that
	// reply off, which would be the ambiguous repeat design.md allows a
	// stopped relay, not a crash's.
	relayStopGrace = 100 * time.Millisecond
)

// relayBound is the most messages a kill can repeat over the relays: one
// per open connection (crashBound's reasoning), summed over the relays.
const relayBound = 2 * relayConns

// relaySpec is one trial's kill and, when stopAt > 0, its relay stop: the
// relay victim stops at the stopAt-th message (DATA) over both relays,
// counted across the killed run and the resume.
type relaySpec struct {
	mode   string
	k      int
	delay  time.Duration
	victim int
	stopAt int
}

// relayOutcome is what a trial measured.
type relayOutcome struct {
	dups, lost int
	phase      string // the edition's at the kill
	atKill     int    // messages the servers had then
	stopped    string // "": no stop; "first run" or "resume"
	carried    [2]int // messages each relay got over the trial
}

// TestCrashDuringEditionTwoRelays is TestCrashDuringEdition over two
// relays: design.md's bound of one repeat per open connection, summed over
// relays, with failover in the middle of some trials.
func TestCrashDuringEditionTwoRelays(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process crash trials: run without -short")
	}
	bin := heraldBinary(t)
	tmpl := t.TempDir()
	st := openStore(t, filepath.Join(tmpl, "herald.db"))
	seedContent(t, st, 3)
	addSubscribers(t, st, "r", "daily", crashSubscribers)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	modes := []string{"planning", "sending", "accepted-before-reply", "accepted-before-mark"}
	rng := rand.New(rand.NewPCG(relaySeed, 0))
	var totalDups, worstDups, worstTrial, totalLost int
	phases := map[string]int{}
	stops := map[string]int{}
	start := time.Now()
	for trial := range relayTrials {
		sp := relaySpec{
			mode:   modes[trial%len(modes)],
			k:      1 + rng.IntN(crashSubscribers-2),
			delay:  time.Duration(rng.IntN(3000)) * time.Microsecond,
			victim: rng.IntN(2),
			stopAt: 1 + rng.IntN(crashSubscribers*3/4),
		}
		if trial%3 != 2 { // trials 2, 5, 8, 11: one of each mode
			sp.stopAt = 0
		}
		o := relayCrashTrial(t, bin, tmpl, trial, sp)
		phases[o.phase]++
		if o.stopped != "" {
			stops[o.stopped]++
		}
		totalDups += o.dups
		totalLost += o.lost
		if o.dups > worstDups {
			worstDups, worstTrial = o.dups, trial
		}
		stop := "no relay stopped"
		if o.stopped != "" {
			stop = fmt.Sprintf("relay %d stopped at message %d (%s)", sp.victim, sp.stopAt, o.stopped)
		}
		t.Logf("trial %2d %-22s k=%4d: killed while %-8s after %4d messages; relays carried %d+%d; %s; lost %d, duplicates %d",
			trial, sp.mode, sp.k, o.phase, o.atKill, o.carried[0], o.carried[1], stop, o.lost, o.dups)
		if t.Failed() {
			break
		}
	}
	figure(t, "%d trials of %d subscribers over two relays of %d connections each (bound: %d per kill, summed over relays): lost %d; duplicates total %d, worst trial %d (trial %d); one relay stopped mid-trial in %d (%d before the kill, %d during the resume); killed while %s; %.0fs",
		relayTrials, crashSubscribers, relayConns, relayBound, totalLost, totalDups, worstDups, worstTrial,
		stops["first run"]+stops["resume"], stops["first run"], stops["resume"], fmtPhases(phases), time.Since(start).Seconds())
}

// relayCrashTrial runs one kill-and-resume over two relays and counts, per
// recipient, the messages both servers got.
func relayCrashTrial(t *testing.T, bin, tmpl string, trial int, sp relaySpec) (o relayOutcome) {
	t.Helper()
	dir := t.TempDir()
	copyDB(t, filepath.Join(tmpl, "herald.db"), dir)
	var child atomic.Pointer[exec.Cmd]
	var killed, firstDone, stopped atomic.Bool
	var stoppedIn atomic.Value // "first run" or "resume"
	kill := func() {
		if c := child.Load(); c != nil && killed.CompareAndSwap(false, true) {
			_ = c.Process.Kill() // SIGKILL
		}
	}
	srvs := []*smtptest.Server{
		smtptest.Start(t, smtptest.Options{DiscardData: true}),
		smtptest.Start(t, smtptest.Options{DiscardData: true}),
	}
	// The relay goes away: it takes no more commands, then closes every
	// connection and refuses new ones, so its work fails over.
	stop := func() {
		if !stopped.CompareAndSwap(false, true) {
			return
		}
		in := "first run"
		if firstDone.Load() {
			in = "resume"
		}
		stoppedIn.Store(in)
		go func() { time.Sleep(relayStopGrace); srvs[sp.victim].Close() }()
	}
	gone := smtptest.Action{Stall: time.Minute, Drop: true} // the stall ends when the server closes
	var data, all atomic.Int64
	for i, srv := range srvs {
		srv.SetHook(func(a *smtptest.Attempt) smtptest.Action {
			if i == sp.victim && stopped.Load() {
				return gone
			}
			if a.Stage != smtptest.StageData {
				return smtptest.Accept()
			}
			if sp.stopAt > 0 && int(all.Add(1)) == sp.stopAt {
				stop()
				if i == sp.victim {
					return gone
				}
			}
			if killed.Load() {
				return smtptest.Accept()
			}
			n := int(data.Add(1)) // DATA over both relays
			switch {
			case sp.mode == "accepted-before-reply" && n == sp.k:
				kill()
				return smtptest.Action{Deliver: true, Drop: true}
			case sp.mode == "accepted-before-mark" && n == sp.k:
				go func() { time.Sleep(sp.delay); kill() }()
			}
			return smtptest.Accept()
		})
	}
	recipients := func() int { return len(srvs[0].Counts()) + len(srvs[1].Counts()) }
	messages := func() int { return len(srvs[0].Messages()) + len(srvs[1].Messages()) }
	cfg := writeConfig(t, cfgOpts{dir: dir, relays: srvs, conns: relayConns})
	db := readDB(t, filepath.Join(dir, "herald.db"))
	status := func() string {
		var s string
		if err := db.QueryRow(`SELECT status FROM editions ORDER BY id DESC LIMIT 1`).Scan(&s); err != nil {
			return "starting"
		}
		return s
	}

	cmd := exec.Command(bin, "--config", cfg, "send-now")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Store(cmd)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	switch sp.mode {
	case "planning":
	poll:
		for {
			select {
			case <-waited:
				waited <- nil
				break poll
			case <-deadline:
				t.Fatalf("trial %d: no planning seen within 60s", trial)
			default:
			}
			if status() == "planning" {
				time.Sleep(sp.delay / 3)
				kill()
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
	case "sending":
		ended := false
	wait:
		for recipients() < sp.k && !killed.Load() {
			select {
			case <-waited:
				waited <- nil
				if stopped.Load() {
					// The stopped relay's messages in flight were left
					// for retry: the run can end short of k.
					ended = true
					break wait
				}
				t.Fatalf("trial %d: send-now finished before message %d:\n%s", trial, sp.k, out.String())
			case <-deadline:
				t.Fatalf("trial %d: only %d messages within 60s", trial, recipients())
			default:
			}
			time.Sleep(100 * time.Microsecond)
		}
		if !ended {
			kill()
		}
	default: // the hook kills
	}
	select {
	case <-waited:
	case <-deadline:
		kill()
		t.Fatalf("trial %d: the child did not die or finish within 60s:\n%s", trial, out.String())
	}
	firstDone.Store(true)
	o.atKill = messages()
	o.phase = status()
	if !killed.Load() || o.phase == "done" {
		o.phase = "finished"
	}

	// The resume takes over the dead process's lease; temporary failures
	// (the stopped relay's messages in flight) come back after the
	// outbox's backoff (30s ±25 %), within --wait.
	code, resumeOut := runHerald(t, cfg, 2*time.Minute, "send-now", "--wait", "1m")
	if code != 0 {
		t.Fatalf("trial %d: resume exited %d:\n%s", trial, code, resumeOut)
	}
	if s, ok := stoppedIn.Load().(string); ok {
		o.stopped = s
	}
	counts := map[string]int{}
	for i, srv := range srvs {
		o.carried[i] = len(srv.Messages())
		for r, n := range srv.Counts() {
			counts[r] += n
		}
	}
	for i := range crashSubscribers {
		n := counts[fmt.Sprintf("r%05d@example.com", i)]
		if n == 0 {
			o.lost++
		}
		o.dups += max(n-1, 0)
	}
	if o.lost > 0 {
		t.Errorf("trial %d (%s): %d subscribers got no digest (lost)", trial, sp.mode, o.lost)
	}
	if o.dups > relayBound {
		t.Errorf("trial %d (%s): %d duplicates, more than the %d that can be in flight (one per connection, two relays of max_connections %d)",
			trial, sp.mode, o.dups, relayBound, relayConns)
	}
	if os.Getenv("HERALD_PROVING_VERBOSE") != "" || o.dups > relayBound || o.lost > 0 {
		t.Logf("first run:\n%s\nresume:\n%s", out.String(), resumeOut)
	}
	return o
}
