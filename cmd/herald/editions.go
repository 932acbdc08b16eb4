package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/internal/model"
)

func (m *Main) editionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "editions", Short: "What was sent to whom, what failed and why; finish or stop an edition"}
	var (
		digestName string
		limit      int
		wait       time.Duration
	)
	list := &cobra.Command{
		Use:   "list [--digest NAME] [--limit N]",
		Short: "Recent editions with their deliveries counted by status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			eds, err := m.Store.Editions(cmd.Context(), digestName, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDIGEST\tKIND\tSTATUS\tCREATED\tPENDING\tSENT\tSKIPPED\tFAILED\tCANCELLED")
			for _, e := range eds {
				c := e.Counts
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", e.ID, e.Digest, kind(e), e.Status,
					e.CreatedAt.Format("2006-01-02 15:04Z07:00"), c[model.DeliveryPending], c[model.DeliverySent],
					c[model.DeliverySkipped], c[model.DeliveryFailed], c[model.DeliveryCancelled])
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&digestName, "digest", "", "only this digest")
	list.Flags().IntVar(&limit, "limit", 20, "at most N editions")

	var all bool
	show := &cobra.Command{
		Use:   "show ID [--all]",
		Short: "One edition's deliveries: status, attempts and last reply (skipped ones with --all)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := editionID(args[0])
			if err != nil {
				return err
			}
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			e, err := m.Store.Edition(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("edition %d: %w", id, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "edition %d of %s (%s), %s\ncandidates visible in (%s, %s]\n", e.ID, e.Digest, kind(e), e.Status,
				e.Since.Format(time.RFC3339), e.Cutoff.Format(time.RFC3339))
			if len(e.Sections)+len(e.Authors) > 0 {
				fmt.Fprintf(w, "only sections %v, authors %v\n", e.Sections, e.Authors)
			}
			fmt.Fprintf(w, "counts: %v\n\n", e.Counts)
			tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tSTATUS\tATTEMPTS\tSENT\tARTICLES\tMESSAGE-ID\tLAST REPLY")
			var after int64
			for {
				ds, err := m.Store.Deliveries(cmd.Context(), id, after, 1000)
				if err != nil {
					return err
				}
				if len(ds) == 0 {
					break
				}
				for _, d := range ds {
					if d.Status == model.DeliverySkipped && !all {
						continue
					}
					sent := "-"
					if !d.SentAt.IsZero() {
						sent = d.SentAt.Format("2006-01-02 15:04:05Z07:00")
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\n", d.Email, d.Status, d.Attempts, sent, len(d.ArticleIDs),
						orDash(d.MessageID), orDash(oneLine(d.LastReply)))
				}
				after = ds[len(ds)-1].ID
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&all, "all", false, "include skipped deliveries")

	resume := &cobra.Command{
		Use:   "resume ID [--wait DURATION]",
		Short: "Finish an edition: plan what is left and send what is pending",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := editionID(args[0])
			if err != nil {
				return err
			}
			svc, closeFn, err := m.digestService(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer closeFn()
			prog := m.progress(cmd.ErrOrStderr())
			res, err := svc.Resume(cmd.Context(), id, wait, prog.update)
			prog.finish()
			if err != nil {
				return err
			}
			m.audit(cmd.Context(), "resume", fmt.Sprintf("edition %d", id), fmt.Sprintf("sent=%d failed=%d left=%d", res.Sent, res.Failed, res.Left))
			fmt.Fprintf(cmd.OutOrStdout(), "sent %d, skipped %d, failed %d, left for retry %d\n", res.Sent, res.Skipped, res.Failed, res.Left)
			if res.Left > 0 {
				return &exitError{code: ExitRetryLeft, err: fmt.Errorf("%d deliveries left for retry", res.Left)}
			}
			return nil
		},
	}
	resume.Flags().DurationVar(&wait, "wait", 0, "keep retrying temporary failures this long")

	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Stop an edition: its pending deliveries are cancelled",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := editionID(args[0])
			if err != nil {
				return err
			}
			svc, closeFn, err := m.digestService(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer closeFn()
			if err := svc.Cancel(cmd.Context(), id); err != nil {
				return err
			}
			m.audit(cmd.Context(), "cancel", fmt.Sprintf("edition %d", id), "")
			fmt.Fprintf(cmd.OutOrStdout(), "edition %d cancelled\n", id)
			return nil
		},
	}
	cmd.AddCommand(list, show, resume, cancel)
	return cmd
}

func editionID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("edition id must be a positive number, got %q", s)
	}
	return id, nil
}

func kind(e model.Edition) string {
	if e.Kind == model.EditionScheduled && e.Slot != "" {
		return "scheduled " + e.Slot
	}
	return e.Kind
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
