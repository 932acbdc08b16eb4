package admin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server"
)

// The check shows what send-now --dry-run would print (the same DryRun),
// the confirm step names the recipients, and confirming starts the
// edition and records it in the audit log.
func TestSendNowCheckConfirm(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(7)
	b := e.browser().mustLogin(editorEmail)
	b.get("/admin/send")
	form := url.Values{"csrf": {b.csrf}, "digest": {"daily"}, "section": {"world"}, "since": {"6h"}}
	code, body, _ := b.post("/admin/send/check", form)
	want, err := e.digests.DryRun(context.Background(), digest.SendNowRequest{Digest: "daily", Sections: []string{"world"}, Since: 6 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprintf(`id="recipients">%d<`, want.Recipients), fmt.Sprintf(`id="skipped">%d<`, want.Skipped),
		"Send to 7 recipients", "Breaking", `/admin/preview/frame?sample=`, `name="section" value="world"`} {
		if code != http.StatusOK || !strings.Contains(body, s) {
			t.Fatalf("check lacks %q: %d\n%s", s, code, body)
		}
	}
	sample := regexp.MustCompile(`/admin/preview/frame\?sample=([A-Za-z0-9_-]+)`).FindStringSubmatch(body)[1]
	if code, html, h := b.get("/admin/preview/frame?sample=" + sample); code != 200 || !strings.Contains(html, "Breaking") || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("sample frame: %d", code)
	}
	// "Send me a test" goes to the editor's own address.
	if code, body, _ := b.post("/admin/send/test", form); code != 200 || !strings.Contains(body, "A test was sent to "+editorEmail) {
		t.Fatalf("test: %d\n%s", code, body)
	}
	// Without the confirm step nothing is sent.
	if code, _, _ := b.post("/admin/send", form); code != http.StatusBadRequest {
		t.Fatalf("unconfirmed send: %d", code)
	}
	form.Set("confirm", "yes")
	form.Set("recipients", "7")
	code, _, h := b.post("/admin/send", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/admin/editions/") {
		t.Fatalf("send: %d %s", code, h.Get("Location"))
	}
	id := strings.TrimPrefix(h.Get("Location"), "/admin/editions/")
	waitFor(t, func() bool {
		_, body, _ := b.get("/admin/editions/" + id)
		return strings.Contains(body, `data-field="status">done<`)
	})
	_, body, _ = b.get("/admin/editions/" + id + "?status=sent")
	if strings.Count(body, `<span class="status status-sent">sent</span>`) != 7 {
		t.Fatalf("sent deliveries listed:\n%s", body)
	}
	_, body, _ = b.get("/admin/audit")
	for _, s := range []string{"send_now", "section=world since=6h0m0s checked_recipients=7", "send_test", "login"} {
		if !strings.Contains(body, s) {
			t.Errorf("audit log lacks %q", s)
		}
	}
}

// The progress stream reads the database, so an edition another process
// sends shows too, and it outlives the server's write timeout.
func TestProgressStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, envOptions{yaml: "admin: { progress_interval: 100ms }"})
	e.seed(3)
	ctx := context.Background()
	ed, _, err := e.st.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: e.clock.Now(), Since: e.clock.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	subs, _ := e.st.ActiveSubscriptions(ctx, "daily", 0, 10)
	var ds []model.Delivery
	for _, s := range subs {
		ds = append(ds, model.Delivery{SubscriberID: s.SubscriberID, SubscriptionID: s.ID, Status: model.DeliveryPending, ArticleIDs: []int64{1}})
	}
	if err := e.st.InsertDeliveries(ctx, ed.ID, ds, subs[len(subs)-1].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetEditionStatus(ctx, ed.ID, model.EditionSending); err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Options{WriteTimeout: time.Second, Routes: []server.Registrar{e.h}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go srv.Serve(sctx, ln, time.Second, nil)
	b := e.browser().mustLogin(editorEmail)
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second) // a stream that never ends fails the test
	defer rcancel()
	resp := e.openEvents(t, rctx, "http://"+ln.Addr().String(), b, ed.ID)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev map[string]any
				_ = json.Unmarshal([]byte(data), &ev)
				events <- ev
			}
		}
		close(events)
	}()
	first := <-events
	if first["pending"] != 3.0 || first["status"] != "sending" {
		t.Fatalf("first event %v", first)
	}
	time.Sleep(1500 * time.Millisecond) // past the write timeout
	// Another process records the sends and finishes the edition.
	page, _ := e.st.DueDeliveries(ctx, ed.ID, e.clock.Now(), 0, 10)
	for i := range page {
		page[i].Status, page[i].Attempts, page[i].SentAt = model.DeliverySent, 1, e.clock.Now()
	}
	if err := e.st.RecordDeliveries(ctx, page, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetEditionStatus(ctx, ed.ID, model.EditionDone); err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	for ev := range events {
		if ev["status"] != nil {
			last = ev
		}
	}
	if last == nil || last["sent"] != 3.0 || last["done"] != true {
		t.Fatalf("last event %v", last)
	}
}

