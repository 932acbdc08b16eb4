package mailer

import (
	"bytes"
	"crypto"
	"fmt"
	"os"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// DKIM with go-mail v0.8.1's signer, and why these settings:
//
//   - Header canonicalization is "simple", body canonicalization "relaxed"
//     (c=simple/relaxed). go-mail's relaxed header mode folds the
//     DKIM-Signature tags at fixed widths, cutting inside the h= list when it
//     is longer than a line; relaxed canonicalization then sees a space that
//     was not signed and verification fails. In simple mode go-mail writes the
//     signature header unfolded (one line, well under RFC 5322's 998
//     characters), which verifies. The price is that a relay that re-folds our
//     headers breaks the signature; mainstream MTAs do not.
//   - The signed headers are go-mail's defaults (From, To, Subject, Date,
//     Message-ID, Content-Type, MIME-Version) plus Reply-To and every extra
//     header of the message — so List-Id, List-Unsubscribe and
//     List-Unsubscribe-Post, which RFC 8058 requires signed and go-mail's
//     default list omits.
//   - Headers whose addition would change the meaning (From, To, Subject,
//     Date, Message-ID, Reply-To and the List-* headers) are oversigned:
//     named once more than they occur, so a second copy added in transit
//     breaks the signature.
//   - In simple mode go-mail writes the DKIM-Signature as one line, which
//     with a 4096-bit key passes 998 characters. foldSignature folds the b=
//     value, which is safe in any canonicalization: a verifier deletes the
//     b= value, whitespace included, before hashing (RFC 6376 3.5, 3.7).
//   - One go-mail Signer per message: Signer.Sign caches the algorithm in
//     the struct, which is a data race when shared between connections.

// dkimBase are the headers every message has.
var dkimBase = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "Reply-To"}

// dkimOversign are headers that must not be added after signing.
var dkimOversign = []string{"From", "To", "Subject", "Date", "Message-ID", "Reply-To",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"}

// dkimSettings holds the loaded key.
type dkimSettings struct {
	domain, selector string
	key              crypto.Signer
}

// loadDKIM reads smtp.dkim.*; nil when DKIM is not configured.
func loadDKIM(c config.DKIM) (*dkimSettings, error) {
	if c.Domain == "" && c.Selector == "" && c.PrivateKeyFile == "" {
		return nil, nil
	}
	if c.Domain == "" || c.Selector == "" || c.PrivateKeyFile == "" {
		return nil, fmt.Errorf("mailer: smtp.dkim: domain, selector and private_key_file must all be set")
	}
	pem, err := os.ReadFile(c.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("mailer: smtp.dkim.private_key_file: %w", err)
	}
	key, err := mail.PrivKeyFromPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("mailer: smtp.dkim.private_key_file %s: %w", c.PrivateKeyFile, err)
	}
	d := &dkimSettings{domain: c.Domain, selector: c.Selector, key: key}
	if err := d.signer(nil, time.Now).ValidateConfig(); err != nil {
		return nil, fmt.Errorf("mailer: smtp.dkim: %w", err)
	}
	return d, nil
}

// signer makes the go-mail signer for one message with extra headers hs.
func (d *dkimSettings) signer(hs []model.Header, now func() time.Time) *mail.DKIMSigner {
	s := mail.NewDKIMSigner(d.domain, d.selector, d.key)
	s.NowFunc = now
	s.HeaderCanonicalization(mail.CanonicalizationSimple)
	s.BodyCanonicalization(mail.CanonicalizationRelaxed)
	names := append(make([]string, 0, len(dkimBase)+len(hs)), dkimBase...)
	for _, h := range hs {
		names = append(names, h.Name)
	}
	s.SignHeaders(names...)
	s.OversignHeaders(dkimOversign...)
	return s
}

// foldSignature folds the b= value of the DKIM-Signature that go-mail put
// on the first line of buf into lines of at most 76 characters.
func foldSignature(buf *bytes.Buffer) {
	b := buf.Bytes()
	end := bytes.Index(b, []byte("\r\n"))
	if end < 0 {
		return
	}
	line := foldSignatureLine(b[:end+2])
	out := make([]byte, 0, len(line)+len(b)-end-2)
	out = append(append(out, line...), b[end+2:]...)
	buf.Reset()
	buf.Write(out)
}

// foldSignatureLine folds the b= value of one "DKIM-Signature: ...\r\n"
// line; any other line comes back as it is.
func foldSignatureLine(line []byte) []byte {
	if !bytes.HasPrefix(line, []byte("DKIM-Signature: ")) || !bytes.HasSuffix(line, []byte("\r\n")) {
		return line
	}
	end := len(line) - 2
	i := bytes.LastIndex(line[:end], []byte("; b="))
	if i < 0 {
		return line
	}
	i += len("; b=")
	sig := line[i:end]
	out := make([]byte, 0, len(line)+3*(len(sig)/74+1))
	out = append(out, line[:i]...)
	for len(sig) > 0 {
		n := min(len(sig), 74)
		out = append(out, "\r\n "...)
		out = append(out, sig[:n]...)
		sig = sig[n:]
	}
	return append(out, "\r\n"...)
}
