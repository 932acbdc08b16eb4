package mailer_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
)

func TestFileTransport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	cfg := config.SMTP{Transport: "file", FileDir: dir, MaxConnections: 4, From: "News <digest@news.example.com>"}
	clock := func() time.Time { return fixedDate }
	m := newMailer(t, cfg, mailer.WithClock(clock))

	msg := testMessage(1)
	msg.MessageID = "<e42.s1/../../x@news.example.com>"
	res := send(t, m, msg)
	if res.Outcome != model.Accepted {
		t.Fatalf("%+v", res)
	}
	want := filepath.Join(dir, "20261126T070000.000000000Z-e42.s1_.._.._x@news.example.com.eml")
	raw, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("%v (result %+v)", err, res)
	}
	p := parseMessage(t, raw)
	if p.Header.Get("Message-ID") != msg.MessageID {
		t.Errorf("Message-ID %q", p.Header.Get("Message-ID"))
	}

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if res := send(t, m, testMessage(100+i)); res.Outcome != model.Accepted {
				t.Errorf("%+v", res)
			}
		})
	}
	wg.Wait()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[A-Za-z0-9._@+-]+\.eml$`)
	if len(entries) != 41 {
		t.Fatalf("%d files, want 41", len(entries))
	}
	for _, e := range entries {
		if !name.MatchString(e.Name()) {
			t.Errorf("file %q (temporary file left behind?)", e.Name())
		}
	}
}

func TestFileTransportUnwritable(t *testing.T) {
	dir := t.TempDir()
	m := newMailer(t, config.SMTP{Transport: "file", FileDir: dir, MaxConnections: 1, From: "News <digest@news.example.com>"})
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	if res := send(t, m, testMessage(1)); res.Outcome != model.Temporary {
		t.Fatalf("%+v", res)
	}
}
