package bounce_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/heraldnews/herald/bounce"
)

// BenchmarkParse measures one Postfix DSN, and one 4 MiB bounce text made
// of lines that each look like a recipient (the parser's worst case).
func BenchmarkParse(b *testing.B) {
	dsn, err := os.ReadFile("testdata/mail/postfix-user-unknown.eml")
	if err != nil {
		b.Fatal(err)
	}
	big := "From: MAILER-DAEMON@x.example\r\nSubject: failure notice\r\n\r\n" +
		strings.Repeat("<user@example.org>: 550 5.1.1 user unknown in virtual mailbox table here\r\n", bounce.MaxRead/72)
	for name, raw := range map[string][]byte{"dsn": dsn, "worst": []byte(big)} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := bounce.Parse(bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
