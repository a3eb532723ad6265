package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/certkeeper/certkeeper/internal/deploy/archive"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/sitereport"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// maxMessage bounds the personal message of an install request.
const maxMessage = 4000

// PackageExtension ends the file name of an encrypted one-click package.
const PackageExtension = ".ckpkg"

// Package returns the encrypted one-click package of the deployment (for
// `certkeeper install FILE`) and its file name. It holds the private key,
// so it is audited as a key export; the password is never recorded.
func (s *Service) Package(ctx context.Context, actor string, id int64, password string) ([]byte, string, error) {
	if err := checkPackagePassword(password); err != nil {
		return nil, "", err
	}
	unlock := s.locks.lock(id)
	defer unlock()
	p, err := s.load(ctx, id)
	if err != nil {
		return nil, "", err
	}
	data, err := s.sealedPackage(ctx, p, password)
	if err != nil {
		return nil, "", err
	}
	name := fileBase(p) + PackageExtension
	if err := s.recordExport(ctx, actor, p, "encrypted package "+name); err != nil {
		return nil, "", err
	}
	return data, name, nil
}

func checkPackagePassword(password string) error {
	if utf8.RuneCountInString(password) < archive.MinPassword {
		return inventory.Invalid("password", "the package password needs at least %d characters", archive.MinPassword)
	}
	return nil
}

// sealedPackage builds and encrypts the package of p.
func (s *Service) sealedPackage(ctx context.Context, p *deployProcess, password string) ([]byte, error) {
	job, err := s.job(ctx, p.t, p.cert)
	if err != nil {
		return nil, err
	}
	pr, err := s.preset(ctx, p.t.Preset)
	if err != nil {
		return nil, err
	}
	return archive.Seal(&archive.Package{Created: s.now(), Target: p.t.Name, Preset: pr.Name(),
		Certificate: certDisplayName(p.cert), Instructions: pr.Instructions, Job: job}, password, s.o.PackageKDF)
}

// Conventional returns the conventional package of the deployment: a zip
// of the preset's files with a README of install steps, and its file
// name. It holds the private key, so it is audited as a key export.
func (s *Service) Conventional(ctx context.Context, actor string, id int64) ([]byte, string, error) {
	unlock := s.locks.lock(id)
	defer unlock()
	p, err := s.load(ctx, id)
	if err != nil {
		return nil, "", err
	}
	job, err := s.job(ctx, p.t, p.cert)
	if err != nil {
		return nil, "", err
	}
	pr, err := s.preset(ctx, p.t.Preset)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	title := fmt.Sprintf("%s for %s", certDisplayName(p.cert), p.t.Name)
	if err := archive.WriteZip(&buf, pr, job.Plan, title); err != nil {
		return nil, "", err
	}
	name := fileBase(p) + ".zip"
	if err := s.recordExport(ctx, actor, p, "zip "+name); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), name, nil
}

// recordExport notes an export of the key in the process and the audit
// trail.
func (s *Service) recordExport(ctx context.Context, actor string, p *deployProcess, what string) error {
	detail := fmt.Sprintf("%s with the private key of certificate %s for target %s", what, certDisplayName(p.cert), p.t.Name)
	summary := fmt.Sprintf("%s (deployment %d, certificate %d)", detail, p.d.ID, p.cert.ID)
	return s.audited(ctx, func(tx inventory.Store) error {
		return tx.UpdateDeployment(ctx, p.d, s.step(actor, "package_created", detail, ""))
	}, actor, "key.export", func() string { return inventory.ObjectRef(inventory.KindKey, p.cert.KeyID) }, summary)
}

// fileBase names the files made for p: target and certificate, in
// characters safe in any file system.
func fileBase(p *deployProcess) string {
	safe := func(s string) string {
		s = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
				return r
			}
			return '_'
		}, s)
		return strings.Trim(s, "._")
	}
	base := safe(p.t.Name) + "-" + safe(strings.TrimPrefix(certDisplayName(p.cert), "*."))
	if len(base) > 100 {
		base = base[:100]
	}
	return base
}

