package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/editor"
)

func (m *Main) auditCommand() *cobra.Command {
	var (
		since string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "audit [--since DURATION] [--limit N]",
		Short: "Who did what, when: logins, send-now, cancel, resume, import, editor changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				d, err := config.ParseDuration(since)
				if err != nil || d <= 0 {
					return fmt.Errorf("--since: want a positive duration such as 24h or 7d, got %q", since)
				}
				from = m.Now().Add(-d.D())
			}
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			es, err := m.newEditors().Audit(cmd.Context(), from, 0, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tWHO\tACTION\tTARGET\tDETAIL\tCLIENT")
			for _, e := range es {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Actor, e.Action,
					orDash(e.Target), orDash(e.Detail), orDash(e.Client))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries this recent (e.g. 24h, 7d; default: all)")
	cmd.Flags().IntVar(&limit, "limit", 1000, "at most N entries, newest first (1 to 1000)")
	return cmd
}

// audit records an action taken from the command line in the audit log
// (the store is open: the command has just used it).
func (m *Main) audit(ctx context.Context, action, target, detail string) {
	if m.Store != nil {
		m.newEditors().Record(ctx, editor.CLI, action, target, detail)
	}
}

// apiAudit records an action of the JSON API (actor "api").
func (m *Main) apiAudit(ctx context.Context, action, target, detail, client string) {
	m.newEditors().Record(ctx, editor.Actor{Name: "api", Client: client}, action, target, detail)
}
