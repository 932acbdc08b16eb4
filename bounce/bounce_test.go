package bounce_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldnews/herald/bounce"
)

// TestCorpus parses every message in testdata/mail and checks it against
// its row in testdata/cases.tsv: the message's kind, and for the first
// report of that kind its recipient, status and the returned Message-ID.
func TestCorpus(t *testing.T) {
	f, err := os.Open("testdata/cases.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			t.Fatalf("bad row %q", line)
		}
		rows++
		name, kind, rcpt, status, mid := c[0], bounce.Kind(c[1]), dash(c[2]), dash(c[3]), dash(c[4])
		seen[name+".eml"] = true
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/mail", name+".eml"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := bounce.Parse(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Kind(); got != kind {
				t.Fatalf("kind %q, want %q (reason %q, reports %+v)", got, kind, m.Reason, m.Reports)
			}
			if kind == bounce.None && m.Reason == "" {
				t.Errorf("kind none without a reason")
			}
			var r bounce.Report
			for _, x := range m.Reports {
				if x.Kind == kind {
					r = x
					break
				}
			}
			if !strings.EqualFold(r.Recipient, rcpt) {
				t.Errorf("recipient %q, want %q (reports %+v)", r.Recipient, rcpt, m.Reports)
			}
			if r.Status != status {
				t.Errorf("status %q, want %q (diagnostic %q)", r.Status, status, r.Diagnostic)
			}
			if r.MessageID != mid {
				t.Errorf("message-id %q, want %q", r.MessageID, mid)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows < 40 {
		t.Errorf("%d rows, want at least 40", rows)
	}
	files, _ := filepath.Glob("testdata/mail/*.eml")
	for _, p := range files {
		if !seen[filepath.Base(p)] {
			t.Errorf("%s has no row in cases.tsv", p)
		}
	}
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func TestEnvelopeHints(t *testing.T) {
	raw := "Return-Path: <>\r\nDelivered-To: bounces+tok@news.example.com\r\nX-Original-To: Bounces+TOK@news.example.com\r\n" +
		"Envelope-To: other@news.example.com\r\nTo: bounces@news.example.com\r\nFrom: MAILER-DAEMON@mx.example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n\r\nI'm afraid I wasn't able to deliver your message.\r\n"
	m, err := bounce.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.Recipients(), " ")
	if want := "bounces+tok@news.example.com other@news.example.com bounces@news.example.com"; got != want {
		t.Errorf("Recipients() = %q, want %q", got, want)
	}
	if m.ReturnPath != "" || m.From != "MAILER-DAEMON@mx.example.org" {
		t.Errorf("ReturnPath %q From %q", m.ReturnPath, m.From)
	}
}

func TestParseNotMessage(t *testing.T) {
	for _, in := range []string{"", "no header here at all\r\n", " leading space: x\r\n\r\n"} {
		if _, err := bounce.Parse(strings.NewReader(in)); !errors.Is(err, bounce.ErrNotMessage) {
			t.Errorf("Parse(%q) error %v, want ErrNotMessage", in, err)
		}
	}
}

func TestParseMboxFromLine(t *testing.T) {
	raw, err := os.ReadFile("testdata/mail/qmail-no-mailbox.eml")
	if err != nil {
		t.Fatal(err)
	}
	raw = append([]byte("From MAILER-DAEMON Tue Mar  3 07:00:14 2026\n"), raw...)
	m, err := bounce.Parse(bytes.NewReader(raw))
	if err != nil || m.Kind() != bounce.Hard {
		t.Fatalf("kind %q err %v", m.Kind(), err)
	}
}

func TestOriginalHeaders(t *testing.T) {
	raw, err := os.ReadFile("testdata/mail/postfix-user-unknown.eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := bounce.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Original.Get("List-Unsubscribe"); got != "<https://news.example.com/unsubscribe/u1.Zm9vYmFy>" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if m.Original.Get("Received") != "" {
		t.Errorf("Original keeps Received")
	}
	r := m.Reports[0]
	if r.Reporter != "relay.example.net" || r.RemoteMTA != "mx.example.org" || r.At.IsZero() {
		t.Errorf("report %+v", r)
	}
	if !strings.HasPrefix(r.Diagnostic, "550 5.1.1 <alice@example.org>: Recipient address rejected") {
		t.Errorf("diagnostic %q", r.Diagnostic)
	}
}

func TestNormalizeMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"<a.b@c>": "<a.b@c>", " a.b@c ": "<a.b@c>", "<a@b> (comment)": "<a@b>", "": "", "<>": "", "<a b@c>": "",
	} {
		if got := bounce.NormalizeMessageID(in); got != want {
			t.Errorf("NormalizeMessageID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReasons checks why messages that change nothing change nothing.
func TestReasons(t *testing.T) {
	for name, want := range map[string]string{
		"autoreply-rfc3834":             "auto-reply",
		"vacation-precedence":           "auto-reply",
		"outlook-automatic-reply":       "auto-reply",
		"vacation-no-headers-subject":   "auto-reply",
		"challenge-response":            "challenge-response",
		"reader-reply":                  "reply",
		"reader-reply-mentions-unknown": "unrecognised",
		"postfix-delayed":               "delayed",
		"exim-delay-warning":            "delayed",
		"gmail-delay":                   "delayed",
		"sendmail-warning":              "delayed",
		"opensmtpd-delay":               "delayed",
		"arf-not-spam":                  "not-spam",
	} {
		raw, err := os.ReadFile(filepath.Join("testdata/mail", name+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := bounce.Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind() != bounce.None || m.Reason != want {
			t.Errorf("%s: kind %q reason %q, want none %q", name, m.Kind(), m.Reason, want)
		}
	}
}

// TestDSNWithoutReportType reads a delivery-status part inside
// multipart/mixed, as some gateways send it, and a forwarded-then-bounced
// recipient whose DSN names only the Original-Recipient.
func TestDSNWithoutReportType(t *testing.T) {
	raw := "From: postmaster@gw.example.net\r\nTo: bounces+tok@news.example.com\r\nSubject: Undeliverable\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; gw.example.net\r\n\r\n" +
		"Original-Recipient: rfc822; old@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
	m, err := bounce.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind() != bounce.Hard || len(m.Reports) != 1 || m.Reports[0].Recipient != "old@example.org" || m.Reports[0].Reporter != "gw.example.net" {
		t.Errorf("%+v", m)
	}
}
