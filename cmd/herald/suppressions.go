package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (m *Main) suppressionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suppressions",
		Short: "The suppression list: addresses and domains nothing is ever planned or sent to",
		Long: `The suppression list holds the addresses and domains herald never mails:
bounced and complained subscribers (automatically), the keyed hashes erased
addresses leave (automatically, shown as #…), and the entries an operator adds.
A completed double opt-in lifts bounced and erased; complained and operator
entries go only with "suppressions remove".`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the suppression list",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			svc, err := m.newLifecycle(nil)
			if err != nil {
				return err
			}
			sps, err := svc.Suppressions(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ENTRY\tREASON\tSINCE\tNOTE")
			for _, sp := range sps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sp.Entry, sp.Reason, sp.CreatedAt.Format(time.DateOnly), orDash(sp.Note))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d entr(ies)\n", len(sps))
			return nil
		},
	}
	var reason string
	add := &cobra.Command{
		Use:   "add EMAIL|@DOMAIN [--reason TEXT]",
		Short: "Never plan or send anything to this address or domain",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			svc, err := m.newLifecycle(nil)
			if err != nil {
				return err
			}
			if err := svc.Suppress(cmd.Context(), args[0], oneLine(reason)); err != nil {
				return err
			}
			m.audit(cmd.Context(), "suppress", args[0], oneLine(reason))
			fmt.Fprintf(cmd.OutOrStdout(), "%s suppressed\n", args[0])
			return nil
		},
	}
	add.Flags().StringVar(&reason, "reason", "", "why (kept beside the entry)")
	remove := &cobra.Command{
		Use:   "remove EMAIL|@DOMAIN",
		Short: "Lift a suppression (an operator entry, or a subscriber's bounced or complained status)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			svc, err := m.newLifecycle(nil)
			if err != nil {
				return err
			}
			ok, err := svc.Unsuppress(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is not on the suppression list", args[0])
			}
			m.audit(cmd.Context(), "unsuppress", args[0], "")
			fmt.Fprintf(cmd.OutOrStdout(), "%s removed from the suppression list\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, add, remove)
	return cmd
}
