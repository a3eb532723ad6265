package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var webContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"Sessions", testSessions},
	{"SessionErrors", testSessionErrors},
	{"StaleSessions", testStaleSessions},
	{"Settings", testSettings},
	{"Emails", testEmails},
	{"EmailBadCursor", testEmailBadCursor},
	{"SignInFailures", testSignInFailures},
	{"SignInFailuresConcurrent", testSignInFailuresConcurrent},
	{"CredentialGen", testCredentialGen},
}

// TestWebStoreContract runs the inventory.SessionStore, SettingsStore and
// EmailStore contracts, and the sign-in failures and credential
// generations of UserStore, against every backend.
func TestWebStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range webContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

// putSession stores a session of user with the given hash and times.
func putSession(t *testing.T, s inventory.Store, userID int64, hash string, created, seen time.Time) *inventory.Session {
	t.Helper()
	sess := &inventory.Session{Hash: hash, UserID: userID, CreatedAt: created, LastSeenAt: seen,
		RemoteAddr: "192.0.2.7:50123", UserAgent: "Mozilla/5.0 (test)"}
	if err := s.PutSession(context.Background(), sess); err != nil {
		t.Fatalf("PutSession(%s): %v", hash, err)
	}
	if sess.ID == 0 {
		t.Fatalf("PutSession(%s) left ID 0", hash)
	}
	return sess
}

// wantSessions checks which of the sessions are still stored.
func wantSessions(t *testing.T, s inventory.Store, present, gone []*inventory.Session) {
	t.Helper()
	for _, sess := range present {
		if _, err := s.SessionByHash(context.Background(), sess.Hash); err != nil {
			t.Errorf("SessionByHash(%s) = %v, want the session", sess.Hash, err)
		}
	}
	for _, sess := range gone {
		if _, err := s.SessionByHash(context.Background(), sess.Hash); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("SessionByHash(%s) = %v, want ErrNotFound", sess.Hash, err)
		}
	}
}

func testSessions(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "frank")
	other := putUser(t, e.s, "grace")
	now := time.Now().UTC().Truncate(time.Second)
	a := putSession(t, e.s, u.ID, "aa11", now, now)
	got, err := e.s.SessionByHash(ctx, "aa11")
	if err != nil {
		t.Fatalf("SessionByHash: %v", err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("SessionByHash (-stored +got):\n%s", diff)
	}
	seen := now.Add(5*time.Minute + 300*time.Millisecond)
	if err := e.s.TouchSession(ctx, a.ID, seen); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	got, err = e.s.SessionByHash(ctx, "aa11")
	if err != nil || !got.LastSeenAt.Equal(seen.Truncate(time.Second)) || !got.CreatedAt.Equal(now) {
		t.Errorf("after TouchSession: %+v, %v; want LastSeenAt %v, CreatedAt %v", got, err, seen.Truncate(time.Second), now)
	}

	b := putSession(t, e.s, u.ID, "bb22", now, now)
	c := putSession(t, e.s, u.ID, "cc33", now, now)
	theirs := putSession(t, e.s, other.ID, "dd44", now, now)
	if err := e.s.DeleteSession(ctx, a.ID); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	wantSessions(t, e.s, []*inventory.Session{b, c, theirs}, []*inventory.Session{a})
	n, err := e.s.DeleteOtherSessions(ctx, u.ID, c.ID)
	if err != nil || n != 1 {
		t.Errorf("DeleteOtherSessions = %d, %v; want 1, nil", n, err)
	}
	wantSessions(t, e.s, []*inventory.Session{c, theirs}, []*inventory.Session{b})
	d := putSession(t, e.s, u.ID, "ee55", now, now)
	n, err = e.s.DeleteUserSessions(ctx, u.ID)
	if err != nil || n != 2 {
		t.Errorf("DeleteUserSessions = %d, %v; want 2, nil", n, err)
	}
	wantSessions(t, e.s, []*inventory.Session{theirs}, []*inventory.Session{c, d})
	if n, err := e.s.DeleteUserSessions(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("DeleteUserSessions again = %d, %v; want 0, nil", n, err)
	}
}

