package mailer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/testkit"
)

// hostile are the bits a generated value is made of: line breaks, "=" and
// encoded-word markers, quotes and brackets, right-to-left text and
// overrides, emoji (with joiners), invalid UTF-8, NUL, long words, and the
// start of a multipart boundary.
var hostile = []string{
	"\r\n", "\n", "\r", "=", "?=", "=?", "=?utf-8?q?=0D=0A?=", "=?UTF-8?B?QmNjOg==?=", "Bcc: victim@example.org",
	" ", "  ", "\t", ".", "..", "<", ">", `"`, `\`, ",", ";", ":", "@", "(", ")",
	"\u202eevil\u202c", "مرحبا بالعالم", "שלום", "Zoë", "Ærøskøbing", "東京", "😀", "👩\u200d👩\u200d👧", "\u200b",
	"\xff\xfe", "\xc3", "\x00", "\x7f", "\u2028", "\u0085", "herald-", "herald-0123456789abcdef",
	"Ann", "Lee", "O'Brien", "Müller-Lüdenscheidt",
}

func hostileValue(rng *mathrand.Rand) string {
	var b strings.Builder
	for range rng.IntN(6) {
		if rng.IntN(12) == 0 {
			b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), 60+rng.IntN(1000)))
			continue
		}
		b.WriteString(hostile[rng.IntN(len(hostile))])
	}
	return b.String()
}

// genTemplate is a digest-like part: lines of literal text, some with
// slots (the name, address, tokens), some long, some ending in spaces, cut
// at line ends as the digest cuts them.
func genTemplate(rng *mathrand.Rand, slots int) *model.Template {
	t := &model.Template{}
	lit := func(s string) { t.Pieces = append(t.Pieces, model.Piece{Text: s}) }
	for range 5 + rng.IntN(30) {
		switch rng.IntN(6) {
		case 0:
			lit("Good day, ")
			t.Pieces = append(t.Pieces, model.Piece{Slot: 1 + rng.IntN(slots)})
			lit(". Here is what is new.\n")
		case 1:
			lit(`<p><a href="https://news.example.com/unsubscribe?token=`)
			t.Pieces = append(t.Pieces, model.Piece{Slot: 1 + rng.IntN(slots)}, model.Piece{Text: `" style="color: #3a3936;">Unsubscribe</a> `})
			t.Pieces = append(t.Pieces, model.Piece{Slot: 1 + rng.IntN(slots)})
			if rng.IntN(2) == 0 {
				lit("</p>\n")
			}
		case 2:
			lit(strings.Repeat("<div class=\"article\" style=\"padding: 12px 0; border-bottom: 1px solid #ece9e2;\"> ", 1+rng.IntN(4)) + "\n")
		case 3:
			lit(hostileValue(rng) + "\n")
		case 4:
			lit("Caf\u00e9 prices rise   \n\n")
		default:
			lit("https://news.example.com/world/2026/11/26/a-rather-long-slug-that-goes-on-and-on-and-on-past-the-column\n")
		}
	}
	return t
}

func genValues(rng *mathrand.Rand, n int) []string {
	v := make([]string, n)
	for i := range v {
		switch rng.IntN(3) {
		case 0:
			v[i] = token(rng)
		default:
			v[i] = hostileValue(rng)
		}
	}
	return v
}

func token(rng *mathrand.Rand) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprint(rng.Uint64()))) + ".sig"
}

// headerValue is a hostile value an extra header accepts now and then (one
// in ten keeps a control character or invalid UTF-8, which both writers
// refuse).
func headerValue(rng *mathrand.Rand) string {
	v := strings.NewReplacer("<", "", ">", "").Replace(hostileValue(rng))
	if rng.IntN(10) == 0 {
		return v
	}
	v = strings.ToValidUTF8(v, "?")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, v)
}

var genAddrs = []string{"reader@example.org", "a.b+tag@example.co.uk", "o'brien@example.ie", "üser@example.de",
	"東京@example.jp", "x@sub.domain.example.com", "very.long." + strings.Repeat("l", 40) + "@example.com"}

