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

// ImportReport counts what an import did; Bad lists each refused row.
type ImportReport struct {
	Imported int
	Bad      []BadRow
}

// BadRow is one refused CSV row: its line and why.
type BadRow struct {
	Line   int
	Reason string
}

// Import upserts each good row of a CSV subscriber list (the CSVHeader
// columns; a header row is optional) and reports each bad one with its line
// number and reason, carrying on after it. sections and authors hold slugs
// separated by spaces, ';', '|' or ','; none means everything. status is
// active (the default for a new row), pending, bounced, erased, or
// unsubscribed (ends that row's subscription only). timezone is an IANA
// name ("" leaves the reader's as it is). Rows are upserted: importing a
// file twice changes nothing. No email is sent. The error is
// for a failure that stops the import (an unreadable stream, the database).
func (s *Service) Import(ctx context.Context, r io.Reader) (ImportReport, error) {
	var rep ImportReport
	digests := map[string]bool{}
	for _, d := range s.cfg.Digests {
		digests[d.Name] = true
	}
	sections, authors, err := s.slugSets(ctx)
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
		if reason := s.importRow(ctx, rec, digests, sections, authors); reason != "" {
			rep.Bad = append(rep.Bad, BadRow{Line: line, Reason: reason})
			continue
		}
		rep.Imported++
	}
	return rep, nil
}

func splitSlugs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' || r == '|' || r == ',' || r == '\t' })
}

// importRow upserts one CSV row, returning why it is bad ("" when done).
func (s *Service) importRow(ctx context.Context, rec []string, digests, sections, authors map[string]bool) string {
	if len(rec) < 1 || len(rec) > len(CSVHeader) {
		return fmt.Sprintf("want up to %d columns (%s), got %d", len(CSVHeader), strings.Join(CSVHeader, ","), len(rec))
	}
	col := func(i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	email, err := model.ParseAddress(col(0))
	if err != nil {
		return fmt.Sprintf("invalid email address %q", col(0))
	}
	name := col(1)
	dname := col(2)
	if dname == "" {
		dname = s.cfg.Digests[0].Name
	}
	if !digests[dname] {
		return fmt.Sprintf("unknown digest %q", dname)
	}
	secs, auths := splitSlugs(col(3)), splitSlugs(col(4))
	for _, x := range secs {
		if !sections[x] {
			return fmt.Sprintf("unknown section %q", x)
		}
	}
	for _, x := range auths {
		if !authors[x] {
			return fmt.Sprintf("unknown author %q", x)
		}
	}
	status, subStatus := strings.ToLower(col(5)), model.SubscriptionActive
	switch status {
	case "":
		if _, found, err := s.store.FindSubscriber(ctx, email); err != nil {
			return err.Error()
		} else if !found {
			status = model.SubscriberActive
		}
	case model.SubscriberActive, model.SubscriberPending, model.SubscriberBounced, model.SubscriberErased:
	case model.SubscriptionUnsubscribed:
		status, subStatus = "", model.SubscriptionUnsubscribed
		if _, found, err := s.store.FindSubscriber(ctx, email); err != nil {
			return err.Error()
		} else if !found {
			status = model.SubscriberActive
		}
	default:
		return fmt.Sprintf("unknown status %q (want active, pending, bounced, erased or unsubscribed)", col(5))
	}
	tz, err := checkTimezone(col(6))
	if err != nil {
		return fmt.Sprintf("unknown timezone %q", col(6))
	}
	sub, _, err := s.store.UpsertSubscriber(ctx, email, name, status)
	if err != nil {
		return err.Error()
	}
	if err := s.setTimezone(ctx, &sub, tz); err != nil {
		return err.Error()
	}
	if _, err := s.store.UpsertSubscription(ctx, sub.ID, dname, secs, auths, subStatus); err != nil {
		return err.Error()
	}
	return ""
}

// Export writes every subscription as a CSV row in the import format: its
// status is the subscription's (active, unsubscribed) while the subscriber
// is active, else the subscriber's (pending, bounced, erased). A subscriber
// without subscriptions is one row with an empty digest.
func (s *Service) Export(ctx context.Context, out io.Writer) error {
	w := csv.NewWriter(out)
	if err := w.Write(CSVHeader); err != nil {
		return err
	}
	err := s.store.EachSubscriber(ctx, func(sub model.Subscriber, subs []model.Subscription) error {
		if len(subs) == 0 {
			return w.Write([]string{string(sub.Email), sub.Name, "", "", "", sub.Status, sub.Timezone})
		}
		for _, su := range subs {
			status := sub.Status
			if su.Status == model.SubscriptionUnsubscribed && sub.Status == model.SubscriberActive {
				status = model.SubscriptionUnsubscribed
			}
			if err := w.Write([]string{string(sub.Email), sub.Name, su.Digest, strings.Join(su.Sections, " "), strings.Join(su.Authors, " "), status, sub.Timezone}); err != nil {
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
