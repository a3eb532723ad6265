package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var deployContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"TargetRoundTrip", testTargetRoundTrip},
	{"TargetVersions", testTargetVersions},
	{"TargetPages", testTargetPages},
	{"RewrapTargetSecrets", testRewrapTargetSecrets},
	{"DeploymentRoundTrip", testDeploymentRoundTrip},
	{"DeploymentRefusals", testDeploymentRefusals},
	{"DeploymentListFilterPages", testDeploymentList},
	{"DeleteTargetCascades", testDeleteTargetCascades},
	{"Layouts", testDeployLayouts},
	{"AgentTokensAndEnrollment", testAgentEnrollment},
	{"EnrollConcurrently", testEnrollConcurrently},
	{"TouchAndDisableAgent", testTouchAndDisableAgent},
}

// TestDeployStoreContract runs the inventory.DeployStore contract against
// every backend.
func TestDeployStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range deployContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

// sampleTarget is a directory target named name with every plain field set.
func sampleTarget(name string) *inventory.Target {
	return &inventory.Target{
		Name: name, Preset: "nginx", Method: inventory.MethodDirectory, Directory: "/etc/nginx/tls/" + name,
		Owner: "root:www-data", TestCommand: "nginx -t", ReloadCommand: "systemctl reload nginx",
		ReloadTimeout: 90 * time.Second, Check: inventory.CheckSpec{Host: name + ".example.test", Port: 8443},
		AdminEmail: "ops@example.test", RollbackOnFailure: true, Notes: "rack 4",
	}
}

func putTarget(t *testing.T, s inventory.Store, tg *inventory.Target) *inventory.Target {
	t.Helper()
	if err := s.PutTarget(context.Background(), tg); err != nil {
		t.Fatalf("PutTarget(%s): %v", tg.Name, err)
	}
	if tg.ID == 0 || tg.Version != 1 || tg.CreatedAt.IsZero() || !tg.UpdatedAt.Equal(tg.CreatedAt) {
		t.Fatalf("PutTarget left ID %d, Version %d, CreatedAt %v, UpdatedAt %v", tg.ID, tg.Version, tg.CreatedAt, tg.UpdatedAt)
	}
	return tg
}

func getTarget(t *testing.T, s inventory.Store, id int64) *inventory.Target {
	t.Helper()
	tg, err := s.GetTarget(context.Background(), id)
	if err != nil {
		t.Fatalf("GetTarget(%d): %v", id, err)
	}
	return tg
}

// enroll stores a token for name and enrolls an agent with it.
func enroll(t *testing.T, s inventory.Store, name, sha string) *inventory.Agent {
	t.Helper()
	ctx := context.Background()
	tok := &inventory.AgentToken{Hash: "hash-" + name + "-" + sha, Name: name, ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.PutAgentToken(ctx, tok); err != nil {
		t.Fatalf("PutAgentToken(%s): %v", name, err)
	}
	a := &inventory.Agent{Name: name, CertificateSHA256: sha}
	if err := s.EnrollAgent(ctx, tok.Hash, a); err != nil {
		t.Fatalf("EnrollAgent(%s): %v", name, err)
	}
	if a.ID == 0 {
		t.Fatalf("EnrollAgent(%s) left no ID", name)
	}
	return a
}

func testTargetRoundTrip(t *testing.T, e *env) {
	ctx := context.Background()
	agent := enroll(t, e.s, "web-agent", "aa11")
	created := time.Date(2026, 4, 1, 10, 0, 0, 999_000_000, time.FixedZone("CEST", 2*3600))
	want := sampleTarget("web1")
	want.Method, want.AgentID, want.CreatedAt = inventory.MethodSSH, agent.ID, created
	want.SSH = &inventory.SSHAccess{Host: "web1.example.test", Port: 2222, User: "deploy", HostKey: "ssh-ed25519 AAAAC3Nz"}
	want.Check = inventory.CheckSpec{Host: "10.0.0.7", Port: 443, SNI: "shop.example.test", ClientCertificateID: 42, StartTLS: "imap"}
	want.SealedSecrets = []byte{0, 1, 2, 0xff, 'x'}
	want.ReloadTimeout = 1500 * time.Millisecond
	putTarget(t, e.s, want)
	if wantCreated := created.UTC().Truncate(time.Second); !want.CreatedAt.Equal(wantCreated) ||
		want.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt after put = %v, want %v in UTC", want.CreatedAt, wantCreated)
	}
	got := getTarget(t, e.s, want.ID)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetTarget after put (-want +got):\n%s", diff)
	}
	byName, err := e.s.TargetByName(ctx, "web1")
	if err != nil || byName.ID != want.ID {
		t.Errorf("TargetByName(web1) = %+v, %v; want ID %d", byName, err, want.ID)
	}

	// The optional parts stay empty: no SSH, no agent, no secrets, a zero
	// check and timeout.
	bare := &inventory.Target{Name: "drop", Method: inventory.MethodManual}
	putTarget(t, e.s, bare)
	if diff := cmp.Diff(bare, getTarget(t, e.s, bare.ID)); diff != "" {
		t.Errorf("bare target (-want +got):\n%s", diff)
	}

	if err := e.s.PutTarget(ctx, sampleTarget("web1")); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutTarget with a name in use: %v, want ErrConflict", err)
	}
	bad := sampleTarget("bad")
	bad.Method = "ftp"
	if err := e.s.PutTarget(ctx, bad); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("PutTarget with method ftp: %v, want ErrInvalid", err)
	}
	orphan := sampleTarget("orphan")
	orphan.Method, orphan.AgentID = inventory.MethodAgent, agent.ID+100
	if err := e.s.PutTarget(ctx, orphan); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("PutTarget with an unknown agent: %v, want ErrNotFound", err)
	}
	for _, name := range []string{"bad", "orphan"} {
		if _, err := e.s.TargetByName(ctx, name); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("TargetByName(%s) after a refused put: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := e.s.GetTarget(ctx, want.ID+100); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetTarget(unknown): %v, want ErrNotFound", err)
	}
}

