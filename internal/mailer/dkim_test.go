package mailer_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/mailer"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/smtptest"
)

// dkimKey writes a fresh RSA key as PKCS#1 PEM and returns the file and
// the DNS TXT record for it.
func dkimKey(t *testing.T) (file, txt string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "dkim.pem")
	p := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(file, p, 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return file, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
}

func verifyDKIM(t *testing.T, raw []byte, txt string) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "herald2026._domainkey.news.example.com" {
				return nil, fmt.Errorf("no TXT for %s", domain)
			}
			return []string{txt}, nil
		},
	})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	return vs
}

func TestDKIMVerifiesAndCoversListUnsubscribe(t *testing.T) {
	keyFile, txt := dkimKey(t)
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := smtpConfig(srv, 1)
	cfg.DKIM = config.DKIM{Domain: "news.example.com", Selector: "herald2026", PrivateKeyFile: keyFile}
	m := newMailer(t, cfg, mailer.WithClock(func() time.Time { return fixedDate }))

	msgs := []*model.Message{testMessage(1), testMessage(2)}
	msgs[1].Subject = strings.Repeat("A very long subject with ünïcode ", 8)
	msgs[1].ToName = strings.Repeat("Long Name ", 20)
	msgs[1].Text += strings.Repeat("trailing spaces   \n\n\n", 3)
	for _, msg := range msgs {
		if res := send(t, m, msg); res.Outcome != model.Accepted {
			t.Fatalf("send: %+v", res)
		}
	}
	for i, sm := range srv.Messages() {
		if !bytes.HasPrefix(sm.Data, []byte("DKIM-Signature: ")) {
			t.Fatalf("message %d not signed:\n%s", i, sm.Data)
		}
		for _, line := range strings.Split(string(sm.Data), "\r\n") {
			if len(line) > 998 {
				t.Errorf("message %d: line of %d bytes", i, len(line))
			}
		}
		if !bytes.Contains(sm.Data, []byte("; b=\r\n ")) {
			t.Errorf("message %d: b= not folded", i)
		}
		vs := verifyDKIM(t, sm.Data, txt)
		if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "news.example.com" {
			t.Fatalf("message %d: verification %+v", i, vs[0])
		}
		keys := strings.Join(vs[0].HeaderKeys, ":")
		for _, h := range []string{"From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"} {
			if !slices.ContainsFunc(vs[0].HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
				t.Errorf("message %d: %s not signed (h=%s)", i, h, keys)
			}
		}
		if !vs[0].Time.Equal(fixedDate) {
			t.Errorf("t= %v, want the injected clock", vs[0].Time)
		}
		parseMessage(t, sm.Data)

		// Tampering with a List-Unsubscribe URL, or adding a second one,
		// or a second From, breaks the signature.
		for name, tamper := range map[string]func([]byte) []byte{
			"changed List-Unsubscribe": func(b []byte) []byte {
				return bytes.Replace(b, []byte("token=abc.def"), []byte("token=evil.def"), 1)
			},
			"added List-Unsubscribe": func(b []byte) []byte {
				return bytes.Replace(b, []byte("\r\n\r\n"), []byte("\r\nList-Unsubscribe: <https://evil.example/>\r\n\r\n"), 1)
			},
			"added From": func(b []byte) []byte {
				return bytes.Replace(b, []byte("\r\n\r\n"), []byte("\r\nFrom: evil@evil.example\r\n\r\n"), 1)
			},
			"changed body": func(b []byte) []byte {
				return bytes.Replace(b, []byte("Good morning"), []byte("Good evening"), 1)
			},
		} {
			vs := verifyDKIM(t, tamper(slices.Clone(sm.Data)), txt)
			if len(vs) != 1 || vs[0].Err == nil {
				t.Errorf("message %d, %s: still verifies", i, name)
			}
		}
	}
}

func TestDKIMRelaxedBodyToleratesTrailingWhitespace(t *testing.T) {
	keyFile, txt := dkimKey(t)
	cfg := config.SMTP{Transport: "file", FileDir: t.TempDir(), MaxConnections: 1, From: "News <digest@news.example.com>",
		DKIM: config.DKIM{Domain: "news.example.com", Selector: "herald2026", PrivateKeyFile: keyFile}}
	m := newMailer(t, cfg)
	if res := send(t, m, testMessage(3)); res.Outcome != model.Accepted {
		t.Fatalf("%+v", res)
	}
	files, _ := filepath.Glob(filepath.Join(cfg.FileDir, "*.eml"))
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// A relay adding trailing blank lines and trailing spaces to body lines.
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	body = bytes.ReplaceAll(body, []byte("Good morning."), []byte("Good morning.  "))
	raw = append(append(append(head, "\r\n\r\n"...), body...), "\r\n\r\n"...)
	if vs := verifyDKIM(t, raw, txt); vs[0].Err != nil {
		t.Fatalf("relaxed body canonicalization: %v", vs[0].Err)
	}
}
