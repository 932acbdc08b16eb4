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

// Crash trials: an edition of crashSubscribers sent by `herald send-now`,
// SIGKILLed at a seeded moment, then finished by a second send-now.
const (
	crashTrials      = 20
	crashSubscribers = 2000
	// The sending-while-planning trials' edition: 20 planning pages, the
	// later ones planned while the first are sent.
	crashPlanningSubscribers = 20000
	crashConns               = 4
	crashSeed                = 7
)

// crashBound is the most messages a kill can repeat (design.md): one per
// open connection. Each connection records a message's result itself, on
// its own goroutine, before it sends the next message's data
// (internal/mailer's conn.go, the outbox's marks.add), so at any instant
// each connection has at most one accepted message not yet recorded.
// (Recording is a quick write now, so a mailer that stopped waiting for it
// rarely shows here; internal/mailer's TestConnectionWaitsForRecord
// catches that.)
const crashBound = crashConns

// TestCrashDuringEdition is issue 7, item 1, with issue 12's bound.
func TestCrashDuringEdition(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process crash trials: run without -short")
	}
	bin := heraldBinary(t)
	// One seeded database, copied for every trial.
	tmpl := t.TempDir()
	st := openStore(t, filepath.Join(tmpl, "herald.db"))
	seedContent(t, st, 3)
	addSubscribers(t, st, "r", "daily", crashSubscribers)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	big := t.TempDir()
	st = openStore(t, filepath.Join(big, "herald.db"))
	seedContent(t, st, 3)
	addSubscribers(t, st, "r", "daily", crashPlanningSubscribers)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	modes := []string{"planning", "sending", "accepted-before-reply", "accepted-before-mark", "sending-while-planning"}
	rng := rand.New(rand.NewPCG(crashSeed, 0))
	var totalDups, worstDups, worstTrial, totalLost int
	phases := map[string]int{}
	start := time.Now()
	for trial := range crashTrials {
		mode := modes[trial%len(modes)]
		k := 1 + rng.IntN(crashSubscribers-2) // the message to kill at
		delay := time.Duration(rng.IntN(3000)) * time.Microsecond
		db, n := tmpl, crashSubscribers
		if mode == "sending-while-planning" {
			db, n = big, crashPlanningSubscribers
		}
		dups, lost, phase, atKill := crashTrial(t, bin, db, n, trial, mode, k, delay)
		phases[phase]++
		totalDups += dups
		totalLost += lost
		if dups > worstDups {
			worstDups, worstTrial = dups, trial
		}
		t.Logf("trial %2d %-22s k=%4d: killed while %-8s after %4d messages; lost %d, duplicates %d",
			trial, mode, k, phase, atKill, lost, dups)
		if t.Failed() {
			break
		}
	}
	// The edition is sent while it is planned: some kill landed with
	// messages out and the edition still planning.
	if phases["planning+sending"] == 0 {
		t.Errorf("no kill landed while the edition was both planning and sending: %s", fmtPhases(phases))
	}
	figure(t, "%d trials of %d subscribers (%d in the sending-while-planning ones), max_connections %d (bound: %d per kill, one per connection): lost %d; duplicates total %d, worst trial %d (trial %d); killed while %s; %.0fs",
		crashTrials, crashSubscribers, crashPlanningSubscribers, crashConns, crashBound, totalLost, totalDups, worstDups, worstTrial,
		fmtPhases(phases), time.Since(start).Seconds())
}

func fmtPhases(m map[string]int) string {
	var parts []string
	for _, k := range []string{"starting", "planning", "planning+sending", "sending", "finished"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// crashTrial runs one kill-and-resume and returns the duplicates and lost
// recipients counted at the server, the edition's phase at the kill and
// the messages the server had then.
func crashTrial(t *testing.T, bin, tmpl string, subscribers, trial int, mode string, k int, delay time.Duration) (dups, lost int, phase string, atKill int) {
	t.Helper()
	dir := t.TempDir()
	copyDB(t, filepath.Join(tmpl, "herald.db"), dir)
	var child atomic.Pointer[exec.Cmd]
	var killed atomic.Bool
	kill := func() {
		if c := child.Load(); c != nil && killed.CompareAndSwap(false, true) {
			_ = c.Process.Kill() // SIGKILL
		}
	}
	var data atomic.Int64
	srv := smtptest.Start(t, smtptest.Options{DiscardData: true})
	srv.SetHook(func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage != smtptest.StageData || killed.Load() {
			return smtptest.Accept()
		}
		n := int(data.Add(1))
		switch {
		case mode == "accepted-before-reply" && n == k:
			// The server has the message; the client dies before the 250.
			kill()
			return smtptest.Action{Deliver: true, Drop: true}
		case mode == "accepted-before-mark" && n == k:
			// The 250 goes out; the kill lands before the result's mark
			// batch is committed.
			go func() { time.Sleep(delay); kill() }()
		}
		return smtptest.Accept()
	})
	cfg := writeConfig(t, cfgOpts{dir: dir, smtp: srv, conns: crashConns})
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
	// awaitMessages waits until the server has n messages or the child
	// was killed; the child finishing first, or a minute, fails the trial.
	awaitMessages := func(n int) {
		for len(srv.Counts()) < n && !killed.Load() {
			select {
			case <-waited:
				waited <- nil
				t.Fatalf("trial %d: send-now finished before message %d:\n%s", trial, n, out.String())
			case <-deadline:
				t.Fatalf("trial %d: only %d messages within 60s", trial, len(srv.Counts()))
			default:
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	switch mode {
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
				time.Sleep(delay / 3)
				kill()
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
	case "sending-while-planning":
		// A few messages out, the edition still planning its later pages
		// (20 pages take a few hundred ms; the first message leaves
		// within tens).
		awaitMessages(1 + k%8)
		kill()
	case "sending":
		awaitMessages(k)
		kill()
	default: // the hook kills
	}
	select {
	case <-waited:
	case <-deadline:
		kill()
		t.Fatalf("trial %d: the child did not die or finish within 60s:\n%s", trial, out.String())
	}
	atKill = len(srv.Messages())
	phase = status()
	if !killed.Load() || phase == "done" {
		phase = "finished"
	}
	if phase == "planning" && atKill > 0 {
		phase = "planning+sending"
	}

	// Finish with a second send-now: it takes over the dead process's
	// lease and resumes the edition.
	code, resumeOut := runHerald(t, cfg, 2*time.Minute, "send-now", "--wait", "1m")
	if code != 0 {
		t.Fatalf("trial %d: resume exited %d:\n%s", trial, code, resumeOut)
	}
	// The resume replayed what the kill left in the outbox journal and
	// finished the edition: no segment is left.
	if left, _ := filepath.Glob(filepath.Join(dir, "herald.db.journal", "*.journal")); len(left) > 0 {
		t.Errorf("trial %d: journal segments left after the resume: %v", trial, left)
	}
	counts := srv.Counts()
	for i := range subscribers {
		n := counts[fmt.Sprintf("r%05d@example.com", i)]
		if n == 0 {
			lost++
		}
		dups += max(n-1, 0)
	}
	if lost > 0 {
		t.Errorf("trial %d (%s): %d subscribers got no digest (lost)", trial, mode, lost)
	}
	if dups > crashBound {
		t.Errorf("trial %d (%s): %d duplicates, more than the %d that can be in flight (one per connection, max_connections %d)",
			trial, mode, dups, crashBound, crashConns)
	}
	if os.Getenv("HERALD_PROVING_VERBOSE") != "" {
		t.Logf("first run:\n%s\nresume:\n%s", out.String(), resumeOut)
	}
	return dups, lost, phase, atKill
}
