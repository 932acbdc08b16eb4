package main

import (
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
)

// seedArticle is the article herald started from (a copy of
// shared/fixtures/seed-article.sql); the demo moves its date to the recent past.
//
//go:embed demodata/seed-article.sql
var seedArticle string

var demoSections = []model.Section{
	{Slug: "politics", Name: "Politics", Description: "Parliaments, parties and the people in power."},
	{Slug: "business", Name: "Business", Description: "Markets, companies and the economy."},
	{Slug: "technology", Name: "Technology", Description: "Software, hardware and the people who make them."},
	{Slug: "sport", Name: "Sport", Description: "Results, analysis and the stories behind the games."},
}

var demoAuthors = []model.Author{
	{Slug: "amina-okafor", Name: "Amina Okafor", Bio: "Political correspondent.", URL: "/authors/amina-okafor"},
	{Slug: "lars-nilsson", Name: "Lars Nilsson", Bio: "Business editor.", URL: "/authors/lars-nilsson"},
	{Slug: "mei-tanaka", Name: "Mei Tanaka", Bio: "Technology reporter.", URL: "/authors/mei-tanaka"},
	{Slug: "diego-ramirez", Name: "Diego Ramírez", Bio: "Sports writer.", URL: "/authors/diego-ramirez"},
	{Slug: "sarah-cohen", Name: "Sarah Cohen", Bio: "Foreign desk.", URL: "/authors/sarah-cohen"},
	{Slug: "tom-baker", Name: "Tom Baker", Bio: "Data journalist.", URL: "/authors/tom-baker"},
	{Slug: "priya-nair", Name: "Priya Nair", Bio: "Economics correspondent.", URL: "/authors/priya-nair"},
}

var demoHeadlines = map[string][]string{
	"world-news": {"Ceasefire talks resume in Geneva", "Floods displace thousands along the Danube", "Summit ends with climate pledge",
		"Elections called after coalition collapses", "Aid convoy reaches besieged city", "Trade bloc admits two new members"},
	"politics": {"Budget vote set for Thursday", "Minister resigns over housing row", "New bill targets online scams",
		"Opposition unveils tax plan", "Committee questions defence chief", "Polls tighten ahead of by-election"},
	"business": {"Central bank holds rates steady", "Chipmaker beats earnings forecast", "Retail sales rise for third month",
		"Airline orders 40 new jets", "Start-up raises record seed round", "Oil prices slip on supply news"},
	"technology": {"Open-source browser ships new engine", "Regulators probe app store fees", "Quantum lab reports error-rate milestone",
		"Satellite broadband reaches rural schools", "Battery recycling plant opens", "Phone makers agree on repair standard"},
	"sport": {"Late goal settles the derby", "Marathon record falls in Berlin", "Tennis star announces retirement",
		"Cup draw pairs old rivals", "Cyclist wins mountain stage", "Rugby side names new captain"},
}

// seedDemo fills an empty demo database: the seed article (dated a few
// hours ago), 4 more sections, 7 more authors and about 60 articles over the
// past week with co-bylines, two in three with a picture served by the demo
// under images (its base URL). Deterministic for a given now.
func seedDemo(ctx context.Context, st *store.Store, now time.Time, images string) (int, error) {
	seed := strings.ReplaceAll(seedArticle, "'2019-04-25T14:30:00Z'", "'"+store.FormatTime(now.Add(-3*time.Hour))+"'")
	seed = strings.ReplaceAll(seed, "'2019-04-25T16:05:00Z'", "'"+store.FormatTime(now.Add(-2*time.Hour))+"'")
	if err := st.ExecScript(ctx, seed); err != nil {
		return 0, fmt.Errorf("demo: load the seed article: %w", err)
	}
	world, err := st.SectionBySlug(ctx, "world-news")
	if err != nil {
		return 0, err
	}
	robert, err := st.AuthorBySlug(ctx, "robert-overtone")
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	n := 1
	err = st.WriteContent(ctx, func(w *store.ContentWriter) error {
		sections := map[string]model.Section{"world-news": world}
		for _, s := range demoSections {
			id, err := w.Section(s)
			if err != nil {
				return err
			}
			s.ID = id
			sections[s.Slug] = s
		}
		authors := []model.Author{robert}
		for _, a := range demoAuthors {
			id, err := w.Author(a)
			if err != nil {
				return err
			}
			a.ID = id
			authors = append(authors, a)
		}
		slugs := []string{"world-news", "politics", "business", "technology", "sport"}
		for i := 0; i < 60; i++ {
			sec := sections[slugs[i%len(slugs)]]
			titles := demoHeadlines[sec.Slug]
			title := titles[(i/len(slugs))%len(titles)]
			if i >= len(slugs)*len(titles) {
				title += ": what happens next"
			}
			pub := now.Add(-time.Duration(rng.IntN(7*24*60)+30) * time.Minute).Truncate(time.Minute)
			byline := []model.Author{authors[rng.IntN(len(authors))]}
			if rng.IntN(3) == 0 {
				co := authors[rng.IntN(len(authors))]
				if co.ID != byline[0].ID {
					byline = append(byline, co)
				}
			}
			slug := strings.ToLower(strings.NewReplacer(" ", "-", ":", "", "'", "").Replace(title))
			summary := fmt.Sprintf("%s. Our %s desk has the details and what it means for you.", title, strings.ToLower(sec.Name))
			body := fmt.Sprintf("<p>%s</p><p>%s</p><p>Read the full story on <a href=\"/%s\">the %s page</a>.</p>",
				summary, strings.Repeat("Reporting continues as more details emerge. ", 4), sec.Slug, sec.Name)
			var image string
			if i%3 != 2 {
				image = fmt.Sprintf("%s/demo/images/%s-%d.png", images, sec.Slug, i+1)
			}
			if _, err := w.Article(model.Article{
				GUID: fmt.Sprintf("urn:herald:demo:%d", i+1), URL: fmt.Sprintf("/%s/%s-%d", sec.Slug, slug, i+1),
				Title: title, Summary: summary, BodyHTML: body, Section: sec, PublishedAt: pub, Authors: byline, ImageURL: image,
			}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