func testSessionErrors(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "heidi")
	now := time.Now()
	putSession(t, e.s, u.ID, "ff66", now, now)
	dup := &inventory.Session{Hash: "ff66", UserID: u.ID}
	if err := e.s.PutSession(ctx, dup); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutSession(same hash) = %v, want ErrConflict", err)
	}
	if err := e.s.PutSession(ctx, &inventory.Session{Hash: "0077", UserID: 999}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("PutSession(unknown user) = %v, want ErrNotFound", err)
	}
	_, err1 := e.s.SessionByHash(ctx, "nope")
	err2 := e.s.TouchSession(ctx, 999, now)
	err3 := e.s.DeleteSession(ctx, 999)
	for i, err := range []error{err1, err2, err3} {
		if !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("call %d: err = %v, want ErrNotFound", i+1, err)
		}
	}
	// Zero times default to now, LastSeenAt to CreatedAt.
	z := &inventory.Session{Hash: "1188", UserID: u.ID}
	if err := e.s.PutSession(ctx, z); err != nil {
		t.Fatalf("PutSession(zero times): %v", err)
	}
	if z.CreatedAt.IsZero() || !z.LastSeenAt.Equal(z.CreatedAt) {
		t.Errorf("PutSession(zero times) set CreatedAt %v, LastSeenAt %v; want now, twice", z.CreatedAt, z.LastSeenAt)
	}
}

func testStaleSessions(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "ivan")
	now := time.Now().UTC().Truncate(time.Second)
	createdBefore, seenBefore := now.Add(-12*time.Hour), now.Add(-30*time.Minute)
	old := putSession(t, e.s, u.ID, "old", now.Add(-13*time.Hour), now.Add(-time.Minute))
	idle := putSession(t, e.s, u.ID, "idle", now.Add(-time.Hour), now.Add(-31*time.Minute))
	live := putSession(t, e.s, u.ID, "live", now.Add(-time.Hour), now.Add(-time.Minute))
	// Exactly at the bounds is not before them.
	edge := putSession(t, e.s, u.ID, "edge", createdBefore, seenBefore)
	n, err := e.s.DeleteStaleSessions(ctx, createdBefore, seenBefore)
	if err != nil || n != 2 {
		t.Errorf("DeleteStaleSessions = %d, %v; want 2, nil", n, err)
	}
	wantSessions(t, e.s, []*inventory.Session{live, edge}, []*inventory.Session{old, idle})
	// Half a second later the edge session (stored to the second) is
	// before both bounds.
	n, err = e.s.DeleteStaleSessions(ctx, createdBefore.Add(500*time.Millisecond), time.Time{})
	if err != nil || n != 1 {
		t.Errorf("DeleteStaleSessions(+0.5s) = %d, %v; want 1, nil", n, err)
	}
	wantSessions(t, e.s, []*inventory.Session{live}, []*inventory.Session{edge})
}

func testSettings(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.GetSetting(ctx, "smtp"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetSetting(missing) = %v, want ErrNotFound", err)
	}
	for _, value := range []string{`{"host":"mail.example.test","port":587}`, `{"host":"smtp.example.test"}`, ``} {
		if err := e.s.PutSetting(ctx, "smtp", []byte(value)); err != nil {
			t.Fatalf("PutSetting(%s): %v", value, err)
		}
		got, err := e.s.GetSetting(ctx, "smtp")
		if err != nil || string(got) != value || got == nil {
			t.Errorf("GetSetting after PutSetting(%q) = %q (nil %t), %v; want %q", value, got, got == nil, err, value)
		}
	}
	if err := e.s.PutSetting(ctx, "sessions", []byte(`{"idle":"30m"}`)); err != nil {
		t.Fatalf("PutSetting(sessions): %v", err)
	}
	if got, err := e.s.GetSetting(ctx, "smtp"); err != nil || len(got) != 0 {
		t.Errorf("GetSetting(smtp) after another name's put = %q, %v; want empty", got, err)
	}
}