func testTargetVersions(t *testing.T, e *env) {
	ctx := context.Background()
	first := putTarget(t, e.s, sampleTarget("web1"))
	putTarget(t, e.s, sampleTarget("web2"))
	stale := *first
	stale.SealedSecrets = []byte("sealed")

	got := getTarget(t, e.s, first.ID)
	got.Name, got.Preset, got.Method = "web1-new", "apache", inventory.MethodSSH
	got.SSH = &inventory.SSHAccess{Host: "web1.example.test", User: "deploy", HostKey: "ssh-ed25519 AAAA"}
	got.SealedSecrets, got.RollbackOnFailure, got.ReloadTimeout = []byte("sealed-1"), false, 0
	got.Check = inventory.CheckSpec{}
	if err := e.s.UpdateTarget(ctx, got); err != nil {
		t.Fatalf("UpdateTarget: %v", err)
	}
	if got.Version != 2 || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("after update: Version %d, UpdatedAt %v; want 2 and not before %v", got.Version, got.UpdatedAt, got.CreatedAt)
	}
	if diff := cmp.Diff(got, getTarget(t, e.s, first.ID)); diff != "" {
		t.Errorf("GetTarget after update (-want +got):\n%s", diff)
	}
	if _, err := e.s.TargetByName(ctx, "web1"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("old name after rename: %v, want ErrNotFound", err)
	}

	// A writer holding version 1 loses.
	if err := e.s.UpdateTarget(ctx, &stale); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateTarget with a stale version: %v, want ErrConflict", err)
	}
	if stale.Version != 1 {
		t.Errorf("refused update changed Version to %d", stale.Version)
	}
	if stored := getTarget(t, e.s, first.ID); stored.Name != "web1-new" || stored.Version != 2 {
		t.Errorf("refused update left name %q, version %d; want web1-new, 2", stored.Name, stored.Version)
	}

	taken := getTarget(t, e.s, first.ID)
	taken.Name = "web2"
	if err := e.s.UpdateTarget(ctx, taken); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateTarget to a name in use: %v, want ErrConflict", err)
	}
	unknown := sampleTarget("ghost")
	unknown.ID, unknown.Version = first.ID+100, 1
	if err := e.s.UpdateTarget(ctx, unknown); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("UpdateTarget(unknown ID): %v, want ErrNotFound", err)
	}

	// Clearing the optional parts writes NULLs back.
	cleared := getTarget(t, e.s, first.ID)
	cleared.SSH, cleared.SealedSecrets, cleared.Method = nil, nil, inventory.MethodDirectory
	if err := e.s.UpdateTarget(ctx, cleared); err != nil {
		t.Fatalf("UpdateTarget(clear): %v", err)
	}
	if diff := cmp.Diff(cleared, getTarget(t, e.s, first.ID)); diff != "" || cleared.Version != 3 {
		t.Errorf("after clearing, version %d (-want +got):\n%s", cleared.Version, diff)
	}
}

func testTargetPages(t *testing.T, e *env) {
	ctx := context.Background()
	names := []string{"mail", "Zeta", "alpha", "db-2", "db-10", "web", "Alpha", "cache"}
	for _, n := range names {
		putTarget(t, e.s, sampleTarget(n))
	}
	want := append([]string(nil), names...)
	sort.Strings(want) // byte order, on both backends
	for _, size := range []int{1, 3, len(names), len(names) + 1} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(names) {
				t.Fatalf("page size %d: more pages than targets", size)
			}
			items, next, err := e.s.ListTargets(ctx, inventory.Page{Limit: size, After: after})
			if err != nil {
				t.Fatalf("ListTargets(size %d, after %q): %v", size, after, err)
			}
			if len(items) > size {
				t.Errorf("page of size %d has %d items", size, len(items))
			}
			for _, it := range items {
				got = append(got, it.Name)
			}
			if next == "" {
				break
			}
			after = next
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("targets by pages of %d (-want +got):\n%s", size, diff)
		}
	}
	all, next, err := e.s.ListTargets(ctx, inventory.Page{})
	if err != nil || len(all) != len(names) || next != "" {
		t.Errorf("ListTargets(default page) = %d items, next %q, %v; want %d, none", len(all), next, err, len(names))
	}
	if diff := cmp.Diff(getTarget(t, e.s, all[0].ID), &all[0]); diff != "" {
		t.Errorf("listed target differs from GetTarget (-get +list):\n%s", diff)
	}
	for _, bad := range []string{"!!", "bm90LWEtY3Vyc29y"} { // not base64; "not-a-cursor"
		if _, _, err := e.s.ListTargets(ctx, inventory.Page{After: bad}); !errors.Is(err, inventory.ErrBadCursor) {
			t.Errorf("ListTargets(after %q): %v, want ErrBadCursor", bad, err)
		}
	}
}