// genMessage is a hostile message for subscriber i: shared templates
// (tmpls) with its own values, or flat parts.
func genMessage(rng *mathrand.Rand, i int, tmpls []*model.Template) *model.Message {
	msg := &model.Message{
		MessageID: fmt.Sprintf("<%d.%x@news.example.com>", i, rng.Uint64()),
		Date:      time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Second),
		From:      "Example News <digest@news.example.com>",
		ToAddr:    model.Address(genAddrs[rng.IntN(len(genAddrs))]),
		ToName:    hostileValue(rng),
		Subject:   hostileValue(rng) + " " + hostileValue(rng),
		Headers: []model.Header{
			{Name: "List-Id", Value: headerValue(rng) + " <daily.news.example.com>"},
			{Name: "List-Unsubscribe", Value: "<https://news.example.com/unsubscribe?token=" + token(rng) + ">"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
			{Name: "Precedence", Value: "bulk"},
		},
	}
	if rng.IntN(3) == 0 {
		msg.ReplyTo = "Letters <letters@news.example.com>"
	}
	if rng.IntN(4) == 0 {
		msg.Headers = append(msg.Headers, model.Header{Name: "X-Campaign", Value: headerValue(rng)})
	}
	switch rng.IntN(8) {
	case 0: // flat, as a confirmation mail
		msg.Text, msg.HTML = hostileValue(rng)+"\n"+hostileValue(rng), ""
	case 1:
		msg.Text, msg.HTML = "", "<p>"+hostileValue(rng)+"</p>"
	default:
		b := &model.Body{TextValues: genValues(rng, 4), HTMLValues: genValues(rng, 4)}
		if rng.IntN(10) > 0 {
			b.Text = tmpls[rng.IntN(len(tmpls))]
		}
		if rng.IntN(10) > 0 {
			b.HTML = tmpls[rng.IntN(len(tmpls))]
		}
		msg.Body = b
		msg.Text, msg.HTML = b.Text.Fill(b.TextValues), b.HTML.Fill(b.HTMLValues)
	}
	return msg
}

func testSigner(t *testing.T, key any) *dkimSettings {
	t.Helper()
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return &dkimSettings{domain: "news.example.com", selector: "herald2026", key: k}
	case ed25519.PrivateKey:
		return &dkimSettings{domain: "news.example.com", selector: "herald2026", key: k}
	}
	t.Fatal("key type")
	return nil
}

// TestAssembleMatchesGoMail is the proof that the hand assembler writes
// what go-mail's composer writes: 6,000 generated messages with hostile
// names, subjects, header values and per-recipient values, shared
// templates (whose encodings are cached across messages) and flat parts,
// compared byte for byte; 400 of them DKIM-signed (RSA and Ed25519) and
// verified with go-msgauth. TestPythonStrictAssembled parses more of them
// strictly; the golden files pin both writers (file_test.go).
func TestAssembleMatchesGoMail(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(12, 12))
	tmpls := make([]*model.Template, 40)
	for i := range tmpls {
		tmpls[i] = genTemplate(rng, 4)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	lines := newLineCache(1 << 20)
	addrs := &addrCache{}
	now := func() time.Time { return time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC) }
	var compared, signed, refused, dotted int
	for i := range 6000 {
		msg := genMessage(rng, i, tmpls)
		o := composeOptions{now: now}
		switch {
		case i%30 == 0:
			o.signer = testSigner(t, rsaKey)
		case i%30 == 1:
			o.signer = testSigner(t, edKey)
		}
		var want, got bytes.Buffer
		werr := render(&want, msg, o)
		oa := o
		oa.addrs = addrs
		c, gerr := assemble(&got, nil, msg, oa, lines)
		if werr != nil || gerr != nil {
			if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
				t.Fatalf("message %d: go-mail: %v; assembled: %v", i, werr, gerr)
			}
			refused++
			if refused < 5 {
				t.Logf("refused by both: %v", werr)
			}
			continue
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("message %d differs:\n--- go-mail\n%s\n--- assembled\n%s", i, want.Bytes(), got.Bytes())
		}
		compared++
		// The connections stuff a crlf message by its cuts alone: it must
		// be one whose line ends allow that, the cuts where a search
		// finds its lines that start with ".", and the result what the
		// walk over every line gives.
		raw := got.Bytes()
		if !c.crlf || !crlfOnly(raw) {
			t.Fatalf("message %d: crlf %v, crlfOnly %v, want both:\n%s", i, c.crlf, crlfOnly(raw), raw)
		}
		if want := dotCuts(nil, raw); !slices.Equal(c.cuts, want) {
			t.Fatalf("message %d: cuts %v, but a search finds lines starting with \".\" at %v:\n%s", i, c.cuts, want, raw)
		}
		if !bytes.Equal(appendCut(nil, raw, c.cuts), appendDotStuffed(nil, raw)) {
			t.Fatalf("message %d: stuffed by its cuts %v, it differs from appendDotStuffed's:\n%s", i, c.cuts, raw)
		}
		if len(c.cuts) > 0 {
			dotted++
		}
		if o.signer != nil {
			signed++
			verifyAssembled(t, got.Bytes(), dkimTXT(t, o.signer.key))
		}
	}
	if dotted == 0 || dotted == compared {
		t.Errorf("%d of %d messages have a line starting with \".\": the generator tests one side of dotCuts only", dotted, compared)
	}
	if refused > (compared+refused)/5 {
		t.Errorf("%d of %d messages refused by both: the generator is too hostile to test much", refused, compared+refused)
	}
	t.Logf("%d messages identical (%d DKIM-signed and verified, %d with a line starting with \".\"), %d refused by both", compared, signed, dotted, refused)
}

