package reader_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
)

var (
	tsRE  = regexp.MustCompile(`name="ts" value="([^"]+)"`)
	powRE = regexp.MustCompile(`name="pow" value="([^"]+)"`)
)

// form fetches the subscribe form and returns its ts and challenge.
func (e *env) form() (ts, pow string) {
	e.t.Helper()
	code, body := e.do("GET", "/subscribe", "")
	if code != 200 {
		e.t.Fatalf("GET /subscribe %d", code)
	}
	if m := tsRE.FindStringSubmatch(body); m != nil {
		ts = m[1]
	}
	if m := powRE.FindStringSubmatch(body); m != nil {
		pow = m[1]
	}
	return ts, pow
}

// created reports whether address became a subscriber, after the worker
// caught up, and how many mails it got.
func (e *env) created(address string) (bool, int) {
	e.t.Helper()
	e.svc.Wait()
	_, ok, err := e.store.FindSubscriber(context.Background(), model.Address(address))
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, m := range e.smtp.Messages() {
		if strings.EqualFold(m.To[0], address) {
			n++
		}
	}
	return ok, n
}

// solve finds a nonce for challenge, as the page's script does.
func solve(challenge string, bits int) string {
	for n := 0; ; n++ {
		sum := sha256.Sum256([]byte(challenge + ":" + strconv.Itoa(n)))
		ok := true
		for i, b := 0, bits; b > 0; i, b = i+1, b-8 {
			mask := byte(0xff)
			if b < 8 {
				mask = ^byte(0xff >> b)
			}
			if sum[i]&mask != 0 {
				ok = false
				break
			}
		}
		if ok {
			return strconv.Itoa(n)
		}
	}
}

// Posts a bot makes — the honeypot filled, or sent sooner after the form
// was rendered than a person could — get the same 202 as a real one and
// create nothing, send nothing; a forged or missing ts counts as absent,
// so publishers' own forms keep working (issue 14, sign-up that bots
// cannot fill).
func TestBotPostsCreateNothing(t *testing.T) {
	e := newEnv(t)
	ts, _ := e.form()
	for _, tc := range []struct {
		name, ctype, body string
		later             time.Duration // how long after the form was rendered
		wantCreated       bool
	}{
		{"honeypot", "application/x-www-form-urlencoded", url.Values{"email": {"hp@example.com"}, "website": {"http://spam.example"}, "ts": {ts}}.Encode(), 10 * time.Second, false},
		{"honeypot json", "application/json", `{"email":"hpj@example.com","website":"x"}`, 0, false},
		{"too fast", "application/x-www-form-urlencoded", url.Values{"email": {"fast@example.com"}, "ts": {ts}}.Encode(), 0, false},
		{"too fast json", "application/json", `{"email":"fastj@example.com","ts":"` + ts + `"}`, 0, false},
		{"a person", "application/x-www-form-urlencoded", url.Values{"email": {"person@example.com"}, "ts": {ts}, "website": {""}}.Encode(), 4 * time.Second, true},
		{"no ts (a publisher's form)", "application/x-www-form-urlencoded", url.Values{"email": {"plain@example.com"}}.Encode(), 0, true},
		{"forged ts", "application/x-www-form-urlencoded", url.Values{"email": {"forged@example.com"}, "ts": {ts[:len(ts)-2] + "AA"}}.Encode(), 0, true},
		{"json with zone", "application/json", `{"email":"zone@example.com","timezone":"Europe/Paris","ts":"","website":""}`, 0, true},
	} {
		e.clock.Add(tc.later)
		req, _ := http.NewRequest("POST", e.srv.URL+"/subscribe", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("%s: %d, want the same 202 as everyone", tc.name, resp.StatusCode)
		}
		var address string
		if strings.HasPrefix(tc.ctype, "application/json") {
			var b struct{ Email string }
			json.Unmarshal([]byte(tc.body), &b)
			address = b.Email
		} else {
			v, _ := url.ParseQuery(tc.body)
			address = v.Get("email")
		}
		if ok, n := e.created(address); ok != tc.wantCreated || (n > 0) != tc.wantCreated {
			t.Errorf("%s: subscriber created %v, %d mails; want %v", tc.name, ok, n, tc.wantCreated)
		}
		e.clock.Set(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	}
}

// With http.subscribe_pow on, every post must carry a solved challenge,
// used once; the form loads herald's own script under a CSP that allows
// scripts from herald only, and the script finds what the server checks.
func TestProofOfWork(t *testing.T) {
	e := newEnvWith(t, "http: {subscribe_pow: true}\n")
	resp, err := http.Get(e.srv.URL + "/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); csp != web.ScriptCSP || strings.Contains(csp, "unsafe-eval") ||
		!strings.Contains(string(body), `<script src="/subscribe/pow.js" defer></script>`) {
		t.Fatalf("form: CSP %q, script tag missing or unsafe", csp)
	}
	if code, js := e.do("GET", "/subscribe/pow.js", ""); code != 200 || !strings.Contains(js, "heraldPow") {
		t.Fatalf("pow.js: %d", code)
	}
	_, pow := e.form()
	e.clock.Add(time.Minute)
	post := func(email, pow, nonce string) {
		t.Helper()
		code, _ := e.do("POST", "/subscribe", url.Values{"email": {email}, "pow": {pow}, "nonce": {nonce}}.Encode())
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d", email, code)
		}
	}
	post("none@example.com", "", "")
	post("wrong@example.com", pow, "1")
	nonce := solve(pow, 17)
	post("solved@example.com", pow, nonce)
	post("replayed@example.com", pow, nonce)
	for addr, want := range map[string]bool{"none@example.com": false, "wrong@example.com": false, "solved@example.com": true, "replayed@example.com": false} {
		if ok, _ := e.created(addr); ok != want {
			t.Errorf("%s: created %v, want %v", addr, ok, want)
		}
	}
	// A publisher's form asks herald for a challenge (any origin may).
	resp, err = http.Get(e.srv.URL + "/subscribe/challenge")
	if err != nil {
		t.Fatal(err)
	}
	var ch struct {
		Challenge string
		Bits      int
	}
	json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	if ch.Challenge == "" || ch.Bits != 17 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("challenge %+v, CORS %q", ch, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// The page's script solves what the server checks (with node, when
	// installed; CI installs it).
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the script itself is not run")
	}
	_, js := e.do("GET", "/subscribe/pow.js", "")
	out, err := exec.Command(node, "-e", js+"\nprocess.stdout.write(globalThis.heraldPow.solve(process.argv[1], 17))", ch.Challenge).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	post("script@example.com", ch.Challenge, string(out))
	if ok, _ := e.created("script@example.com"); !ok || string(out) != solve(ch.Challenge, 17) {
		t.Errorf("the script's nonce %q was not accepted (Go finds %s)", out, solve(ch.Challenge, 17))
	}
}

// Per network: one /24 together gets four clients' allowance.
func TestSubscribeNetworkLimit(t *testing.T) {
	e := newEnvWith(t, "http: {subscribe_per_hour: 2, trusted_proxies: ['127.0.0.1']}\n")
	codes := map[int]int{}
	for i := range 12 {
		req, _ := http.NewRequest("POST", e.srv.URL+"/subscribe", strings.NewReader(url.Values{"email": {fmt.Sprintf("n%d@example.com", i)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 1+i/2)) // six clients, two posts each
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusAccepted] != 8 || codes[http.StatusTooManyRequests] != 4 {
		t.Errorf("twelve posts from six clients of one /24 (2 per client, 8 per network): %v", codes)
	}
}
