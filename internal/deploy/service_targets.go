package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
)

// TargetInput creates or changes a target. For the commands and
// RollbackOnFailure, nil means the preset's default on create and
// "unchanged" on update. For the secrets, nil keeps the stored one, ""
// removes it and anything else replaces it.
type TargetInput struct {
	Name          string
	Preset        string
	Method        inventory.TargetMethod
	Directory     string
	Owner         string
	TestCommand   *string
	ReloadCommand *string
	// ReloadTimeout bounds each command; 0 means 60 seconds, at most
	// one hour.
	ReloadTimeout     time.Duration
	SSH               *inventory.SSHAccess
	AgentID           int64
	Check             inventory.CheckSpec
	AdminEmail        string
	RollbackOnFailure *bool
	SSHPassword       *string
	// SSHPrivateKey is an unencrypted OpenSSH or PEM private key.
	SSHPrivateKey    *string
	KeystorePassword *string
	Notes            string
}

// TargetView is a target as the service shows it: never its secrets,
// only whether they are set.
type TargetView struct {
	// Target has SealedSecrets nil.
	inventory.Target
	// Agent is the name of the agent of an agent target.
	Agent               string
	HasSSHPassword      bool
	HasSSHKey           bool
	HasKeystorePassword bool
}

// targetSecrets is the sealed JSON of a target's secrets.
type targetSecrets struct {
	SSHPassword      string `json:"ssh_password,omitempty"`
	SSHPrivateKey    string `json:"ssh_private_key,omitempty"`
	KeystorePassword string `json:"keystore_password,omitempty"`
}

// targetSecretContext binds a target's sealed secrets to its name, which is
// unique and known before the target has an ID: a sealed blob copied to
// another target does not open. A rename seals the secrets again under
// the new name.
func targetSecretContext(name string) []byte { return []byte("deploy_target:" + name) }

// openSecrets unseals t's secrets; none gives the zero value.
func (s *Service) openSecrets(t *inventory.Target) (targetSecrets, error) {
	var sec targetSecrets
	if len(t.SealedSecrets) == 0 {
		return sec, nil
	}
	plain, err := s.sealer.Open(t.SealedSecrets, targetSecretContext(t.Name))
	if err != nil {
		return sec, fmt.Errorf("deploy: target %q: open secrets: %w", t.Name, err)
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		return sec, fmt.Errorf("deploy: target %q: secrets do not decode", t.Name)
	}
	return sec, nil
}

// sealSecrets seals sec for the target called name; nil when sec is
// empty.
func (s *Service) sealSecrets(name string, sec targetSecrets) ([]byte, error) {
	if sec == (targetSecrets{}) {
		return nil, nil
	}
	plain, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal(plain, targetSecretContext(name))
	if err != nil {
		return nil, fmt.Errorf("deploy: seal target secrets: %w", err)
	}
	return sealed, nil
}

// CreateTarget validates and stores a new target; the audit summary says
// which secrets are set, never what they are.
func (s *Service) CreateTarget(ctx context.Context, actor string, in TargetInput) (*TargetView, error) {
	t := &inventory.Target{RollbackOnFailure: true}
	pr, err := s.applyInput(ctx, t, &in)
	if err != nil {
		return nil, err
	}
	if in.TestCommand == nil {
		t.TestCommand = pr.TestCommand
	}
	if in.ReloadCommand == nil {
		t.ReloadCommand = pr.ReloadCommand
	}
	var sec targetSecrets
	changes := mergeSecrets(&sec, &in)
	if err := s.validateTarget(ctx, t, &sec, &in, pr); err != nil {
		return nil, err
	}
	if t.SealedSecrets, err = s.sealSecrets(t.Name, sec); err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("%s (%s, preset %s)%s", t.Name, t.Method, t.Preset, changes)
	err = s.audited(ctx, func(tx inventory.Store) error {
		return targetConflict(tx.PutTarget(ctx, t), t.Name)
	}, actor, "target.create", func() string { return targetObject(t.ID) }, summary)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, t)
}

// UpdateTarget replaces the target id when its version is still version
// (another gives an error wrapping inventory.ErrConflict).
func (s *Service) UpdateTarget(ctx context.Context, actor string, id, version int64, in TargetInput) (*TargetView, error) {
	cur, err := s.target(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Version != version {
		return nil, fmt.Errorf("deploy: target %q changed meanwhile (version %d, not %d): %w",
			cur.Name, cur.Version, version, inventory.ErrConflict)
	}
	sec, err := s.openSecrets(cur)
	if err != nil {
		return nil, err
	}
	t := *cur
	pr, err := s.applyInput(ctx, &t, &in)
	if err != nil {
		return nil, err
	}
	changes := mergeSecrets(&sec, &in)
	if err := s.validateTarget(ctx, &t, &sec, &in, pr); err != nil {
		return nil, err
	}
	if t.SealedSecrets, err = s.sealSecrets(t.Name, sec); err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("%s (%s, preset %s)%s", t.Name, t.Method, t.Preset, changes)
	if cur.Name != t.Name {
		summary = fmt.Sprintf("renamed from %s to %s", cur.Name, summary)
	}
	err = s.audited(ctx, func(tx inventory.Store) error {
		return targetConflict(tx.UpdateTarget(ctx, &t), t.Name)
	}, actor, "target.update", func() string { return targetObject(t.ID) }, summary)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, &t)
}

