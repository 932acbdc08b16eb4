package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
)

// The editors' web UI in a real browser (Debian's chromium driven by
// chromedp) against herald demo, with SMTP pointed at mailpit: log in,
// check a send-now (its counts match send-now --dry-run), send it, watch
// the progress reach done through Server-Sent Events, open the edition,
// cancel another one mid-send, log out. axe-core, injected through the
// DevTools protocol (the policy forbids script tags), finds no serious or
// critical violation on any page. Screenshots go to HERALD_SCREENSHOTS
// (docs/screenshots for the README) or a temporary folder.
//
// Not in -short. It needs chromium, mailpit and axe-core
// (HERALD_AXE_JS, default ~/.cache/herald-axe/node_modules/axe-core/axe.min.js);
// without them it skips, unless HERALD_BROWSER_TESTS=1 (.ci/run) makes
// that a failure.
func TestEditorsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	chromium, axe, shots, work, smtpAddr, uiAddr := startBrowserKit(t)
	mailpitTotal := func() int {
		resp, err := http.Get("http://" + uiAddr + "/api/v1/messages?limit=1")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var v struct{ Total int }
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return v.Total
	}
	waitFor(t, "mailpit", func() bool { return mailpitTotal() >= 0 })

	// herald demo, its mail going to mailpit slowly enough to cancel.
	host, port, _ := net.SplitHostPort(smtpAddr)
	env := map[string]string{"HERALD_SMTP_TRANSPORT": "smtp", "HERALD_SMTP_HOST": host, "HERALD_SMTP_PORT": port,
		"HERALD_SMTP_TLS": "none", "HERALD_SMTP_RATE_PER_SECOND": "12", "HERALD_SMTP_MAX_CONNECTIONS": "2",
		"HERALD_ADMIN_PROGRESS_INTERVAL": "200ms"}
	dir := filepath.Join(work, "demo")
	base, out, stop := runDemoEnv(t, dir, env)
	defer stop()
	pw := regexp.MustCompile(`log in as (\S+) with password (\S+)`).FindStringSubmatch(out.String())
	if pw == nil {
		t.Fatalf("no editor login printed:\n%s", out)
	}
	waitFor(t, "the demo's first edition in mailpit", func() bool { return mailpitTotal() == len(demoSubscribers()) })
	// More readers, so an edition takes seconds.
	st, err := store.Open(context.Background(), filepath.Join(dir, "herald.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 57 {
		sub, _, err := st.UpsertSubscriber(context.Background(), model.Address(fmt.Sprintf("reader%02d@example.org", i)), fmt.Sprintf("Reader %d", i), model.SubscriberActive)
		if err == nil {
			_, err = st.UpsertSubscription(context.Background(), sub.ID, "daily", nil, nil, "")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	// Chromium, headless, with a fresh profile.
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.UserDataDir(filepath.Join(work, "chromium")),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 900)}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil { // starts the browser, without a deadline
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
	// shot sizes the viewport to the whole page and captures it: a capture
	// beyond the viewport leaves the sandboxed preview frames blank.
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			h, err := chromedp.Evaluate[int64](`Math.ceil(document.querySelector("main").getBoundingClientRect().bottom + window.scrollY)`)(ctx, tg)
			if err != nil {
				return err
			}
			if _, err := chromedp.EmulateViewport(1280, min(max(h, 600), 1800))(ctx, tg); err != nil {
				return err
			}
			defer chromedp.ResetViewport()(ctx, tg)
			if _, err := chromedp.Sleep(300*time.Millisecond)(ctx, tg); err != nil {
				return err
			}
			b, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "admin-"+name+".png"), b, 0o644)
		})
	}
	audit := func(page string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error { return axeCheck(ctx, tg, t, page, string(axe)) })
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }
	click := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
	}

	// Log in: the dashboard redirects to the login form first.
	run("login", chromedp.Navigate(base+"/admin/"), visible("#email"), audit("login"), shot("login"),
		chromedp.SendKeys(chromedp.CSS("#email"), pw[1]), chromedp.SendKeys(chromedp.CSS("#password"), pw[2]),
		chromedp.Submit(chromedp.CSS("#password")), visible(".grid"), audit("dashboard"), shot("dashboard"))

	// Check a send-now: the counts are send-now --dry-run's.
	run("check", chromedp.Navigate(base+"/admin/send"), visible("#since"), audit("send"), shot("send"),
		click(`main button[type=submit]`), visible("#recipients"))
	recipients, skipped := text("#recipients"), text("#skipped")
	cliEnv := withConfig(filepath.Join(dir, "herald.yaml"), env)
	code, dry, errs := runHeraldEnv(t, cliEnv, "send-now", "--dry-run")
	if code != 0 || !strings.Contains(dry, "recipients "+recipients+", skipped (nothing new) "+skipped) {
		t.Fatalf("the check shows %s recipients, %s skipped; send-now --dry-run: %d %q %q", recipients, skipped, code, dry, errs)
	}
	if n, _ := strconv.Atoi(recipients); n != len(demoSubscribers())+57 {
		t.Fatalf("recipients %s", recipients)
	}
	run("check page", visible("iframe.mail"), audit("send-check"), shot("send-check"))

	// Send it, and watch the progress reach done through the stream (the
	// state "finished" is set only by the stream's done event; the page
	// never reloads).
	before := mailpitTotal()
	run("send", click(`form.confirm button[type=submit]`), visible(`#progress[data-events]`),
		visible(`#progress[data-state="sending"]`), shot("edition-live"), visible(`#progress[data-state="finished"]`))
	if got := text(`[data-field="sent"]`); got != recipients || text(`[data-field="status"]`) != "done" {
		t.Fatalf("progress ended at sent %s status %s, want %s done", got, text(`[data-field="status"]`), recipients)
	}
	if n, _ := strconv.Atoi(recipients); mailpitTotal()-before != n {
		t.Fatalf("mailpit received %d, want %s", mailpitTotal()-before, recipients)
	}
	run("edition", chromedp.Reload(), visible("#deliveries-h"), audit("edition"), shot("edition"))

	// Another send, cancelled mid-send from its page after a confirm step.
	run("second send", chromedp.Navigate(base+"/admin/send"), visible("#since"), click(`main button[type=submit]`),
		visible("#recipients"), click(`form.confirm button[type=submit]`), visible(`#progress[data-state="sending"]`))
	waitFor(t, "some sent", func() bool { n, _ := strconv.Atoi(text(`[data-field="sent"]`)); return n > 0 })
	run("cancel", click(`a.button.danger`), visible(`form.confirm`), audit("confirm"), shot("confirm-cancel"),
		click(`form.confirm button[type=submit]`), visible("#deliveries-h"))
	waitFor(t, "the cancel to settle", func() bool {
		run("reload", chromedp.Reload(), visible("#deliveries-h"))
		return text(`[data-field="status"]`) == "cancelled" && text(`[data-field="pending"]`) == "0"
	})
	cancelled, _ := strconv.Atoi(text(`[data-field="cancelled"]`))
	sent, _ := strconv.Atoi(text(`[data-field="sent"]`))
	failed, _ := strconv.Atoi(text(`[data-field="failed"]`))
	skipped2, _ := strconv.Atoi(text(`[data-field="skipped"]`))
	if total, _ := strconv.Atoi(recipients); cancelled == 0 || sent == 0 || sent+cancelled+failed+skipped2 != total {
		t.Fatalf("cancel mid-send: sent %d cancelled %d failed %d skipped %d of %s", sent, cancelled, failed, skipped2, recipients)
	}

	// What came back after the demo's first edition: grace complained,
	// alan's address bounced, and a soft bounce was matched to grace by
	// address only.
	grace := reportsAfterFirstEdition(t, filepath.Join(dir, "herald.db"))

	// The suppression list: a domain added, alan's bounce lifted after the
	// confirm step.
	run("suppress", chromedp.Navigate(base+"/admin/suppressions"), visible("#entry"), audit("suppressions"),
		chromedp.SendKeys(chromedp.CSS("#entry"), "@spam-trap.example"), chromedp.SendKeys(chromedp.CSS("#note"), "a known spam trap domain"),
		chromedp.Submit(chromedp.CSS("#entry")), visible("main .notice"), audit("suppressions added"), shot("suppressions"))
	run("unsuppress", chromedp.Navigate(base+"/admin/suppressions/remove?entry=alan%40example.com&reason=bounced"), visible("form.confirm"),
		audit("unsuppress"), shot("unsuppress"), click(`form.confirm button[type=submit]`), visible("main .notice"))
	if n := text("main .notice"); !strings.Contains(n, "alan@example.com is off the suppression list") {
		t.Fatalf("after the removal: %q", n)
	}

	// An import with rows skipped to keep opt-outs: the full report.
	csvPath := filepath.Join(work, "readers.csv")
	if err := os.WriteFile(csvPath, []byte("email,name,digest,sections,authors,status\nnew.reader@example.org,New,daily,,,active\n"+
		"grace@example.com,Grace,daily,,,active\nx@spam-trap.example,,daily,,,active\nnot-an-address,,daily,,,active\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("import", chromedp.Navigate(base+"/admin/subscribers/import"), visible("#file"), audit("import"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{csvPath}), click(`main form button[type=submit]`), visible("#report-h"),
		audit("import report"), shot("import"))
	if r := text("main section.card"); !strings.Contains(r, "Added 1, updated 0, skipped 2") || !strings.Contains(r, "complained 1, operator 1") {
		t.Fatalf("import report:\n%s", r)
	}

	// The other pages, each checked and shot.
	for _, p := range []struct{ name, path, ready string }{
		{"dashboard", "/admin/", ".grid"},
		{"editions", "/admin/editions", "table"},
		{"edition-reports", "/admin/editions/1", "#deliveries-h"},
		{"preview", "/admin/preview?digest=daily&mode=subscriber&email=ada%40example.com", "iframe.mail"},
		{"preview-search", "/admin/preview?digest=daily&mode=subscriber&email=reader0", "#matches"},
		{"subscribers", "/admin/subscribers", "table"},
		{"subscriber", fmt.Sprintf("/admin/subscribers/%d", grace), "#supp-h"},
		{"audit", "/admin/audit", "table"},
		{"account", "/admin/account", "#current"},
		{"editors", "/admin/editors", "#new-email"},
	} {
		run(p.name, chromedp.Navigate(base+p.path), visible(p.ready), audit(p.name), shot(p.name))
	}
	// The audit log has the sends and the cancel.
	run("audit again", chromedp.Navigate(base+"/admin/audit"), visible("table"))
	if a := text("table"); !strings.Contains(a, "send_now") || !strings.Contains(a, "cancel") || !strings.Contains(a, "login") ||
		!strings.Contains(a, "unsuppress") || !strings.Contains(a, "a known spam trap domain") {
		t.Fatalf("audit log:\n%s", a)
	}

	// Keyboard: Tab from the top reaches the skip link first.
	run("keyboard", chromedp.Navigate(base+"/admin/"), visible(".grid"), chromedp.KeyEvent("\t"))
	if focused, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.activeElement.className`)); err != nil || focused != "skip" {
		t.Errorf("first Tab focuses %q (%v), want the skip link", focused, err)
	}

	// Log out: the session ends, the pages ask for a login again.
	run("logout", click(`.logout button`), visible("#email"), chromedp.Navigate(base+"/admin/editions"), visible("#email"))
}

// reportsAfterFirstEdition records, as the lifecycle would, a complaint
// on grace's delivery of the demo's first edition, a hard bounce on
// alan's and a soft bounce matched to grace by address only, and returns
// grace's subscriber id.
func reportsAfterFirstEdition(t *testing.T, db string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.DeliveriesWithStatus(ctx, 1, model.DeliverySent, 0, 10)
	if err != nil || len(ds) != len(demoSubscribers()) {
		t.Fatalf("the first edition's deliveries: %d %v", len(ds), err)
	}
	var grace int64
	for _, d := range ds {
		ev := model.BounceEvent{DeliveryID: d.ID, EditionID: d.EditionID, SubscriberID: d.SubscriberID, Source: "webhook:ses"}
		effect := ""
		switch d.Email {
		case "grace@example.com":
			grace = d.SubscriberID
			ev.Kind, ev.Diagnostic, effect = model.ReportComplaint, "complaint from the reader's mailbox provider (abuse)", model.EffectComplained
		case "alan@example.com":
			ev.Kind, ev.Status, ev.Diagnostic, effect = model.ReportHard, "5.1.1", "550 5.1.1 <alan@example.com>: user unknown", model.EffectBounced
		default:
			continue
		}
		if _, err := st.RecordReport(ctx, ev, effect); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordReport(ctx, model.BounceEvent{SubscriberID: grace, Kind: model.ReportSoft, Status: "4.2.2",
		Diagnostic: "452 4.2.2 mailbox full", Source: "imap"}, ""); err != nil {
		t.Fatal(err)
	}
	return grace
}

// axeCheck runs axe-core on the page and fails t on any serious or
// critical violation.
func axeCheck(ctx context.Context, tg *chromedp.Target, t *testing.T, page, src string) error {
	type violations struct {
		Violations []struct {
			ID, Impact, Help string
			Nodes            []struct{ Target []any }
		}
	}
	if _, err := chromedp.Evaluate[chromedp.Void](src)(ctx, tg); err != nil {
		return fmt.Errorf("inject axe-core: %w", err)
	}
	res, err := chromedp.Evaluate[violations](`axe.run(document, {resultTypes: ["violations"]}).then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target}))}))}))`,
		chromedp.EvalAwaitPromise)(ctx, tg)
	if err != nil {
		return fmt.Errorf("axe.run: %w", err)
	}
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe on %s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
		} else {
			t.Logf("axe on %s, minor: %s (%s)", page, v.ID, v.Impact)
		}
	}
	return nil
}

// startBrowserKit finds what the browser tests need — chromium, mailpit and
// axe-core (HERALD_AXE_JS, default
// ~/.cache/herald-axe/node_modules/axe-core/axe.min.js) — skipping the test
// without them unless HERALD_BROWSER_TESTS=1 (.ci/run) makes that a
// failure, and starts mailpit on loopback. It returns chromium's path,
// axe-core's source, the screenshot folder (HERALD_SCREENSHOTS or a
// temporary one), a work folder and mailpit's SMTP and web addresses.
func startBrowserKit(t *testing.T) (chromium string, axe []byte, shots, work, smtpAddr, uiAddr string) {
	t.Helper()
	need := func(what string, err error) {
		if err == nil {
			return
		}
		if os.Getenv("HERALD_BROWSER_TESTS") == "1" {
			t.Fatalf("browser test needs %s: %v", what, err)
		}
		t.Skipf("browser test needs %s: %v", what, err)
	}
	chromium, err := exec.LookPath("chromium")
	need("chromium", err)
	mailpit, err := exec.LookPath("mailpit")
	need("mailpit (go install github.com/axllent/mailpit@v1.33.1)", err)
	axePath := os.Getenv("HERALD_AXE_JS")
	if axePath == "" {
		home, _ := os.UserHomeDir()
		axePath = filepath.Join(home, ".cache/herald-axe/node_modules/axe-core/axe.min.js")
	}
	axe, err = os.ReadFile(axePath)
	need("axe-core (npm install axe-core)", err)
	if shots = os.Getenv("HERALD_SCREENSHOTS"); shots == "" {
		shots = t.TempDir()
	}
	work = t.TempDir()
	smtpAddr, uiAddr = testkit.FreeAddr(t), testkit.FreeAddr(t)
	mp := exec.Command(mailpit, "--smtp", smtpAddr, "--listen", uiAddr, "--database", filepath.Join(work, "mailpit.db"), "--smtp-auth-allow-insecure")
	if err := mp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mp.Process.Kill(); _ = mp.Wait() })
	return chromium, axe, shots, work, smtpAddr, uiAddr
}
