package definitions

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"regexp"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Limits on definition fields.
const (
	MaxRenewalDays  = 3650
	MaxValidityDays = 3650
)

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	labelRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$`)
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	country  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// normalize cleans d in place (lower-case DNS names, upper-case
// validation level and country, the default key type) and checks every
// rule; the error is one line.
func normalize(d *inventory.Definition) error {
	if d.KeyType == "" {
		d.KeyType = DefaultKeyType
	}
	d.Requirements.ValidationLevel = strings.ToUpper(strings.TrimSpace(d.Requirements.ValidationLevel))
	d.Subject.Country = strings.ToUpper(d.Subject.Country)
	for i, san := range d.SANs {
		d.SANs[i] = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(san), "."))
	}
	for _, check := range []func(*inventory.Definition) error{
		checkName, checkSubject, checkSANs, checkKeyType, checkRequirements, checkRenewal, checkContact, checkLabels, checkTargets,
	} {
		if err := check(d); err != nil {
			return invalid(err)
		}
	}
	return nil
}

// fieldError is a *inventory.FieldError (so that errors.Is matches
// inventory.ErrInvalid and the API can name the field) whose message is the
// package's usual one-line sentence.
type fieldError struct {
	msg   string
	field *inventory.FieldError
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.field }

// invalid prefixes a check's error with the package name, keeping the
// field it names.
func invalid(err error) error {
	var fe *inventory.FieldError
	if errors.As(err, &fe) {
		return &fieldError{msg: "definitions: " + fe.Reason, field: fe}
	}
	return fmt.Errorf("definitions: %w", err)
}

func checkName(d *inventory.Definition) error {
	if d.Name == "" {
		return inventory.Invalid("name", "name is empty")
	}
	if !nameRE.MatchString(d.Name) {
		return inventory.Invalid("name", "name %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", d.Name)
	}
	return nil
}

func checkSubject(d *inventory.Definition) error {
	if d.Subject.CommonName == "" && len(d.SANs) == 0 {
		return inventory.Invalid("subject.cn", "definition %q names nothing: give a common name or a SAN", d.Name)
	}
	if c := d.Subject.Country; c != "" && !country.MatchString(c) {
		return inventory.Invalid("subject.c", "country %q: use a two-letter ISO 3166 code", c)
	}
	return nil
}

func checkSANs(d *inventory.Definition) error {
	seen := map[string]bool{}
	for _, san := range d.SANs {
		if seen[san] {
			return inventory.Invalid("sans", "SAN %q is given twice", san)
		}
		seen[san] = true
		if _, err := netip.ParseAddr(san); err == nil {
			continue
		}
		if err := checkDNSName(san); err != nil {
			return inventory.Invalid("sans", "SAN %q: %v", san, err)
		}
		if strings.HasPrefix(san, "*.") && !d.Requirements.Wildcard {
			return inventory.Invalid("sans", "SAN %q is a wildcard but the requirements do not allow wildcards (--wildcard)", san)
		}
	}
	return nil
}

// checkDNSName accepts a lower-case DNS name of at least two labels, with
// an optional leading "*." wildcard label (RFC 6125 section 6.4.3 allows
// only the whole left-most label as a wildcard).
func checkDNSName(name string) error {
	host := strings.TrimPrefix(name, "*.")
	if len(name) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 && host != name {
		return fmt.Errorf("a wildcard must cover a name of at least two labels")
	}
	for _, l := range labels {
		if !dnsLabel.MatchString(l) {
			return fmt.Errorf("not a DNS name or IP address (label %q)", l)
		}
	}
	return nil
}

func checkKeyType(d *inventory.Definition) error {
	if _, _, ok := inventory.KeyTypeParts(d.KeyType); !ok {
		return inventory.Invalid("key_type", "unknown key type %q (want one of %s)", d.KeyType, strings.Join(KeyTypes, ", "))
	}
	return nil
}

func checkRequirements(d *inventory.Definition) error {
	r := d.Requirements
	switch r.ValidationLevel {
	case "", "DV", "OV", "EV":
	default:
		return inventory.Invalid("requirements.validation_level", "validation level %q: want DV, OV or EV", r.ValidationLevel)
	}
	if r.Names < 0 {
		return inventory.Invalid("requirements.names", "names %d: must not be negative", r.Names)
	}
	if r.ValidityDays < 0 || r.ValidityDays > MaxValidityDays {
		return inventory.Invalid("requirements.validity_days", "validity %d days: want 0 (issuer default) to %d", r.ValidityDays, MaxValidityDays)
	}
	return nil
}

func checkRenewal(d *inventory.Definition) error {
	r := d.Renewal
	switch {
	case r.DaysBefore != 0 && r.LifetimeFraction != 0:
		return inventory.Invalid("renewal", "renewal policy: give days before expiry or a lifetime fraction, not both")
	case r.DaysBefore == 0 && r.LifetimeFraction == 0:
		return inventory.Invalid("renewal", "renewal policy: give days before expiry or a lifetime fraction")
	case r.LifetimeFraction == 0 && (r.DaysBefore < 1 || r.DaysBefore > MaxRenewalDays):
		return inventory.Invalid("renewal", "renewal %d days before expiry: want 1 to %d", r.DaysBefore, MaxRenewalDays)
	case r.DaysBefore == 0 && !(r.LifetimeFraction > 0 && r.LifetimeFraction < 1):
		return inventory.Invalid("renewal", "renewal lifetime fraction %g: want more than 0 and less than 1", r.LifetimeFraction)
	}
	return nil
}

func checkContact(d *inventory.Definition) error {
	if d.ContactEmail == "" {
		return nil
	}
	a, err := mail.ParseAddress(d.ContactEmail)
	if err != nil || a.Address != d.ContactEmail || !strings.Contains(a.Address[strings.LastIndex(a.Address, "@"):], ".") {
		return inventory.Invalid("contact_email", "e-mail %q: want an address like name@example.com", d.ContactEmail)
	}
	return nil
}

func checkLabels(d *inventory.Definition) error {
	for _, l := range d.Labels {
		if !labelRE.MatchString(l) {
			return inventory.Invalid("labels", "label %q: use 1 to 64 letters, digits, '.', '_', ':', '/' or '-'", l)
		}
	}
	return nil
}

func checkTargets(d *inventory.Definition) error {
	for _, t := range d.Targets {
		if t == "" || len(t) > 253 || strings.ContainsAny(t, " \t\r\n") {
			return inventory.Invalid("targets", "target %q: want a server name without spaces", t)
		}
	}
	return nil
}
