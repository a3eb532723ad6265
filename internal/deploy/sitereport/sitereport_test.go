package sitereport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
)

func TestSiteReportRoundTrip(t *testing.T) {
	p := deploytest.NewPKI(t, "Report")
	good := p.Good(t)
	port := deploytest.StartTLS(t, deploytest.TLSCert(good, p.Inter), nil)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 2*3600))

	r, err := Make(context.Background(), addr, probe.Options{ServerName: deploytest.Name, Timeout: 10 * time.Second}, at)
	if err != nil {
		t.Fatal(err)
	}
	r.Tool = "certkeeper 1.2.3"
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("\n  \"version\": 1,\n")) {
		t.Errorf("Marshal is not indented JSON with the version:\n%s", data)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("ParseSiteReport: %v\n%s", err, data)
	}
	if !got.Time.Equal(at) || got.Time.Location() != time.UTC || got.Address != addr || got.ServerName != deploytest.Name ||
		got.Tool != "certkeeper 1.2.3" || got.Protocol != "TLS 1.3" || got.CipherSuite == "" {
		t.Errorf("parsed report = %+v", got)
	}
	if len(got.Chain) != 2 || !bytes.Equal(got.Chain[0], good.Cert.Raw) || !bytes.Equal(got.Chain[1], p.Inter.Cert.Raw) {
		t.Errorf("Chain holds %d certificates, want the leaf then the intermediate", len(got.Chain))
	}

	res := got.Evaluate(p.Want(good), time.Now())
	if !res.Passed || res.Source != check.SourceReport || !res.Time.Equal(at) || res.Address != addr || res.Protocol != "TLS 1.3" {
		t.Errorf("Evaluate = Passed %v, Source %q, Time %v, Address %q, Protocol %q; problems %q",
			res.Passed, res.Source, res.Time, res.Address, res.Protocol, res.Problems)
	}
	if later := got.Evaluate(p.Want(good), good.Cert.NotAfter.Add(time.Hour)); later.Passed {
		t.Error("Evaluate after the certificate expired passed; want judged at now")
	}
}

func TestSiteReportFailedProbe(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(deploytest.FreePort(t))
	r, err := Make(context.Background(), addr, probe.Options{Timeout: 5 * time.Second}, time.Now())
	var pe *probe.Error
	if !errors.As(err, &pe) || r == nil {
		t.Fatalf("MakeSiteReport = %v, %v: want a report and the probe's error", r, err)
	}
	if r.Error == "" || strings.Contains(r.Error, "\n") || len(r.Chain) > 0 || r.ServerName != "127.0.0.1" {
		t.Errorf("report = %+v: want a one-line Error, no chain, the IP as server name", r)
	}
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("ParseSiteReport of a failed probe: %v", err)
	}
	res := got.Evaluate(engine.Want{ExpectedSHA256: "ab"}, time.Now())
	if res.Passed || res.Error != r.Error || res.Source != check.SourceReport || res.ServedSHA256 != "" {
		t.Errorf("Evaluate = %+v: want failed with the report's error", res)
	}
}

// validReport returns a report file as a map, for tests to alter.
func validReport(t *testing.T, p *deploytest.PKI) map[string]any {
	t.Helper()
	leaf := p.Good(t)
	r := &Report{Format: Format, Version: Version, Time: time.Now().UTC(),
		Address: "10.0.0.1:443", ServerName: "10.0.0.1", Chain: [][]byte{leaf.Cert.Raw, p.Inter.Cert.Raw}}
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseSiteReportRefuses(t *testing.T) {
	p := deploytest.NewPKI(t, "Hostile")
	many := make([]any, MaxCerts+1)
	for i := range many {
		many[i] = p.Inter.Cert.Raw
	}
	tests := []struct {
		name  string
		alter func(m map[string]any)
		want  string
	}{
		{"unchanged", func(map[string]any) {}, ""},
		{"version", func(m map[string]any) { m["version"] = 2 }, "unknown version 2"},
		{"format", func(m map[string]any) { m["format"] = "something" }, "format"},
		{"no time", func(m map[string]any) { delete(m, "time") }, "no time"},
		{"no address", func(m map[string]any) { delete(m, "address") }, "no address"},
		{"too many certificates", func(m map[string]any) { m["chain"] = many }, "exceed the limit of 20"},
		{"bad certificate", func(m map[string]any) { m["chain"] = []any{[]byte{0x30, 0x03, 1, 2, 3}} }, "certificate 1"},
		{"nothing observed", func(m map[string]any) { delete(m, "chain") }, "neither"},
		{"chain and error", func(m map[string]any) { m["error"] = "boom" }, "both"},
		{"control characters", func(m map[string]any) { m["server_name"] = "a\nb" }, "control characters"},
		{"long field", func(m map[string]any) { m["tool"] = strings.Repeat("x", 2000) }, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validReport(t, p)
			tt.alter(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data)
			assertErrorHas(t, err, tt.want)
		})
	}
}

