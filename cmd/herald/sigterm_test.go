package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/testkit"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
)

// TestMain removes the herald binary the multi-process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBinary()
	os.Exit(code)
}

func heraldBinary(t *testing.T) string { return testkit.HeraldBinary(t) }

// addActive adds n confirmed subscribers to digest daily.
func addActive(t *testing.T, dbPath string, n int) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var emails []string
	for i := 0; i < n; i++ {
		email := fmt.Sprintf("reader%04d@example.com", i)
		sub, _, err := st.UpsertSubscriber(ctx, model.Address(email), fmt.Sprintf("Reader %d", i), model.SubscriberActive)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, model.SubscriptionActive); err != nil {
			t.Fatal(err)
		}
		emails = append(emails, email)
	}
	return emails
}

// markSlotsRun records the most recent slot of every digest in the config
// at cfgPath as run, the state a daemon that ran its editions on time leaves.
// Without it a first start catches up a slot missed within catch_up (12h):
// from 07:00 to 19:00 London the daily digest's 07:00 slot runs as an
// edition at start-up and holds the digest's lease for a few milliseconds,
// and a send-now in that window is rightly refused with 409.
func markSlotsRun(t *testing.T, cfgPath, dbPath string) {
	t.Helper()
	cfg, err := config.Load(cfgPath, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, d := range cfg.Digests {
		sched, err := d.CronSchedule()
		if err != nil {
			t.Fatal(err)
		}
		loc, err := time.LoadLocation(d.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		slot, ok := scheduler.PreviousSlot(sched, loc, now)
		if !ok {
			continue
		}
		if err := st.RecordSlot(ctx, d.Name, slot.Key, slot.At, slot.At); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeSIGTERMDuringEdition stops herald serve with SIGTERM in the
// middle of an edition, then starts it again: every subscriber ends with
// exactly one digest (a graceful stop leaves nothing in flight), and the
// restarted daemon finishes the edition by itself.
func TestServeSIGTERMDuringEdition(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test: runs without -short")
	}
	bin := heraldBinary(t)
	dir := os.Getenv("HERALD_TEST_KEEP")
	if dir == "" {
		dir = t.TempDir()
	}
	srv := smtptest.Start(t, smtptest.Options{})
	srv.SetHook(func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData {
			return smtptest.Stall(5 * time.Millisecond)
		}
		return smtptest.Accept()
	})
	listen := freeAddr(t)
	cfg := writeServeConfig(t, dir, listen, srv, "")
	db := filepath.Join(dir, "herald.db")
	seedStore(t, db)
	// No scheduled edition may hold the digest's lease when send-now comes,
	// whatever the time of day.
	markSlotsRun(t, cfg, db)
	const n = 400
	emails := addActive(t, db, n)

	start := func(logName string) (*exec.Cmd, *os.File) {
		logf, err := os.Create(filepath.Join(dir, logName))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--config", cfg, "serve")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "HERALD_HTTP_ADMIN_TOKEN="+testAdmin)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		e := &serveEnv{base: "http://" + listen}
		waitFor(t, "serve to listen", func() bool {
			resp, err := httpGet(e.base + "/healthz")
			return err == nil && resp == 200
		})
		return cmd, logf
	}
	e := &serveEnv{base: "http://" + listen, smtp: srv}

	cmd, logf := start("first.log")
	r, body := e.do(t, "POST", "/api/send-now", "application/json", `{"digest":"daily"}`, "Authorization", "Bearer "+testAdmin)
	if r.StatusCode != 202 {
		t.Fatalf("send-now = %d %s", r.StatusCode, body)
	}
	waitFor(t, "a third of the edition", func() bool { return len(srv.Messages()) >= n/3 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- cmd.Wait() }()
	select {
	case err := <-stopped:
		if err != nil {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, b)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve did not stop within 20s of SIGTERM")
	}
	atStop := len(srv.Messages())
	if atStop >= n {
		t.Fatalf("the edition finished before the stop (%d messages): make it slower", atStop)
	}
	t.Logf("stopped after %d of %d messages", atStop, n)

	cmd2, _ := start("second.log")
	defer func() {
		cmd2.Process.Signal(syscall.SIGTERM)
		cmd2.Wait()
	}()
	waitFor(t, "the restarted daemon to finish the edition", func() bool { return len(srv.Counts()) >= n })
	time.Sleep(200 * time.Millisecond) // any straggling duplicate would show now

	counts := srv.Counts()
	dups := 0
	for _, em := range emails {
		switch c := counts[strings.ToLower(em)]; {
		case c == 0:
			t.Errorf("%s got no digest", em)
		case c > 1:
			dups += c - 1
		}
	}
	t.Logf("messages: %d for %d subscribers; duplicates after a graceful stop: %d", len(srv.Messages()), n, dups)
	if dups > 0 {
		t.Errorf("%d duplicate digests after a graceful SIGTERM (nothing should be in flight)", dups)
	}
}

func httpGet(u string) (int, error) {
	c := &httpClient
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
