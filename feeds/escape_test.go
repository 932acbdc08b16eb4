package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"testing"
)

// FuzzEscape: the word-at-a-time escapers write what encoding/xml and
// encoding/json (HTML escaping off) write.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"plain text of some length", `<p class="x">a & 'b'</p>`, "tab\there\nnew\rline", "\x00\x01\x1f",
		"é ü “quoted” \u2028 \u2029 \uFFFE \xff\xfe", `back\slash "quote" ]]> end`, "12345678<", "1234567<8", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		_ = xml.EscapeText(&want, []byte(s))
		if got := appendXML(nil, s); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendXML(%q) = %q, want %q", s, got, want.Bytes())
		}
		want.Reset()
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		if got := appendJSON(nil, s); !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("appendJSON(%q) = %q, want %q", s, got, want.Bytes())
		}
	})
}
