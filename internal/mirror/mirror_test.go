package mirror

import (
	"slices"
	"strings"
	"testing"
	"time"
)

type inner struct {
	HostKey string
}

type domain struct {
	ID        int64
	Timeout   time.Duration
	SSH       *inner
	Sealed    []byte
	CreatedAt time.Time
	hidden    int // unexported: not a field of the concept
}

type wire struct {
	ID             int64  `json:"id"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"`
	SSH            *inner `json:"ssh,omitempty"`
	Skipped        string `json:"-"`
	CreatedAt      time.Time
}

func TestFields(t *testing.T) {
	_ = domain{hidden: 0}
	got := Of[domain]()
	want := []string{"ID", "Timeout", "SSH.HostKey", "Sealed", "CreatedAt"}
	if !slices.Equal(got, want) {
		t.Errorf("Of[domain]() = %q, want %q", got, want)
	}
	got = Of[*wire]()
	want = []string{"id", "timeout_seconds", "ssh.HostKey", "CreatedAt"}
	if !slices.Equal(got, want) {
		t.Errorf("Of[*wire]() = %q, want %q", got, want)
	}
}

func TestCheck(t *testing.T) {
	c := Concept{Name: "thing", Layers: []string{"domain", "wire", "form"}, Rules: []Rule{
		{Field: "timeout_seconds", As: map[string]string{"domain": "Timeout"}, Why: "a duration in the domain"},
		{Field: "Sealed", In: []string{"domain"}, Why: "never leaves the service"},
	}}
	d := Layer{Name: "domain", Fields: Of[domain](), Where: "domain"}
	w := Layer{Name: "wire", Fields: Of[wire](), Where: "wire"}
	if msgs := c.Check(d, w); len(msgs) > 0 {
		t.Errorf("Check(domain, wire) = %q, want nothing", msgs)
	}
	form := Layer{Name: "form", Fields: []string{"timeout_seconds", "ssh_host_key", "sealed", "extra"}, Where: "the form"}
	wants := []string{
		"thing: form has field sealed, which", // an exception says domain only
		"thing: form has no field CreatedAt",  // missing here
		"thing: form has no field ID",         // missing here
		"thing: domain has no field extra",    // only in the form
		"thing: wire has no field extra",      // only in the form
		"thing: form has no field CreatedAt (there is CreatedAt in domain, CreatedAt in wire): add it to the form",
	}
	msgs := strings.Join(c.Check(d, w, form), "\n")
	for _, want := range wants {
		if !strings.Contains(msgs, want) {
			t.Errorf("Check(domain, wire, form) =\n%s\nwant a message containing %q", msgs, want)
		}
	}
	if n := strings.Count(msgs, "\n") + 1; n != 5 {
		t.Errorf("Check(domain, wire, form) gives %d messages, want 5:\n%s", n, msgs)
	}
}

func TestCheckRules(t *testing.T) {
	c := Concept{Name: "thing", Layers: []string{"domain"}, Rules: []Rule{
		{Field: "a", In: []string{"domian"}, Why: "typo"},
		{Field: "b"},
		{Field: "a", Why: "again"},
	}}
	msgs := strings.Join(c.Check(Layer{Name: "wire"}, Layer{Name: "domain", Fields: []string{"x"}}), "\n")
	for _, want := range []string{`layer "wire" is not one of`, `names unknown layer "domian"`,
		"field b gives no reason", "two rules for field a", "domain has no field b, which has a rule"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("Check =\n%s\nwant a message containing %q", msgs, want)
		}
	}
}

func TestFillZero(t *testing.T) {
	var w wire
	Fill(&w)
	if z := Zero(&w); len(z) > 0 {
		t.Errorf("after Fill, Zero = %q, want none", z)
	}
	w.SSH.HostKey, w.ID = "", 0
	if got, want := Zero(w), []string{"id", "ssh.HostKey"}; !slices.Equal(got, want) {
		t.Errorf("Zero = %q, want %q", got, want)
	}
}

func TestCollapse(t *testing.T) {
	got := Collapse([]string{"id", "usage.certificates", "usage.acquisitions", "usages"}, "usage")
	if want := []string{"id", "usage", "usages"}; !slices.Equal(got, want) {
		t.Errorf("Collapse = %q, want %q", got, want)
	}
}