// The editor's cancel goes through a confirm step; a finished edition
// offers none.
func TestCancelResumeConfirm(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(2)
	ctx := context.Background()
	ed, _, _ := e.st.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: e.clock.Now(), Since: e.clock.Now().Add(-time.Hour)})
	_ = e.st.SetEditionStatus(ctx, ed.ID, model.EditionSending)
	b := e.browser().mustLogin(editorEmail)
	path := fmt.Sprintf("/admin/editions/%d", ed.ID)
	code, body, _ := b.get(path + "/cancel")
	if code != 200 || !strings.Contains(body, "Cancel the edition") || !strings.Contains(body, `action="`+path+`/cancel"`) {
		t.Fatalf("confirm page: %d\n%s", code, body)
	}
	if code, _, h := b.post(path+"/cancel", url.Values{"csrf": {b.csrf}}); code != http.StatusSeeOther || h.Get("Location") != path {
		t.Fatalf("cancel: %d", code)
	}
	if st, _ := e.st.EditionStatus(ctx, ed.ID); st != model.EditionCancelled {
		t.Fatalf("status %s", st)
	}
	if code, _, _ := b.get(path + "/resume"); code != http.StatusConflict {
		t.Fatalf("resume of a cancelled edition offered: %d", code)
	}
	if code, _, _ := b.post(path+"/resume", url.Values{"csrf": {b.csrf}}); code != http.StatusConflict {
		t.Fatalf("resume of a cancelled edition: %d", code)
	}
	if _, body, _ := b.get("/admin/audit"); !strings.Contains(body, "cancel") {
		t.Fatal("cancel not audited")
	}
}

// Subscribers: search by address prefix, filters, keyset pages; one
// subscriber; a CSV import with the CLI's report.
func TestSubscribersPages(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(120)
	b := e.browser().mustLogin(adminEmail)
	_, body, _ := b.get("/admin/subscribers")
	if strings.Count(body, `href="/admin/subscribers/`) < 50 || !strings.Contains(body, "r119@example.com") || !strings.Contains(body, "Older subscribers") {
		t.Fatalf("first page:\n%.2000s", body)
	}
	next := regexp.MustCompile(`href="(/admin/subscribers\?[^"]+)">Older`).FindStringSubmatch(body)[1]
	_, body, _ = b.get(strings.ReplaceAll(next, "&amp;", "&"))
	if strings.Contains(body, "r119@example.com") || !strings.Contains(body, "r69@example.com") {
		t.Fatalf("second page:\n%.1500s", body)
	}
	_, body, _ = b.get("/admin/subscribers?q=R11")
	if n := strings.Count(body, `<td><a href="/admin/subscribers/`); n != 11 { // r11, r110..r119
		t.Fatalf("prefix search found %d", n)
	}
	_, body, _ = b.get("/admin/subscribers?status=pending&digest=daily")
	if !strings.Contains(body, "No subscriber matches") {
		t.Fatal("status filter")
	}
	_, body, _ = b.get("/admin/subscribers/1")
	if !strings.Contains(body, "r0@example.com") || !strings.Contains(body, "everything") {
		t.Fatalf("subscriber page:\n%s", body)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf)
	fw, _ := mw.CreateFormFile("file", "list.csv")
	io.WriteString(fw, "email,name,digest,sections,authors,status\nnew@example.com,New,daily,world,,active\nnot-an-address,X,daily,,,active\n")
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/subscribers/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(out), "Imported 1 row(s), 1 bad.") || !strings.Contains(string(out), "<td class=\"num\">3</td>") {
		t.Fatalf("import: %d\n%s", resp.StatusCode, out)
	}
	code, csv, h := b.get("/admin/subscribers/export")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(csv, "new@example.com,New,daily,world,,active") {
		t.Fatalf("export: %d %s", code, h.Get("Content-Type"))
	}
}

