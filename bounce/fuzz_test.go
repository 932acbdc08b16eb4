package bounce_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldnews/herald/bounce"
)

// FuzzBounceParse feeds Parse arbitrary bytes, seeded with every message of
// the table and the checked-in corpus in testdata/fuzz: it must not panic,
// and what it returns must hold together.
func FuzzBounceParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := bounce.Parse(bytes.NewReader(raw))
		if err != nil {
			return
		}
		k := m.Kind()
		switch k {
		case bounce.None, bounce.Hard, bounce.Soft, bounce.Sender, bounce.Complaint:
		default:
			t.Fatalf("kind %q", k)
		}
		if k == bounce.None && m.Reason == "" {
			t.Fatalf("none without a reason: %+v", m)
		}
		for _, r := range m.Reports {
			if len(r.Diagnostic) > 500 || strings.ContainsAny(r.Diagnostic, "\r\n") {
				t.Fatalf("diagnostic %q", r.Diagnostic)
			}
			if r.MessageID != "" && r.MessageID != bounce.NormalizeMessageID(r.MessageID) {
				t.Fatalf("message-id %q", r.MessageID)
			}
		}
	})
}

// FuzzClassify checks that any status and text get one of the kinds.
func FuzzClassify(f *testing.F) {
	f.Add("5.1.1", "user unknown")
	f.Add("X.0.0", "")
	f.Add("5.4.4", "Host or domain name not found")
	f.Fuzz(func(t *testing.T, status, text string) {
		switch k := bounce.Classify(status, text); k {
		case bounce.None, bounce.Hard, bounce.Soft, bounce.Sender:
		default:
			t.Fatalf("Classify(%q, %q) = %q", status, text, k)
		}
	})
}
