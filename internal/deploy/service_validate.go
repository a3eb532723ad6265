package deploy

import (
	"context"
	"errors"
	"net"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/ssh"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// Target field limits.
const (
	maxTargetNameLen = 128
	maxCommandLen    = 1024
	maxTargetNotes   = 4000
	maxSecretLen     = 16 << 10
	// MaxReloadTimeout bounds a target's command timeout.
	MaxReloadTimeout = time.Hour
)

var (
	targetOwnerPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$`)
	hostLabelPattern   = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`)
)

// validateTarget checks every field of t, its secrets sec (in says which
// secrets the caller gave) and its preset pr, returning the first
// problem as an inventory.FieldError. Messages never quote a secret.
func (s *Service) validateTarget(ctx context.Context, t *inventory.Target, sec *targetSecrets, in *TargetInput, pr engine.Preset) error {
	for _, check := range []func() error{
		func() error { return checkTargetName(t.Name) },
		func() error { return checkTargetMethod(t) },
		func() error { return checkTargetCommands(t) },
		func() error { return checkTargetSSH(t, sec, in) },
		func() error { return s.checkAgent(ctx, t) },
		func() error { return s.checkSpec(ctx, t.Check) },
		func() error { return checkKeystoreSecret(sec, pr) },
		func() error { return checkTargetContact(t) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func checkTargetName(name string) error {
	switch {
	case name == "":
		return inventory.Invalid("name", "give the target a name")
	case len(name) > maxTargetNameLen:
		return inventory.Invalid("name", "the name is longer than %d characters", maxTargetNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return inventory.Invalid("name", "the name must be one line without control characters")
	}
	return nil
}

func checkTargetMethod(t *inventory.Target) error {
	if !t.Method.Valid() {
		return inventory.Invalid("method", "method %q: want directory, ssh, agent or manual", t.Method)
	}
	if t.Owner != "" && !targetOwnerPattern.MatchString(t.Owner) {
		return inventory.Invalid("owner", "owner %q: want user or user:group", t.Owner)
	}
	if t.Directory == "" {
		if t.Method == inventory.MethodManual {
			return nil
		}
		return inventory.Invalid("directory", "a %s target needs the absolute directory the files go to", t.Method)
	}
	switch {
	case !path.IsAbs(t.Directory) || strings.Contains(t.Directory, `\`):
		return inventory.Invalid("directory", "directory %q: want an absolute path with forward slashes, like /etc/nginx/tls", t.Directory)
	case strings.ContainsFunc(t.Directory, unicode.IsControl) || len(t.Directory) > 1024:
		return inventory.Invalid("directory", "the directory must be one line of at most 1024 characters")
	case slices.Contains(strings.Split(t.Directory, "/"), ".."):
		return inventory.Invalid("directory", "directory %q: no .. components", t.Directory)
	}
	t.Directory = path.Clean(t.Directory)
	return nil
}

func checkTargetCommands(t *inventory.Target) error {
	for _, c := range []struct{ field, cmd string }{{"test_command", t.TestCommand}, {"reload_command", t.ReloadCommand}} {
		if len(c.cmd) > maxCommandLen || strings.ContainsFunc(c.cmd, unicode.IsControl) {
			return inventory.Invalid(c.field, "the command must be one line of at most %d characters", maxCommandLen)
		}
	}
	if t.ReloadTimeout < 0 || t.ReloadTimeout > MaxReloadTimeout {
		return inventory.Invalid("reload_timeout_seconds", "the timeout must be between 0 (60 seconds) and %d seconds",
			int(MaxReloadTimeout/time.Second))
	}
	return nil
}

// checkTargetSSH checks the access of an SSH target and that its credentials
// parse; other methods take none.
func checkTargetSSH(t *inventory.Target, sec *targetSecrets, in *TargetInput) error {
	if t.Method != inventory.MethodSSH {
		switch {
		case t.SSH != nil:
			return inventory.Invalid("ssh", "only ssh targets take SSH access")
		case in.SSHPassword != nil && *in.SSHPassword != "":
			return inventory.Invalid("ssh_password", "only ssh targets take an SSH password")
		case in.SSHPrivateKey != nil && *in.SSHPrivateKey != "":
			return inventory.Invalid("ssh_private_key", "only ssh targets take an SSH private key")
		}
		return nil
	}
	a := t.SSH
	if a == nil {
		return inventory.Invalid("ssh", "an ssh target needs the host, user and host key")
	}
	if err := checkHostField("ssh.host", a.Host, true); err != nil {
		return err
	}
	if err := checkPortField("ssh.port", a.Port); err != nil {
		return err
	}
	blank := func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
	if a.User == "" || len(a.User) > 64 || strings.ContainsFunc(a.User, blank) {
		return inventory.Invalid("ssh.user", "give the SSH user name (one word)")
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(a.HostKey))
	if err != nil {
		return inventory.Invalid("ssh.host_key", "the host key is not a public key in authorized_keys form (ssh-ed25519 AAAA...)")
	}
	a.HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	return checkSSHCredentials(sec)
}

func checkSSHCredentials(sec *targetSecrets) error {
	switch {
	case sec.SSHPassword == "" && sec.SSHPrivateKey == "":
		return inventory.Invalid("ssh_password", "an ssh target needs a password or a private key")
	case len(sec.SSHPassword) > maxSecretLen:
		return inventory.Invalid("ssh_password", "the password is too long")
	case len(sec.SSHPrivateKey) > maxSecretLen:
		return inventory.Invalid("ssh_private_key", "the private key is too long")
	}
	if sec.SSHPrivateKey == "" {
		return nil
	}
	_, err := ssh.ParsePrivateKey([]byte(sec.SSHPrivateKey))
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return inventory.Invalid("ssh_private_key", "the private key is encrypted: give it without a passphrase")
	case err != nil:
		return inventory.Invalid("ssh_private_key", "the private key does not parse as an OpenSSH or PEM private key")
	}
	return nil
}

func (s *Service) checkAgent(ctx context.Context, t *inventory.Target) error {
	if t.Method != inventory.MethodAgent {
		if t.AgentID != 0 {
			return inventory.Invalid("agent_id", "only agent targets name an agent")
		}
		return nil
	}
	if t.AgentID <= 0 {
		return inventory.Invalid("agent_id", "an agent target needs the agent that serves it")
	}
	if _, err := s.store.GetAgent(ctx, t.AgentID); errors.Is(err, inventory.ErrNotFound) {
		return inventory.Invalid("agent_id", "no agent %d", t.AgentID)
	} else if err != nil {
		return err
	}
	return nil
}

// checkSpec checks the server name for check and that its client
// certificate has a key in the inventory.
func (s *Service) checkSpec(ctx context.Context, c inventory.CheckSpec) error {
	if c.Host == "" {
		if c.Port != 0 || c.SNI != "" || c.StartTLS != "" || c.ClientCertificateID != 0 {
			return inventory.Invalid("check.host", "give the host to check, or leave the whole check empty")
		}
		return nil
	}
	if err := checkHostField("check.host", c.Host, true); err != nil {
		return err
	}
	if err := checkPortField("check.port", c.Port); err != nil {
		return err
	}
	if c.SNI != "" {
		if err := checkHostField("check.sni", c.SNI, false); err != nil {
			return err
		}
	}
	if _, err := probe.ParseStartTLS(c.StartTLS); err != nil {
		return inventory.Invalid("check.starttls", "%s", err.Error())
	}
	if c.ClientCertificateID == 0 {
		return nil
	}
	cert, err := s.store.GetCertificate(ctx, c.ClientCertificateID)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return inventory.Invalid("check.client_certificate_id", "no certificate %d", c.ClientCertificateID)
	case err != nil:
		return err
	case cert.KeyID == 0:
		return inventory.Invalid("check.client_certificate_id",
			"certificate %d has no private key in the inventory, so it cannot be presented", c.ClientCertificateID)
	}
	return nil
}

// checkHostField accepts a DNS name (labels of letters, digits, - and _) or,
// when ipOK, an IP address.
func checkHostField(field, h string, ipOK bool) error {
	if ip := net.ParseIP(h); ip != nil {
		if !ipOK {
			return inventory.Invalid(field, "%s is an IP address; a server name is sent as SNI only for DNS names", h)
		}
		return nil
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	if h == "" || len(h) > 253 || !allLabelsMatch(labels, hostLabelPattern) {
		return inventory.Invalid(field, "%q is not a host name or IP address", h)
	}
	return nil
}

func allLabelsMatch(list []string, re *regexp.Regexp) bool {
	for _, s := range list {
		if !re.MatchString(s) {
			return false
		}
	}
	return true
}

func checkPortField(field string, p int) error {
	if p < 0 || p > 65535 {
		return inventory.Invalid(field, "port %d: want 1 to 65535 (0 for the default)", p)
	}
	return nil
}

func checkKeystoreSecret(sec *targetSecrets, pr engine.Preset) error {
	switch {
	case pr.NeedsPassword() && sec.KeystorePassword == "":
		return inventory.Invalid("keystore_password", "preset %s writes a key store: give its password", pr.Name())
	case len(sec.KeystorePassword) > 128:
		return inventory.Invalid("keystore_password", "the key-store password is longer than 128 characters")
	}
	return nil
}

func checkTargetContact(t *inventory.Target) error {
	if t.AdminEmail != "" {
		if err := settings.CheckAddress("admin_email", t.AdminEmail); err != nil {
			return err
		}
	}
	if len(t.Notes) > maxTargetNotes {
		return inventory.Invalid("notes", "notes are longer than %d characters", maxTargetNotes)
	}
	return nil
}

// checkLineField refuses a multi-line or overlong value of field.
func checkLineField(field, v string, max int) error {
	if len(v) > max || strings.ContainsFunc(v, unicode.IsControl) {
		return inventory.Invalid(field, "%s must be one line of at most %d characters", field, max)
	}
	return nil
}
