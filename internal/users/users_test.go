package users

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
)

// cheap are argon2id costs small enough for fast tests.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture is a service over a fresh SQLite inventory.
type fixture struct {
	svc   *Service
	st    inventory.Store
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	svc := New(st, c.now, nil)
	svc.Params = cheap
	return &fixture{svc: svc, st: st, clock: c}
}

// auditText is every audit event, one per line.
func (f *fixture) auditText(t *testing.T) string {
	t.Helper()
	evs, _, err := f.st.ListAudit(context.Background(), time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(strings.Join([]string{e.Actor, e.Action, e.Object, e.Summary}, " ") + "\n")
	}
	return b.String()
}

func TestCreateAndAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pw, err := f.svc.Create(ctx, "cli:root", "alice", inventory.RoleAdmin, "correct horse battery")
	if err != nil || pw != "correct horse battery" {
		t.Fatalf("Create = %q, %v; want the given password", pw, err)
	}
	u, err := f.svc.Authenticate(ctx, "ALICE", "correct horse battery")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if u.Username != "alice" || u.Role != inventory.RoleAdmin || u.MustChangePassword {
		t.Errorf("user = %+v, want alice, admin, no forced change", u)
	}
	for name, try := range map[string][2]string{
		"wrong password": {"alice", "correct horse batterY"},
		"unknown user":   {"mallory", "correct horse battery"},
	} {
		if _, err := f.svc.Authenticate(ctx, try[0], try[1]); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: Authenticate = %v, want ErrInvalidCredentials", name, err)
		}
	}
	// Another admin, so that alice is not the last one and may be disabled.
	if _, err := f.svc.Create(ctx, "cli:root", "carol", inventory.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Disable(ctx, "cli:root", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, "alice", "correct horse battery"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("disabled: Authenticate = %v, want ErrInvalidCredentials", err)
	}
	if err := f.svc.Enable(ctx, "cli:root", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, "alice", "correct horse battery"); err != nil {
		t.Errorf("enabled again: Authenticate = %v", err)
	}
}

func TestCreateRefuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "cli:root", "bob", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user string
		role       inventory.Role
		password   string
		want       error
	}{
		{"duplicate", "bob", inventory.RoleUser, "correct horse battery", inventory.ErrConflict},
		{"duplicate other case", "BOB", inventory.RoleUser, "correct horse battery", inventory.ErrConflict},
		{"short password", "carol", inventory.RoleUser, "short", ErrWeakPassword},
		{"password is username", "carolcarolcarol", inventory.RoleUser, "CarolCarolCarol", ErrWeakPassword},
		{"bad role", "carol", "root", "correct horse battery", nil},
		{"bad username", "carol smith", inventory.RoleUser, "correct horse battery", nil},
	} {
		_, err := f.svc.Create(ctx, "cli:root", tc.user, tc.role, tc.password)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: Create = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestGeneratedAndResetPasswords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pw, err := f.svc.Create(ctx, "cli:root", "dave", inventory.RoleUser, "")
	if err != nil || len(pw) < MinPasswordLen {
		t.Fatalf("Create = %q, %v; want a generated password", pw, err)
	}
	u, err := f.svc.Authenticate(ctx, "dave", pw)
	if err != nil || !u.MustChangePassword {
		t.Fatalf("Authenticate = %+v, %v; want MustChangePassword", u, err)
	}
	pw2, err := f.svc.ResetPassword(ctx, "cli:root", "dave")
	if err != nil || pw2 == pw {
		t.Fatalf("ResetPassword = %q, %v; want a new password", pw2, err)
	}
	if _, err := f.svc.Authenticate(ctx, "dave", pw); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password: Authenticate = %v, want ErrInvalidCredentials", err)
	}
	if u, err := f.svc.Authenticate(ctx, "dave", pw2); err != nil || !u.MustChangePassword {
		t.Errorf("new password: Authenticate = %+v, %v; want MustChangePassword", u, err)
	}
	if _, err := f.svc.ResetPassword(ctx, "cli:root", "nobody"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("ResetPassword(nobody) = %v, want ErrNotFound", err)
	}
	audit := f.auditText(t)
	for _, secret := range []string{pw, pw2} {
		if strings.Contains(audit, secret) {
			t.Errorf("audit trail contains a password:\n%s", audit)
		}
	}
}

func TestSetRoleAndAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "cli:root", "erin", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetRole(ctx, "cli:root", "erin", inventory.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetRole(ctx, "cli:root", "erin", "god"); err == nil {
		t.Error("SetRole(god) succeeded, want an error")
	}
	list, err := f.svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].Role != inventory.RoleAdmin {
		t.Fatalf("List = %+v, %v; want erin as admin", list, err)
	}
	want := "cli:root user.create user:1 erin: role user\ncli:root user.role user:1 erin: role user -> admin\n"
	if got := f.auditText(t); got != want {
		t.Errorf("audit:\n%s\nwant:\n%s", got, want)
	}
}