// A preview for a subscriber found by search, and for a new reader with
// chosen follows.
func TestPreview(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed(3)
	b := e.browser().mustLogin(editorEmail)
	_, body, _ := b.get("/admin/preview?digest=daily&mode=subscriber&email=r1")
	if !strings.Contains(body, "r1@example.com") {
		t.Fatalf("search:\n%s", body)
	}
	if !strings.Contains(body, `href="/admin/preview?mode=subscriber&amp;digest=daily&amp;email=r1%40example.com"`) {
		t.Fatalf("a match's link does not keep the digest chosen:\n%s", body)
	}
	if !strings.Contains(body, `<html lang="en">`) {
		t.Fatalf("the editors' pages are in English:\n%.300s", body)
	}
	_, body, _ = b.get("/admin/preview?digest=daily&mode=subscriber&email=r1@example.com")
	for _, s := range []string{"List-Unsubscribe", "Breaking", "<iframe"} {
		if !strings.Contains(body, s) {
			t.Fatalf("preview lacks %s:\n%s", s, body)
		}
	}
	_, body, _ = b.get("/admin/preview?digest=daily&mode=new&author=ann")
	if !strings.Contains(body, "new.reader@example.com") || !strings.Contains(body, "Breaking") {
		t.Fatalf("new reader:\n%s", body)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An editor sets their timezone; the pages show times in it.
func TestTimezone(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser().mustLogin(editorEmail)
	if code, _, _ := b.post("/admin/account/timezone", url.Values{"csrf": {b.csrf}, "timezone": {"Mars/Olympus"}}); code != http.StatusBadRequest {
		t.Fatalf("unknown zone: %d", code)
	}
	if code, _, _ := b.post("/admin/account/timezone", url.Values{"csrf": {b.csrf}, "timezone": {"Asia/Tokyo"}}); code != http.StatusSeeOther {
		t.Fatalf("set zone: %d", code)
	}
	if _, body, _ := b.get("/admin/"); !strings.Contains(body, "Times in your zone are Asia/Tokyo") || !strings.Contains(body, "JST") {
		t.Fatalf("dashboard:\n%s", body)
	}
}

// An open progress stream ends when its session does: a logout from
// another tab ends it within a reading or two, although the edition is
// still sending.
func TestProgressStreamEndsAtLogout(t *testing.T) {
	e := newEnv(t, envOptions{yaml: "admin: { progress_interval: 50ms }"})
	e.seed(3)
	ctx := context.Background()
	ed, _, err := e.st.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: e.clock.Now(), Since: e.clock.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetEditionStatus(ctx, ed.ID, model.EditionSending); err != nil {
		t.Fatal(err)
	}
	b := e.browser().mustLogin(editorEmail)
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	resp := e.openEvents(t, rctx, e.srv.URL, b, ed.ID)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	ended := make(chan string, 1)
	go func() {
		var last string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				last = ev
			}
		}
		ended <- last
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case ev := <-ended:
		t.Fatalf("the stream ended before the logout (last event %q)", ev)
	default:
	}
	if code, _, _ := b.post("/admin/logout", url.Values{"csrf": {b.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	select {
	case ev := <-ended:
		if ev != "ended" {
			t.Fatalf("the stream ended with %q, want ended", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the progress stream outlived the logout")
	}
}

// openEvents opens edition id's progress stream on the server at base with
// b's session cookies (the ones its jar holds for the test server), for as
// long as ctx lasts.
func (e *env) openEvents(t *testing.T, ctx context.Context, base string, b *browser, id int64) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", base+fmt.Sprintf("/admin/editions/%d/events", id), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.srv.URL + "/admin/")
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
