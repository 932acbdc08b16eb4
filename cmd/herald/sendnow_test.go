package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
)

// runHerald runs herald's Main in-process with args and the config file
// cfg, returning the exit status, stdout and stderr.
func runHerald(t *testing.T, cfg string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr, m.Stdin = &out, &errb, strings.NewReader("")
	m.Getenv = func(k string) (string, bool) {
		if k == "HERALD_CONFIG" {
			return cfg, true
		}
		return "", false
	}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// writeConfig writes a herald.yaml in dir for the SMTP server srv (nil: the
// file transport) and returns its path.
func writeConfig(t *testing.T, dir string, srv *smtptest.Server, conns int) string {
	t.Helper()
	smtp := fmt.Sprintf(`{ transport: file, file_dir: %q }`, filepath.Join(dir, "outbox"))
	if srv != nil {
		smtp = fmt.Sprintf(`{ host: %q, port: %d, tls: none, max_connections: %d, timeout: 10s }`, srv.Host(), srv.Port(), conns)
	}
	cfg := fmt.Sprintf(`site: { name: "Test News", url: "https://news.example.com" }
database: %q
secret: "s3cret-0123456789abcdef0123456789abcdef"
log: { level: warn }
smtp: %s
`, filepath.Join(dir, "herald.db"), smtp)
	p := filepath.Join(dir, "herald.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seed writes sections, an article visible now and n active subscribers
// r0@example.com... following everything.
func seed(t *testing.T, dbPath string, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.WriteContent(ctx, func(w *store.ContentWriter) error {
		sec, err := w.Section(model.Section{Slug: "world", Name: "World"})
		if err != nil {
			return err
		}
		au, err := w.Author(model.Author{Slug: "ann", Name: "Ann"})
		if err != nil {
			return err
		}
		_, err = w.Article(model.Article{GUID: "a1", URL: "/a1", Title: "Breaking", Section: model.Section{ID: sec},
			Authors: []model.Author{{ID: au}}, PublishedAt: time.Now().Add(-time.Hour)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		sub, _, err := st.UpsertSubscriber(ctx, model.Address(fmt.Sprintf("r%d@example.com", i)), "", model.SubscriberActive)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpsertSubscription(ctx, sub.ID, "daily", nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSendNowTwiceAndEditions(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	cfg := writeConfig(t, dir, srv, 2)
	seed(t, filepath.Join(dir, "herald.db"), 3)
	code, out, errs := runHerald(t, cfg, "send-now", "--dry-run")
	if code != 0 || !strings.Contains(out, "recipients 3, skipped (nothing new) 0") || !strings.Contains(out, "section World") ||
		!strings.Contains(out, "Breaking") {
		t.Fatalf("dry run: %d %q %q", code, out, errs)
	}
	code, out, errs = runHerald(t, cfg, "send-now", "--to", "editor@example.com")
	if code != 0 || srv.CountFor("editor@example.com") != 1 {
		t.Fatalf("--to: %d %q %q", code, out, errs)
	}
	if code, out, _ := runHerald(t, cfg, "editions", "list"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("dry run or --to recorded an edition: %s", out)
	}
	code, out, errs = runHerald(t, cfg, "send-now")
	if code != 0 || !strings.Contains(out, "sent 3, skipped 0, failed 0, left for retry 0") {
		t.Fatalf("first: %d %q %q", code, out, errs)
	}
	code, out, _ = runHerald(t, cfg, "send-now")
	if code != 0 || !strings.Contains(out, "sent 0, skipped 3") {
		t.Fatalf("second: %d %q", code, out)
	}
	if len(srv.Messages()) != 4 { // 3 digests and the --to sample
		t.Fatalf("server got %d", len(srv.Messages()))
	}
	code, out, _ = runHerald(t, cfg, "editions", "show", "1")
	if code != 0 || strings.Count(out, "@example.com  sent") != 3 {
		t.Fatalf("editions show: %d %s", code, out)
	}
	code, out, _ = runHerald(t, cfg, "preview", "--email", "new@example.com", "--text")
	if code != 0 || !strings.Contains(out, "Breaking") {
		t.Fatalf("preview: %d %s", code, out)
	}
	eml := filepath.Join(dir, "preview.eml")
	if code, _, errs := runHerald(t, cfg, "preview", "--email", "new@example.com", "--out", eml); code != 0 {
		t.Fatalf("preview --out: %s", errs)
	}
	if b, err := os.ReadFile(eml); err != nil || !bytes.Contains(b, []byte("multipart/alternative")) {
		t.Fatalf("preview --out wrote %d bytes: %v", len(b), err)
	}
	if len(srv.Messages()) != 4 {
		t.Fatal("preview sent mail")
	}
}

func TestSendNowLeavesRetryExit3(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageRcpt && a.Rcpt == "r1@example.com" {
			return smtptest.Reply(451, "4.3.0", "try later")
		}
		return smtptest.Accept()
	}})
	dir := t.TempDir()
	cfg := writeConfig(t, dir, srv, 1)
	seed(t, filepath.Join(dir, "herald.db"), 2)
	code, out, _ := runHerald(t, cfg, "send-now")
	if code != ExitRetryLeft || !strings.Contains(out, "sent 1, skipped 0, failed 0, left for retry 1") {
		t.Fatalf("%d %q", code, out)
	}
}

// TestHelperProcessMain is not a test: TestSendNowKilledAndResumed runs the
// test binary with HERALD_TEST_MAIN set to run herald's Main as a child
// process it can SIGKILL.
func TestHelperProcessMain(t *testing.T) {
	args := os.Getenv("HERALD_TEST_MAIN")
	if args == "" {
		t.Skip("helper process only")
	}
	os.Exit(NewMain().Run(context.Background(), strings.Fields(args)))
}

func TestSendNowKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	const (
		subscribers = 400
		conns       = 4
	)
	srv := smtptest.Start(t, smtptest.Options{Hook: func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageData {
			return smtptest.Stall(2 * time.Millisecond) // slow enough to kill mid-edition
		}
		return smtptest.Accept()
	}})
	dir := t.TempDir()
	cfg := writeConfig(t, dir, srv, conns)
	seed(t, filepath.Join(dir, "herald.db"), subscribers)

	child := exec.Command(os.Args[0], "-test.run=^TestHelperProcessMain$")
	child.Env = append(os.Environ(), "HERALD_TEST_MAIN=send-now", "HERALD_CONFIG="+cfg)
	var childErr bytes.Buffer
	child.Stderr = &childErr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Messages()) < subscribers/4 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("child sent only %d messages: %s", len(srv.Messages()), childErr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	atKill := len(srv.Messages())
	if atKill >= subscribers {
		t.Fatalf("the child finished (%d messages) before the kill; slow the server down", atKill)
	}

	// The dead child still holds the digest's lease; send-now sees that
	// its process is gone and takes over without waiting for expiry.
	code, out, errs := runHerald(t, cfg, "send-now", "--wait", "1m")
	if code != 0 {
		t.Fatalf("resume: %d %q %q", code, out, errs)
	}
	repeats := 0
	for i := range subscribers {
		n := srv.CountFor(fmt.Sprintf("r%d@example.com", i))
		if n == 0 {
			t.Errorf("r%d@example.com got nothing", i)
		}
		repeats += max(n-1, 0)
	}
	// In flight at the kill: at most one message per connection plus the
	// results not yet committed (a mark batch of 32 and the channel buffers).
	if limit := conns + 32 + 2*conns; repeats > limit {
		t.Fatalf("%d repeats, more than the %d that can be in flight", repeats, limit)
	}
	t.Logf("killed after %d messages; resumed; %d repeated (in flight at the kill)", atKill, repeats)
}
