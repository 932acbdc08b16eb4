package digest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// smtpConfig points cfg's SMTP at srv with conns connections.
func smtpConfig(cfg *config.Config, srv *smtptest.Server, conns int) {
	cfg.SMTP.Transport = "smtp"
	cfg.SMTP.Host = srv.Host()
	cfg.SMTP.Port = srv.Port()
	cfg.SMTP.TLS = "none"
	cfg.SMTP.MaxConnections = conns
	cfg.SMTP.Timeout = config.Duration(10 * time.Second)
}

// newSMTPEnv is an env whose Sender is the real mailer talking to an
// in-process SMTP server.
func newSMTPEnv(tb testing.TB, conns int, hook func(*smtptest.Attempt) smtptest.Action) (*env, *smtptest.Server) {
	tb.Helper()
	srv := smtptest.Start(tb, smtptest.Options{Hook: hook})
	cfg := testConfig(tb)
	smtpConfig(cfg, srv, conns)
	m, err := mailer.New(cfg.SMTP)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	e := newEnv(tb, m, func(o *digest.Options) { o.Config.SMTP = cfg.SMTP })
	return e, srv
}

var hrefRE = regexp.MustCompile(`(?i)\b(?:href|src)="([^"]*)"`)

// parseDigest parses a raw message and returns its headers and parts.
func parseDigest(t *testing.T, raw []byte) (*mail.Message, string, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var text, html string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	if text == "" || html == "" {
		t.Fatalf("want text and HTML parts, got text %d bytes, HTML %d bytes", len(text), len(html))
	}
	return m, text, html
}

func checkDigestMessage(t *testing.T, raw []byte, to string) {
	t.Helper()
	m, text, html := parseDigest(t, raw)
	h := m.Header
	if got := h.Get("List-Id"); !strings.HasSuffix(got, "<daily.news.example.com>") {
		t.Errorf("List-Id %q", got)
	}
	lu := h.Get("List-Unsubscribe")
	if !regexp.MustCompile(`^<https://news\.example\.com/unsubscribe\?token=[A-Za-z0-9_.-]+>, <mailto:unsubscribe@news\.example\.com\?subject=unsubscribe>$`).MatchString(lu) {
		t.Errorf("List-Unsubscribe %q", lu)
	}
	if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", got)
	}
	if got := h.Get("Precedence"); got != "bulk" {
		t.Errorf("Precedence %q", got)
	}
	if got := h.Get("Message-Id"); !plannedID.MatchString(got) {
		t.Errorf("Message-ID %q", got)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if a, err := mail.ParseAddress(h.Get("To")); err != nil || !strings.EqualFold(a.Address, to) {
		t.Errorf("To %q: %v", h.Get("To"), err)
	}
	if a, err := mail.ParseAddress(h.Get("From")); err != nil || a.Address != "digest@news.example.com" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || !strings.HasPrefix(subj, "The Herald: Morning Briefing for ") {
		t.Errorf("Subject %q: %v", subj, err)
	}
	for _, l := range hrefRE.FindAllStringSubmatch(html, -1) {
		u := l[1]
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "mailto:") {
			t.Errorf("link not absolute: %q", u)
		}
	}
	if !strings.Contains(html, `style="`) || strings.Contains(html, "HERALDxPH") || strings.Contains(text, "HERALDxPH") {
		t.Errorf("HTML not inlined or placeholders left")
	}
	if !strings.Contains(text, "Unsubscribe: https://news.example.com/unsubscribe?token=") || !strings.Contains(html, "1 Fleet Street") {
		t.Errorf("footer missing")
	}
}

