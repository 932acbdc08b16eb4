package proving

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/testkit"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
)

const (
	testSecret = "proving-secret-0123456789abcdef01234567"
	testAdmin  = "proving-admin-token-0123456789abcdef"
)

// TestMain removes the built binary after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBinary()
	os.Exit(code)
}

func heraldBinary(t *testing.T) string { return testkit.HeraldBinary(t) }
func freeAddr(t *testing.T) string     { return testkit.FreeAddr(t) }

// figure logs a test's measured figure and, when HERALD_FIGURES_DIR is set,
// writes it as one line to <dir>/<TestName>.txt for the docs to quote.
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Logf("FIGURE %s: %s", t.Name(), line)
	dir := os.Getenv("HERALD_FIGURES_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("figures dir: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".txt"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(line+"\n"), 0o644); err != nil {
		t.Errorf("figure file: %v", err)
	}
}

// percentile returns the p-th percentile (0..100) of ds, sorting them.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// cfgOpts are the knobs of a test config.
type cfgOpts struct {
	dir         string // the database, config and outputs live here
	listen      string // http.listen
	smtp        *smtptest.Server
	conns       int    // smtp.max_connections, or each relay's (default 4)
	timeout     string // smtp.timeout (default 5s)
	maxAttempts int    // smtp.max_attempts (default 5)
	perHour     int    // http.subscribe_per_hour (default 50)
	outputDir   string // feeds.output_dir
	refresh     string // feeds.refresh_interval (default 100ms)
	digests     string // the digests list (default: daily; catch_up 1s so no scheduled edition runs at start)
	site        string // site name
	tls         string // smtp.tls (default none)
	httpExtra   string // more keys inside http: {...}, such as trusted_proxies
	extra       string // more top-level keys (YAML lines)

	// relays, when set, are smtp.relays in place of smtp (conns
	// connections each, weight 1).
	relays []*smtptest.Server
}

