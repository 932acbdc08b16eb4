package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/lifecycle"
)

func (m *Main) bouncesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "bounces", Short: "Bounces and complaints reported after sending"}
	var rcpts []string
	process := &cobra.Command{
		Use:   "process [FILE|-] [--rcpt ADDR]",
		Short: "Record one bounce, complaint or provider notice read from a file or stdin (an MTA's pipe transport)",
		Long: `process reads one message (a delivery status notification, an ARF complaint,
a bounce text, or anything else that reached the bounce address) from FILE or,
with - or no argument, from stdin, and records what it reports against the
message herald sent: matched by the VERP token of its envelope recipient
(--rcpt, as an MTA's pipe passes it; else Delivered-To and X-Original-To),
else by the original Message-ID, else by the failed recipient's address.

A hard bounce marks the address bounced; soft bounces count (bounces.soft_limit
from distinct editions within bounces.soft_window mark it bounced); a report
that blames the sender changes nothing for the address; a complaint marks it
complained and ends every subscription. A message that is not a bounce
(an auto-reply, a reader's reply) changes nothing.

Exit status: 0 when the message was recorded or deliberately ignored, 75
(EX_TEMPFAIL) when it could not be recorded now, so the MTA tries again.

Postfix (master.cf):
  herald unix - n n - - pipe
    flags=Rq user=herald argv=/usr/local/bin/herald --config /etc/herald/herald.yaml bounces process --rcpt ${recipient}`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := m.Stdin
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			raw, err := io.ReadAll(io.LimitReader(in, 64<<20))
			if err != nil {
				return &exitError{code: ExitTempFail, err: fmt.Errorf("read the message: %w", err)}
			}
			out, err := m.processBounce(cmd.Context(), rcpts, raw)
			if err != nil {
				return &exitError{code: ExitTempFail, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "recorded %d report(s)", out.Recorded)
			if len(out.Ignored) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "; ignored: %s", strings.Join(out.Ignored, "; "))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	process.Flags().StringArrayVar(&rcpts, "rcpt", nil, "the envelope recipient the MTA delivered to (repeatable)")
	cmd.AddCommand(process)
	return cmd
}

// processBounce opens the store and hands one raw message to the
// lifecycle service; any failure is one to retry.
func (m *Main) processBounce(ctx context.Context, rcpts []string, raw []byte) (lifecycle.Outcome, error) {
	if err := m.open(ctx); err != nil {
		return lifecycle.Outcome{}, err
	}
	svc, err := m.newLifecycle(nil)
	if err != nil {
		return lifecycle.Outcome{}, err
	}
	return svc.HandleRaw(ctx, "pipe", rcpts, raw)
}

// printReports lists the bounces and complaints reported after sending
// for an edition's deliveries (herald editions show).
func (m *Main) printReports(ctx context.Context, w io.Writer, editionID int64) error {
	evs, err := m.Store.BounceEvents(ctx, editionID)
	if err != nil || len(evs) == 0 {
		return err
	}
	fmt.Fprintf(w, "\nreported after sending:\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tKIND\tSTATUS\tAT\tSOURCE\tDIAGNOSTIC")
	for _, ev := range evs {
		email := "-"
		if sent, err := m.Store.SentByDelivery(ctx, ev.DeliveryID); err == nil {
			email = string(sent.Email)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", email, ev.Kind, orDash(ev.Status), ev.CreatedAt.Format(time.RFC3339),
			orDash(ev.Source), orDash(oneLine(ev.Diagnostic)))
	}
	return tw.Flush()
}
