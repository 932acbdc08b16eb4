package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// csvHeader is the column order of import and export.
var csvHeader = []string{"email", "name", "digest", "sections", "authors", "status"}

func (m *Main) subscribersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "subscribers", Short: "Add, import, export, list and remove subscribers"}
	cmd.AddCommand(m.subscribersAdd(), m.subscribersImport(), m.subscribersExport(), m.subscribersList(), m.subscribersRemove())
	return cmd
}

func (m *Main) subscribersAdd() *cobra.Command {
	var req digest.SubscribeRequest
	cmd := &cobra.Command{
		Use:   "add EMAIL [--name N] [--digest NAME] [--section SLUG]... [--author SLUG]... [--confirmed]",
		Short: "Add one subscriber; without --confirmed a confirmation email goes out (double opt-in)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Email = args[0]
			svc, closeFn, err := m.digestService(cmd.Context(), !req.Confirmed)
			if err != nil {
				return err
			}
			defer closeFn()
			sub, mailed, err := svc.Subscribe(cmd.Context(), req)
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("%s is %s", sub.Email, sub.Status)
			if mailed {
				msg += "; confirmation email sent"
			} else if !req.Confirmed && sub.Status == model.SubscriberActive {
				msg += " already; nothing changed (add --confirmed to change their subscription)"
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "the subscriber's name")
	f.StringVar(&req.Digest, "digest", "", "digest name (default: the first configured)")
	f.StringArrayVar(&req.Sections, "section", nil, "follow this section (repeatable; none: everything)")
	f.StringArrayVar(&req.Authors, "author", nil, "follow this author (repeatable)")
	f.BoolVar(&req.Confirmed, "confirmed", false, "add as active without a confirmation email")
	return cmd
}

func (m *Main) subscribersImport() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Upsert subscribers from CSV (email,name,digest,sections,authors,status)",
		Long: `import reads CSV with the columns email, name, digest, sections, authors,
status (a header row is optional). sections and authors hold slugs separated
by spaces, ';' or '|'; none means everything. status is active (the default
for a new row), pending, bounced, erased, or unsubscribed (ends that row's
subscription only). Rows are upserted: importing a file twice changes
nothing. Each bad row is reported with its line number and reason and the
import carries on; the exit status is 1 when any row was bad. No email is
sent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			ok, bad, err := m.importCSV(cmd.Context(), f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d row(s), %d bad\n", ok, bad)
			if bad > 0 {
				return fmt.Errorf("%s: %d bad row(s), reported above", args[0], bad)
			}
			return nil
		},
	}
}

func splitSlugs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' || r == '|' || r == ',' || r == '\t' })
}

// importCSV upserts each good row and reports each bad one on errw.
func (m *Main) importCSV(ctx context.Context, r io.Reader, errw io.Writer) (ok, bad int, err error) {
	digests := map[string]bool{}
	for _, d := range m.Config.Digests {
		digests[d.Name] = true
	}
	sections, authors := map[string]bool{}, map[string]bool{}
	secs, err := m.Store.Sections(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, s := range secs {
		sections[s.Slug] = true
	}
	auths, err := m.Store.Authors(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, a := range auths {
		authors[a.Slug] = true
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
				fmt.Fprintf(errw, "line %d: %v\n", pe.Line, pe.Err)
				bad++
				continue
			}
			return ok, bad, err
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
		if reason := m.importRow(ctx, rec, digests, sections, authors); reason != "" {
			fmt.Fprintf(errw, "line %d: %s\n", line, reason)
			bad++
			continue
		}
		ok++
	}
	return ok, bad, nil
}

// importRow upserts one CSV row, returning why it is bad ("" when done).
func (m *Main) importRow(ctx context.Context, rec []string, digests, sections, authors map[string]bool) string {
	if len(rec) < 1 || len(rec) > len(csvHeader) {
		return fmt.Sprintf("want up to %d columns (%s), got %d", len(csvHeader), strings.Join(csvHeader, ","), len(rec))
	}
	col := func(i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	email, err := digest.ParseEmail(col(0))
	if err != nil {
		return fmt.Sprintf("invalid email address %q", col(0))
	}
	name := col(1)
	dname := col(2)
	if dname == "" {
		dname = m.Config.Digests[0].Name
	}
	if !digests[dname] {
		return fmt.Sprintf("unknown digest %q", dname)
	}
	secs, auths := splitSlugs(col(3)), splitSlugs(col(4))
	for _, s := range secs {
		if !sections[s] {
			return fmt.Sprintf("unknown section %q", s)
		}
	}
	for _, a := range auths {
		if !authors[a] {
			return fmt.Sprintf("unknown author %q", a)
		}
	}
	status, subStatus := strings.ToLower(col(5)), model.SubscriptionActive
	switch status {
	case "":
		if _, found, err := m.Store.FindSubscriber(ctx, email); err != nil {
			return err.Error()
		} else if !found {
			status = model.SubscriberActive
		}
	case model.SubscriberActive, model.SubscriberPending, model.SubscriberBounced, model.SubscriberErased:
	case model.SubscriptionUnsubscribed:
		status, subStatus = "", model.SubscriptionUnsubscribed
		if _, found, err := m.Store.FindSubscriber(ctx, email); err != nil {
			return err.Error()
		} else if !found {
			status = model.SubscriberActive
		}
	default:
		return fmt.Sprintf("unknown status %q (want active, pending, bounced, erased or unsubscribed)", col(5))
	}
	sub, _, err := m.Store.UpsertSubscriber(ctx, email, name, status)
	if err != nil {
		return err.Error()
	}
	if _, err := m.Store.UpsertSubscription(ctx, sub.ID, dname, secs, auths, subStatus); err != nil {
		return err.Error()
	}
	return ""
}

func (m *Main) subscribersExport() *cobra.Command {
	return &cobra.Command{
		Use:   "export",
		Short: "Write every subscription as CSV to stdout (the import format)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			w := csv.NewWriter(cmd.OutOrStdout())
			if err := w.Write(csvHeader); err != nil {
				return err
			}
			err := m.Store.EachSubscriber(cmd.Context(), func(s model.Subscriber, subs []model.Subscription) error {
				if len(subs) == 0 {
					return w.Write([]string{s.Email, s.Name, "", "", "", s.Status})
				}
				for _, su := range subs {
					status := s.Status
					if su.Status == model.SubscriptionUnsubscribed && s.Status == model.SubscriberActive {
						status = model.SubscriptionUnsubscribed
					}
					if err := w.Write([]string{s.Email, s.Name, su.Digest, strings.Join(su.Sections, " "), strings.Join(su.Authors, " "), status}); err != nil {
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
		},
	}
}

func (m *Main) subscribersList() *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use:   "list [--status STATUS]",
		Short: "List subscribers with their subscriptions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tNAME\tSTATUS\tSUBSCRIPTIONS")
			n := 0
			err := m.Store.EachSubscriber(cmd.Context(), func(s model.Subscriber, subs []model.Subscription) error {
				if status != "" && s.Status != status {
					return nil
				}
				n++
				var parts []string
				for _, su := range subs {
					p := su.Digest
					follows := slices.Concat(su.Sections, prefixed("@", su.Authors))
					if len(follows) > 0 {
						p += "(" + strings.Join(follows, " ") + ")"
					}
					if su.Status != model.SubscriptionActive {
						p += " [" + su.Status + "]"
					}
					parts = append(parts, p)
				}
				_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Email, orDash(s.Name), s.Status, orDash(strings.Join(parts, ", ")))
				return err
			})
			if err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d subscriber(s)\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only subscribers with this status")
	return cmd
}

func prefixed(p string, v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = p + s
	}
	return out
}

func (m *Main) subscribersRemove() *cobra.Command {
	return &cobra.Command{
		Use:   "remove EMAIL",
		Short: "Erase a subscriber: no more mail, name cleared, every subscription ended",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			err := m.Store.RemoveSubscriber(cmd.Context(), args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no subscriber %s", strings.TrimSpace(args[0]))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s removed\n", store.NormalizeEmail(args[0]))
			return nil
		},
	}
}
