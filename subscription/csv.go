package subscription

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

// CSVHeader is the column order of import and export.
var CSVHeader = []string{"email", "name", "digest", "sections", "authors", "status", "timezone"}

// ImportReport counts what an import did: rows that added a subscriber or
// a subscription, rows that updated one, rows skipped to keep an opt-out
// (by reason, with their lines), and bad rows.
type ImportReport struct {
	Imported int // Added + Updated
	Added    int
	Updated  int
	Skipped  []SkippedRow
	Bad      []BadRow
}

// BadRow is one refused CSV row: its line and why.
type BadRow struct {
	Line   int
	Reason string
}

// SkippedRow is a good row left alone so that nobody who left comes back:
// Reason is unsubscribed, bounced, complained, erased or suppressed.
type SkippedRow struct {
	Line   int
	Reason string
}

// SkippedBy counts the skipped rows by reason.
func (r ImportReport) SkippedBy() map[string]int {
	out := map[string]int{}
	for _, sk := range r.Skipped {
		out[sk.Reason]++
	}
	return out
}

// ImportOptions tune an import.
type ImportOptions struct {
	// Resubscribe lets a row whose status is active (or empty) reactivate
	// an unsubscribed subscription. Nothing ever reactivates a bounced,
	// complained, erased or suppressed address.
	Resubscribe bool
}

// Import is ImportWith without options.
func (s *Service) Import(ctx context.Context, r io.Reader) (ImportReport, error) {
	return s.ImportWith(ctx, r, ImportOptions{})
}

// ImportWith upserts each good row of a CSV subscriber list (the
// CSVHeader columns; a header row is optional) and reports each bad one
// with its line number and reason, carrying on after it. sections and
// authors hold slugs separated by spaces, ';', '|' or ','; none means
// everything. status is active, pending, bounced, complained, erased, or
// unsubscribed (ends that row's subscription only); empty keeps what is
// stored (a new row is active). timezone is an IANA name ("" leaves the
// reader's as it is). An import keeps every opt-out: it never
// reactivates an unsubscribed subscription (unless opt.Resubscribe) nor a
// bounced, complained, erased or suppressed address — such rows are
// skipped and reported. Rows are upserted: importing a file twice changes
// nothing. No email is sent. The error is for a failure that stops the
// import (an unreadable stream, the database).
func (s *Service) ImportWith(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	im, err := s.newImporter(ctx, opt)
	if err != nil {
		return rep, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rep.Bad = append(rep.Bad, BadRow{Line: pe.Line, Reason: pe.Err.Error()})
				continue
			}
			return rep, err
		}
		if first {
			first = false
			if len(rec) > 0 && strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "email") {
				continue
			}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := cr.FieldPos(0)
		res, reason, err := im.row(ctx, rec)
		switch {
		case err != nil:
			return rep, fmt.Errorf("line %d: %w", line, err)
		case res == rowBad:
			rep.Bad = append(rep.Bad, BadRow{Line: line, Reason: reason})
		case res == rowSkipped:
			rep.Skipped = append(rep.Skipped, SkippedRow{Line: line, Reason: reason})
		case res == rowAdded:
			rep.Added++
		default:
			rep.Updated++
		}
	}
	rep.Imported = rep.Added + rep.Updated
	return rep, nil
}

func splitSlugs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' || r == '|' || r == ',' || r == '\t' })
}

// Export writes every subscription as a CSV row in the import format: its
// status is the subscription's (active, unsubscribed) while the subscriber
// is active, else the subscriber's (pending, bounced, complained). A
// subscriber without subscriptions is one row with an empty digest. Erased
// subscribers have nothing left to export.
func (s *Service) Export(ctx context.Context, out io.Writer) error {
	w := csv.NewWriter(out)
	if err := w.Write(CSVHeader); err != nil {
		return err
	}
	err := s.store.EachSubscriber(ctx, func(sub model.Subscriber, subs []model.Subscription) error {
		if sub.Status == model.SubscriberErased {
			return nil
		}
		if len(subs) == 0 {
			return w.Write(csvCells(string(sub.Email), sub.Name, "", "", "", sub.Status, sub.Timezone))
		}
		for _, su := range subs {
			status := sub.Status
			if su.Status == model.SubscriptionUnsubscribed && sub.Status == model.SubscriberActive {
				status = model.SubscriptionUnsubscribed
			}
			if err := w.Write(csvCells(string(sub.Email), sub.Name, su.Digest, strings.Join(su.Sections, " "), strings.Join(su.Authors, " "), status, sub.Timezone)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// csvCells neutralises every cell a spreadsheet would run as a formula
// (OWASP's CSV injection advice): a cell starting with =, +, -, @, a tab
// or a carriage return gets a leading apostrophe, which spreadsheets take
// as "text" and do not show; a cell that already starts with an apostrophe
// gets one more, so csvValue can undo exactly what was added and an
// import reads the export back unchanged.
func csvCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.IndexByte("=+-@\t\r'", c[0]) >= 0 {
			cells[i] = "'" + c
		}
	}
	return cells
}

// csvValue undoes csvCells for one cell: a leading apostrophe is dropped.
// (A file from elsewhere with a name such as 'Tis loses that apostrophe.)
func csvValue(c string) string { return strings.TrimPrefix(c, "'") }
