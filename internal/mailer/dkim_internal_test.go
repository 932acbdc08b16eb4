package mailer

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"

	"github.com/heraldnews/herald/internal/model"
)

// TestGoMailRelaxedHeaderDefect pins the go-mail v0.8.1 defect behind the
// c=simple/relaxed choice in dkim.go: with relaxed header canonicalization
// and our header list, the signature does not verify. If this test starts
// failing, go-mail folds correctly now and relaxed can be reconsidered.
func TestGoMailRelaxedHeaderDefect(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	txt := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
	msg := &model.Message{MessageID: "<a.b@news.example.com>", Date: time.Now(), From: "N <d@news.example.com>",
		ToAddr: "r@example.org", Subject: "hi", Text: "t", HTML: "<p>h</p>",
		Headers: []model.Header{{Name: "List-Unsubscribe", Value: "<https://x.example/u>"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"}}}
	d := &dkimSettings{domain: "news.example.com", selector: "s", key: key}
	verify := func(canon mail.Canonicalization) error {
		m, err := compose(msg, composeOptions{now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		s := d.signer(msg.Headers, time.Now)
		s.HeaderCanonicalization(canon)
		m.SetDKIM(s)
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		vs, err := dkim.VerifyWithOptions(&buf, &dkim.VerifyOptions{
			LookupTXT: func(string) ([]string, error) { return []string{txt}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return vs[0].Err
	}
	if err := verify(mail.CanonicalizationSimple); err != nil {
		t.Fatalf("simple: %v", err)
	}
	if err := verify(mail.CanonicalizationRelaxed); err == nil {
		t.Fatal("relaxed verifies now: go-mail's folding was fixed; reconsider dkim.go's choice")
	}
}
