package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
)

func (m *Main) editorsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "editors", Short: "Editor accounts for the web UI at /admin/"}
	cmd.AddCommand(m.editorsAdd(), m.editorsList(), m.editorsRemove(), m.editorsPasswd())
	return cmd
}

func (m *Main) editorsAdd() *cobra.Command {
	var a editor.NewAccount
	cmd := &cobra.Command{
		Use:   "add EMAIL [--name N] [--role editor|admin] [--timezone ZONE]",
		Short: "Add an editor account (password from a terminal prompt or HERALD_EDITOR_PASSWORD)",
		Long: `add creates an account for the editors' web UI. An editor may preview, send,
cancel and resume; an admin may also manage subscribers and editor accounts.
The password is read from a terminal prompt, or from HERALD_EDITOR_PASSWORD
for scripts; it must be 10 characters or more.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			pw, err := m.newPassword(cmd)
			if err != nil {
				return err
			}
			a.Email, a.Password = args[0], pw
			e, err := m.newEditors().Add(cmd.Context(), a, editor.CLI)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "editor %s added (%s); log in at %s/admin/\n", e.Email, e.Role, m.Config.HTTP.BaseURL)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.Name, "name", "", "the editor's name")
	f.StringVar(&a.Role, "role", model.RoleEditor, "editor or admin")
	f.StringVar(&a.Timezone, "timezone", "", "the zone the dashboard shows times in (default UTC)")
	return cmd
}

func (m *Main) editorsList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List editor accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			eds, err := m.newEditors().List(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tTIMEZONE\tLAST LOGIN")
			for _, e := range eds {
				last := "never"
				if !e.LastLoginAt.IsZero() {
					last = e.LastLoginAt.Format("2006-01-02 15:04Z07:00")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Email, orDash(e.Name), e.Role, orDash(e.Timezone), last)
			}
			return tw.Flush()
		},
	}
}

func (m *Main) editorsRemove() *cobra.Command {
	return &cobra.Command{
		Use:   "remove EMAIL",
		Short: "Remove an editor account (its sessions end)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			if err := m.newEditors().Remove(cmd.Context(), args[0], editor.CLI); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "editor %s removed\n", strings.TrimSpace(args[0]))
			return nil
		},
	}
}

func (m *Main) editorsPasswd() *cobra.Command {
	return &cobra.Command{
		Use:   "passwd EMAIL",
		Short: "Set an editor's password (every session of theirs ends)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := m.open(cmd.Context()); err != nil {
				return err
			}
			pw, err := m.newPassword(cmd)
			if err != nil {
				return err
			}
			e, err := m.newEditors().SetPassword(cmd.Context(), args[0], pw, editor.CLI)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed; every session of theirs has ended\n", e.Email)
			return nil
		},
	}
}

// newPassword reads a new password: HERALD_EDITOR_PASSWORD, else a
// terminal prompt asked twice.
func (m *Main) newPassword(cmd *cobra.Command) (string, error) {
	if pw, ok := m.Getenv("HERALD_EDITOR_PASSWORD"); ok && pw != "" {
		return pw, editor.CheckPassword(pw)
	}
	f, ok := m.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to ask the password on: set HERALD_EDITOR_PASSWORD")
	}
	ask := func(prompt string, w io.Writer) (string, error) {
		fmt.Fprint(w, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(w)
		return string(b), err
	}
	pw, err := ask("New password (10 characters or more): ", cmd.ErrOrStderr())
	if err != nil {
		return "", err
	}
	if err := editor.CheckPassword(pw); err != nil {
		return "", err
	}
	again, err := ask("The same again: ", cmd.ErrOrStderr())
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}