func testRewrapTargetSecrets(t *testing.T, e *env) {
	ctx := context.Background()
	a, b, none := sampleTarget("a"), sampleTarget("b"), sampleTarget("none")
	a.SealedSecrets, b.SealedSecrets = []byte("old:a"), []byte("old:b")
	for _, tg := range []*inventory.Target{a, b, none} {
		putTarget(t, e.s, tg)
	}

	// A failure half way changes nothing.
	calls := 0
	_, err := e.s.RewrapTargetSecrets(ctx, func(sealed []byte) ([]byte, error) {
		if calls++; calls == 2 {
			return nil, errors.New("key gone")
		}
		return append([]byte("new:"), sealed...), nil
	})
	if err == nil || !strings.Contains(err.Error(), "key gone") {
		t.Errorf("RewrapTargetSecrets with a failing rewrap: %v, want the failure", err)
	}
	for _, tg := range []*inventory.Target{a, b} {
		if got := getTarget(t, e.s, tg.ID); string(got.SealedSecrets) != string(tg.SealedSecrets) || got.Version != 1 {
			t.Errorf("after a failed rewrap %s has %q, version %d; want %q, 1", tg.Name, got.SealedSecrets, got.Version, tg.SealedSecrets)
		}
	}

	var seen []string
	n, err := e.s.RewrapTargetSecrets(ctx, func(sealed []byte) ([]byte, error) {
		seen = append(seen, string(sealed))
		return []byte("new:" + strings.TrimPrefix(string(sealed), "old:")), nil
	})
	if err != nil || n != 2 {
		t.Fatalf("RewrapTargetSecrets = %d, %v; want 2", n, err)
	}
	sort.Strings(seen)
	if diff := cmp.Diff([]string{"old:a", "old:b"}, seen); diff != "" {
		t.Errorf("rewrap saw (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		tg      *inventory.Target
		sealed  []byte
		version int64
	}{{a, []byte("new:a"), 2}, {b, []byte("new:b"), 2}, {none, nil, 1}} {
		got := getTarget(t, e.s, c.tg.ID)
		if diff := cmp.Diff(c.sealed, got.SealedSecrets); diff != "" || got.Version != c.version {
			t.Errorf("%s after rewrap: version %d (want %d), secrets (-want +got):\n%s", c.tg.Name, got.Version, c.version, diff)
		}
	}
	// An update prepared before the rewrap would write the old secrets
	// back: it is refused.
	if err := e.s.UpdateTarget(ctx, a); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateTarget from before the rewrap: %v, want ErrConflict", err)
	}
}

// deployFixture is what deployments point at: three certificates, a
// definition, an agent, and two targets (the second served by the agent).
type deployFixture struct {
	certs   [3]int64
	def     *inventory.Definition
	agent   *inventory.Agent
	targets [2]*inventory.Target
}

func newDeployFixture(t *testing.T, s inventory.Store) *deployFixture {
	t.Helper()
	f := &deployFixture{}
	now := time.Now().UTC().Truncate(time.Second)
	res := putCerts(t, s, fakeCertificate(1, &inventory.Certificate{}, now.Add(30*24*time.Hour)),
		fakeCertificate(2, &inventory.Certificate{}, now.Add(60*24*time.Hour)),
		fakeCertificate(3, &inventory.Certificate{}, now.Add(90*24*time.Hour)))
	for i := range res {
		f.certs[i] = res[i].ID
	}
	d := sampleDefinition("shop")
	d.CurrentCertificateID = f.certs[0]
	f.def = putDefinition(t, s, d)
	f.agent = enroll(t, s, "host-agent", "cafe")
	f.targets[0] = putTarget(t, s, sampleTarget("web1"))
	viaAgent := sampleTarget("web2")
	viaAgent.Method, viaAgent.AgentID = inventory.MethodAgent, f.agent.ID
	f.targets[1] = putTarget(t, s, viaAgent)
	return f
}

func (f *deployFixture) deployment(cert int, target int, state inventory.DeploymentState) *inventory.Deployment {
	return &inventory.Deployment{CertificateID: f.certs[cert], TargetID: f.targets[target].ID, State: state, CreatedBy: "alice"}
}

func putDeployment(t *testing.T, s inventory.Store, d *inventory.Deployment, steps ...inventory.DeploymentStep) *inventory.Deployment {
	t.Helper()
	if err := s.PutDeployment(context.Background(), d, steps...); err != nil {
		t.Fatalf("PutDeployment(certificate %d, target %d): %v", d.CertificateID, d.TargetID, err)
	}
	if d.ID == 0 || d.Version != 1 || d.CreatedAt.IsZero() || !d.UpdatedAt.Equal(d.CreatedAt) {
		t.Fatalf("PutDeployment left ID %d, Version %d, CreatedAt %v, UpdatedAt %v", d.ID, d.Version, d.CreatedAt, d.UpdatedAt)
	}
	return d
}

func getDeployment(t *testing.T, s inventory.Store, id int64) *inventory.Deployment {
	t.Helper()
	d, err := s.GetDeployment(context.Background(), id)
	if err != nil {
		t.Fatalf("GetDeployment(%d): %v", id, err)
	}
	return d
}

