package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
	"github.com/heraldnews/herald/internal/token"
)

// The readers' side in a real browser (chromium through chromedp) against
// herald demo with its mail in mailpit: the digest with pictures holds its
// layout at 375 and 800 px and mailpit's HTML check finds it 90 % or more
// fully supported; every reader page — subscribe, confirm, unsubscribe and
// its undo, preferences (with a search), erase, the archive's index and an
// edition — in English, then with site.language: de in German, passes
// axe-core with no serious or critical violation and does not overflow a
// 375 px screen.
// Screenshots at 375 px go to HERALD_SCREENSHOTS (docs/screenshots) or a
// temporary folder.
//
// Not in -short; needs chromium, mailpit and axe-core as
// TestEditorsInBrowser does.
func TestReadersInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	chromium, axe, shots, work, smtpAddr, uiAddr := startBrowserKit(t)
	mpGet := func(path string, v any) error {
		resp, err := http.Get("http://" + uiAddr + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(v)
	}
	var list struct {
		Total    int
		Messages []struct{ ID string }
	}
	waitFor(t, "mailpit", func() bool { return mpGet("/api/v1/messages", &list) == nil })

	host, port, _ := net.SplitHostPort(smtpAddr)
	env := map[string]string{"HERALD_SMTP_TRANSPORT": "smtp", "HERALD_SMTP_HOST": host, "HERALD_SMTP_PORT": port, "HERALD_SMTP_TLS": "none"}
	dir, listen := filepath.Join(work, "demo"), testkit.FreeAddr(t)
	base, _, stop := runDemoEnv(t, dir, env, "--listen", listen)
	waitFor(t, "the demo's edition in mailpit", func() bool { return mpGet("/api/v1/messages", &list) == nil && list.Total == len(demoSubscribers()) })

	// mailpit's HTML check of a digest with pictures.
	var check struct {
		Total    struct{ Supported, Partial, Unsupported float64 }
		Warnings []struct {
			Title   string
			Results []struct{ Name, Support string }
			Score   struct {
				Found                int
				Partial, Unsupported float64
			}
		}
	}
	if err := mpGet("/api/v1/message/"+list.Messages[0].ID+"/html-check", &check); err != nil {
		t.Fatal(err)
	}
	// mailpit scores each feature by the clients that support it fully,
	// partly or not at all, weighs it by how many elements use it, and
	// takes the worst: Supported is 100 less the largest weighted partial
	// and unsupported scores. The digest is laid out in table cells with
	// padding and keeps margin to body, headings and a summary's
	// paragraphs, so it scores about 95 % fully supported (84 % when its
	// p, div and h elements all carried margin; the margin shorthand is
	// partly supported in most clients).
	t.Logf("mailpit html-check: %.1f%% supported, %.1f%% partly, %.1f%% unsupported", check.Total.Supported, check.Total.Partial, check.Total.Unsupported)
	if check.Total.Supported < 90 {
		for _, w := range check.Warnings {
			t.Logf("html-check warning: %s, found %d times, partly supported by %.1f%% of clients, not by %.1f%%", w.Title, w.Score.Found, w.Score.Partial, w.Score.Unsupported)
		}
		t.Errorf("mailpit's HTML check: %.1f%% supported, want at least 90", check.Total.Supported)
	}
	var msg struct{ HTML string }
	if err := mpGet("/api/v1/message/"+list.Messages[0].ID, &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.HTML, `<img class="image"`) || !strings.Contains(msg.HTML, base+"/archive/daily/") {
		t.Fatalf("the demo digest has no picture or no view-in-browser link")
	}
	digestFile := filepath.Join(work, "digest.html")
	if err := os.WriteFile(digestFile, []byte(msg.HTML), 0o644); err != nil {
		t.Fatal(err)
	}

	// Links with tokens, made with the demo's secret.
	cfg, err := config.Load(filepath.Join(dir, "herald.yaml"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner([]byte(cfg.Secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "herald.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ada, _, err := st.FindSubscriber(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	adaSubs, err := st.SubscriptionsOf(context.Background(), ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	newbie, _, err := st.UpsertSubscriber(context.Background(), "new.reader@example.com", "", model.SubscriberPending)
	if err == nil {
		_, err = st.UpsertSubscription(context.Background(), newbie.ID, "daily", nil, nil, model.SubscriptionActive)
	}
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	manage := signer.Make(token.Manage, ada.ID, time.Hour)
	unsub := signer.Make(token.Unsubscribe, adaSubs[0].ID, time.Hour)
	confirm := signer.Make(token.Confirm, newbie.ID, time.Hour)

	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.UserDataDir(filepath.Join(work, "chromium")),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(375, 800)}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// fits checks the page does not scroll sideways at width w, then
	// captures it whole.
	fits := func(name string, w int64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := chromedp.EmulateViewport(w, 800)(ctx, tg); err != nil {
				return err
			}
			if _, err := chromedp.Sleep(200*time.Millisecond)(ctx, tg); err != nil {
				return err
			}
			sw, err := chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)(ctx, tg)
			if err != nil {
				return err
			}
			if sw > w {
				t.Errorf("%s at %d px: %d px wide, scrolls sideways", name, w, sw)
			}
			h, err := chromedp.Evaluate[int64](`Math.ceil(document.documentElement.scrollHeight)`)(ctx, tg)
			if err != nil {
				return err
			}
			if _, err := chromedp.EmulateViewport(w, min(max(h, 600), 2400))(ctx, tg); err != nil {
				return err
			}
			defer chromedp.ResetViewport()(ctx, tg)
			if _, err := chromedp.Sleep(200*time.Millisecond)(ctx, tg); err != nil {
				return err
			}
			b, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644)
		})
	}
	audit := func(page string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for { // a form's answer may still be loading
				s, err := chromedp.Evaluate[string](`document.readyState`)(ctx, tg)
				if err == nil && s == "complete" {
					break
				}
				if _, err := chromedp.Sleep(50*time.Millisecond)(ctx, tg); err != nil {
					return err
				}
			}
			return axeCheck(ctx, tg, t, page, string(axe))
		})
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }
	click := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
	}
	// follow clicks what leaves the page (a form's button, a link) and
	// returns once the page that replaced it has loaded: the old page
	// carries a mark the new one does not, so nothing that follows can
	// act on the old page while the answer is still on its way.
	follow := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := chromedp.Evaluate[chromedp.Void](`window.heraldLeaving = true`)(ctx, tg); err != nil {
				return err
			}
			if _, err := click(sel)(ctx, tg); err != nil {
				return err
			}
			for {
				s, err := chromedp.Evaluate[string](`window.heraldLeaving ? "old" : document.readyState`)(ctx, tg)
				if err == nil && s == "complete" {
					return nil
				}
				if _, err := chromedp.Sleep(50*time.Millisecond)(ctx, tg); err != nil {
					return err
				}
			}
		})
	}

	// The digest as mail clients render it, at a phone's and a desktop's width.
	run("digest", chromedp.Navigate("file://"+digestFile), visible("img.image"), fits("digest-375", 375), fits("digest-800", 800))

	pages := func(lang, base string) {
		t.Helper()
		shot := func(name string) chromedp.Action[chromedp.Void] { return fits("reader-"+name+"-"+lang, 375) }
		for _, p := range []struct{ name, path, ready string }{
			{"subscribe", "/subscribe", "#email"},
			{"confirm", "/confirm?token=" + confirm, "form button"},
			{"preferences", "/preferences?token=" + manage, "#find"},
			{"preferences-search", "/preferences?token=" + manage + "&q=a", "#find"},
			{"erase", "/preferences/erase?token=" + manage, "form button"},
			{"archive", "/archive/daily", ".editions a"},
			{"unsubscribe", "/unsubscribe?token=" + unsub, "form button"},
		} {
			run(lang+" "+p.name, chromedp.Navigate(base+p.path), visible(p.ready), audit(lang+" "+p.name), shot(p.name))
		}
		// Unsubscribe, then the undo offered, then restore.
		run(lang+" unsubscribed", follow("form button"), visible(".done a"), audit(lang+" unsubscribed"), shot("unsubscribed"),
			follow(".done a"), visible("form button"), audit(lang+" undo"), shot("undo"),
			follow("form button"), visible("main p"), audit(lang+" restored"), shot("restored"))
		run(lang+" edition", chromedp.Navigate(base+"/archive/daily"), visible(".editions a"), follow(".editions a"),
			visible("article"), audit(lang+" edition"), shot("edition"))
		run(lang+" error", chromedp.Navigate(base+"/confirm?token=broken"), visible("main p"), audit(lang+" error"), shot("error"))
	}
	pages("en", base)
	stop()

	// The same demo in German.
	env["HERALD_SITE_LANGUAGE"] = "de"
	base, _, stop = runDemoEnv(t, dir, env, "--listen", listen)
	defer stop()
	run("de subscribe", chromedp.Navigate(base+"/subscribe"), visible("#email"))
	lang, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.documentElement.lang + " " + document.querySelector("h1").textContent`))
	if err != nil || lang != "de Der Newsletter von The Herald Demo" {
		t.Fatalf("German subscribe page: %q %v", lang, err)
	}
	pages("de", base)
	if body := fetch(t, base+"/archive/daily"); !regexp.MustCompile(`(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), \d+\. `).MatchString(body) {
		t.Errorf("the German archive's dates:\n%s", body)
	}
}

// fetch GETs url and returns its body.
func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
