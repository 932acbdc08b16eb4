package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/store"
)

// The store is what feeds reads and where it keeps Last-Modified.
var (
	_ feeds.Source       = (*store.Store)(nil)
	_ feeds.StateStore   = (*store.Store)(nil)
	_ feeds.ChangePruner = (*store.Store)(nil)
)

// feedOptions are the feed options the config describes, with herald's
// logger and clock.
func (m *Main) feedOptions() feeds.Options {
	opt := feeds.ConfigOptions(m.Config)
	opt.Logger = m.Log
	opt.Now = m.Now
	return opt
}

func (m *Main) buildCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build [--out DIR]",
		Short: "Write every feed as a static file under DIR (atomically; unchanged files are left alone)",
		Long: `build writes the site, section and author feeds in RSS, Atom and JSON Feed
under DIR at their URL paths (DIR/feeds/all.rss, DIR/feeds/sections/SLUG.atom,
DIR/feeds/authors/SLUG.json). A file is replaced atomically and only when its
bytes change; files of sections and authors that no longer exist are removed.
DIR defaults to feeds.output_dir.`,
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
			w, err := feeds.NewWriter(feeds.NewBuilder(m.Store, m.feedOptions()), dir)
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
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory (default feeds.output_dir)")
	return cmd
}