// RequestInstall e-mails the install request for a deployment to to, or
// to the target's administrator: the encrypted package attached, the
// install steps in the body, never the password. The process becomes
// install requested. Settings without SMTP give an error wrapping
// mail.ErrNotSetUp and inventory.ErrState; a failed delivery one
// wrapping mail.ErrFailed.
func (s *Service) RequestInstall(ctx context.Context, actor string, id int64, to, password, message string) (*DeploymentView, error) {
	if err := checkPackagePassword(password); err != nil {
		return nil, err
	}
	if len(message) > maxMessage {
		return nil, inventory.Invalid("message", "the message is longer than %d characters", maxMessage)
	}
	unlock := s.locks.lock(id)
	defer unlock()
	p, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if to = strings.TrimSpace(to); to == "" {
		to = p.t.AdminEmail
	}
	if to == "" {
		return nil, inventory.Invalid("to", "target %s has no admin e-mail: give an address", p.t.Name)
	}
	if err := settings.CheckAddress("to", to); err != nil {
		return nil, err
	}
	if s.o.Mail == nil {
		return nil, fmt.Errorf("deploy: %w: %w", mail.ErrNotSetUp, inventory.ErrState)
	}
	data, err := s.sealedPackage(ctx, p, password)
	if err != nil {
		return nil, err
	}
	pr, err := s.preset(ctx, p.t.Preset)
	if err != nil {
		return nil, err
	}
	name := fileBase(p) + PackageExtension
	subject := fmt.Sprintf("Install request: certificate %s on %s", certDisplayName(p.cert), p.t.Name)
	e, err := s.o.Mail.SendWithAttachments(ctx, "install_request", []string{to}, subject, requestBody(p, pr, name, actor, message),
		[]mail.Attachment{{Name: name, ContentType: "application/octet-stream", Data: data}})
	if errors.Is(err, mail.ErrNotSetUp) {
		return nil, fmt.Errorf("deploy: cannot send the install request: %w: %w", err, inventory.ErrState)
	}
	if err != nil {
		return nil, fmt.Errorf("deploy: install request to %s: %w", to, err)
	}
	return s.requested(context.WithoutCancel(ctx), actor, p, to, name, e.ID)
}

// requested records a sent install request.
func (s *Service) requested(ctx context.Context, actor string, p *deployProcess, to, name string, emailID int64) (*DeploymentView, error) {
	p.d.State, p.d.Unchecked = inventory.DeployInstallRequested, false
	detail := fmt.Sprintf("install request with %s sent to %s (e-mail %d)", name, to, emailID)
	summary := fmt.Sprintf("encrypted package %s with the private key of certificate %s e-mailed to %s (deployment %d)",
		name, certDisplayName(p.cert), to, p.d.ID)
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateDeployment(ctx, p.d, s.step(actor, "email_sent", detail, "")); err != nil {
			return err
		}
		if err := auditIn(ctx, tx, s.now(), actor, "key.export", inventory.ObjectRef(inventory.KindKey, p.cert.KeyID), summary); err != nil {
			return err
		}
		return auditIn(ctx, tx, s.now(), actor, "deployment.request_install", deploymentObject(p.d.ID), detail)
	})
	if err != nil {
		return nil, err
	}
	return s.deploymentView(ctx, p.d, true)
}

// requestBody is the text of an install request.
func requestBody(p *deployProcess, pr engine.Preset, file, actor, message string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\nplease install the certificate %s (serial %s, valid until %s) on %s.\n",
		certDisplayName(p.cert), p.cert.Serial, p.cert.NotAfter.UTC().Format("2006-01-02"), p.t.Name)
	if message = strings.TrimSpace(message); message != "" {
		fmt.Fprintf(&b, "\nMessage from %s:\n%s\n", actor, message)
	}
	fmt.Fprintf(&b, "\nThe attached file %s is an encrypted package with the certificate, its chain and its\n"+
		"private key. Its password reaches you separately from %s; it is not in this e-mail.\n", file, actor)
	fmt.Fprintf(&b, "\nTo install it with certkeeper on the server:\n\n    certkeeper install %s\n\n"+
		"It asks for the password, writes the files (keeping the replaced ones), tests and reloads the\n"+
		"server, checks what it serves and rolls back on failure.\n", file)
	if pr.Instructions != "" {
		fmt.Fprintf(&b, "\nTo install by hand instead (unpack the files first):\n\n%s\n", pr.Instructions)
	}
	b.WriteString("\nAfterwards, if the server cannot be checked from certkeeper, run\n" +
		"    certkeeper check --report HOST:PORT\nand send the report file back.\n")
	return b.String()
}

// AcceptReport records a check report made on site (`certkeeper check
// --report`). A report that shows another certificate than the
// deployment's is refused and changes nothing; otherwise it is the last
// check, and confirms the process when it passed.
func (s *Service) AcceptReport(ctx context.Context, actor string, id int64, data []byte) (*DeploymentView, error) {
	r, err := sitereport.Parse(data)
	if err != nil {
		return nil, inventory.Invalid("report", "%s", strings.TrimPrefix(engine.OneLine(err.Error()), "deploy: report: "))
	}
	unlock := s.locks.lock(id)
	defer unlock()
	p, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	want, err := s.want(ctx, p.cert)
	if err != nil {
		return nil, err
	}
	res := r.Evaluate(want, s.now())
	if !strings.EqualFold(res.ServedSHA256, p.cert.SHA256) {
		shown := "no certificate"
		if res.ServedSHA256 != "" {
			shown = fmt.Sprintf("certificate %s (SHA-256 %s)", orText(res.ServedSubject, "?"), res.ServedSHA256)
		}
		return nil, inventory.Invalid("report", "the report shows %s, not this deployment's certificate %s (SHA-256 %s)",
			shown, certDisplayName(p.cert), p.cert.SHA256)
	}
	res.Source = "report"
	return s.recordCheck(ctx, actor, p, res, "deployment.report")
}
