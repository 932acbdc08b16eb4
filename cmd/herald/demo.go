package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/subscription"
)

// demoMarker marks a folder herald demo made, so --reset never deletes
// anything else.
const demoMarker = ".herald-demo"

const demoConfig = `# Written by herald demo. Mail goes to .eml files in ./mail.
site:
  name: "The Herald Demo"
  url: "https://news.example.com"
  language: en
  postal_address: "1 Demo Street, Exampleton EX1 2MP"
database: %q
log: {level: info, format: text}
feeds: {items: 50}
smtp:
  transport: file
  file_dir: %q
  from: "The Herald Demo <digest@news.example.com>"
digests:
  - name: daily
    title: "Morning briefing"
    schedule: "0 7 * * *"
    timezone: Europe/London
    lookback: 168h
    max_articles: 12
`

func (m *Main) demoCommand() *cobra.Command {
	var (
		dir    string
		listen string
		reset  bool
	)
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR] [--listen ADDR] [--reset]",
		Short: "Run a ready-to-look-at local setup: sample articles, subscribers, one edition, feeds and pages",
		Long: `Run a local demo in the foreground: a demo folder (reused on a second run
unless --reset) with a database of sample articles (the seed article and about
60 more over the past week, 5 sections, 8 authors), three confirmed
subscribers, and mail written as .eml files into DIR/mail. One edition is sent
at start; the server listens on --listen until Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.runDemo(cmd.Context(), cmd.OutOrStdout(), dir, listen, reset)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "herald-demo", "demo folder")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve on")
	cmd.Flags().BoolVar(&reset, "reset", false, "start over: delete the demo folder first")
	return cmd
}

func (m *Main) runDemo(ctx context.Context, out io.Writer, dir, listen string, reset bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if reset {
		if _, err := os.Stat(abs); err == nil {
			if _, err := os.Stat(filepath.Join(abs, demoMarker)); err != nil {
				return fmt.Errorf("--reset: %s was not made by herald demo (no %s in it); refusing to delete it", abs, demoMarker)
			}
			if err := os.RemoveAll(abs); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(abs, "mail"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(abs, demoMarker), []byte("made by herald demo\n"), 0o644); err != nil {
		return err
	}
	cfgPath := filepath.Join(abs, "herald.yaml")
	if _, err := os.Stat(cfgPath); errors.Is(err, os.ErrNotExist) {
		body := fmt.Sprintf(demoConfig, filepath.Join(abs, "herald.db"), filepath.Join(abs, "mail"))
		if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
			return err
		}
	}
	// Bind first: a busy port is a clear error before anything else happens.
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v; choose another address with --listen 127.0.0.1:8081", listen, err)
	}
	defer ln.Close()

	m.ConfigPath = cfgPath
	if err := m.open(ctx); err != nil {
		return err
	}
	m.Config.HTTP.Listen = ln.Addr().String()
	m.Config.HTTP.BaseURL = "http://" + ln.Addr().String()

	arts, err := m.Store.Articles(ctx, model.ArticleQuery{Limit: 1})
	if err != nil {
		return err
	}
	fresh := len(arts) == 0
	n := 0
	if fresh {
		// Content first: the feed handler reads its routes when it is made.
		if n, err = seedDemo(ctx, m.Store, m.Now()); err != nil {
			return err
		}
	}
	d, err := m.newDaemon(ctx)
	if err != nil {
		return err
	}
	if fresh {
		readers := []subscription.Request{
			{Email: "ada@example.com", Name: "Ada Lovelace", Confirmed: true},
			{Email: "grace@example.com", Name: "Grace Hopper", Sections: []string{"technology", "business"}, Confirmed: true},
			{Email: "alan@example.com", Name: "Alan Turing", Sections: []string{"sport"}, Authors: []string{"robert-overtone"}, Confirmed: true},
		}
		for _, r := range readers {
			if _, _, err := d.subs.Subscribe(ctx, r); err != nil {
				return fmt.Errorf("demo subscriber %s: %w", r.Email, err)
			}
		}
		m.Log.Info("demo data created", "articles", n, "subscribers", len(readers), "dir", abs)
	} else {
		m.Log.Info("reusing the demo database (use --reset to start over)", "dir", abs)
	}
	// One edition on the first run, so there is mail to look at; a reused
	// demo keeps the mail it has (herald send-now sends more).
	var res digest.SendNowResult
	if fresh {
		if res, err = d.digests.SendNow(ctx, digest.SendNowRequest{}); err != nil {
			return fmt.Errorf("demo edition: %w", err)
		}
	}
	login, err := m.demoEditor(ctx)
	if err != nil {
		return err
	}
	base := m.Config.HTTP.BaseURL
	fmt.Fprintf(out, `
herald demo is running. Open:

  Feeds        %[1]s/feeds/all.rss   %[1]s/feeds/all.atom   %[1]s/feeds/all.json
  A section    %[1]s/feeds/sections/world-news.atom
  An author    %[1]s/feeds/authors/robert-overtone.json
  Subscribe    %[1]s/subscribe
  Metrics      %[1]s/metrics
  Editors      %[1]s/admin/   %[6]s

  Mail         %[2]s  (one .eml per message; this run sent %[3]d, skipped %[4]d)
  Preview      herald --config %[5]s preview --digest daily --email ada@example.com --out preview.html
  Config       %[5]s

Press Ctrl-C to stop.
`, base, filepath.Join(abs, "mail"), res.Sent, res.Skipped, cfgPath, login)
	d.ln = ln
	return d.run(ctx, m.OnListen)
}

// demoEditorEmail is the demo's editor account (an admin).
const demoEditorEmail = "editor@example.com"

// demoEditor creates the demo's editor with a random password and returns
// the line that shows it, once; on a reused demo the account is kept and
// the line says how to set a new password.
func (m *Main) demoEditor(ctx context.Context) (string, error) {
	svc := m.newEditors()
	if _, err := m.Store.EditorByEmail(ctx, demoEditorEmail); err == nil {
		return fmt.Sprintf("log in as %s (password shown at the first run; a new one: herald --config %s editors passwd %s)",
			demoEditorEmail, m.configPath(), demoEditorEmail), nil
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(b)
	if _, err := svc.Add(ctx, editor.NewAccount{Email: demoEditorEmail, Name: "Demo Editor", Role: model.RoleAdmin, Password: pw}, editor.CLI); err != nil {
		return "", fmt.Errorf("demo editor: %w", err)
	}
	return fmt.Sprintf("log in as %s with password %s (shown only now)", demoEditorEmail, pw), nil
}

// demoSubscribers lists the demo's addresses (for tests).
func demoSubscribers() []string {
	return strings.Fields("ada@example.com grace@example.com alan@example.com")
}