func testDeploymentRoundTrip(t *testing.T, e *env) {
	ctx := context.Background()
	f := newDeployFixture(t, e.s)
	created := time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)
	want := f.deployment(0, 0, inventory.DeployPrepared)
	want.DefinitionID, want.CreatedAt = f.def.ID, created
	steps := []inventory.DeploymentStep{
		{Time: created, Actor: "alice", Action: "prepared", Detail: "nginx preset"},
		{Actor: "alice", Action: "package_created"},
	}
	putDeployment(t, e.s, want, steps...)
	for i, st := range steps {
		if st.ID == 0 || st.DeploymentID != want.ID || st.Time.IsZero() {
			t.Errorf("step %d after put = %+v, want ID, DeploymentID %d and a time", i, st, want.ID)
		}
	}
	if steps[1].ID <= steps[0].ID {
		t.Errorf("step IDs %d, %d are not increasing", steps[0].ID, steps[1].ID)
	}
	if diff := cmp.Diff(want, getDeployment(t, e.s, want.ID)); diff != "" {
		t.Errorf("GetDeployment after put (-want +got):\n%s", diff)
	}
	found, err := e.s.DeploymentFor(ctx, f.certs[0], f.targets[0].ID)
	if err != nil || found.ID != want.ID {
		t.Errorf("DeploymentFor = %+v, %v; want ID %d", found, err, want.ID)
	}
	if _, err := e.s.DeploymentFor(ctx, f.certs[0], f.targets[1].ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeploymentFor(no process): %v, want ErrNotFound", err)
	}

	got := getDeployment(t, e.s, want.ID)
	got.State, got.Attempts, got.Backup, got.Unchecked = inventory.DeployInstalled, 2, "/etc/nginx/tls/.backup-1", true
	got.LastCheck = &inventory.CheckResult{
		Time: time.Date(2026, 5, 2, 10, 0, 5, 123456789, time.FixedZone("CEST", 7200)), Source: "probe",
		Address: "web1.example.test:443", ServerName: "web1.example.test", Passed: false, ExpectedSHA256: "ab",
		ServedSHA256: "cd", Match: false, IntermediatesServed: true, ChainVerifies: true, NameMatches: true,
		DaysLeft: -3, Problems: []string{"the served certificate is another one"}, Protocol: "TLS 1.3",
	}
	more := []inventory.DeploymentStep{
		{Actor: "system", Action: "installed", Detail: "2 files", Output: "nginx: configuration file test is successful\n"},
		{Actor: "system", Action: "check_failed", Detail: "another certificate served"},
	}
	if err := e.s.UpdateDeployment(ctx, got, more...); err != nil {
		t.Fatalf("UpdateDeployment: %v", err)
	}
	if got.Version != 2 || got.UpdatedAt.IsZero() {
		t.Errorf("after update: Version %d, UpdatedAt %v; want 2 and a time", got.Version, got.UpdatedAt)
	}
	for i, st := range more {
		if st.ID == 0 || st.DeploymentID != want.ID {
			t.Errorf("appended step %d = %+v, want an ID and DeploymentID %d", i, st, want.ID)
		}
	}
	again := getDeployment(t, e.s, want.ID)
	wantCheck := *got.LastCheck
	wantCheck.Time = time.Date(2026, 5, 2, 8, 0, 5, 0, time.UTC)
	if diff := cmp.Diff(&wantCheck, again.LastCheck); diff != "" {
		t.Errorf("last check as stored, in UTC with whole seconds (-want +got):\n%s", diff)
	}
	got.LastCheck = &wantCheck
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("GetDeployment after update (-want +got):\n%s", diff)
	}

	listed, err := e.s.DeploymentSteps(ctx, want.ID)
	if err != nil {
		t.Fatalf("DeploymentSteps: %v", err)
	}
	if diff := cmp.Diff(append(steps, more...), listed); diff != "" {
		t.Errorf("DeploymentSteps (-want +got):\n%s", diff)
	}

	// A stale version is refused and appends no step.
	stale := *want
	stale.State = inventory.DeployConfirmed
	if err := e.s.UpdateDeployment(ctx, &stale, inventory.DeploymentStep{Action: "checked"}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateDeployment with a stale version: %v, want ErrConflict", err)
	}
	if n, err := e.s.DeploymentSteps(ctx, want.ID); err != nil || len(n) != 4 {
		t.Errorf("steps after a refused update: %d, %v; want 4", len(n), err)
	}
	if st := getDeployment(t, e.s, want.ID); st.State != inventory.DeployInstalled || st.Version != 2 {
		t.Errorf("refused update left %s, version %d; want installed, 2", st.State, st.Version)
	}

	// Clearing the last check writes NULL back.
	again.LastCheck, again.Unchecked, again.State = nil, false, inventory.DeployRolledBack
	if err := e.s.UpdateDeployment(ctx, again); err != nil {
		t.Fatalf("UpdateDeployment(clear): %v", err)
	}
	if diff := cmp.Diff(again, getDeployment(t, e.s, want.ID)); diff != "" {
		t.Errorf("after clearing (-want +got):\n%s", diff)
	}
}

func testDeploymentRefusals(t *testing.T, e *env) {
	ctx := context.Background()
	f := newDeployFixture(t, e.s)
	first := putDeployment(t, e.s, f.deployment(0, 0, inventory.DeployPrepared))

	dup := f.deployment(0, 0, inventory.DeployFailed)
	if err := e.s.PutDeployment(ctx, dup, inventory.DeploymentStep{Action: "prepared"}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("second process for the same certificate and target: %v, want ErrConflict", err)
	}
	if dup.ID != 0 {
		t.Errorf("refused put set ID %d", dup.ID)
	}
	for name, d := range map[string]*inventory.Deployment{
		"unknown certificate": {CertificateID: f.certs[2] + 100, TargetID: f.targets[0].ID, State: inventory.DeployPrepared},
		"no certificate":      {TargetID: f.targets[0].ID, State: inventory.DeployPrepared},
		"unknown target":      {CertificateID: f.certs[1], TargetID: f.targets[1].ID + 100, State: inventory.DeployPrepared},
		"unknown definition": {CertificateID: f.certs[1], TargetID: f.targets[0].ID, DefinitionID: f.def.ID + 100,
			State: inventory.DeployPrepared},
	} {
		if err := e.s.PutDeployment(ctx, d); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("PutDeployment with %s: %v, want ErrNotFound", name, err)
		}
	}
	bad := f.deployment(1, 0, "done")
	if err := e.s.PutDeployment(ctx, bad); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("PutDeployment in state done: %v, want ErrInvalid", err)
	}
	page, err := e.s.ListDeployments(ctx, inventory.DeploymentFilter{}, inventory.Page{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != first.ID {
		t.Errorf("after refused puts the list is %+v, %v; want only %d", page, err, first.ID)
	}
	if steps, err := e.s.DeploymentSteps(ctx, first.ID); err != nil || len(steps) != 0 {
		t.Errorf("steps of the first process: %v, %v; want none (refused puts add none)", steps, err)
	}

	ghost := f.deployment(2, 1, inventory.DeployPrepared)
	ghost.ID, ghost.Version = first.ID+100, 1
	if err := e.s.UpdateDeployment(ctx, ghost); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("UpdateDeployment(unknown ID): %v, want ErrNotFound", err)
	}
	if _, err := e.s.GetDeployment(ctx, first.ID+100); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetDeployment(unknown): %v, want ErrNotFound", err)
	}
	if _, err := e.s.DeploymentSteps(ctx, first.ID+100); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeploymentSteps(unknown): %v, want ErrNotFound", err)
	}
	// The same certificate to another target, and another certificate to
	// the same target, are other processes.
	putDeployment(t, e.s, f.deployment(0, 1, inventory.DeployPrepared))
	putDeployment(t, e.s, f.deployment(1, 0, inventory.DeployPrepared))
}

