package store

import (
	"context"
	"errors"
	"fmt"
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
	{"LoginLockout", testLoginLockout},
	{"LoginFailedConcurrent", testLoginFailedConcurrent},
}

// TestWebStoreContract runs the inventory.SessionStore, SettingsStore and
// EmailStore contracts, and the sign-in lockout of UserStore, against
// every backend.
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

func testLoginLockout(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "judy")
	at := time.Now().UTC().Truncate(time.Second)
	for want := 1; want <= 2; want++ {
		got, err := e.s.LoginFailed(ctx, u.ID, at, 3, 15*time.Minute)
		if err != nil || got.FailedLogins != want || got.LockedUntil != nil {
			t.Fatalf("LoginFailed %d = %+v, %v; want count %d, no lock", want, got, err, want)
		}
	}
	got, err := e.s.LoginFailed(ctx, u.ID, at.Add(200*time.Millisecond), 3, 15*time.Minute)
	until := at.Add(15 * time.Minute)
	if err != nil || got.FailedLogins != 0 || got.LockedUntil == nil || !got.LockedUntil.Equal(until) {
		t.Fatalf("LoginFailed 3 = %+v, %v; want count 0, locked until %v", got, err, until)
	}
	stored, err := e.s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("GetUser after lock (-LoginFailed +GetUser):\n%s", diff)
	}
	// Further failures count again and keep the lock until the next one.
	got, err = e.s.LoginFailed(ctx, u.ID, at.Add(time.Hour), 3, 15*time.Minute)
	if err != nil || got.FailedLogins != 1 || got.LockedUntil == nil || !got.LockedUntil.Equal(until) {
		t.Errorf("LoginFailed after lock = %+v, %v; want count 1, lock until %v kept", got, err, until)
	}
	// UpdateUser leaves the lockout alone.
	if err := e.s.UpdateUser(ctx, stored); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if after, err := e.s.GetUser(ctx, u.ID); err != nil || after.FailedLogins != 1 || after.LockedUntil == nil {
		t.Errorf("GetUser after UpdateUser = %+v, %v; want count 1 and the lock", after, err)
	}
	if err := e.s.LoginSucceeded(ctx, u.ID); err != nil {
		t.Fatalf("LoginSucceeded: %v", err)
	}
	if after, err := e.s.UserByName(ctx, "JUDY"); err != nil || after.FailedLogins != 0 || after.LockedUntil != nil {
		t.Errorf("UserByName after LoginSucceeded = %+v, %v; want count 0, no lock", after, err)
	}
	// maxFailures below 1 counts but never locks.
	if got, err := e.s.LoginFailed(ctx, u.ID, at, 0, time.Hour); err != nil || got.FailedLogins != 1 || got.LockedUntil != nil {
		t.Errorf("LoginFailed(maxFailures 0) = %+v, %v; want count 1, no lock", got, err)
	}
	if _, err := e.s.LoginFailed(ctx, 999, at, 3, time.Minute); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("LoginFailed(unknown user) = %v, want ErrNotFound", err)
	}
	if err := e.s.LoginSucceeded(ctx, 999); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("LoginSucceeded(unknown user) = %v, want ErrNotFound", err)
	}
}

func testLoginFailedConcurrent(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "mallory")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := e.s.LoginFailed(ctx, u.ID, time.Now(), 1000, time.Minute)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("LoginFailed: %v", err)
		}
	}
	got, err := e.s.GetUser(ctx, u.ID)
	if err != nil || got.FailedLogins != n || got.LockedUntil != nil {
		t.Errorf("after %d concurrent failures: %+v, %v; want count %d, no lock", n, got, err, n)
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
	if err != nil || u.FailedLogins != 0 || u.LockedUntil != nil || u.Role != inventory.RoleAdmin {
		t.Fatalf("user after migration = %+v, %v; want an admin with no failures and no lock", u, err)
	}
	if got, err := d.LoginFailed(ctx, u.ID, time.Now(), 1, time.Minute); err != nil || got.LockedUntil == nil {
		t.Errorf("LoginFailed after migration = %+v, %v; want a lock", got, err)
	}
	s := &inventory.Session{Hash: "h", UserID: u.ID}
	if err := d.PutSession(ctx, s); err != nil {
		t.Errorf("PutSession after migration: %v", err)
	}
}
