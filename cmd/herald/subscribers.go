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
	cmd.AddCommand(m.subscribersAdd(), m.subscribersImport(), m.subscribersExport(), m.subscribersList(), m.subscribersRemove())
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
	f.StringVar(&req.Timezone, "timezone", "", "the subscriber's IANA timezone, e.g. Pacific/Auckland (digests with delivery: local go out at their local time)")
	f.BoolVar(&req.Confirmed, "confirmed", false, "add as active without a confirmation email")
	return cmd
}

func (m *Main) subscribersImport() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Upsert subscribers from CSV (email,name,digest,sections,authors,status,timezone)",
		Long: `import reads CSV with the columns email, name, digest, sections, authors,
status, timezone (a header row is optional; trailing columns may be left
out). sections and authors hold slugs separated by spaces, ';' or '|'; none
means everything. status is active (the default for a new row), pending,
bounced, erased, or unsubscribed (ends that row's subscription only).
timezone is an IANA name such as Europe/London. Rows are upserted:
importing a file twice changes nothing. Each bad row is reported with its
line number and reason and the import carries on; the exit status is 1 when
any row was bad. No email is sent.`,
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
			rep, err := svc.Import(cmd.Context(), f)
			if err == nil {
				m.audit(cmd.Context(), "import", args[0], fmt.Sprintf("imported %d, bad %d", rep.Imported, len(rep.Bad)))
			}
			for _, b := range rep.Bad {
				fmt.Fprintf(cmd.ErrOrStderr(), "line %d: %s\n", b.Line, b.Reason)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d row(s), %d bad\n", rep.Imported, len(rep.Bad))
			if len(rep.Bad) > 0 {
				return fmt.Errorf("%s: %d bad row(s), reported above", args[0], len(rep.Bad))
			}
			return nil
		},
	}
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