// assertErrorHas checks that err is nil when want is "", else a one-line
// error containing want.
func assertErrorHas(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("err = %v, want none", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n")):
		t.Errorf("err = %v, want one line with %q", err, want)
	}
}

func TestParseSiteReportSize(t *testing.T) {
	data := append([]byte(`{"format":"certkeeper-site-report","version":1,"tool":"`), bytes.Repeat([]byte("x"), MaxSize)...)
	_, err := Parse(append(data, `"}`...))
	assertErrorHas(t, err, "exceeds the limit")
	for _, bad := range []string{"", "null", "[]", "{", "not json"} {
		if _, err := Parse([]byte(bad)); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSiteReport(%q) = %v, want a one-line error", bad, err)
		}
	}
}

func FuzzParseSiteReport(f *testing.F) {
	p := deploytest.NewPKI(f, "Fuzz")
	leaf := p.Leaf(f, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), deploytest.Name)
	for _, r := range []*Report{
		{Format: Format, Version: 1, Time: time.Unix(1e9, 0).UTC(), Address: "a:1", Chain: [][]byte{leaf.Cert.Raw, p.Inter.Cert.Raw}},
		{Format: Format, Version: 1, Time: time.Unix(1e9, 0).UTC(), Address: "a:1", Error: "probe: a:1: refused"},
	} {
		data, err := r.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":1}`))
	want := p.Want(leaf)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			if r != nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseSiteReport = %v, %q: want nil and a one-line error", r, err)
			}
			return
		}
		if len(r.Chain) > MaxCerts || r.Version != Version {
			t.Fatalf("accepted %d certificates, version %d", len(r.Chain), r.Version)
		}
		res := r.Evaluate(want, time.Now())
		if res == nil || res.Source != check.SourceReport || r.Error != "" && (res.Error != r.Error || res.Passed) {
			t.Fatalf("Evaluate = %+v", res)
		}
		assertReparses(t, r)
	})
}

// assertReparses checks that an accepted report survives Marshal and
// Parse unchanged.
func assertReparses(t *testing.T, r *Report) {
	t.Helper()
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatalf("re-parse: %v", err)
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(again)
	if !bytes.Equal(a, b) {
		t.Fatalf("re-parsed report differs:\n%s\n%s", a, b)
	}
}

// TestMakeServingWaitsForTheExpectedLeaf: a server showing the expected
// leaf is reported at the first probe; one showing another is probed
// again until the settle time ends, and the last report says what it
// served.
func TestMakeServingWaitsForTheExpectedLeaf(t *testing.T) {
	p := deploytest.NewPKI(t, "Report")
	good := p.Good(t)
	port := deploytest.StartTLS(t, deploytest.TLSCert(good, p.Inter), nil)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	o := probe.Options{ServerName: deploytest.Name, Timeout: 10 * time.Second}
	probes := 0
	now := func() time.Time { probes++; return time.Now() }
	served := inventory.SHA256Hex(good.Cert.Raw)

	r, err := MakeServing(context.Background(), addr, o, served, time.Minute, 10*time.Millisecond, now)
	if err != nil || !r.Shows(served) || probes != 1 {
		t.Fatalf("expected leaf served: %d probes, err %v; want one probe that shows it", probes, err)
	}
	probes = 0
	other := strings.Repeat("ab", 32)
	r, err = MakeServing(context.Background(), addr, o, other, 200*time.Millisecond, 10*time.Millisecond, now)
	if err != nil || r.Shows(other) || !r.Shows(served) || probes < 2 {
		t.Errorf("another leaf served: %d probes, err %v; want several probes and the report of what was served", probes, err)
	}
}