func TestLastAdminKept(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, n := range []string{"ada", "bob"} {
		if _, err := f.svc.Create(ctx, "cli:root", n, inventory.RoleAdmin, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.Disable(ctx, "cli:root", "bob"); err != nil {
		t.Fatalf("disabling one of two admins: %v", err)
	}
	if err := f.svc.SetRole(ctx, "cli:root", "ada", inventory.RoleUser); err == nil || !strings.Contains(err.Error(), "last enabled admin") {
		t.Errorf("demoting the last enabled admin: err = %v", err)
	}
	if err := f.svc.Disable(ctx, "cli:root", "ada"); err == nil {
		t.Error("disabling the last enabled admin succeeded")
	}
	if err := f.svc.Enable(ctx, "cli:root", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetRole(ctx, "cli:root", "ada", inventory.RoleUser); err != nil {
		t.Errorf("demoting an admin while another is enabled: %v", err)
	}
}

// TestAuthenticateSameWorkEveryWay: a wrong password, an unknown user and
// a disabled user each cost exactly one password-hash computation with the
// service's parameters, like a right password: what an attacker times
// does not tell names apart. (The answer itself is compared, byte for
// byte, against the binary in cmd/certkeeper.)
func TestAuthenticateSameWorkEveryWay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, name := range []string{"alice", "carol"} {
		if _, err := f.svc.Create(ctx, "cli:root", name, inventory.RoleUser, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.Disable(ctx, "cli:root", "carol"); err != nil {
		t.Fatal(err)
	}
	u, err := f.st.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if h, err := parseHash(u.PasswordHash); err != nil || h.params != f.svc.Params {
		t.Fatalf("alice's hash: %v, want one with the service's params %+v", err, f.svc.Params)
	}
	cases := []struct{ name, user, password string }{
		{"right password", "alice", "correct horse battery"},
		{"wrong password", "alice", "a wrong password here"},
		{"unknown user", "nobody", "a wrong password here"},
		{"disabled user", "carol", "correct horse battery"},
	}
	for _, c := range cases {
		before := f.svc.hashing.runs.Load()
		_, err := f.svc.Authenticate(ctx, c.user, c.password)
		if got := f.svc.hashing.runs.Load() - before; got != 1 {
			t.Errorf("%s: %d hash computations, want 1 (err %v)", c.name, got, err)
		}
		if c.name != "right password" && !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: err %v, want ErrInvalidCredentials", c.name, err)
		}
	}
}

func TestLookupsAndEdit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, n := range []string{"ada", "bob"} {
		if _, err := f.svc.Create(ctx, "cli:root", n, inventory.RoleAdmin, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	bob, err := f.svc.ByName(ctx, "BOB")
	if err != nil || bob.Username != "bob" {
		t.Fatalf("ByName(BOB) = %+v, %v; want bob", bob, err)
	}
	if u, err := f.svc.ByID(ctx, bob.ID); err != nil || u.Username != "bob" {
		t.Errorf("ByID(%d) = %+v, %v; want bob", bob.ID, u, err)
	}
	if _, err := f.svc.ByName(ctx, "nobody"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("ByName(nobody) error = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.ByID(ctx, 99); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("ByID(99) error = %v, want ErrNotFound", err)
	}
	// An unchanged role and state change nothing and audit nothing.
	before := f.auditText(t)
	no := false
	if u, err := f.svc.Edit(ctx, "cli:root", bob, Change{Role: inventory.RoleAdmin, Disabled: &no}); err != nil || u.Role != inventory.RoleAdmin {
		t.Fatalf("Edit unchanged = %+v, %v", u, err)
	}
	if got := f.auditText(t); got != before {
		t.Errorf("unchanged edit audited:\n%s", strings.TrimPrefix(got, before))
	}
	yes := true
	u, err := f.svc.Edit(ctx, "cli:root", bob, Change{Role: inventory.RoleUser, Disabled: &yes})
	if err != nil || u.Role != inventory.RoleUser || !u.Disabled {
		t.Fatalf("Edit = %+v, %v; want a disabled user", u, err)
	}
	want := "cli:root user.role user:2 bob: role admin -> user\ncli:root user.disable user:2 bob: 0 sessions and 0 API tokens ended\n"
	if got := strings.TrimPrefix(f.auditText(t), before); got != want {
		t.Errorf("audit:\n%s\nwant:\n%s", got, want)
	}
	if _, err := f.svc.Edit(ctx, "cli:root", u, Change{Role: "god"}); err == nil {
		t.Error("Edit to role god succeeded, want an error")
	}
}
