package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/templates"
)

// The store is what feeds reads and where it keeps Last-Modified.
var (
	_ feeds.Source       = (*store.Store)(nil)
	_ feeds.StateStore   = (*store.Store)(nil)
	_ feeds.ChangePruner = (*store.Store)(nil)
	_ archive.Store      = (*store.Store)(nil)
)

// newArchive builds the digests' public archive over the store, in the
// reader pages' language.
func (m *Main) newArchive(pages *web.Pages) (*archive.Service, error) {
	return archive.New(archive.Options{Config: m.Config, Store: m.Store, Catalog: pages.Catalog(), Log: m.Log})
}

// writeArchive writes the archive's static files under dir.
func (m *Main) writeArchive(ctx context.Context, a *archive.Service, pages *web.Pages, dir string) (archive.Summary, error) {
	css, err := templates.ReadFile(m.Config.TemplatesDir, "reader.css")
	if err != nil {
		return archive.Summary{}, err
	}
	return a.WriteStatic(ctx, dir, pages, css)
}

// feedOptions are the feed options the config describes, with herald's
// logger and clock.
func (m *Main) feedOptions() (feeds.Options, error) {
	opt := feeds.ConfigOptions(m.Config)
	opt.Logger = m.Log
	opt.Now = m.Now
	words, err := i18n.Load(m.Config.TemplatesDir, m.Config.Site.Language)
	if err != nil {
		return opt, err
	}
	opt.Words = words
	return opt, nil
}

func (m *Main) buildCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build [--out DIR]",
		Short: "Write every feed as a static file under DIR (atomically; unchanged files are left alone)",
		Long: `build writes the site, section and author feeds in RSS, Atom and JSON Feed
under DIR at their URL paths (DIR/feeds/all.rss, DIR/feeds/sections/SLUG.atom,
DIR/feeds/authors/SLUG.json), and each digest's public archive (unless its
archive is false): DIR/archive/DIGEST/index.html, DIR/archive/DIGEST/EDITION/index.html
and the feeds of editions DIR/archive/DIGEST.rss, .atom, .json. A file is
replaced atomically and only when its bytes change; feed files of sections and
authors that no longer exist are removed. DIR defaults to feeds.output_dir.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := m.loadConfig(); err != nil {
				return err
			}
			dir := out
			if dir == "" {
				dir = m.Config.Feeds.OutputDir
			}
			if dir == "" {
				return errors.New("no output directory: give --out DIR or set feeds.output_dir")
			}
			if err := m.open(ctx); err != nil {
				return err
			}
			start := time.Now()
			opt, err := m.feedOptions()
			if err != nil {
				return err
			}
			w, err := feeds.NewWriter(feeds.NewBuilder(m.Store, opt), dir)
			if err != nil {
				return err
			}
			sum, err := w.WriteAll(ctx)
			if err != nil {
				return err
			}
			m.Log.Debug("feeds built", "dir", dir, "duration", time.Since(start))
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d written, %d unchanged, %d removed\n",
				dir, sum.Written, sum.Unchanged, sum.Removed)
			pages, err := web.LoadPages(m.Config, m.Log)
			if err != nil {
				return err
			}
			arch, err := m.newArchive(pages)
			if err != nil {
				return err
			}
			asum, err := m.writeArchive(ctx, arch, pages, dir)
			if err != nil {
				return err
			}
			if asum.Written+asum.Unchanged > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: archive: %d written, %d unchanged\n", dir, asum.Written, asum.Unchanged)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory (default feeds.output_dir)")
	return cmd
}
