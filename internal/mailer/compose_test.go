package mailer_test

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/testkit"
)

// wantHeaders is the exact header set of testMessage, in order.
var wantHeaders = []string{"Date", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version",
	"Message-ID", "Precedence", "Subject", "From", "To", "Content-Type"}

func writeMessage(t *testing.T, msg *model.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := mailer.WriteMessage(&buf, msg); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	textOnly := testMessage(2)
	textOnly.HTML, textOnly.Headers = "", nil
	textOnly.Subject = "Confirm your subscription to Example News"
	for name, msg := range map[string]*model.Message{
		"digest.eml":    testMessage(1),
		"text-only.eml": textOnly,
	} {
		t.Run(name, func(t *testing.T) {
			got := writeMessage(t, msg)
			if again := writeMessage(t, msg); !bytes.Equal(got, again) {
				t.Fatal("output is not deterministic")
			}
			testkit.Golden(t, filepath.Join("testdata", name), got)
			parseMessage(t, got)
		})
	}
}

// TestPythonStrictParser runs Debian's python3 email parser in strict mode
// over the golden files and an injection-corpus message: no defects.
func TestPythonStrictParser(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	dir := t.TempDir()
	for i, c := range injectionCorpus {
		msg := testMessage(1)
		msg.ToName, msg.Subject = c, c
		name := filepath.Join(dir, "inj"+string(rune('a'+i))+".eml")
		if err := os.WriteFile(name, writeMessage(t, msg), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	// A DKIM-signed message, as the file transport writes it.
	keyFile, _ := dkimKey(t)
	signedDir := t.TempDir()
	m := newMailer(t, config.SMTP{Transport: "file", FileDir: signedDir, MaxConnections: 1,
		From: "Example News <digest@news.example.com>",
		DKIM: config.DKIM{Domain: "news.example.com", Selector: "herald2026", PrivateKeyFile: keyFile}})
	if res := send(t, m, testMessage(1)); res.Outcome != model.Accepted {
		t.Fatalf("%+v", res)
	}
	signed, _ := filepath.Glob(filepath.Join(signedDir, "*.eml"))
	files = append(files, signed...)

	testkit.PythonStrict(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if mt, _, err := mime.ParseMediaType(m.Header.Get("Content-Type")); err != nil || (mt != "multipart/alternative" && mt != "text/plain") {
			t.Errorf("%s: top-level type %q (%v)", f, mt, err)
		}
	}
}

// injectionCorpus are values a subscriber, editor or CMS could write.
var injectionCorpus = []string{
	"Eve\r\nBcc: victim@example.org",
	"Eve\nBcc: victim@example.org",
	"Eve\rBcc: victim@example.org",
	"Eve\r\n\r\n<h1>injected body</h1>",
	"=?utf-8?q?=0D=0A?=Bcc: victim@example.org",
	"=?utf-8?b?DQpCY2M6IHZpY3RpbUBleGFtcGxlLm9yZw==?=",
	"=?UTF-8?Q?Eve=0D=0ABcc=3A_victim=40example.org?=",
	"Eve\u2028Bcc: victim@example.org",
	"Eve\u2029Bcc: victim@example.org",
	"Eve\u0085Bcc: victim@example.org",
	"Eve\x00Bcc: victim@example.org",
	"Eve\x0bBcc:\x0c victim@example.org",
	"\"Eve\" <eve@example.org>, victim@example.org",
	"Eve%0D%0ABcc: victim@example.org",
	"Eve\xff\xfe invalid UTF-8",
	strings.Repeat("A", 2000),
	strings.Repeat("É", 700),
}

func TestHeaderInjectionNamesAndSubjects(t *testing.T) {
	for _, c := range injectionCorpus {
		for _, field := range []string{"ToName", "Subject", "From name"} {
			msg := testMessage(1)
			switch field {
			case "ToName":
				msg.ToName = c
			case "Subject":
				msg.Subject = c
			case "From name":
				msg.From = (&mailAddr{c, "digest@news.example.com"}).String()
			}
			var buf bytes.Buffer
			if err := mailer.WriteMessage(&buf, msg); err != nil {
				// smtp.from comes from the config; net/mail refuses some.
				if field != "From name" || !errors.Is(err, mailer.ErrBadAddress) {
					t.Errorf("%s %q: %v", field, c, err)
				}
				continue
			}
			raw := buf.Bytes()
			p := parseMessage(t, raw)
			if !slices.Equal(p.Names, wantHeaders) {
				t.Errorf("%s %q: headers %v, want %v", field, c, p.Names, wantHeaders)
			}
			to, err := p.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != string(msg.ToAddr) {
				t.Errorf("%s %q: To = %v, %v", field, c, to, err)
			}
			if field == "ToName" && strings.Contains(to[0].Name, "\"Eve\" <eve@") && !strings.Contains(c, "\"Eve\"") {
				t.Errorf("name changed: %q", to[0].Name)
			}
			from, err := p.Header.AddressList("From")
			if err != nil || len(from) != 1 {
				t.Errorf("%s %q: From = %v, %v", field, c, from, err)
				continue
			}
			subj := decode(t, p.Header.Get("Subject"))
			for _, s := range []string{subj, to[0].Name, from[0].Name} {
				if strings.ContainsAny(s, "\r\n\x00\u2028\u2029\u0085") {
					t.Errorf("%s %q: decoded value %q keeps a line break or NUL", field, c, s)
				}
			}
			if p.HTML != msg.HTML {
				t.Errorf("%s %q: body changed", field, c)
			}
			for _, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 998 {
					t.Errorf("%s %q: line of %d bytes", field, c, len(line))
				}
			}
		}
	}
	// "=?" in a subject is shown as typed.
	msg := testMessage(1)
	msg.Subject = "=?utf-8?q?=0D=0A?= literally"
	if got := decode(t, parseMessage(t, writeMessage(t, msg)).Header.Get("Subject")); got != msg.Subject {
		t.Errorf("subject %q decodes to %q", msg.Subject, got)
	}
}

// mailAddr formats a From value the way a config file could hold it.
type mailAddr struct{ name, addr string }

func (a *mailAddr) String() string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", " ", "\n", " ").Replace(a.name) + `" <` + a.addr + `>`
}

func TestHeaderInjectionExtraHeaders(t *testing.T) {
	for _, c := range injectionCorpus {
		for i := range testMessage(1).Headers {
			msg := testMessage(1)
			msg.Headers[i].Value = "<https://news.example.com/u?t=" + c + ">"
			if msg.Headers[i].Name == "List-Id" {
				msg.Headers[i].Value = c + " <daily.news.example.com>"
			}
			var buf bytes.Buffer
			err := mailer.WriteMessage(&buf, msg)
			switch {
			case strings.ContainsAny(c, "\r\n"):
				if !errors.Is(err, mailer.ErrHeaderInjection) {
					t.Errorf("%s %q: err = %v, want ErrHeaderInjection", msg.Headers[i].Name, c, err)
				}
				continue
			case err != nil:
				if !errors.Is(err, mailer.ErrBadHeader) {
					t.Errorf("%s %q: err = %v, want ErrBadHeader", msg.Headers[i].Name, c, err)
				}
				continue
			}
			p := parseMessage(t, buf.Bytes())
			if !slices.Equal(p.Names, wantHeaders) {
				t.Errorf("%s %q: headers %v", msg.Headers[i].Name, c, p.Names)
			}
		}
	}
	// Names: malformed, reserved or repeated headers are refused.
	for _, h := range []model.Header{
		{Name: "Bcc", Value: "victim@example.org"},
		{Name: "X-Evil\r\nBcc", Value: "x"},
		{Name: "X Space", Value: "x"},
		{Name: "X:Colon", Value: "x"},
		{Name: "", Value: "x"},
		{Name: "Content-Type", Value: "text/plain"},
		{Name: "precedence", Value: "list"}, // repeats Precedence
	} {
		msg := testMessage(1)
		msg.Headers = append(msg.Headers, h)
		if err := mailer.WriteMessage(&bytes.Buffer{}, msg); !errors.Is(err, mailer.ErrBadHeader) {
			t.Errorf("header %q: err = %v, want ErrBadHeader", h.Name, err)
		}
	}
	// A literal encoded word in a URL list is written verbatim (nothing
	// decodes structured headers), in List-Id's phrase it is quoted, and in
	// an unstructured header it is encoded so it shows as typed.
	msg := testMessage(1)
	msg.Headers[0].Value = "=?utf-8?q?=0D=0A?= <daily.news.example.com>"
	msg.Headers[1].Value = "<https://news.example.com/u?t==?utf-8?q?=0D=0A?=>"
	msg.Headers[3].Value = "=?utf-8?q?=0D=0A?=bulk"
	p := parseMessage(t, writeMessage(t, msg))
	if got := p.Header.Get("List-Unsubscribe"); got != msg.Headers[1].Value {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if got := p.Header.Get("List-Id"); got != `"=?utf-8?q?=0D=0A?=" <daily.news.example.com>` {
		t.Errorf("List-Id = %q", got)
	}
	if got := decode(t, p.Header.Get("Precedence")); got != msg.Headers[3].Value {
		t.Errorf("Precedence decodes to %q", got)
	}
}

func TestMessageIDExactAndRequired(t *testing.T) {
	msg := testMessage(1)
	msg.MessageID = "<01JDZ.edition-42.sub-7@news.example.com>"
	if got := parseMessage(t, writeMessage(t, msg)).Header.Get("Message-ID"); got != msg.MessageID {
		t.Fatalf("Message-ID = %q", got)
	}
	for _, bad := range []string{"", "<>", "<no-at-sign>", "<a b@c>", "<a@b>>", "<a@b c>"} {
		msg.MessageID = bad
		if err := mailer.WriteMessage(&bytes.Buffer{}, msg); !errors.Is(err, mailer.ErrBadMessageID) {
			t.Errorf("Message-ID %q: err = %v", bad, err)
		}
	}
}