func testDeploymentList(t *testing.T, e *env) {
	ctx := context.Background()
	f := newDeployFixture(t, e.s)
	check := func(passed bool) *inventory.CheckResult {
		return &inventory.CheckResult{Time: time.Now(), Source: "probe", Passed: passed, ExpectedSHA256: "ab"}
	}
	type spec struct {
		cert, target int
		def          bool
		state        inventory.DeploymentState
		check        *inventory.CheckResult
	}
	specs := []spec{
		{0, 0, true, inventory.DeployConfirmed, check(true)},   // 0
		{0, 1, true, inventory.DeployFailed, check(false)},     // 1
		{1, 0, false, inventory.DeployInstalled, nil},          // 2
		{1, 1, false, inventory.DeployInstallRequested, nil},   // 3
		{2, 0, true, inventory.DeployFailed, check(false)},     // 4
		{2, 1, false, inventory.DeployRolledBack, check(true)}, // 5
	}
	ids := make([]int64, len(specs))
	for i, sp := range specs {
		d := f.deployment(sp.cert, sp.target, sp.state)
		if sp.def {
			d.DefinitionID = f.def.ID
		}
		d.LastCheck = sp.check
		ids[i] = putDeployment(t, e.s, d).ID
	}
	// A check that passed and then failed counts as failed, and the
	// other way round.
	flip := func(i int, passed bool) {
		d := getDeployment(t, e.s, ids[i])
		d.LastCheck = check(passed)
		if err := e.s.UpdateDeployment(ctx, d); err != nil {
			t.Fatalf("UpdateDeployment(%d): %v", i, err)
		}
	}
	flip(5, false)
	flip(1, true)
	pick := func(idx ...int) []int64 {
		out := []int64{}
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    inventory.DeploymentFilter
		want []int64
	}{
		{"all", inventory.DeploymentFilter{}, pick(0, 1, 2, 3, 4, 5)},
		{"certificate", inventory.DeploymentFilter{CertificateID: f.certs[1]}, pick(2, 3)},
		{"target", inventory.DeploymentFilter{TargetID: f.targets[0].ID}, pick(0, 2, 4)},
		{"definition", inventory.DeploymentFilter{DefinitionID: f.def.ID}, pick(0, 1, 4)},
		{"agent", inventory.DeploymentFilter{AgentID: f.agent.ID}, pick(1, 3, 5)},
		{"unknown agent", inventory.DeploymentFilter{AgentID: f.agent.ID + 100}, pick()},
		{"one state", inventory.DeploymentFilter{States: []inventory.DeploymentState{inventory.DeployFailed}}, pick(1, 4)},
		{"ongoing states", inventory.DeploymentFilter{States: []inventory.DeploymentState{inventory.DeployPrepared,
			inventory.DeployInstallRequested, inventory.DeployInstalled}}, pick(2, 3)},
		{"check failed", inventory.DeploymentFilter{CheckFailed: true}, pick(4, 5)},
		{"check failed on the agent", inventory.DeploymentFilter{CheckFailed: true, AgentID: f.agent.ID}, pick(5)},
		{"agent and state", inventory.DeploymentFilter{AgentID: f.agent.ID,
			States: []inventory.DeploymentState{inventory.DeployFailed, inventory.DeployInstallRequested}}, pick(1, 3)},
		{"certificate and target", inventory.DeploymentFilter{CertificateID: f.certs[2], TargetID: f.targets[1].ID}, pick(5)},
		{"newest first", inventory.DeploymentFilter{Newest: true}, pick(5, 4, 3, 2, 1, 0)},
		{"newest of a target", inventory.DeploymentFilter{TargetID: f.targets[0].ID, Newest: true}, pick(4, 2, 0)},
		{"newest failed checks", inventory.DeploymentFilter{CheckFailed: true, Newest: true}, pick(5, 4)},
		{"latest per target", inventory.DeploymentFilter{Latest: true}, pick(4, 5)},
		{"latest per target whose check failed", inventory.DeploymentFilter{Latest: true, CheckFailed: true}, pick(4, 5)},
		{"latest of a target", inventory.DeploymentFilter{Latest: true, TargetID: f.targets[0].ID}, pick(4)},
		{"latest, passed checks only by state", inventory.DeploymentFilter{Latest: true,
			States: []inventory.DeploymentState{inventory.DeployConfirmed}}, pick()},
	} {
		for _, size := range []int{1, 2, 100} {
			got := []int64{}
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(ids) {
					t.Fatalf("%s: more pages than deployments", c.name)
				}
				page, err := e.s.ListDeployments(ctx, c.f, inventory.Page{Limit: size, After: after})
				if err != nil {
					t.Fatalf("ListDeployments(%s, size %d): %v", c.name, size, err)
				}
				if len(page.Items) > size {
					t.Errorf("%s: page of size %d has %d items", c.name, size, len(page.Items))
				}
				for _, d := range page.Items {
					got = append(got, d.ID)
				}
				if page.Next == "" {
					break
				}
				after = page.Next
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ListDeployments(%s) by pages of %d (-want +got):\n%s", c.name, size, diff)
			}
		}
	}
	page, err := e.s.ListDeployments(ctx, inventory.DeploymentFilter{TargetID: f.targets[1].ID}, inventory.Page{Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("ListDeployments(limit 1) = %+v, %v", page, err)
	}
	if diff := cmp.Diff(getDeployment(t, e.s, page.Items[0].ID), &page.Items[0]); diff != "" {
		t.Errorf("listed deployment differs from GetDeployment (-get +list):\n%s", diff)
	}
	if _, err := e.s.ListDeployments(ctx, inventory.DeploymentFilter{}, inventory.Page{After: "!!"}); !errors.Is(err, inventory.ErrBadCursor) {
		t.Errorf("ListDeployments(bad cursor): %v, want ErrBadCursor", err)
	}
}