func writeConfig(t *testing.T, o cfgOpts) string {
	t.Helper()
	if o.conns == 0 {
		o.conns = 4
	}
	if o.timeout == "" {
		o.timeout = "5s"
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 5
	}
	if o.perHour == 0 {
		o.perHour = 50
	}
	if o.refresh == "" {
		o.refresh = "100ms"
	}
	if o.digests == "" {
		o.digests = `  - {name: daily, title: "Daily", schedule: "0 7 * * *", timezone: UTC, lookback: 48h, catch_up: 1s}`
	}
	if o.site == "" {
		o.site = "Proving News"
	}
	if o.tls == "" {
		o.tls = "none"
	}
	if o.listen == "" {
		o.listen = "127.0.0.1:0"
	}
	host, port := "127.0.0.1", 1
	if o.smtp != nil {
		host, port = o.smtp.Host(), o.smtp.Port()
	}
	smtp := fmt.Sprintf("host: %q, port: %d, tls: %s, max_connections: %d", host, port, o.tls, o.conns)
	if len(o.relays) > 0 {
		var rs []string
		for _, r := range o.relays {
			rs = append(rs, fmt.Sprintf("{host: %q, port: %d, tls: %s, max_connections: %d, weight: 1}", r.Host(), r.Port(), o.tls, o.conns))
		}
		smtp = "relays: [" + strings.Join(rs, ", ") + "]"
	}
	out := ""
	if o.outputDir != "" {
		out = fmt.Sprintf(", output_dir: %q", o.outputDir)
	}
	cfg := fmt.Sprintf(`site: {name: %q, url: "https://news.example.com", postal_address: "1 Test Road"}
database: %q
secret: %q
http: {listen: %q, base_url: "https://news.example.com", admin_token: %q, subscribe_per_hour: %d, shutdown_timeout: 20s%s}
feeds: {refresh_interval: %s%s}
smtp: {%s, from: "Proving <digest@news.example.com>", timeout: %s, max_attempts: %d}
log: {level: warn}
digests:
%s
%s`, o.site, filepath.Join(o.dir, "herald.db"), testSecret, o.listen, testAdmin, o.perHour, o.httpExtra, o.refresh, out,
		smtp, o.timeout, o.maxAttempts, o.digests, o.extra)
	p := filepath.Join(o.dir, "herald.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t *testing.T, db string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// seedContent writes sections world and tech, authors ann and bob, and n
// articles published an hour ago, alternating sections.
func seedContent(t *testing.T, st *store.Store, n int) {
	t.Helper()
	err := st.WriteContent(context.Background(), func(w *store.ContentWriter) error {
		world, err := w.Section(model.Section{Slug: "world", Name: "World"})
		if err != nil {
			return err
		}
		tech, err := w.Section(model.Section{Slug: "tech", Name: "Technology"})
		if err != nil {
			return err
		}
		ann, err := w.Author(model.Author{Slug: "ann", Name: "Ann Writer"})
		if err != nil {
			return err
		}
		bob, err := w.Author(model.Author{Slug: "bob", Name: "Bob Reporter"})
		if err != nil {
			return err
		}
		for i := range n {
			sec, au := world, ann
			if i%2 == 1 {
				sec, au = tech, bob
			}
			_, err := w.Article(model.Article{GUID: fmt.Sprintf("seed-%d", i), URL: fmt.Sprintf("/articles/%d", i),
				Title: fmt.Sprintf("Seed story %d", i), Summary: "A summary of the story.", BodyHTML: "<p>Body.</p>",
				Section: model.Section{ID: sec}, Authors: []model.Author{{ID: au}},
				PublishedAt: time.Now().Add(-time.Hour - time.Duration(i)*time.Minute)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// addSubscribers inserts n active subscribers prefix00000@example.com...
// subscribed to digest, following everything, in one statement.
func addSubscribers(t *testing.T, st *store.Store, prefix, digest string, n int) []string {
	t.Helper()
	script := fmt.Sprintf(`
INSERT INTO subscribers (email, name, status, created_at, confirmed_at, updated_at)
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i < %d)
  SELECT printf('%s%%05d@example.com', i), printf('Reader %%d', i), 'active', unixepoch(), unixepoch(), unixepoch() FROM c;
INSERT INTO subscriptions (subscriber_id, digest, status, created_at, updated_at)
  SELECT id, %q, 'active', unixepoch(), unixepoch() FROM subscribers WHERE email LIKE '%s%%@example.com';`,
		n-1, prefix, digest, prefix)
	if err := st.ExecScript(context.Background(), script); err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("%s%05d@example.com", prefix, i)
	}
	return out
}

// readDB opens a read-only connection pool on a database another process
// writes, as an observer.
func readDB(t *testing.T, db string) *sql.DB {
	t.Helper()
	d, err := sql.Open("sqlite", store.DSN(db, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// daemon is a herald serve child process.
type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  string
	done chan error
}

// startServe starts `herald serve` with cfg and waits until /healthz answers.
func startServe(t *testing.T, cfg, listen, logName string) *daemon {
	t.Helper()
	logPath := filepath.Join(filepath.Dir(cfg), logName)
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(heraldBinary(t), "--config", cfg, "serve")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	d := &daemon{t: t, cmd: cmd, base: "http://" + listen, log: logPath, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() { d.stop(20 * time.Second) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(d.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("serve exited (%v) before listening:\n%s", err, d.logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz within 20s:\n%s", d.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemon) logs() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

// stop sends SIGTERM and waits up to grace; it returns the exit error.
func (d *daemon) stop(grace time.Duration) error {
	if d.cmd.ProcessState != nil {
		return nil
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		return err
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		err := <-d.done
		d.done <- err
		return fmt.Errorf("did not stop within %s of SIGTERM", grace)
	}
}

// pid is the child's process id.
func (d *daemon) pid() int { return d.cmd.Process.Pid }

// vmHWM reads a process's peak resident set size from /proc, in KiB.
func vmHWM(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// runHerald runs the binary with args to the end and returns its exit
// status and combined output.
func runHerald(t *testing.T, cfg string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, heraldBinary(t), append([]string{"--config", cfg}, args...)...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("herald %v did not finish within %s:\n%s", args, timeout, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("herald %v: %v", args, err)
	}
	return code, string(out)
}

// copyDB copies a closed database (with any -wal and -shm) into dir.
func copyDB(t *testing.T, from, dir string) {
	t.Helper()
	for _, suf := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(from + suf)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "herald.db"+suf), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newDigests builds the digest service over st, sending with m.
func newDigests(tb testing.TB, cfg *config.Config, st *store.Store, m digest.Mailer, tweak func(*digest.Options)) *digest.Service {
	tb.Helper()
	opt := digest.Options{Config: cfg, Editions: st, Plans: st, Outbox: st, Readers: st, Content: st, Leases: st, Mailer: m, Log: quietLog()}
	if tweak != nil {
		tweak(&opt)
	}
	svc, err := digest.New(opt)
	if err != nil {
		tb.Fatalf("digest.New: %v", err)
	}
	return svc
}
