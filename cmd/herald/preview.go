package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/internal/mailer"
)

func (m *Main) previewCommand() *cobra.Command {
	var (
		digestName, email, out string
		text                   bool
	)
	cmd := &cobra.Command{
		Use:   "preview --digest NAME --email ADDR [--text] [--out FILE]",
		Short: "Render the digest a subscriber would get now, sending and recording nothing",
		Long: `preview renders what ADDR would receive from the digest if an edition went out
now: their follows, minus what they already received. An address that is not
subscribed previews as a new reader following everything.

Without --text it writes the whole message (.eml, both parts); with --text
only the plain-text part. --out writes to FILE instead of stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if email == "" {
				return fmt.Errorf("--email is required")
			}
			svc, closeFn, err := m.digestService(ctx, false)
			if err != nil {
				return err
			}
			defer closeFn()
			msg, err := svc.Preview(ctx, digestName, email)
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if text {
				fmt.Fprintf(&b, "Subject: %s\n\n%s", msg.Subject, msg.Text)
			} else if err := mailer.WriteMessage(&b, msg); err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(b.Bytes())
				return err
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&digestName, "digest", "", "digest name (default: the first configured)")
	f.StringVar(&email, "email", "", "the subscriber's address")
	f.BoolVar(&text, "text", false, "only the plain-text part")
	f.StringVar(&out, "out", "", "write to this file instead of stdout")
	return cmd
}
