package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/subscription"
)

func (m *Main) subscribersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "subscribers", Short: "Add, import, export, list and remove subscribers"}
	cmd.AddCommand(m.subscribersAdd(), m.subscribersImport(), m.subscribersExport(), m.subscribersList(), m.subscribersRemove(),
		m.subscribersErase())
	return cmd
}

func (m *Main) subscribersAdd() *cobra.Command {
	var req subscription.Request
	cmd := &cobra.Command{
		Use:   "add EMAIL [--name N] [--digest NAME] [--section SLUG]... [--author SLUG]... [--timezone ZONE] [--confirmed]",
		Short: "Add one subscriber; without --confirmed a confirmation email goes out (double opt-in)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Email = args[0]
			svc, closeFn, err := m.subscriptionService(cmd.Context(), !req.Confirmed)
			if err != nil {
				return err
			}
			defer closeFn()
			sub, mailed, err := svc.Subscribe(cmd.Context(), req)
			queued := errors.Is(err, subscription.ErrQueued)
			if err != nil && !queued {
				return err
			}
			msg := fmt.Sprintf("%s is %s", sub.Email, sub.Status)
			switch {
			case sub.ID == 0:
				msg = fmt.Sprintf("%s is on the suppression list; nothing sent", req.Email)
			case queued:
				msg += "; the email is queued and the running daemon sends it"
			case mailed && sub.Status == model.SubscriberActive:
				msg += " already; an email went out (a link to the preferences page, or a confirmation for this digest); add --confirmed to change their subscription"
			case mailed:
				msg += "; confirmation email sent"
			case !req.Confirmed && sub.Status == model.SubscriberActive:
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
	f.StringVar(&req.Timezone, "timezone", "", "the subscriber's IANA timezone, e.g. Pacific/Auckland (digests with delivery: local go out at their local time)")
	f.BoolVar(&req.Confirmed, "confirmed", false, "add as active without a confirmation email")
	return cmd
}

func (m *Main) subscribersImport() *cobra.Command {
	var opt subscription.ImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--resubscribe]",
		Short: "Upsert subscribers from CSV (email,name,digest,sections,authors,status,timezone), keeping every opt-out",
		Long: `import reads CSV with the columns email, name, digest, sections, authors,
status, timezone (a header row is optional; trailing columns may be left
out). sections and authors hold slugs separated by spaces, ';' or '|'; none
means everything. status is active, pending, bounced, complained, erased, or
unsubscribed (ends that row's subscription only); empty keeps what is stored
(a new row is active). timezone is an IANA name such as Europe/London. Rows
are upserted: importing a file twice changes nothing. No email is sent.

An import keeps every opt-out: it never reactivates an unsubscribed
subscription, nor a bounced, complained, erased or suppressed address (an
empty status included). Such rows are skipped and listed with their line and
reason. --resubscribe lets active rows reactivate unsubscribed subscriptions,
and nothing else.

The report counts rows added, updated and skipped by reason. Each bad row is
reported with its line number and reason and the import carries on; the exit
status is 1 when any row was bad.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			svc, closeFn, err := m.subscriptionService(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := svc.ImportWith(cmd.Context(), f, opt)
			if err == nil {
				m.audit(cmd.Context(), "import", args[0], fmt.Sprintf("imported %d, bad %d, skipped %d", rep.Imported, len(rep.Bad), len(rep.Skipped)))
			}
			for _, b := range rep.Bad {
				fmt.Fprintf(cmd.ErrOrStderr(), "line %d: %s\n", b.Line, b.Reason)
			}
			for _, sk := range rep.Skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "line %d: skipped: %s%s\n", sk.Line, sk.Reason, skipHint(sk.Reason, opt.Resubscribe))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d row(s), %d bad: %d added, %d updated, %d skipped%s\n",
				rep.Imported, len(rep.Bad), rep.Added, rep.Updated, len(rep.Skipped), skippedBy(rep))
			if len(rep.Bad) > 0 {
				return fmt.Errorf("%s: %d bad row(s), reported above", args[0], len(rep.Bad))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opt.Resubscribe, "resubscribe", false, "let active rows reactivate unsubscribed subscriptions (never bounced, complained, erased or suppressed addresses)")
	return cmd
}

// skipHint says how to undo a skip, when there is a way.
func skipHint(reason string, resubscribe bool) string {
	switch reason {
	case model.SubscriptionUnsubscribed:
		if !resubscribe {
			return " (the reader unsubscribed; --resubscribe reactivates)"
		}
	case model.SubscriberBounced, model.SubscriberComplained, model.SuppressedOperator:
		return " (on the suppression list; see herald suppressions)"
	}
	return ""
}

// skippedBy lists the skip reasons with their counts: " (unsubscribed 2, bounced 1)".
func skippedBy(rep subscription.ImportReport) string {
	by := rep.SkippedBy()
	if len(by) == 0 {
		return ""
	}
	reasons := make([]string, 0, len(by))
	for r := range by {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s %d", r, by[r])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (m *Main) subscribersExport() *cobra.Command {
	return &cobra.Command{
		Use:   "export",
		Short: "Write every subscription as CSV to stdout (the import format)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, closeFn, err := m.subscriptionService(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer closeFn()
			return svc.Export(cmd.Context(), cmd.OutOrStdout())
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
			addr, err := model.ParseAddress(args[0])
			if err != nil {
				return err
			}
			err = m.Store.RemoveSubscriber(cmd.Context(), addr)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no subscriber %s", addr)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s removed\n", addr)
			return nil
		},
	}
}

func (m *Main) subscribersErase() *cobra.Command {
	return &cobra.Command{
		Use:   "erase EMAIL",
		Short: "Remove a subscriber's personal data, leaving a keyed hash on the suppression list",
		Long: `erase removes everything herald keeps about one address — the subscriber
row's address and name, follows, the last SMTP replies of its deliveries, bounce
diagnostics, queued mail, audit entries — and ends every subscription. Only a
keyed hash of the address stays, on the suppression list, so no import brings
it back; the owner may subscribe again and confirm.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, closeFn, err := m.subscriptionService(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer closeFn()
			if err := svc.EraseAddress(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s erased\n", args[0])
			return nil
		},
	}
}
