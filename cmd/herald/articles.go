package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/store"
)

func (m *Main) articlesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "articles",
		Short: "Inspect articles as herald reads them",
	}
	var (
		section, author string
		limit           int
	)
	list := &cobra.Command{
		Use:   "list [--section SLUG] [--author SLUG] [--limit N]",
		Short: "List what the feeds would contain, newest first, with warnings for bad rows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := m.open(ctx); err != nil {
				return err
			}
			if limit <= 0 {
				limit = m.Config.Feeds.Items
			}
			q := store.ArticleQuery{Limit: limit}
			if section != "" {
				sec, err := m.Store.SectionBySlug(ctx, section)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no section with slug %q", section)
				} else if err != nil {
					return err
				}
				q.SectionID = sec.ID
			}
			if author != "" {
				au, err := m.Store.AuthorBySlug(ctx, author)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no author with slug %q", author)
				} else if err != nil {
					return err
				}
				q.AuthorID = au.ID
			}
			if _, err := m.Store.Audit(ctx); err != nil {
				return err
			}
			arts, err := m.Store.Articles(ctx, q)
			if err != nil {
				return err
			}
			cl := sanitize.New(m.Config.Site.URL, m.Log)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PUBLISHED\tSECTION\tAUTHORS\tTITLE\tURL")
			for _, raw := range arts {
				a, ok := cl.Article(raw)
				if !ok {
					continue
				}
				names := make([]string, 0, len(a.Authors))
				for _, au := range a.Authors {
					names = append(names, au.Name)
				}
				by := strings.Join(names, ", ")
				if by == "" {
					by = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.PublishedAt.Format("2006-01-02 15:04Z07:00"),
					a.Section.Slug, by, a.Title, a.URL)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d article(s)\n", len(arts))
			return nil
		},
	}
	list.Flags().StringVar(&section, "section", "", "only this section (slug)")
	list.Flags().StringVar(&author, "author", "", "only this author (slug)")
	list.Flags().IntVar(&limit, "limit", 0, "at most N articles (default feeds.items)")
	cmd.AddCommand(list)
	return cmd
}
