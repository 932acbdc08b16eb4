package model_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// FuzzParseAddress checks the address check every subscriber passes
// (subscribe form, CLI, CSV import): never a panic; an accepted address
// has no control character, space or separator, parses back with
// net/mail as itself, and is a fixed point. The seed corpus is in
// testdata/fuzz/FuzzParseAddress.
func FuzzParseAddress(f *testing.F) {
	f.Add("Reader@Example.COM")
	f.Add("a\r\nBcc: b@example.com")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := model.ParseAddress(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(string(out), "\r\n\t\x00 <>,;\"\u2028\u2029\u0085\u00a0\x7f") || model.HasFormat(string(out)) {
			t.Fatalf("accepted %q as %q", s, out)
		}
		a, err := mail.ParseAddress(string(out))
		if err != nil || a.Address != string(out) {
			t.Fatalf("%q does not parse back: %v", out, err)
		}
		if again, err := model.ParseAddress(string(out)); err != nil || again != out {
			t.Fatalf("not a fixed point: %q -> %q (%v)", out, again, err)
		}
	})
}

func TestParseAddressNormalises(t *testing.T) {
	for in, want := range map[string]string{
		"  Reader@Example.COM ": "Reader@example.com",
		"a@B.co":                "a@b.co",
	} {
		if got, err := model.ParseAddress(in); err != nil || string(got) != want {
			t.Errorf("ParseAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"nodomain", "a@b.c", "a@exam ple.com", "a@1.23", "", "Name <a@example.com>",
		"a\u2028b@example.com", "a\u2029b@example.com", "a\u0085b@example.com", "a\u00a0b@example.com", "a\x7fb@example.com"} {
		if _, err := model.ParseAddress(in); !errors.Is(err, model.ErrInvalidAddress) || model.ErrorCode(err) != model.EINVALID {
			t.Errorf("ParseAddress(%q) = %v, want ErrInvalidAddress", in, err)
		}
	}
}

// The subscribe form's cases (it used its own check before there was one
// address type): a one-letter top-level label was accepted there and
// refused by the subscription; now the one rule refuses it everywhere.
func TestParseAddressFormCases(t *testing.T) {
	for s, want := range map[string]bool{
		"reader@example.com":             true,
		"Reader <reader@example.com>":    false,
		"reader@localhost":               false,
		"reader@example.com\r\nBcc: x@y": false,
		"no-at-sign":                     false,
		"":                               false,
		"a@b.c":                          false,
		"a@b.co":                         true,
		"a@.example.com":                 false,
		"rea der@example.com":            false,
		"rea\tder@example.com":           false,
		"rea\x00der@example.com":         false,
		"reader@exam\nple.com":           false,
	} {
		if _, err := model.ParseAddress(s); (err == nil) != want {
			t.Errorf("ParseAddress(%q) = %v, want ok=%v", s, err, want)
		}
	}
}

// Invisible format characters (Cf) are refused anywhere in an address:
// "admin\u202e@example.com" must not pass for another address.
func TestParseAddressRefusesFormatCharacters(t *testing.T) {
	for _, s := range []string{"ann\u202e@example.com", "ann\u200b@example.com", "\ufeffann@example.com",
		"ann@exam\u200dple.com", "ann\u2066x\u2069@example.com", "ann\u00ad@example.com", "ann\xff@example.com"} {
		if _, err := model.ParseAddress(s); !errors.Is(err, model.ErrInvalidAddress) {
			t.Errorf("ParseAddress(%q) = %v, want refused", s, err)
		}
	}
	if got := model.StripFormat("Ann\u202eeL\u200b \u2066Lee\u2069"); got != "AnneL Lee" {
		t.Errorf("StripFormat = %q", got)
	}
}
