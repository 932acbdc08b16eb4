package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// sentEdition makes an edition of daily that reached every active
// subscriber (sent, finished), optionally in a zone group, and returns it
// with its deliveries in id order.
func (e *env) sentEdition(zone string) (model.Edition, []model.Delivery) {
	e.t.Helper()
	ctx := context.Background()
	ed := model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: e.clock.Now(), Since: e.clock.Now().Add(-time.Hour)}
	if zone != "" {
		ed.Kind, ed.Slot, ed.Zone = model.EditionScheduled, e.clock.Now().Format("2006-01-02T15:04")+" "+zone, zone
	}
	ed, _, err := e.st.CreateEdition(ctx, ed)
	if err != nil {
		e.t.Fatal(err)
	}
	subs, err := e.st.ActiveSubscriptions(ctx, "daily", 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	var ds []model.Delivery
	for _, s := range subs {
		ds = append(ds, model.Delivery{SubscriberID: s.SubscriberID, SubscriptionID: s.ID, Status: model.DeliveryPending, ArticleIDs: []int64{1}})
	}
	if err := e.st.InsertDeliveries(ctx, ed.ID, ds, subs[len(subs)-1].ID); err != nil {
		e.t.Fatal(err)
	}
	_ = e.st.SetEditionStatus(ctx, ed.ID, model.EditionSending)
	due, err := e.st.DueDeliveries(ctx, ed.ID, e.clock.Now(), 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range due {
		due[i].Status, due[i].Attempts, due[i].SentAt, due[i].LastReply = model.DeliverySent, 1, e.clock.Now(), "250 2.0.0 queued"
		due[i].Relay = "smtp1.example.net:587"
		due[i].MessageID = fmt.Sprintf("<%d.%d@news.example.com>", ed.ID, due[i].ID)
	}
	if err := e.st.RecordDeliveries(ctx, due, nil); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.SetEditionStatus(ctx, ed.ID, model.EditionDone); err != nil {
		e.t.Fatal(err)
	}
	got, err := e.st.Deliveries(ctx, ed.ID, 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ed, got
}

// report records a bounce or complaint on a delivery, with its effect.
func (e *env) report(d model.Delivery, kind, status, diag, effect string) {
	e.t.Helper()
	ev := model.BounceEvent{DeliveryID: d.ID, EditionID: d.EditionID, SubscriberID: d.SubscriberID, Kind: kind, Status: status,
		Diagnostic: diag, Source: "webhook:ses"}
	if _, err := e.st.RecordReport(context.Background(), ev, effect); err != nil {
		e.t.Fatal(err)
	}
}

// A subscriber's page shows what keeps them from mail and, in their
// delivery history, the bounces and complaints reported on each delivery;
// the status filter offers complained.
func TestSubscriberLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(3)
	_, ds := e.sentEdition("")
	e.report(ds[1], model.ReportComplaint, "", "abuse report from a mailbox provider", model.EffectComplained)
	// A soft bounce matched by address only (no delivery).
	if _, err := e.st.RecordReport(context.Background(), model.BounceEvent{SubscriberID: ds[1].SubscriberID, Kind: model.ReportSoft,
		Status: "4.2.2", Diagnostic: "mailbox full", Source: "imap"}, model.EffectNone); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Suppress(context.Background(), "@example.com", "the whole test domain"); err != nil {
		t.Fatal(err)
	}
	b := e.browser().mustLogin(adminEmail)
	_, body, _ := b.get("/admin/subscribers")
	if !strings.Contains(body, `<option value="complained">complained</option>`) {
		t.Fatalf("no complained filter:\n%s", body)
	}
	_, body, _ = b.get("/admin/subscribers?status=complained")
	if n := strings.Count(body, `<td><a href="/admin/subscribers/`); n != 1 || !strings.Contains(body, string(ds[1].Email)) {
		t.Fatalf("complained filter found %d:\n%s", n, body)
	}
	code, body, _ := b.get(fmt.Sprintf("/admin/subscribers/%d", ds[1].SubscriberID))
	for _, s := range []string{"On the suppression list", `status-complained">complained<`, "@example.com", "the whole test domain",
		`<span class="status status-complaint">complaint</span>, `, "abuse report from a mailbox provider", "via webhook:ses",
		"Other reports", "mailbox full", "the address",
		"/admin/suppressions/remove?entry=" + url.QueryEscape(string(ds[1].Email)) + "&amp;reason=complained"} {
		if code != 200 || !strings.Contains(body, s) {
			t.Errorf("subscriber page lacks %q: %d", s, code)
		}
	}
	if strings.Count(body, "abuse report") != 1 {
		t.Errorf("the complaint shows %d times", strings.Count(body, "abuse report"))
	}
	// Another subscriber: only the domain's entry, no reports.
	_, body, _ = b.get(fmt.Sprintf("/admin/subscribers/%d", ds[0].SubscriberID))
	if !strings.Contains(body, "the whole test domain") || strings.Contains(body, "Other reports") || strings.Contains(body, "status-complaint") {
		t.Errorf("a quiet subscriber's page:\n%s", body)
	}
}

// An edition's page lists the reports of the deliveries it shows (and
// only theirs), counts them against the messages delivered, and names the
// zone group of a local digest's edition, as the editions list does.
func TestEditionReports(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(120)
	ed, ds := e.sentEdition("Asia/Tokyo")
	e.report(ds[0], model.ReportHard, "5.1.1", "no such user r0", model.EffectBounced)
	e.report(ds[0], model.ReportHard, "5.1.1", "no such user r0", model.EffectBounced) // the same report twice: once
	e.report(ds[100], model.ReportComplaint, "", "feedback loop for r100", model.EffectComplained)
	b := e.browser().mustLogin(editorEmail)
	path := fmt.Sprintf("/admin/editions/%d", ed.ID)
	_, body, _ := b.get(path)
	for _, s := range []string{"Zone group</dt><dd>Asia/Tokyo", "no such user r0", "<td>smtp1.example.net:587</td>", `status-hard">hard<`, "5.1.1",
		"Reported after sending (120 delivered): 1 complaint (0.83%), 1 hard bounce (0.83%).",
		"over the 0.3% Gmail and Yahoo allow"} {
		if !strings.Contains(body, s) {
			t.Errorf("edition page lacks %q", s)
		}
	}
	if strings.Contains(body, "feedback loop for r100") || strings.Count(body, "no such user r0") != 1 {
		t.Errorf("the first page shows another page's report, or one twice")
	}
	_, body, _ = b.get(path + "?status=sent&after=" + fmt.Sprint(ds[99].ID))
	if !strings.Contains(body, "feedback loop for r100") || strings.Contains(body, "no such user r0") {
		t.Errorf("the second page of deliveries:\n%.3000s", body)
	}
	if _, body, _ := b.get("/admin/editions"); !strings.Contains(body, "zone group Asia/Tokyo") {
		t.Errorf("the editions list lacks the zone group")
	}
}

// The dashboard flags complaint rates of the last seven days against the
// bulk-sender limits, and a high hard-bounce rate.
func TestDashboardRates(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(1000)
	_, ds := e.sentEdition("")
	b := e.browser().mustLogin(editorEmail)
	_, body, _ := b.get("/admin/")
	if !strings.Contains(body, "1000 delivered, nothing reported") ||
		strings.Contains(body, "Complaints are at") || strings.Contains(body, "Hard bounces are at") {
		t.Fatalf("a quiet week:\n%s", body)
	}
	step := func(kind, effect string, from, to int) {
		for i := from; i < to; i++ {
			e.report(ds[i], kind, "", "", effect)
		}
	}
	step(model.ReportComplaint, model.EffectComplained, 0, 1)
	if _, body, _ = b.get("/admin/"); !strings.Contains(body, `<p class="warn">Complaints are at 0.10% over 7 days: Gmail advises staying under 0.1%.`) {
		t.Errorf("0.1%% (not under 0.1%%) not flagged:\n%s", body)
	}
	step(model.ReportComplaint, model.EffectComplained, 1, 2)
	if _, body, _ = b.get("/admin/"); !strings.Contains(body, `<p class="warn">Complaints are at 0.20% over 7 days`) || strings.Contains(body, `class="error"`) {
		t.Errorf("0.2%% not flagged as a warning:\n%s", body)
	}
	step(model.ReportComplaint, model.EffectComplained, 2, 3)
	if _, body, _ = b.get("/admin/"); !strings.Contains(body, `<p class="error">Complaints are at 0.30% over 7 days, over the 0.3% Gmail and Yahoo allow bulk senders`) {
		t.Errorf("0.3%% not flagged:\n%s", body)
	}
	step(model.ReportHard, model.EffectBounced, 10, 30)
	if _, body, _ = b.get("/admin/"); !strings.Contains(body, "Hard bounces are at 2.00% over 7 days") ||
		!strings.Contains(body, "1000 delivered, 3 complaints (0.30%), 20 hard bounces (2.00%)</dd>") {
		t.Errorf("bounces not flagged:\n%s", body)
	}
	// A week later the edition no longer counts.
	e.clock.Add(8 * 24 * time.Hour)
	b = e.browser().mustLogin(editorEmail)
	if _, body, _ = b.get("/admin/"); strings.Contains(body, "Complaints are at") || !strings.Contains(body, "<dd>0 delivered, nothing reported</dd>") {
		t.Errorf("a week later:\n%s", body)
	}
}

// The suppression list, for admins: a page per reason and a page at a
// time, an address or a domain added with a note (a bad one refused),
// the check of one address, and a removal after a confirm step that says
// what it does; each change is in the audit log.
func TestSuppressionsPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(2)
	ctx := context.Background()
	for i := range 120 {
		if err := e.st.Suppress(ctx, fmt.Sprintf("old%03d@example.org", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	_, ds := e.sentEdition("")
	e.report(ds[0], model.ReportHard, "5.1.1", "", model.EffectBounced)
	b := e.browser().mustLogin(adminEmail)
	_, body, _ := b.get("/admin/suppressions")
	if strings.Count(body, "Remove old") != 50 || !strings.Contains(body, "old000@example.org") || !strings.Contains(body, "More entries") {
		t.Fatalf("first page:\n%.3000s", body)
	}
	seen := map[string]bool{}
	for page, path := 0, "/admin/suppressions"; path != ""; page++ {
		_, body, _ = b.get(path)
		for _, m := range regexp.MustCompile(`>Remove (old\d+@example.org)…<`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s twice", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := regexp.MustCompile(`href="(/admin/suppressions\?[^"]+)">More entries`).FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		if page > 5 {
			t.Fatal("no end")
		}
	}
	if len(seen) != 120 {
		t.Fatalf("%d entries over the pages, want 120", len(seen))
	}
	_, body, _ = b.get("/admin/suppressions?reason=bounced")
	if !strings.Contains(body, fmt.Sprintf(`<a href="/admin/subscribers/%d">r0@example.com</a>`, ds[0].SubscriberID)) {
		t.Fatalf("bounced page:\n%s", body)
	}

	// Add: a bad entry is refused and kept in the form; a domain is added.
	code, body, _ := b.post("/admin/suppressions", url.Values{"csrf": {b.csrf}, "entry": {"@not a domain"}, "note": {"typo"}})
	if code != http.StatusBadRequest || !strings.Contains(body, `value="@not a domain"`) || !strings.Contains(body, "is not a domain") {
		t.Fatalf("bad entry: %d\n%s", code, body)
	}
	code, body, _ = b.post("/admin/suppressions", url.Values{"csrf": {b.csrf}, "entry": {"@Spam.Example"}, "note": {"a spam trap domain"}})
	if code != 200 || !strings.Contains(body, "@Spam.Example is on the suppression list") || !strings.Contains(body, "a spam trap domain") {
		t.Fatalf("add: %d\n%s", code, body)
	}
	// Check an address: its domain's entry.
	if _, body, _ = b.get("/admin/suppressions?check=Someone%40spam.example"); !strings.Contains(body, "a spam trap domain") {
		t.Errorf("check:\n%s", body)
	}
	if _, body, _ = b.get("/admin/suppressions?check=r1%40example.com"); !strings.Contains(body, "r1@example.com is not on the suppression list") {
		t.Errorf("check of a free address:\n%s", body)
	}

	// Remove the bounced address: a confirm step that says what happens.
	code, body, _ = b.get("/admin/suppressions/remove?entry=r0%40example.com&reason=bounced")
	if code != 200 || !strings.Contains(body, "bounced status is lifted") || !strings.Contains(body, `action="/admin/suppressions/remove"`) {
		t.Fatalf("confirm: %d\n%s", code, body)
	}
	if code, _, _ := b.get("/admin/suppressions/remove?entry=r1%40example.com"); code != http.StatusNotFound {
		t.Errorf("confirm of an address not on the list: %d", code)
	}
	code, body, _ = b.post("/admin/suppressions/remove", url.Values{"csrf": {b.csrf}, "entry": {"r0@example.com"}, "reason": {"bounced"}})
	if code != 200 || !strings.Contains(body, "r0@example.com is off the suppression list") {
		t.Fatalf("remove: %d\n%s", code, body)
	}
	if sub, _ := e.st.SubscriberByID(ctx, ds[0].SubscriberID); sub.Status != model.SubscriberActive {
		t.Errorf("status after the removal: %s", sub.Status)
	}
	if code, _, _ := b.post("/admin/suppressions/remove", url.Values{"csrf": {b.csrf}, "entry": {"r0@example.com"}}); code != http.StatusNotFound {
		t.Errorf("removing it again: %d", code)
	}
	if code, body, _ = b.get("/admin/suppressions/remove?entry=%40spam.example"); code != 200 || !strings.Contains(body, "Addresses at spam.example may be mailed again") {
		t.Errorf("domain confirm: %d\n%s", code, body)
	}
	if code, _, _ = b.post("/admin/suppressions/remove", url.Values{"csrf": {b.csrf}, "entry": {"@spam.example"}}); code != 200 {
		t.Errorf("domain removal: %d", code)
	}
	_, body, _ = b.get("/admin/audit")
	for _, s := range []string{"<td>suppress</td><td>@Spam.Example</td><td>a spam trap domain</td>", "<td>unsuppress</td><td>r0@example.com</td>",
		"<td>unsuppress</td><td>@spam.example</td>"} {
		if !strings.Contains(body, s) {
			t.Errorf("audit log lacks %q", s)
		}
	}
	if strings.Count(body, "<td>suppress</td>") != 1 {
		t.Errorf("a refused entry was audited")
	}
}

// The import page reports as the CLI does: added, updated, skipped by
// reason with each line, bad lines; resubscribe is --resubscribe.
func TestImportReport(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(2)
	ctx := context.Background()
	if err := e.st.Suppress(ctx, "blocked@example.com", ""); err != nil {
		t.Fatal(err)
	}
	gone, _, _ := e.st.UpsertSubscriber(ctx, "gone@example.com", "", model.SubscriberActive)
	if _, err := e.st.UpsertSubscription(ctx, gone.ID, "daily", nil, nil, model.SubscriptionUnsubscribed); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.UpsertSubscriber(ctx, "spam@example.com", "", model.SubscriberComplained); err != nil {
		t.Fatal(err)
	}
	b := e.browser().mustLogin(adminEmail)
	b.get("/admin/subscribers/import")
	csv := "email,name,digest,sections,authors,status\n" +
		"new@example.com,New,daily,,,active\n" + // line 2: added
		"r0@example.com,Renamed,daily,,,\n" + // 3: updated
		"gone@example.com,,daily,,,active\n" + // 4: skipped, unsubscribed
		"spam@example.com,,daily,,,active\n" + // 5: skipped, complained
		"blocked@example.com,,daily,,,active\n" + // 6: skipped, operator
		"nope,,daily,,,active\n" // 7: bad
	upload := func(resubscribe bool) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", b.csrf)
		if resubscribe {
			_ = mw.WriteField("resubscribe", "yes")
		}
		fw, _ := mw.CreateFormFile("file", "list.csv")
		io.WriteString(fw, csv)
		mw.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/subscribers/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	code, body := upload(false)
	for _, s := range []string{"Imported 2 row(s), 1 bad. Added 1, updated 1, skipped 3.",
		"Skipped to keep an opt-out: complained 1, operator 1, unsubscribed 1.",
		`<tr><td class="num">4</td><td>unsubscribed</td><td>The reader unsubscribed; import again with`,
		`<tr><td class="num">5</td><td>complained</td><td>On the suppression list`,
		`<tr><td class="num">6</td><td>operator</td>`, `<tr><td class="num">7</td><td>`} {
		if code != 200 || !strings.Contains(body, s) {
			t.Errorf("report lacks %q: %d", s, code)
		}
	}
	if t.Failed() {
		t.Fatalf("report:\n%s", body)
	}
	code, body = upload(true)
	if code != 200 || !strings.Contains(body, "(unsubscribed readers reactivated)") || strings.Contains(body, "<td>unsubscribed</td>") {
		t.Errorf("with resubscribe: %d\n%s", code, body)
	}
	if _, body, _ := b.get("/admin/audit"); !strings.Contains(body, "imported 2, bad 1, skipped 3") || !strings.Contains(body, "skipped 2, resubscribe") {
		t.Errorf("audit log:\n%s", body)
	}
}

// Reading the lifecycle's pages, signed in, changes nothing: no
// suppression key is made, no entry, status or audit line moves (only a
// POST changes state; the every-route test sees these pages without a
// session).
func TestLifecyclePagesChangeNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(3)
	ed, ds := e.sentEdition("")
	e.report(ds[0], model.ReportComplaint, "", "", model.EffectComplained)
	b := e.browser().mustLogin(adminEmail)
	dump := func() string {
		var out strings.Builder
		for _, q := range []string{`SELECT key, value FROM herald_settings ORDER BY key`, `SELECT * FROM suppressions ORDER BY entry`,
			`SELECT id, status, updated_at FROM subscribers ORDER BY id`, `SELECT id, action, target FROM audit_log ORDER BY id`,
			`SELECT count(*) FROM bounce_events`} {
			rows, err := e.st.R.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				_ = rows.Scan(ptrs...)
				fmt.Fprintln(&out, vals...)
			}
			rows.Close()
		}
		return out.String()
	}
	before := dump()
	for _, p := range []string{"/admin/", fmt.Sprintf("/admin/editions/%d", ed.ID), "/admin/editions",
		fmt.Sprintf("/admin/subscribers/%d", ds[0].SubscriberID), "/admin/subscribers?status=complained", "/admin/suppressions",
		"/admin/suppressions?reason=complained", "/admin/suppressions?reason=erased", "/admin/suppressions?check=r1%40example.com",
		"/admin/suppressions/remove?entry=" + url.QueryEscape(string(ds[0].Email)), "/admin/subscribers/import"} {
		if code, _, _ := b.get(p); code != http.StatusOK {
			t.Errorf("%s: %d", p, code)
		}
	}
	if after := dump(); after != before {
		t.Errorf("GETs changed the database:\n%s\n---\n%s", before, after)
	}
}
