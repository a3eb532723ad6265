package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestLoginSessionLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "test", "ada", inventory.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	u, secret, err := f.svc.Login(ctx, "ADA", "correct horse battery", "127.0.0.1", "test-agent")
	if err != nil || u.Username != "ada" || !strings.HasPrefix(secret, SessionPrefix) {
		t.Fatalf("Login = %v, %q, %v", u, secret, err)
	}
	got, sess, err := f.svc.Session(ctx, secret)
	if err != nil || got.ID != u.ID || sess.RemoteAddr != "127.0.0.1" || sess.UserAgent != "test-agent" {
		t.Fatalf("Session = %+v, %+v, %v", got, sess, err)
	}
	// The stored session knows only the hash of the secret.
	if _, err := f.st.SessionByHash(ctx, secret); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("a session was found by its raw secret: %v", err)
	}
	// Idle limit: used within it, the session lives on; past it, it ends.
	f.clock.t = f.clock.t.Add(DefaultSessionPolicy.Idle - time.Minute)
	if _, _, err := f.svc.Session(ctx, secret); err != nil {
		t.Fatalf("session within the idle limit: %v", err)
	}
	f.clock.t = f.clock.t.Add(DefaultSessionPolicy.Idle - time.Minute)
	if _, _, err := f.svc.Session(ctx, secret); err != nil {
		t.Fatalf("session used again within the idle limit: %v", err)
	}
	f.clock.t = f.clock.t.Add(DefaultSessionPolicy.Idle)
	if _, _, err := f.svc.Session(ctx, secret); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session after the idle limit: %v, want ErrNoSession", err)
	}
	// Absolute limit, however busy.
	_, secret, err = f.svc.Login(ctx, "ada", "correct horse battery", "127.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	for elapsed := time.Duration(0); elapsed < DefaultSessionPolicy.Absolute; elapsed += 20 * time.Minute {
		f.clock.t = f.clock.t.Add(20 * time.Minute)
		_, _, err = f.svc.Session(ctx, secret)
	}
	if !errors.Is(err, ErrNoSession) {
		t.Fatalf("session past the absolute limit: %v, want ErrNoSession", err)
	}
	// Unknown and malformed secrets.
	for _, s := range []string{"", "cks_nope", "ck_token", secret + "x"} {
		if _, _, err := f.svc.Session(ctx, s); !errors.Is(err, ErrNoSession) {
			t.Errorf("Session(%q) = %v, want ErrNoSession", s, err)
		}
	}
}

func TestLogoutAndDisable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, n := range []string{"ada", "bob"} {
		if _, err := f.svc.Create(ctx, "test", n, inventory.RoleAdmin, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	_, s1, _ := f.svc.Login(ctx, "ada", "correct horse battery", "", "")
	_, s2, _ := f.svc.Login(ctx, "ada", "correct horse battery", "", "")
	_, s3, _ := f.svc.Login(ctx, "bob", "correct horse battery", "", "")
	if err := f.svc.Logout(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Session(ctx, s1); !errors.Is(err, ErrNoSession) {
		t.Errorf("signed-out session still works: %v", err)
	}
	if err := f.svc.Logout(ctx, s1); err != nil {
		t.Errorf("second logout: %v", err)
	}
	ada, _ := f.st.UserByName(ctx, "ada")
	if n, err := f.svc.LogoutEverywhere(ctx, "user:ada", ada); err != nil || n != 1 {
		t.Errorf("LogoutEverywhere = %d, %v; want 1", n, err)
	}
	if _, _, err := f.svc.Session(ctx, s2); !errors.Is(err, ErrNoSession) {
		t.Errorf("session survived logout everywhere: %v", err)
	}
	// A disabled user's session stops working.
	if err := f.svc.Disable(ctx, "test", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Session(ctx, s3); !errors.Is(err, ErrNoSession) {
		t.Errorf("disabled user's session: %v", err)
	}
	if _, _, err := f.svc.Login(ctx, "bob", "correct horse battery", "", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("disabled user signs in: %v", err)
	}
	text := f.auditText(t)
	for _, want := range []string{"user.login", "user.logout", "user.logout_everywhere"} {
		if !strings.Contains(text, want) {
			t.Errorf("audit lacks %s:\n%s", want, text)
		}
	}
}

// TestLoginBackoff: failures slow down the address they come from, for
// that name and for all names, and never the right password from another
// address; unknown names are answered alike; an admin's unlock ends it.
func TestLoginBackoff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "test", "ada", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	p := DefaultSessionPolicy.PerName
	for _, name := range []string{"ada", "nobody"} {
		for i := range p.Free {
			if _, _, err := f.svc.Login(ctx, name, "wrong password!", "10.0.0.1", ""); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("%s failure %d: %v, want ErrInvalidCredentials", name, i+1, err)
			}
		}
		// Backed off now, known name or not, even with the right password
		// (counted from the end of the stored second of the failure).
		_, _, err := f.svc.Login(ctx, name, "correct horse battery", "10.0.0.1", "")
		var be *BackoffError
		if !errors.As(err, &be) || be.Wait != p.Base+time.Second {
			t.Fatalf("%s after %d failures: %v, want a backoff of %s", name, p.Free, err, p.Base+time.Second)
		}
	}
	// Another address is not slowed down at all.
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "10.0.0.2", ""); err != nil {
		t.Fatalf("right password from a fresh address: %v", err)
	}
	// The wait doubles per further failure.
	f.clock.t = f.clock.t.Add(p.Base + time.Second)
	if _, _, err := f.svc.Login(ctx, "ada", "wrong password!", "10.0.0.1", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("after waiting: %v, want ErrInvalidCredentials", err)
	}
	var be *BackoffError
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "10.0.0.1", ""); !errors.As(err, &be) || be.Wait != 2*p.Base+time.Second {
		t.Fatalf("after one more failure: %v, want a backoff of %s", err, 2*p.Base+time.Second)
	}
	// An admin's unlock ends the backoff.
	if n, err := f.svc.Unlock(ctx, "user:root", "ADA"); err != nil || n != 2 {
		t.Fatalf("Unlock = %d, %v; want 2 records cleared", n, err)
	}
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "10.0.0.1", ""); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if _, err := f.svc.Unlock(ctx, "user:root", "nobody"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Unlock(unknown user) = %v, want ErrNotFound", err)
	}
	if text := f.auditText(t); !strings.Contains(text, "user:root user.unlock user:1 ada: 2 sign-in failure records cleared") ||
		strings.Contains(text, "wrong password!") || strings.Contains(text, "nobody") {
		t.Errorf("audit should record the unlock and never a password or an unknown name:\n%s", text)
	}
}