func testEmails(t *testing.T, e *env) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	// Stored out of time order, and two in the same second.
	at := []time.Duration{0, 3 * time.Second, time.Second, 3 * time.Second, 2 * time.Second}
	var all []*inventory.Email
	for i, d := range at {
		m := &inventory.Email{Time: base.Add(d), Kind: "alert", From: "certkeeper@example.test",
			To:      []string{fmt.Sprintf("ops%d@example.test", i), "Security <sec@example.test>"},
			Subject: fmt.Sprintf("alert %d", i), Body: "line 1\nline 2", Status: inventory.EmailSent}
		if i == 2 {
			m.Status, m.Error, m.To = inventory.EmailFailed, "550 mailbox unavailable", []string{"bad\naddress"}
		}
		if i == 4 {
			m.To = nil
		}
		if err := e.s.PutEmail(ctx, m); err != nil {
			t.Fatalf("PutEmail(%d): %v", i, err)
		}
		all = append(all, m)
	}
	want := []inventory.Email{*all[3], *all[1], *all[4], *all[2], *all[0]}
	for _, size := range []int{0, 1, 2, 5} {
		got := listAllEmails(t, e.s, size)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListEmails, pages of %d (-want +got):\n%s", size, diff)
		}
	}
	now := &inventory.Email{Kind: "test", Status: inventory.EmailSent}
	if err := e.s.PutEmail(ctx, now); err != nil || now.Time.IsZero() {
		t.Fatalf("PutEmail(zero time) = %v, Time %v; want now", err, now.Time)
	}
	page, next, err := e.s.ListEmails(ctx, inventory.Page{Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != now.ID || next == "" {
		t.Errorf("ListEmails first = %+v, %q, %v; want the newest and a cursor", page, next, err)
	}
}

// listAllEmails follows the cursors through every page of size limit.
func listAllEmails(t *testing.T, s inventory.Store, limit int) []inventory.Email {
	t.Helper()
	var out []inventory.Email
	p := inventory.Page{Limit: limit}
	for range 100 {
		page, next, err := s.ListEmails(context.Background(), p)
		if err != nil {
			t.Fatalf("ListEmails(%+v): %v", p, err)
		}
		if limit > 0 && len(page) > limit {
			t.Fatalf("ListEmails(%+v) gave %d e-mails", p, len(page))
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		p.After = next
	}
	t.Fatal("ListEmails: cursors never ended")
	return nil
}

func testEmailBadCursor(t *testing.T, e *env) {
	for _, c := range []string{"!!", encodeCursor(5), encodeCursor(1, 2, 3), "MSx4"} {
		if _, _, err := e.s.ListEmails(context.Background(), inventory.Page{After: c}); !errors.Is(err, inventory.ErrBadCursor) {
			t.Errorf("ListEmails(After %q) = %v, want ErrBadCursor", c, err)
		}
	}
}

func testSignInFailures(t *testing.T, e *env) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	add := func(name, addr string, at time.Time, want int) {
		t.Helper()
		got, err := e.s.AddSignInFailure(ctx, name, addr, at, at.Add(-time.Hour))
		if err != nil || got.Failures != want || got.Name != name || got.Addr != addr {
			t.Fatalf("AddSignInFailure(%q, %q) = %+v, %v; want %d failures", name, addr, got, err, want)
		}
	}
	add("alice", "192.0.2.1", at, 1)
	add("alice", "192.0.2.1", at.Add(time.Second), 2)
	add("", "192.0.2.1", at, 1)
	add("alice", "192.0.2.2", at, 1)
	add("bob", "192.0.2.2", at, 1)
	add("", "192.0.2.2", at, 1)
	add("", "192.0.2.3", at, 1)
	// A failure older than the stored one keeps Last.
	if got, err := e.s.AddSignInFailure(ctx, "alice", "192.0.2.1", at, at.Add(-time.Hour)); err != nil ||
		got.Failures != 3 || !got.Last.Equal(at.Add(time.Second)) {
		t.Fatalf("AddSignInFailure(earlier) = %+v, %v; want 3 failures, last %v", got, err, at.Add(time.Second))
	}
	got, err := e.s.SignInFailures(ctx, "alice", "192.0.2.1")
	want := []inventory.SignInFailures{{Name: "", Addr: "192.0.2.1", Failures: 1, Last: at},
		{Name: "alice", Addr: "192.0.2.1", Failures: 3, Last: at.Add(time.Second)}}
	sortFailures(got)
	if err != nil || !cmp.Equal(got, want) {
		t.Fatalf("SignInFailures = %+v, %v; want %+v", got, err, want)
	}
	// Quiet for longer than forgetBefore: the count starts again.
	later := at.Add(2 * time.Hour)
	add("alice", "192.0.2.1", later, 1)
	if err := e.s.ClearSignInFailure(ctx, "alice", "192.0.2.1"); err != nil {
		t.Fatalf("ClearSignInFailure: %v", err)
	}
	if got, err := e.s.SignInFailures(ctx, "alice", "192.0.2.1"); err != nil || len(got) != 1 || got[0].Name != "" {
		t.Fatalf("after ClearSignInFailure: %+v, %v; want the address record only", got, err)
	}
	add("alice", "192.0.2.1", later, 1)
	// Clearing alice removes her records and those of her addresses, not
	// bob's nor another address's.
	if n, err := e.s.ClearSignInFailures(ctx, "alice"); err != nil || n != 4 {
		t.Fatalf("ClearSignInFailures(alice) = %d, %v; want 4", n, err)
	}
	if got, _ := e.s.SignInFailures(ctx, "bob", "192.0.2.2"); len(got) != 1 || got[0].Name != "bob" {
		t.Errorf("bob after clearing alice: %+v, want bob's record only", got)
	}
	if got, _ := e.s.SignInFailures(ctx, "x", "192.0.2.3"); len(got) != 1 {
		t.Errorf("another address after clearing alice: %+v, want its record", got)
	}
	if n, err := e.s.ClearSignInFailures(ctx, ""); err != nil || n != 0 {
		t.Errorf("ClearSignInFailures(\"\") = %d, %v; want 0", n, err)
	}
	if n, err := e.s.ForgetSignInFailures(ctx, at.Add(time.Minute)); err != nil || n != 2 {
		t.Errorf("ForgetSignInFailures = %d, %v; want 2", n, err)
	}
}

func sortFailures(fs []inventory.SignInFailures) {
	slices.SortFunc(fs, func(a, b inventory.SignInFailures) int { return strings.Compare(a.Name, b.Name) })
}

func testSignInFailuresConcurrent(t *testing.T, e *env) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := e.s.AddSignInFailure(ctx, "mallory", "198.51.100.7", time.Now(), time.Now().Add(-time.Hour))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("AddSignInFailure: %v", err)
		}
	}
	got, err := e.s.SignInFailures(ctx, "mallory", "198.51.100.7")
	if err != nil || len(got) != 1 || got[0].Failures != n {
		t.Errorf("after %d concurrent failures: %+v, %v; want one record of %d", n, got, err, n)
	}
}