func testDeleteTargetCascades(t *testing.T, e *env) {
	ctx := context.Background()
	f := newDeployFixture(t, e.s)
	gone := putDeployment(t, e.s, f.deployment(0, 0, inventory.DeployPrepared),
		inventory.DeploymentStep{Action: "prepared"}, inventory.DeploymentStep{Action: "installed", Output: "ok"})
	gone2 := putDeployment(t, e.s, f.deployment(1, 0, inventory.DeployPrepared), inventory.DeploymentStep{Action: "prepared"})
	kept := putDeployment(t, e.s, f.deployment(0, 1, inventory.DeployPrepared), inventory.DeploymentStep{Action: "prepared"})

	if err := e.s.DeleteTarget(ctx, f.targets[0].ID); err != nil {
		t.Fatalf("DeleteTarget: %v", err)
	}
	if _, err := e.s.GetTarget(ctx, f.targets[0].ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetTarget after delete: %v, want ErrNotFound", err)
	}
	for _, id := range []int64{gone.ID, gone2.ID} {
		if _, err := e.s.GetDeployment(ctx, id); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("GetDeployment(%d) after its target went: %v, want ErrNotFound", id, err)
		}
	}
	var steps int
	err := dbOf(e.s).r.QueryRowContext(ctx, dbOf(e.s).q("SELECT count(*) FROM deployment_steps WHERE deployment_id IN (?, ?)"),
		gone.ID, gone2.ID).Scan(&steps)
	if err != nil || steps != 0 {
		t.Errorf("steps of the deleted processes: %d, %v; want 0", steps, err)
	}
	if st, err := e.s.DeploymentSteps(ctx, kept.ID); err != nil || len(st) != 1 {
		t.Errorf("steps of the other target's process: %d, %v; want 1", len(st), err)
	}
	page, err := e.s.ListDeployments(ctx, inventory.DeploymentFilter{}, inventory.Page{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != kept.ID {
		t.Errorf("deployments after the delete: %+v, %v; want only %d", page, err, kept.ID)
	}
	if err := e.s.DeleteTarget(ctx, f.targets[0].ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeleteTarget twice: %v, want ErrNotFound", err)
	}
	// The name is free again.
	putTarget(t, e.s, sampleTarget(f.targets[0].Name))
}

func testDeployLayouts(t *testing.T, e *env) {
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	want := &inventory.DeployLayout{Name: "haproxy-bundle", Files: []byte(`[{"name":"site.pem","format":"pem-bundle"}]`),
		TestCommand: "haproxy -c -f /etc/haproxy/haproxy.cfg", ReloadCommand: "systemctl reload haproxy",
		Instructions: "Point crt at site.pem.", CreatedAt: created}
	if err := e.s.PutDeployLayout(ctx, want); err != nil {
		t.Fatalf("PutDeployLayout: %v", err)
	}
	if want.ID == 0 || !want.CreatedAt.Equal(created.Truncate(time.Second)) || !want.UpdatedAt.Equal(want.CreatedAt) {
		t.Errorf("PutDeployLayout left ID %d, CreatedAt %v, UpdatedAt %v", want.ID, want.CreatedAt, want.UpdatedAt)
	}
	got, err := e.s.DeployLayoutByName(ctx, "haproxy-bundle")
	if err != nil {
		t.Fatalf("DeployLayoutByName: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layout after put (-want +got):\n%s", diff)
	}
	if err := e.s.PutDeployLayout(ctx, &inventory.DeployLayout{Name: "haproxy-bundle", Files: []byte("[]")}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutDeployLayout with a name in use: %v, want ErrConflict", err)
	}
	if err := e.s.PutDeployLayout(ctx, &inventory.DeployLayout{Name: "broken", Files: []byte("[{")}); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("PutDeployLayout with files that are not JSON: %v, want ErrInvalid", err)
	}
	other := &inventory.DeployLayout{Name: "Appliance"}
	if err := e.s.PutDeployLayout(ctx, other); err != nil {
		t.Fatalf("PutDeployLayout(Appliance): %v", err)
	}
	list, err := e.s.ListDeployLayouts(ctx)
	if err != nil {
		t.Fatalf("ListDeployLayouts: %v", err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	if diff := cmp.Diff([]string{"Appliance", "haproxy-bundle"}, names); diff != "" {
		t.Errorf("layouts by name (-want +got):\n%s", diff)
	}
	if string(list[0].Files) != "[]" {
		t.Errorf("layout without files lists files %q, want []", list[0].Files)
	}

	// Update replaces by ID.
	got.Name, got.Files, got.Instructions = "haproxy", []byte(`[{"name":"all.pem"}]`), "new"
	if err := e.s.UpdateDeployLayout(ctx, got); err != nil {
		t.Fatalf("UpdateDeployLayout: %v", err)
	}
	again, err := e.s.DeployLayoutByName(ctx, "haproxy")
	if err != nil {
		t.Fatalf("DeployLayoutByName after rename: %v", err)
	}
	if diff := cmp.Diff(got, again); diff != "" || !again.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("layout after update, created %v (-want +got):\n%s", again.CreatedAt, diff)
	}
	if _, err := e.s.DeployLayoutByName(ctx, "haproxy-bundle"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("old layout name after rename: %v, want ErrNotFound", err)
	}
	again.Name = "Appliance"
	if err := e.s.UpdateDeployLayout(ctx, again); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateDeployLayout to a name in use: %v, want ErrConflict", err)
	}
	if err := e.s.UpdateDeployLayout(ctx, &inventory.DeployLayout{ID: got.ID + 100, Name: "x"}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("UpdateDeployLayout(unknown ID): %v, want ErrNotFound", err)
	}

	// A layout a target uses stays, under its name.
	tg := sampleTarget("lb1")
	tg.Preset = "haproxy"
	putTarget(t, e.s, tg)
	if err := e.s.DeleteDeployLayout(ctx, "haproxy"); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("DeleteDeployLayout of a layout in use: %v, want ErrConflict", err)
	}
	if _, err := e.s.DeployLayoutByName(ctx, "haproxy"); err != nil {
		t.Errorf("layout after a refused delete: %v", err)
	}
	renamed := *got
	renamed.Name = "haproxy-2"
	if err := e.s.UpdateDeployLayout(ctx, &renamed); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("renaming a layout in use: %v, want ErrConflict", err)
	}
	got.Instructions = "still in use, same name"
	if err := e.s.UpdateDeployLayout(ctx, got); err != nil {
		t.Errorf("updating a layout in use under its name: %v", err)
	}
	tg.Preset = "nginx"
	if err := e.s.UpdateTarget(ctx, tg); err != nil {
		t.Fatalf("UpdateTarget: %v", err)
	}
	if err := e.s.DeleteDeployLayout(ctx, "haproxy"); err != nil {
		t.Errorf("DeleteDeployLayout once unused: %v", err)
	}
	if _, err := e.s.DeployLayoutByName(ctx, "haproxy"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("layout after delete: %v, want ErrNotFound", err)
	}
	if err := e.s.DeleteDeployLayout(ctx, "haproxy"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeleteDeployLayout twice: %v, want ErrNotFound", err)
	}
	// A built-in preset a target names is no layout.
	if err := e.s.DeleteDeployLayout(ctx, "nginx"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeleteDeployLayout(nginx): %v, want ErrNotFound", err)
	}
}