// TestLoginBackoffPerAddress: many names from one address slow that
// address down for every name.
func TestLoginBackoffPerAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "test", "ada", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	p := DefaultSessionPolicy.PerAddress
	for i := range p.Free {
		name := fmt.Sprintf("name%d", i)
		if _, _, err := f.svc.Login(ctx, name, "wrong password!", "2001:db8::1", ""); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// Same /64, another name: backed off.
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "2001:db8::2", ""); !errors.Is(err, ErrBackoff) {
		t.Fatalf("another name from the same /64: %v, want ErrBackoff", err)
	}
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "2001:db8:0:1::1", ""); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	// Failures are forgotten after Forget.
	f.clock.t = f.clock.t.Add(DefaultSessionPolicy.Forget + time.Second)
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "2001:db8::2", ""); err != nil {
		t.Fatalf("a day later: %v", err)
	}
}

func TestBackoffWait(t *testing.T) {
	b := Backoff{Free: 3, Base: time.Second, Max: 10 * time.Second}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{0, 0}, {2, 0}, {3, time.Second}, {4, 2 * time.Second}, {6, 8 * time.Second}, {7, 10 * time.Second},
		{1000, 10 * time.Second}} {
		if got := b.Wait(tc.failures); got != tc.want {
			t.Errorf("Wait(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
	if got := (Backoff{}).Wait(50); got != 0 {
		t.Errorf("zero Backoff Wait(50) = %s, want 0", got)
	}
}

func TestLoginFailuresCountedConcurrently(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "test", "ada", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	f.svc.Sessions.PerName.Free = 100
	f.svc.Sessions.PerAddress.Free = 100
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() { f.svc.Login(ctx, "ada", "wrong password!", "10.0.0.9", "") })
	}
	wg.Wait()
	got, err := f.st.SignInFailures(ctx, nameKey("ada"), "10.0.0.9")
	if err != nil || len(got) != 2 || got[0].Failures != 12 || got[1].Failures != 12 {
		t.Errorf("SignInFailures = %+v, %v; want two records of 12", got, err)
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	generated, err := f.svc.Create(ctx, "test", "ada", inventory.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	u, keep, err := f.svc.Login(ctx, "ada", generated, "", "")
	if err != nil || !u.MustChangePassword {
		t.Fatalf("login with the generated password: %+v, %v", u, err)
	}
	_, other, _ := f.svc.Login(ctx, "ada", generated, "", "")
	_, sess, _ := f.svc.Session(ctx, keep)
	for _, tt := range []struct{ current, next, field string }{
		{"not the password", "a brand new password", "current_password"},
		{generated, generated, "password"},
		{generated, "short", "password"},
		{generated, "ada", "password"},
	} {
		var fe *inventory.FieldError
		if err := f.svc.ChangePassword(ctx, u, tt.current, tt.next, sess.ID); !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("ChangePassword(%q -> %q) = %v, want a %s field error", tt.current, tt.next, err, tt.field)
		}
	}
	if err := f.svc.ChangePassword(ctx, u, generated, "a brand new password", sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Session(ctx, keep); err != nil {
		t.Errorf("the changing session ended: %v", err)
	}
	if _, _, err := f.svc.Session(ctx, other); !errors.Is(err, ErrNoSession) {
		t.Errorf("another session survived the password change: %v", err)
	}
	u, _, err = f.svc.Login(ctx, "ada", "a brand new password", "", "")
	if err != nil || u.MustChangePassword {
		t.Fatalf("login with the new password: %+v, %v", u, err)
	}
	if _, _, err := f.svc.Login(ctx, "ada", generated, "", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password still works: %v", err)
	}
}

func TestCSRFToken(t *testing.T) {
	a, b := CSRFToken("cks_one"), CSRFToken("cks_two")
	if a == b || a == "" || !CheckCSRF("cks_one", a) || CheckCSRF("cks_two", a) || CheckCSRF("cks_one", "") {
		t.Errorf("CSRF tokens: %q %q", a, b)
	}
}

func TestExpireSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "test", "ada", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	f.svc.Login(ctx, "ada", "correct horse battery", "", "")
	f.clock.t = f.clock.t.Add(time.Hour)
	_, fresh, _ := f.svc.Login(ctx, "ada", "correct horse battery", "", "")
	if n, err := f.svc.ExpireSessions(ctx); err != nil || n != 1 {
		t.Errorf("ExpireSessions = %d, %v; want 1", n, err)
	}
	if _, _, err := f.svc.Session(ctx, fresh); err != nil {
		t.Errorf("the fresh session was expired: %v", err)
	}
}
