package editor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/store"
	"github.com/heraldnews/herald/internal/testkit"
)

func TestPasswordHash(t *testing.T) {
	h, err := editor.HashPassword("correct horse battery")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("%q %v", h, err)
	}
	h2, _ := editor.HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := editor.VerifyPassword(h, pw); ok != want || err != nil {
			t.Errorf("%q: %v %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA"} {
		if _, err := editor.VerifyPassword(bad, "x"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if editor.CheckPassword("short") == nil || editor.CheckPassword(strings.Repeat("x", 300)) == nil || editor.CheckPassword("long enough pw") != nil {
		t.Error("password rules")
	}
}

func newService(t *testing.T) (*editor.Service, *store.Store, *testkit.Clock) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := testkit.NewClock(time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC))
	st, err := store.Open(context.Background(), t.TempDir()+"/h.db", store.Options{Logger: quiet, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return editor.New(st, clock.Now, quiet), st, clock
}

// Accounts: add, authenticate (one error for unknown and wrong), change
// the password (a new session generation), never remove the last admin;
// every change is in the audit log.
func TestAccounts(t *testing.T) {
	svc, _, clock := newService(t)
	ctx := context.Background()
	web := editor.Actor{EditorID: 0, Name: "chief@example.com", Client: "192.0.2.1"}
	a, err := svc.Add(ctx, editor.NewAccount{Email: "Chief@Example.COM", Role: model.RoleAdmin, Password: "a long password"}, editor.CLI)
	if err != nil || a.Email != "Chief@example.com" || !a.IsAdmin() || a.SessionGen != 1 {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := svc.Add(ctx, editor.NewAccount{Email: "chief@example.com", Password: "a long password"}, editor.CLI); model.ErrorCode(err) != model.ECONFLICT {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []editor.NewAccount{{Email: "x", Password: "a long password"}, {Email: "b@example.com", Role: "owner", Password: "a long password"},
		{Email: "b@example.com", Password: "short"}, {Email: "b@example.com", Password: "a long password", Timezone: "Mars/Base"}} {
		if _, err := svc.Add(ctx, bad, editor.CLI); model.ErrorCode(err) != model.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	_, errUnknown := svc.Authenticate(ctx, "nobody@example.com", "a long password", "192.0.2.1")
	_, errWrong := svc.Authenticate(ctx, "chief@example.com", "the wrong password", "192.0.2.1")
	if !errors.Is(errUnknown, editor.ErrBadLogin) || !errors.Is(errWrong, editor.ErrBadLogin) || errUnknown.Error() != errWrong.Error() {
		t.Fatalf("%v / %v", errUnknown, errWrong)
	}
	got, err := svc.Authenticate(ctx, "CHIEF@example.com", "a long password", "192.0.2.1")
	if err != nil || got.ID != a.ID || !got.LastLoginAt.Equal(clock.Now()) {
		t.Fatalf("%+v %v", got, err)
	}
	changed, err := svc.ChangePassword(ctx, a.ID, "a long password", "another long one", web)
	if err != nil || changed.SessionGen != 2 {
		t.Fatalf("%+v %v", changed, err)
	}
	if _, err := svc.ChangePassword(ctx, a.ID, "a long password", "and a third one", web); !errors.Is(err, editor.ErrWrongPassword) {
		t.Fatalf("wrong current: %v", err)
	}
	if err := svc.Remove(ctx, "chief@example.com", editor.CLI); !errors.Is(err, editor.ErrLastAdmin) {
		t.Fatalf("last admin: %v", err)
	}
	if _, err := svc.Add(ctx, editor.NewAccount{Email: "desk@example.com", Password: "a long password"}, editor.CLI); err != nil {
		t.Fatal(err)
	}
	if err := svc.Remove(ctx, "desk@example.com", editor.CLI); err != nil {
		t.Fatal(err)
	}
	if err := svc.Remove(ctx, "desk@example.com", editor.CLI); model.ErrorCode(err) != model.ENOTFOUND {
		t.Fatalf("remove twice: %v", err)
	}
	log, err := svc.Audit(ctx, time.Time{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "editor_remove editor_add editor_passwd login login_failed login_failed editor_add" {
		t.Fatalf("audit: %s", got)
	}
	// --since and paging.
	clock.Add(time.Hour)
	svc.Record(ctx, editor.CLI, "resume", "edition 9", "")
	if recent, _ := svc.Audit(ctx, clock.Now().Add(-time.Minute), 0, 100); len(recent) != 1 || recent[0].Action != "resume" {
		t.Fatalf("since: %+v", recent)
	}
	if page, _ := svc.Audit(ctx, time.Time{}, log[2].ID, 2); len(page) != 2 || page[0].ID != log[3].ID {
		t.Fatalf("page: %+v", page)
	}
}