func testAgentEnrollment(t *testing.T, e *env) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	tok := &inventory.AgentToken{Hash: "0a1b", Name: "db1", CreatedBy: "alice", CreatedAt: now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Hour + 300*time.Millisecond)}
	if err := e.s.PutAgentToken(ctx, tok); err != nil {
		t.Fatalf("PutAgentToken: %v", err)
	}
	if tok.ID == 0 || !tok.ExpiresAt.Equal(now.Add(time.Hour)) || !tok.UsedAt.IsZero() {
		t.Errorf("PutAgentToken left ID %d, ExpiresAt %v, UsedAt %v", tok.ID, tok.ExpiresAt, tok.UsedAt)
	}
	if err := e.s.PutAgentToken(ctx, &inventory.AgentToken{Hash: "0a1b", Name: "db2", ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutAgentToken with a hash in use: %v, want ErrConflict", err)
	}

	if err := e.s.EnrollAgent(ctx, "ffff", &inventory.Agent{Name: "db1", CertificateSHA256: "c1", EnrolledAt: now}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("EnrollAgent with an unknown token: %v, want ErrNotFound", err)
	}
	for _, at := range []time.Time{tok.ExpiresAt, tok.ExpiresAt.Add(time.Second)} {
		if err := e.s.EnrollAgent(ctx, "0a1b", &inventory.Agent{Name: "db1", CertificateSHA256: "c1", EnrolledAt: at}); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("EnrollAgent at %v, the token expiring at %v: %v, want ErrNotFound", at, tok.ExpiresAt, err)
		}
	}
	// The token enrolls the agent it was made for, and a refusal leaves
	// it usable.
	if err := e.s.EnrollAgent(ctx, "0a1b", &inventory.Agent{Name: "web1", CertificateSHA256: "c1", EnrolledAt: now}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("EnrollAgent under another name: %v, want ErrNotFound", err)
	}
	if _, err := e.s.AgentByName(ctx, "web1"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("AgentByName(web1) after a refused enrollment: %v, want ErrNotFound", err)
	}

	enrolledAt := now.Add(10*time.Minute + 700*time.Millisecond)
	a := &inventory.Agent{Name: "db1", CertificateSHA256: "c1", EnrolledAt: enrolledAt, RemoteAddr: "192.0.2.4:5000"}
	if err := e.s.EnrollAgent(ctx, "0a1b", a); err != nil {
		t.Fatalf("EnrollAgent: %v", err)
	}
	want := &inventory.Agent{ID: a.ID, Name: "db1", CertificateSHA256: "c1", EnrolledAt: enrolledAt.Truncate(time.Second),
		RemoteAddr: "192.0.2.4:5000"}
	if a.ID == 0 {
		t.Fatal("EnrollAgent left no ID")
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("agent after EnrollAgent (-want +got):\n%s", diff)
	}
	for name, get := range map[string]func() (*inventory.Agent, error){
		"GetAgent":           func() (*inventory.Agent, error) { return e.s.GetAgent(ctx, a.ID) },
		"AgentByName":        func() (*inventory.Agent, error) { return e.s.AgentByName(ctx, "db1") },
		"AgentByCertificate": func() (*inventory.Agent, error) { return e.s.AgentByCertificate(ctx, "c1") },
	} {
		got, err := get()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	var usedAt int
	err := dbOf(e.s).r.QueryRowContext(ctx, dbOf(e.s).q("SELECT count(*) FROM agent_tokens WHERE hash = ? AND used_at = ?"),
		"0a1b", dbOf(e.s).t(enrolledAt)).Scan(&usedAt)
	if err != nil || usedAt != 1 {
		t.Errorf("token marked used at the enrollment time: count %d, %v; want 1", usedAt, err)
	}
	if err := e.s.EnrollAgent(ctx, "0a1b", &inventory.Agent{Name: "db1", CertificateSHA256: "c2", EnrolledAt: enrolledAt}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("EnrollAgent with a used token: %v, want ErrNotFound", err)
	}
	if got, err := e.s.GetAgent(ctx, a.ID); err != nil || got.CertificateSHA256 != "c1" {
		t.Errorf("agent after a refused second enrollment: %+v, %v; want certificate c1", got, err)
	}

	// A new token for the same name replaces the certificate and the
	// enrollment time of the same agent; the rest stays.
	if err := e.s.SetAgentDisabled(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutAgentToken(ctx, &inventory.AgentToken{Hash: "2c3d", Name: "db1", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(20 * time.Minute)
	re := &inventory.Agent{Name: "db1", CertificateSHA256: "c2", EnrolledAt: later, RemoteAddr: "198.51.100.1:1"}
	if err := e.s.EnrollAgent(ctx, "2c3d", re); err != nil {
		t.Fatalf("re-enrollment: %v", err)
	}
	want.CertificateSHA256, want.EnrolledAt, want.Disabled = "c2", later, true
	if diff := cmp.Diff(want, re); diff != "" {
		t.Errorf("agent after re-enrollment (-want +got):\n%s", diff)
	}
	if _, err := e.s.AgentByCertificate(ctx, "c1"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("AgentByCertificate(replaced certificate): %v, want ErrNotFound", err)
	}
	if _, err := e.s.AgentByCertificate(ctx, ""); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("AgentByCertificate(\"\"): %v, want ErrNotFound", err)
	}

	// A token's name fills in an agent without one.
	if err := e.s.PutAgentToken(ctx, &inventory.AgentToken{Hash: "4e5f", Name: "Cache", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unnamed := &inventory.Agent{CertificateSHA256: "c3", EnrolledAt: now}
	if err := e.s.EnrollAgent(ctx, "4e5f", unnamed); err != nil || unnamed.Name != "Cache" {
		t.Errorf("EnrollAgent without a name = %+v, %v; want the token's name Cache", unnamed, err)
	}
	list, err := e.s.ListAgents(ctx)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	if diff := cmp.Diff([]string{"Cache", "db1"}, names); diff != "" {
		t.Errorf("agents by name (-want +got):\n%s", diff)
	}
	if _, err := e.s.GetAgent(ctx, a.ID+100); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetAgent(unknown): %v, want ErrNotFound", err)
	}
}

func testEnrollConcurrently(t *testing.T, e *env) {
	ctx := context.Background()
	const rounds = 8
	for r := range rounds {
		hash := fmt.Sprintf("race-%d", r)
		name := fmt.Sprintf("racer-%d", r)
		if err := e.s.PutAgentToken(ctx, &inventory.AgentToken{Hash: hash, Name: name, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		agents := make([]*inventory.Agent, 2)
		for i := range 2 {
			agents[i] = &inventory.Agent{Name: name, CertificateSHA256: fmt.Sprintf("cert-%d-%d", r, i)}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = e.s.EnrollAgent(ctx, hash, agents[i])
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: both enrollments with one token succeeded", r)
			case err == nil:
				winner = i
			case !errors.Is(err, inventory.ErrNotFound):
				t.Errorf("round %d: the losing enrollment: %v, want ErrNotFound", r, err)
			}
		}
		if winner < 0 {
			t.Errorf("round %d: no enrollment succeeded: %v", r, errs)
			continue
		}
		got, err := e.s.AgentByName(ctx, name)
		if err != nil || got.CertificateSHA256 != agents[winner].CertificateSHA256 {
			t.Errorf("round %d: stored agent %+v, %v; want the winner's certificate %s", r, got, err,
				agents[winner].CertificateSHA256)
		}
	}
}

func testTouchAndDisableAgent(t *testing.T, e *env) {
	ctx := context.Background()
	a := enroll(t, e.s, "edge", "ee")
	if !a.LastSeenAt.IsZero() || a.Disabled {
		t.Errorf("new agent: LastSeenAt %v, Disabled %v; want never seen, enabled", a.LastSeenAt, a.Disabled)
	}
	at := time.Date(2026, 6, 1, 12, 0, 0, 900_000_000, time.FixedZone("X", -3600))
	if err := e.s.TouchAgent(ctx, a.ID, at, "203.0.113.9:40000"); err != nil {
		t.Fatalf("TouchAgent: %v", err)
	}
	got, err := e.s.GetAgent(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.UTC().Truncate(time.Second); !got.LastSeenAt.Equal(want) || got.LastSeenAt.Location() != time.UTC ||
		got.RemoteAddr != "203.0.113.9:40000" {
		t.Errorf("after TouchAgent: LastSeenAt %v, RemoteAddr %q; want %v, 203.0.113.9:40000", got.LastSeenAt, got.RemoteAddr, want)
	}
	if got.CertificateSHA256 != "ee" || got.Name != "edge" || !got.EnrolledAt.Equal(a.EnrolledAt) {
		t.Errorf("TouchAgent changed more: %+v", got)
	}
	for _, disabled := range []bool{true, false, true} {
		if err := e.s.SetAgentDisabled(ctx, a.ID, disabled); err != nil {
			t.Fatalf("SetAgentDisabled(%v): %v", disabled, err)
		}
		if got, err := e.s.GetAgent(ctx, a.ID); err != nil || got.Disabled != disabled {
			t.Errorf("after SetAgentDisabled(%v): %+v, %v", disabled, got, err)
		}
	}
	if err := e.s.TouchAgent(ctx, a.ID+100, at, "x"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("TouchAgent(unknown): %v, want ErrNotFound", err)
	}
	if err := e.s.SetAgentDisabled(ctx, a.ID+100, true); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("SetAgentDisabled(unknown): %v, want ErrNotFound", err)
	}
	if err := e.s.SetAgentCertificate(ctx, a.ID, "ff"); err != nil {
		t.Fatalf("SetAgentCertificate: %v", err)
	}
	if got, err := e.s.AgentByCertificate(ctx, "ff"); err != nil || got.ID != a.ID {
		t.Errorf("AgentByCertificate(new) = %+v, %v; want agent %d", got, err, a.ID)
	}
	if _, err := e.s.AgentByCertificate(ctx, "ee"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("AgentByCertificate(old) = %v, want ErrNotFound", err)
	}
	if err := e.s.SetAgentCertificate(ctx, a.ID+100, "aa"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("SetAgentCertificate(unknown): %v, want ErrNotFound", err)
	}
}