// dkimTXT is the DNS record publishing key's public half.
func dkimTXT(t *testing.T, key any) string {
	t.Helper()
	switch k := key.(type) {
	case *rsa.PrivateKey:
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PrivateKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
	}
	t.Fatal("key type")
	return ""
}

func verifyAssembled(t *testing.T, raw []byte, txt string) {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "herald2026._domainkey.news.example.com" {
				return nil, fmt.Errorf("no TXT for %s", domain)
			}
			return []string{txt}, nil
		},
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		var verr error
		if len(vs) > 0 {
			verr = vs[0].Err
		}
		t.Fatalf("dkim: %v, %d signatures, %v\n%s", err, len(vs), verr, raw)
	}
}

// TestPythonStrictAssembled runs Debian's Python email parser with
// email.policy.strict over 300 generated assembled messages: no defects.
func TestPythonStrictAssembled(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(13, 13))
	tmpls := []*model.Template{genTemplate(rng, 4), genTemplate(rng, 4), genTemplate(rng, 4)}
	dir := t.TempDir()
	lines := newLineCache(1 << 20)
	var files []string
	for i := 0; len(files) < 300; i++ {
		msg := genMessage(rng, i, tmpls)
		if !isPrintableASCII(string(msg.ToAddr)) {
			// An RFC 6532 header: Python's default policies flag any
			// non-ASCII local part (smtputf8_test.go covers these).
			continue
		}
		var b bytes.Buffer
		if _, err := assemble(&b, nil, msg, composeOptions{now: time.Now}, lines); err != nil {
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf("m%03d.eml", i))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	testkit.PythonStrict(t, files)
}

// TestWriteHeaderMatchesGoMail compares writeHeader with go-mail's header
// writer on values with runs of spaces, long words and edge lengths.
func TestWriteHeaderMatchesGoMail(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(21, 21))
	words := []string{"", "a", "word", strings.Repeat("x", 30), strings.Repeat("y", 80), "=?utf-8?q?abc?="}
	for i := range 20000 {
		var parts []string
		for range rng.IntN(12) {
			parts = append(parts, words[rng.IntN(len(words))])
		}
		value := strings.Join(parts, " ")
		key := []string{"Subject", "To", "List-Unsubscribe", "X-A-Rather-Long-Header-Name"}[rng.IntN(4)]
		m := mail.NewMsg(mail.WithNoDefaultUserAgent())
		m.SetGenHeader(mail.Header(key), value)
		m.SetMessageIDWithValue("a@b")
		m.SetDateWithValue(time.Unix(0, 0))
		m.SetBodyString(mail.TypeTextPlain, "")
		var ref bytes.Buffer
		if _, err := m.WriteTo(&ref); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeHeader(&got, key, value)
		// go-mail's output holds the header among others; find it.
		if !bytes.Contains(ref.Bytes(), got.Bytes()) {
			t.Fatalf("case %d: %s %q:\n got %q\nwant within %q", i, key, value, got.String(), ref.String())
		}
	}
}
