package proving

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/store"
)

// dsnFor is an RFC 3464 delivery status notification for rcpt, as an MTA
// returns it to the envelope sender to.
func dsnFor(to, rcpt, status, diag string) string {
	return strings.ReplaceAll(`From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: <`+to+`>
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; `+rcpt+`
Action: failed
Status: `+status+`
Diagnostic-Code: smtp; `+diag+`

--B--
`, "\n", "\r\n")
}

// arfFor is an RFC 5965 abuse report about the message msgID sent to rcpt.
func arfFor(to, rcpt, msgID string) string {
	return strings.ReplaceAll(`From: <fbl@isp.example.net>
To: <`+to+`>
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

An abuse report.

--A
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <`+rcpt+`>

--A
Content-Type: text/rfc822-headers

Message-ID: `+msgID+`
To: `+rcpt+`

--A--
`, "\n", "\r\n")
}

// sendSMTP sends raw to rcpt through the server at addr.
func sendSMTP(t *testing.T, addr, rcpt, raw string) {
	t.Helper()
	if err := smtp.SendMail(addr, nil, "", []string{rcpt}, []byte(raw)); err != nil {
		t.Fatalf("SMTP to %s: %v", rcpt, err)
	}
}

// TestBounceLoopEndToEnd is issue 14's "done when", as a new user would
// try it: bounces.address and bounces.listen set, a list imported, an
// edition sent, then a DSN for one reader and an ARF complaint for another
// sent to bounces.listen, and a soft bounce piped into `herald bounces
// process`: the first is bounced, the second complained and suppressed,
// the next edition mails neither, and importing the original CSV brings
// neither back.
func TestBounceLoopEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process: run without -short")
	}
	dir := t.TempDir()
	srv := smtptest.Start(t, smtptest.Options{})
	db := filepath.Join(dir, "herald.db")
	st := openStore(t, db)
	seedContent(t, st, 2)
	st.Close()
	listen, bounces := freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, cfgOpts{dir: dir, listen: listen, smtp: srv,
		extra: fmt.Sprintf("bounces: {address: \"bounces@news.example.com\", listen: %q}\n", bounces)})
	csvPath := filepath.Join(dir, "list.csv")
	os.WriteFile(csvPath, []byte("email,name,digest,sections,authors,status\nhard@example.org,Hard,daily,,,active\n"+
		"compl@example.org,Compl,daily,,,active\nstays@example.org,Stays,daily,,,active\nsoft@example.org,Soft,daily,,,active\n"), 0o644)
	if code, out := runHerald(t, cfg, 20*time.Second, "subscribers", "import", csvPath); code != 0 {
		t.Fatalf("import: %d %s", code, out)
	}
	d := startServe(t, cfg, listen, "serve.log")
	sendNow := func() {
		t.Helper()
		req, _ := http.NewRequest("POST", d.base+"/api/send-now", strings.NewReader(`{"digest":"daily"}`))
		req.Header.Set("Authorization", "Bearer "+testAdmin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("send-now: %d", resp.StatusCode)
		}
	}
	sendNow()
	waitUntil(t, 30*time.Second, "the first edition", func() bool { return len(srv.Messages()) == 4 })
	sent := map[string]smtptest.Message{}
	for _, m := range srv.Messages() {
		sent[m.To[0]] = m
		if !strings.HasPrefix(m.From, "bounces+") || !strings.HasSuffix(m.From, "@news.example.com") {
			t.Errorf("envelope sender %q is not a VERP address", m.From)
		}
		if msg, _ := mail.ReadMessage(bytes.NewReader(m.Data)); msg == nil || !strings.Contains(msg.Header.Get("From"), "digest@news.example.com") {
			t.Error("the From header changed")
		}
	}
	msgID := func(rcpt string) string {
		msg, err := mail.ReadMessage(bytes.NewReader(sent[rcpt].Data))
		if err != nil {
			t.Fatal(err)
		}
		return msg.Header.Get("Message-ID")
	}

	// A DSN to the hard bouncer's VERP address, an ARF complaint to the
	// bare bounce address, both over SMTP to bounces.listen.
	sendSMTP(t, bounces, sent["hard@example.org"].From, dsnFor(sent["hard@example.org"].From, "hard@example.org", "5.1.1", "550 5.1.1 user unknown"))
	sendSMTP(t, bounces, "bounces@news.example.com", arfFor("bounces@news.example.com", "compl@example.org", msgID("compl@example.org")))
	// A soft bounce piped into `herald bounces process`, its envelope
	// recipient passed as the MTA would.
	cmd := exec.Command(heraldBinary(t), "--config", cfg, "bounces", "process", "--rcpt", sent["soft@example.org"].From)
	cmd.Stdin = strings.NewReader(dsnFor(sent["soft@example.org"].From, "soft@example.org", "4.2.2", "452 4.2.2 mailbox full"))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "recorded 1") {
		t.Fatalf("bounces process: %v %s", err, out)
	}

	ro := openStore(t, db)
	defer ro.Close()
	status := func(addr string) (string, bool) {
		sub, _, _ := ro.FindSubscriber(context.Background(), model.Address(addr))
		subs, _ := ro.SubscriptionsOf(context.Background(), sub.ID)
		return sub.Status, len(subs) == 1 && subs[0].Status == model.SubscriptionActive
	}
	waitUntil(t, 10*time.Second, "the reports recorded", func() bool {
		h, _ := status("hard@example.org")
		c, _ := status("compl@example.org")
		return h == model.SubscriberBounced && c == model.SubscriberComplained
	})
	if _, active := status("compl@example.org"); active {
		t.Error("the complainer's subscription is still active")
	}
	if st, active := status("soft@example.org"); st != model.SubscriberActive || !active {
		t.Errorf("one soft bounce changed soft@: %s %v", st, active)
	}
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`herald_bounces_total{kind="hard"} 1`, `herald_complaints_total 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The next edition (a new article) mails neither.
	w := openStore(t, db)
	w.WriteContent(context.Background(), func(cw *store.ContentWriter) error {
		secs, _ := w.Sections(context.Background())
		_, err := cw.Article(model.Article{GUID: "late", URL: "/late", Title: "Late news", Section: secs[0], PublishedAt: time.Now().Add(-time.Minute)})
		return err
	})
	w.Close()
	sendNow()
	waitUntil(t, 30*time.Second, "the second edition", func() bool { return len(srv.Messages()) >= 6 })
	time.Sleep(300 * time.Millisecond)
	for _, addr := range []string{"hard@example.org", "compl@example.org"} {
		if n := srv.CountFor(addr); n != 1 {
			t.Errorf("%s got %d digests, want only the first", addr, n)
		}
	}
	if srv.CountFor("stays@example.org") != 2 || srv.CountFor("soft@example.org") != 2 {
		t.Errorf("the others: stays %d, soft %d, want 2 each", srv.CountFor("stays@example.org"), srv.CountFor("soft@example.org"))
	}
	if err := d.stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}

	// The original CSV again: neither comes back.
	code, out := runHerald(t, cfg, 20*time.Second, "subscribers", "import", csvPath)
	if code != 0 || !strings.Contains(out, "2 skipped") || !strings.Contains(out, "bounced 1") || !strings.Contains(out, "complained 1") {
		t.Errorf("re-import: %d %s", code, out)
	}
	if st, _ := status("hard@example.org"); st != model.SubscriberBounced {
		t.Errorf("re-import: hard@ is %s", st)
	}
	if st, active := status("compl@example.org"); st != model.SubscriberComplained || active {
		t.Errorf("re-import: compl@ is %s, active %v", st, active)
	}
	if code, out := runHerald(t, cfg, 20*time.Second, "editions", "show", "1"); code != 0 || !strings.Contains(out, "reported after sending") ||
		len(strings.Fields(out[strings.Index(out, "reported after sending"):])) < 20 || !strings.Contains(out, "complaint") {
		t.Errorf("editions show: %d\n%s", code, out)
	}
	if code, out := runHerald(t, cfg, 20*time.Second, "suppressions", "list"); code != 0 ||
		!strings.Contains(out, "hard@example.org") || !strings.Contains(out, "compl@example.org") {
		t.Errorf("suppressions list: %d\n%s", code, out)
	}

	// A message that cannot be recorded now (the database is gone) exits
	// 75, so the MTA tries again.
	bad := writeConfig(t, cfgOpts{dir: t.TempDir(), smtp: srv})
	os.WriteFile(bad, bytes.Replace(mustRead(t, bad), []byte(filepath.Dir(bad)), []byte("/nonexistent/herald"), 1), 0o600)
	cmd = exec.Command(heraldBinary(t), "--config", bad, "bounces", "process")
	cmd.Stdin = strings.NewReader(dsnFor("bounces@news.example.com", "x@example.org", "5.1.1", "user unknown"))
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 75 {
		t.Errorf("bounces process without a database: %v, exit %d, want 75", err, cmd.ProcessState.ExitCode())
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
