package digest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
	"github.com/heraldnews/herald/internal/testkit"
)

// keeper is a digest.Mailer that remembers each message it hands to the
// real mailer, by Message-ID.
type keeper struct {
	m    *mailer.Mailer
	mu   sync.Mutex
	msgs map[string]*model.Message
}

func (k *keeper) Send(ctx context.Context, msg *model.Message, record func(model.SendResult)) error {
	k.mu.Lock()
	k.msgs[msg.MessageID] = msg
	k.mu.Unlock()
	return k.m.Send(ctx, msg, record)
}

// hostileNames are subscriber names that try every trick in a header or a
// part: line breaks, "=" and encoded-word markers, quotes, right-to-left
// text, emoji, long words, HTML.
var hostileNames = []string{
	"Ann Lee", "Zoë Reader", "Eve\r\nBcc: victim@example.org", "=?utf-8?q?=0D=0A?=", "a=b ?= c",
	"\"Quoted\" <name>", "مرحبا بالعالم", "שלום עליכם", "\u202eevil\u202c", "😀 👩\u200d👩\u200d👧",
	strings.Repeat("Long", 60), "<script>alert(1)</script> & co", "tab\there", "trailing   ",
	"O'Brien-Müller", "東京 太郎", "=3D=20", ". dot", "x\u2028y",
}

// TestAssembledMessagesParseAndDecode sends an edition to subscribers with
// hostile names through the real mailer (which assembles each message from
// the article set's pre-encoded template): every message parses with
// Python's strict email policy, and its decoded parts are exactly the text
// and HTML the digest rendered for that reader (and the go-mail
// composition of it, byte for byte).
func TestAssembledMessagesParseAndDecode(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := testConfig(t)
	smtpConfig(cfg, srv, 2)
	m, err := mailer.New(cfg.SMTP, mailer.WithClock(func() time.Time { return start }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	k := &keeper{m: m, msgs: map[string]*model.Message{}}
	e := newEnv(t, k, func(o *digest.Options) { o.Config.SMTP = cfg.SMTP })
	e.article("w1", "Putin accepts Kim Jong-un’s invitation to visit North Korea", "world", time.Hour, "ann", "bob")
	e.article("s1", "Cup final = extra time ?= penalties", "sport", 2*time.Hour, "cat")
	e.article("w2", "Summit ends without a deal", "world", 3*time.Hour)
	var n int
	for i, name := range hostileNames {
		for j, follows := range [][]string{nil, {"world"}, {"sport"}} {
			e.subscriber(fmt.Sprintf("r%02d.%d@example.com", i, j), name, model.SubscriberActive, follows, nil)
			n++
		}
	}
	e.clock.Add(time.Second)
	if res := e.sendNow(digest.SendNowRequest{}); res.Sent != n {
		t.Fatalf("%+v", res)
	}
	dir := t.TempDir()
	var files []string
	for i, sm := range srv.Messages() {
		msg, _, _ := parseDigest(t, sm.Data)
		id := msg.Header.Get("Message-Id")
		k.mu.Lock()
		want := k.msgs[id]
		k.mu.Unlock()
		if want == nil {
			t.Fatalf("no message %s", id)
		}
		if want.Body == nil {
			t.Fatalf("message %s was not composed from shared templates", id)
		}
		_, text, html := parseDigest(t, sm.Data)
		if text != strings.ReplaceAll(want.Text, "\n", "\r\n") || html != strings.ReplaceAll(want.HTML, "\n", "\r\n") {
			t.Errorf("message to %s: decoded parts differ from the render", sm.To[0])
		}
		flat := *want
		flat.Body = nil
		ref := writeEML(t, &flat)
		if string(ref) != string(sm.Data) {
			t.Errorf("message to %s differs from go-mail's composition:\n%s\n---\n%s", sm.To[0], sm.Data, ref)
		}
		f := filepath.Join(dir, fmt.Sprintf("%03d.eml", i))
		if err := os.WriteFile(f, sm.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	testkit.PythonStrict(t, files)
}

// TestArticleTextCannotReachReaderValues: a CMS row that spells out what
// looks like the renderer's stand-ins for a reader's values (the fixed
// strings of herald before they were drawn at random) goes out as written;
// no reader's address or token lands in an article's title or link.
func TestArticleTextCannotReachReaderValues(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := testConfig(t)
	smtpConfig(cfg, srv, 1)
	m, err := mailer.New(cfg.SMTP, mailer.WithClock(func() time.Time { return start }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := newEnv(t, m, func(o *digest.Options) { o.Config.SMTP = cfg.SMTP })
	stand := []string{"HERALDxPHxNAMEx7q", "HERALDxPHxEMAILx7q", "HERALDxPHxUNSUBx7q", "HERALDxPHxMGMTx7q"}
	e.article("leak?t="+stand[3]+"&u="+stand[2], "Mail "+stand[1]+" to "+stand[0], "world", time.Hour)
	e.subscriber("ann@example.com", "Ann Lee", model.SubscriberActive, nil, nil)
	e.subscriber("bob@example.com", "", model.SubscriberActive, nil, nil)
	e.clock.Add(time.Second)
	if res := e.sendNow(digest.SendNowRequest{}); res.Sent != 2 {
		t.Fatalf("%+v", res)
	}
	for _, sm := range srv.Messages() {
		_, text, html := parseDigest(t, sm.Data)
		for _, part := range []string{text, html} {
			for _, s := range stand {
				if !strings.Contains(part, s) {
					t.Errorf("message to %s: the article's %q was replaced by a reader's value", sm.To[0], s)
				}
			}
		}
	}
}
