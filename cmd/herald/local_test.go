package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
)

// As a new user would: `subscribers add --timezone Pacific/Auckland` to a
// `delivery: local` digest at 07:00 whose own timezone is London, then
// herald serve on a clock set three seconds before 07:00 in Auckland. The
// Auckland reader's digest arrives at 07:00 Auckland time; the London
// reader's does not (07:00 in London is hours away).
func TestServeLocalDeliveryAuckland(t *testing.T) {
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	listen := freeAddr(t)
	dbPath := filepath.Join(dir, "herald.db")
	cfgPath := filepath.Join(dir, "herald.yaml")
	cfg := fmt.Sprintf(`site: {name: "Local News", url: "https://news.example.com", postal_address: "1 Test Road"}
database: %q
secret: %q
http: {listen: %q}
smtp: {host: %q, port: %d, tls: none, from: "Local News <digest@news.example.com>"}
log: {level: warn}
digests:
  - {name: daily, title: "Daily", schedule: "0 7 * * *", timezone: Europe/London, delivery: local}
`, dbPath, testSecret, listen, srv.Host(), srv.Port())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	seedStore(t, dbPath)

	auckland, _ := time.LoadLocation("Pacific/Auckland")
	real0 := time.Now()
	l := real0.In(auckland)
	target := time.Date(l.Year(), l.Month(), l.Day(), 7, 0, 0, 0, auckland)
	if !target.After(real0.Add(time.Minute)) {
		target = time.Date(l.Year(), l.Month(), l.Day()+1, 7, 0, 0, 0, auckland)
	}
	offset := target.Add(-3 * time.Second).Sub(real0)
	now := func() time.Time { return time.Now().Add(offset) }

	for _, args := range [][]string{
		{"subscribers", "add", "kiwi@example.com", "--timezone", "Pacific/Auckland", "--confirmed"},
		{"subscribers", "add", "londoner@example.com", "--confirmed"},
	} {
		if code, out, errs := runHerald(t, cfgPath, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
	if code, _, errs := runHerald(t, cfgPath, "subscribers", "add", "x@example.com", "--timezone", "Mars/Base"); code == 0 || !strings.Contains(errs, "unknown timezone") {
		t.Fatalf("bad timezone: %d %s", code, errs)
	}
	// As a daemon that ran every slot before now; the article came out an
	// hour before 07:00 in Auckland.
	st, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hourBefore := target.Add(-time.Hour)
	if _, err := st.W.Exec(`UPDATE articles SET published_at = ?`, store.FormatTime(hourBefore)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.W.Exec(`UPDATE herald_article_visible SET seen_at = ?`, hourBefore.Unix()); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordSlot(context.Background(), "daily", "before", now(), now()); err != nil {
		t.Fatal(err)
	}
	st.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewMain()
	var logs bytes.Buffer
	m.Stdout, m.Stderr = io.Discard, &logs
	m.Getenv = func(string) (string, bool) { return "", false }
	m.Now = now
	ready := make(chan net.Addr, 1)
	m.OnListen = func(a net.Addr) { ready <- a }
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, []string{"--config", cfgPath, "serve"}) }()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d:\n%s", code, logs.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not start")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages before 07:00 in Auckland", n)
	}
	waitFor(t, "the Auckland digest", func() bool { return len(srv.Messages()) > 0 })
	if at := now(); at.Before(target) {
		t.Errorf("digest before 07:00 Auckland: %s", at.In(auckland))
	}
	time.Sleep(200 * time.Millisecond)
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "kiwi@example.com" {
		t.Fatalf("messages: %d, to %v", len(msgs), msgs[0].To)
	}
	if text, msg := textPart(t, msgs[0].Data); !strings.Contains(text, "Putin accepts") ||
		!strings.Contains(msg.Header.Get("Subject"), target.Format("2 January 2006")) {
		t.Errorf("digest: %q\n%s", msg.Header.Get("Subject"), text)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d:\n%s", code, logs.String())
	}
}