// testCredentialGen: users, sessions and tokens keep their credential
// generation, and DeleteUserTokens removes one user's tokens.
func testCredentialGen(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "gina")
	other := putUser(t, e.s, "hal")
	u.CredentialGen = 3
	if err := e.s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.GetUser(ctx, u.ID); err != nil || got.CredentialGen != 3 {
		t.Fatalf("GetUser after UpdateUser = %+v, %v; want generation 3", got, err)
	}
	sess := &inventory.Session{Hash: "gen-session", UserID: u.ID, Gen: 3}
	if err := e.s.PutSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.SessionByHash(ctx, "gen-session"); err != nil || got.Gen != 3 {
		t.Errorf("SessionByHash = %+v, %v; want generation 3", got, err)
	}
	for i, owner := range []int64{u.ID, u.ID, other.ID} {
		tok := &inventory.APIToken{UserID: owner, Name: "t", Hash: fmt.Sprintf("gen-token-%d", i), Gen: 3}
		if err := e.s.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := e.s.TokenByHash(ctx, "gen-token-0"); err != nil || got.Gen != 3 {
		t.Errorf("TokenByHash = %+v, %v; want generation 3", got, err)
	}
	if n, err := e.s.DeleteUserTokens(ctx, u.ID); err != nil || n != 2 {
		t.Errorf("DeleteUserTokens = %d, %v; want 2", n, err)
	}
	if list, err := e.s.ListTokens(ctx, other.ID); err != nil || len(list) != 1 {
		t.Errorf("the other user's tokens = %d, %v; want 1", len(list), err)
	}
}

// TestWebMigrationKeepsUsers checks that 0008_web applies to a database
// with users and gives them no failures and no lock.
func TestWebMigrationKeepsUsers(t *testing.T) {
	onEmptyDatabases(t, testWebMigration)
}

func testWebMigration(t *testing.T, d *db) {
	ctx := context.Background()
	all := migrateBefore(t, d, 8)
	now := d.t(d.now())
	_, err := d.w.ExecContext(ctx, d.q(`INSERT INTO users (username, role, password_hash, must_change_password,
		disabled, created_at, updated_at) VALUES ('kim', 'admin', 'h', ?, ?, ?, ?)`), false, false, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.apply(ctx, all); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	u, err := d.UserByName(ctx, "kim")
	if err != nil || u.CredentialGen != 0 || u.Role != inventory.RoleAdmin {
		t.Fatalf("user after migration = %+v, %v; want an admin at credential generation 0", u, err)
	}
	s := &inventory.Session{Hash: "h", UserID: u.ID}
	if err := d.PutSession(ctx, s); err != nil {
		t.Errorf("PutSession after migration: %v", err)
	}
}