func TestSMTPMessagesParseBack(t *testing.T) {
	e, srv := newSMTPEnv(t, 2, nil)
	seedSelection(e)
	for i := range 5 {
		e.subscriber(fmt.Sprintf("r%d@example.com", i), fmt.Sprintf("Reader %d", i), model.SubscriberActive, nil, nil)
	}
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{})
	if res.Sent != 5 {
		t.Fatalf("%+v", res)
	}
	msgs := srv.Messages()
	if len(msgs) != 5 {
		t.Fatalf("server got %d", len(msgs))
	}
	for _, m := range msgs {
		checkDigestMessage(t, m.Data, m.To[0])
	}
	// Recorded with Message-ID and reply.
	ds, err := e.store.Deliveries(context.Background(), res.EditionID, 0, 10)
	if err != nil || len(ds) != 5 {
		t.Fatal(ds, err)
	}
	for _, d := range ds {
		if d.Status != model.DeliverySent || d.MessageID == "" || d.SentAt.IsZero() || !strings.HasPrefix(d.LastReply, "250") || len(d.ArticleIDs) != 3 {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestSMTPTemporaryThenAccepted(t *testing.T) {
	e, srv := newSMTPEnv(t, 1, func(a *smtptest.Attempt) smtptest.Action {
		if a.Stage == smtptest.StageRcpt && a.Rcpt == "slow@example.com" && a.N == 1 {
			return smtptest.Reply(451, "4.7.1", "greylisted, try again later")
		}
		return smtptest.Accept()
	})
	e.cfg.Digests[0].MaxArticles = 10 // one edition carries everything
	seedSelection(e)
	e.subscriber("slow@example.com", "", model.SubscriberActive, nil, nil)
	e.subscriber("fast@example.com", "", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	// Without waiting: one left for retry.
	res := e.sendNow(digest.SendNowRequest{})
	if res.Sent != 1 || res.Left != 1 || res.Done() {
		t.Fatalf("first run: %+v", res)
	}
	// Resumed with time to wait (the fake clock sleeps instantly).
	res = e.sendNow(digest.SendNowRequest{Wait: time.Hour})
	if res.ResumedID == 0 || res.Left != 0 {
		t.Fatalf("resume: %+v", res)
	}
	if n := srv.CountFor("slow@example.com"); n != 1 {
		t.Fatalf("slow@ got %d", n)
	}
	if n := srv.CountFor("fast@example.com"); n != 1 {
		t.Fatalf("fast@ got %d", n)
	}
	ds, _ := e.store.Deliveries(context.Background(), res.ResumedID, 0, 10)
	for _, d := range ds {
		if d.Email == "slow@example.com" && (d.Status != model.DeliverySent || d.Attempts != 2) {
			t.Fatalf("slow delivery %+v", d)
		}
	}
}

func TestSMTPPermanentFailureAndBounce(t *testing.T) {
	e, srv := newSMTPEnv(t, 2, func(a *smtptest.Attempt) smtptest.Action {
		switch {
		case a.Stage == smtptest.StageRcpt && a.Rcpt == "nouser@example.com":
			return smtptest.Reply(550, "5.1.1", "no such user")
		case a.Stage == smtptest.StageData && a.Rcpt == "policy@example.com":
			return smtptest.Reply(554, "5.7.1", "message refused")
		}
		return smtptest.Accept()
	})
	seedSelection(e)
	nouser := e.subscriber("nouser@example.com", "", model.SubscriberActive, nil, nil)
	policy := e.subscriber("policy@example.com", "", model.SubscriberActive, nil, nil)
	e.subscriber("ok@example.com", "", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{Wait: time.Hour})
	if res.Sent != 1 || res.Failed != 2 || res.Left != 0 {
		t.Fatalf("%+v", res)
	}
	if srv.CountFor("ok@example.com") != 1 || len(srv.Messages()) != 1 {
		t.Fatal("server counts wrong")
	}
	ds, _ := e.store.Deliveries(context.Background(), res.EditionID, 0, 10)
	for _, d := range ds {
		if d.Email != "ok@example.com" && (d.Status != model.DeliveryFailed || !strings.Contains(d.LastReply, "55") || d.Attempts != 1) {
			t.Errorf("failed delivery %+v", d)
		}
	}
	ctx := context.Background()
	if s, _ := e.store.SubscriberByID(ctx, nouser.ID); s.Status != model.SubscriberBounced {
		t.Errorf("5.1.1 did not bounce: %+v", s)
	}
	if s, _ := e.store.SubscriberByID(ctx, policy.ID); s.Status != model.SubscriberActive {
		t.Errorf("5.7.1 bounced the address: %+v", s)
	}
}

func TestSMTPConnectionDroppedMidBatch(t *testing.T) {
	dropped := 0
	e, srv := newSMTPEnv(t, 1, func(a *smtptest.Attempt) smtptest.Action {
		// The server queues the 4th message and then loses the connection
		// before replying: an in-flight message the client must retry.
		if a.Stage == smtptest.StageData && a.Conn == 1 && len(srvMessagesOnConn1) == 3 && dropped == 0 {
			dropped++
			return smtptest.Action{Drop: true, Deliver: true}
		}
		if a.Stage == smtptest.StageData && a.Conn == 1 {
			srvMessagesOnConn1 = append(srvMessagesOnConn1, a.Rcpt)
		}
		return smtptest.Accept()
	})
	srvMessagesOnConn1 = nil
	seedSelection(e)
	for i := range 8 {
		e.subscriber(fmt.Sprintf("r%d@example.com", i), "", model.SubscriberActive, nil, nil)
	}
	e.clock.Add(time.Second)
	res := e.sendNow(digest.SendNowRequest{Wait: time.Hour})
	if res.Left != 0 || res.Failed != 0 {
		t.Fatalf("%+v", res)
	}
	repeats := 0
	for i := range 8 {
		n := srv.CountFor(fmt.Sprintf("r%d@example.com", i))
		if n < 1 {
			t.Errorf("r%d lost", i)
		}
		repeats += n - 1
	}
	if dropped != 1 || repeats != 1 {
		t.Fatalf("dropped %d, repeats %d (want exactly the in-flight one)", dropped, repeats)
	}
}

// srvMessagesOnConn1 is touched only by the single-connection server hook.
var srvMessagesOnConn1 []string
