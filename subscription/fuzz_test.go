package subscription_test

import (
	"context"
	"encoding/csv"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/subscription"
)

// FuzzImportCSV runs arbitrary CSV through `subscribers import`'s parser
// against a real database: never a panic or an error other than a bad
// row; no more rows imported than records; every stored address is one
// model.ParseAddress accepts as itself. The seed corpus is in
// testdata/fuzz/FuzzImportCSV.
func FuzzImportCSV(f *testing.F) {
	f.Add("email,name,digest,sections,authors,status\na@example.com,A,daily,world,,active\n")
	f.Add("b@example.com,\"B, \"\"quoted\"\"\",daily,,ann,unsubscribed\n")
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(f.TempDir(), "herald.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	err = st.WriteContent(ctx, func(w *store.ContentWriter) error {
		if _, err := w.Section(model.Section{Slug: "world", Name: "World"}); err != nil {
			return err
		}
		_, err := w.Author(model.Author{Slug: "ann", Name: "Ann"})
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	cfg := config.Default()
	cfg.Digests = []config.Digest{config.DefaultDigest()}
	cfg.Secret = "fuzz-secret"
	svc, err := subscription.New(subscription.Options{Config: cfg, Store: st, Content: st})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, csvText string) {
		rep, err := svc.Import(ctx, strings.NewReader(csvText))
		ok, bad := rep.Imported, len(rep.Bad)
		if err != nil {
			t.Fatalf("import error (not a bad row): %v", err)
		}
		if lines := strings.Count(csvText, "\n") + strings.Count(csvText, "\r") + 1; ok+bad > lines {
			t.Fatalf("%d rows imported and %d bad from %d lines", ok, bad, lines)
		}
		r := csv.NewReader(strings.NewReader(csvText))
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil || len(rec) == 0 {
				continue
			}
			addr, err := model.ParseAddress(rec[0])
			if err != nil {
				continue
			}
			sub, found, err := st.FindSubscriber(ctx, addr)
			if err != nil || !found {
				continue
			}
			if e, err := model.ParseAddress(string(sub.Email)); err != nil || e != sub.Email {
				t.Fatalf("stored address %q is not one ParseAddress accepts as itself (%q, %v)", sub.Email, e, err)
			}
		}
	})
}