// applyInput copies in onto t (keeping the commands and roll back when in
// leaves them nil) and returns the preset it names.
func (s *Service) applyInput(ctx context.Context, t *inventory.Target, in *TargetInput) (engine.Preset, error) {
	t.Name, t.Preset, t.Method = strings.TrimSpace(in.Name), strings.TrimSpace(in.Preset), in.Method
	t.Directory, t.Owner = strings.TrimSpace(in.Directory), strings.TrimSpace(in.Owner)
	t.ReloadTimeout, t.AgentID, t.Check = in.ReloadTimeout, in.AgentID, in.Check
	if st, err := probe.ParseStartTLS(t.Check.StartTLS); err == nil {
		t.Check.StartTLS = string(st) // "NONE", " SMTP" -> "", "smtp"; checkSpec refuses the rest
	}
	t.AdminEmail, t.Notes = strings.TrimSpace(in.AdminEmail), in.Notes
	t.SSH = nil
	if in.SSH != nil && *in.SSH != (inventory.SSHAccess{}) {
		a := *in.SSH
		a.Host, a.User, a.HostKey = strings.TrimSpace(a.Host), strings.TrimSpace(a.User), strings.TrimSpace(a.HostKey)
		t.SSH = &a
	}
	if in.TestCommand != nil {
		t.TestCommand = strings.TrimSpace(*in.TestCommand)
	}
	if in.ReloadCommand != nil {
		t.ReloadCommand = strings.TrimSpace(*in.ReloadCommand)
	}
	if in.RollbackOnFailure != nil {
		t.RollbackOnFailure = *in.RollbackOnFailure
	}
	if t.Preset == "" {
		return engine.Preset{}, inventory.Invalid("preset", "choose a preset")
	}
	pr, err := s.preset(ctx, t.Preset)
	if errors.Is(err, inventory.ErrNotFound) {
		return engine.Preset{}, inventory.Invalid("preset", "%s", strings.TrimPrefix(err.Error(), "deploy: "))
	}
	return pr, err
}

// mergeSecrets applies the secrets of in to sec and describes the change
// for the audit trail (never the values).
func mergeSecrets(sec *targetSecrets, in *TargetInput) string {
	var out []string
	for _, f := range []struct {
		name string
		dst  *string
		src  *string
	}{
		{"SSH password", &sec.SSHPassword, in.SSHPassword},
		{"SSH private key", &sec.SSHPrivateKey, in.SSHPrivateKey},
		{"key-store password", &sec.KeystorePassword, in.KeystorePassword},
	} {
		switch {
		case f.src == nil:
		case *f.src == "" && *f.dst != "":
			*f.dst = ""
			out = append(out, f.name+" removed")
		case *f.src != "":
			*f.dst = *f.src
			out = append(out, f.name+" set")
		}
	}
	if in.Method != inventory.MethodSSH && (sec.SSHPassword != "" || sec.SSHPrivateKey != "") &&
		in.SSHPassword == nil && in.SSHPrivateKey == nil {
		sec.SSHPassword, sec.SSHPrivateKey = "", ""
		out = append(out, "SSH credentials removed")
	}
	if len(out) == 0 {
		return ""
	}
	return "; " + strings.Join(out, ", ")
}

func targetConflict(err error, name string) error {
	if errors.Is(err, inventory.ErrConflict) {
		return fmt.Errorf("deploy: a target named %q exists or the target changed meanwhile: %w", name, err)
	}
	return err
}

func targetObject(id int64) string { return inventory.ObjectRef(inventory.KindTarget, id) }

// target loads target id with a clear not-found error.
func (s *Service) target(ctx context.Context, id int64) (*inventory.Target, error) {
	t, err := s.store.GetTarget(ctx, id)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("deploy: no target %d: %w", id, inventory.ErrNotFound)
	}
	return t, err
}

// DeleteTarget removes a target with its deployments.
func (s *Service) DeleteTarget(ctx context.Context, actor string, id int64) error {
	t, err := s.target(ctx, id)
	if err != nil {
		return err
	}
	return s.audited(ctx, func(tx inventory.Store) error { return tx.DeleteTarget(ctx, id) },
		actor, "target.delete", func() string { return targetObject(id) }, t.Name+" and its deployment history")
}

// GetTarget returns target id.
func (s *Service) GetTarget(ctx context.Context, id int64) (*TargetView, error) {
	t, err := s.target(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, t)
}

// ListTargets returns one page of targets by name.
func (s *Service) ListTargets(ctx context.Context, p inventory.Page) ([]TargetView, string, error) {
	list, next, err := s.store.ListTargets(ctx, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]TargetView, len(list))
	for i := range list {
		v, err := s.view(ctx, &list[i])
		if err != nil {
			return nil, "", err
		}
		out[i] = *v
	}
	return out, next, nil
}

// view hides t's secrets.
func (s *Service) view(ctx context.Context, t *inventory.Target) (*TargetView, error) {
	sec, err := s.openSecrets(t)
	if err != nil {
		return nil, err
	}
	v := &TargetView{Target: *t, HasSSHPassword: sec.SSHPassword != "", HasSSHKey: sec.SSHPrivateKey != "",
		HasKeystorePassword: sec.KeystorePassword != ""}
	v.SealedSecrets = nil
	if t.SSH != nil {
		a := *t.SSH
		v.SSH = &a
	}
	if t.Method == inventory.MethodAgent && t.AgentID != 0 {
		a, err := s.store.GetAgent(ctx, t.AgentID)
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			return nil, err
		}
		if a != nil {
			v.Agent = a.Name
		}
	}
	return v, nil
}

// RewrapSecrets re-wraps every target's sealed secrets (certkeeper rekey)
// and returns how many.
func (s *Service) RewrapSecrets(ctx context.Context, rewrap func([]byte) ([]byte, error)) (int, error) {
	return s.store.RewrapTargetSecrets(ctx, rewrap)
}
