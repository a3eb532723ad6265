package notify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/notify"
)

// FuzzVerify: any header and body give an answer, never a panic, and a
// header Sign made verifies.
func FuzzVerify(f *testing.F) {
	f.Add("t=1765186200,v1=00", []byte(`{"kind":"test"}`))
	f.Add("v1=,t=", []byte{})
	f.Add("t=-1,v1=zz,t=2", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		notify.Verify([]byte("k"), header, body)
		if _, ok := notify.Verify([]byte("k"), notify.Sign([]byte("k"), 1765186200, body), body); !ok {
			t.Fatal("a signature made by Sign does not verify")
		}
	})
}

// FuzzAdd: untrusted channel input is stored or refused with a one-line
// FieldError or conflict, never a panic.
func FuzzAdd(f *testing.F) {
	f.Add("ops", "generic", "https://h.example/x?y=1", "s")
	f.Add("pd", "pagerduty", "", "key")
	f.Add("a\nb", "ntfy", "http://[::1]:80/", "")
	f.Add("x", "slack", "https://%zz", "")
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, name, format, url, secret string) {
		_, err := e.svc.Add(ctx, admin, notify.ChannelInput{Name: name, Format: format, URL: url, Secret: secret})
		var fe *inventory.FieldError
		if err != nil && !errors.As(err, &fe) && !errors.Is(err, inventory.ErrConflict) {
			t.Fatalf("Add(%q, %q, %q) = %v; want a FieldError or a conflict", name, format, url, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q is not one line", err)
		}
	})
}
