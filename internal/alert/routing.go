package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// routesSetting is the settings document holding the label routes.
const routesSetting = "alert_routes"

// maxRoutes caps the labels routed.
const maxRoutes = 200

// Routes map a label to the channels that receive the notices of alerts
// about subjects carrying it (an endpoint's labels, or the labels of the
// definition an alert concerns).
type Routes map[string][]string

// Routes returns the label routes; none when never set.
func (s *Service) Routes(ctx context.Context) (Routes, error) {
	return loadRoutes(ctx, s.store)
}

func loadRoutes(ctx context.Context, st interface {
	GetSetting(ctx context.Context, name string) ([]byte, error)
}) (Routes, error) {
	data, err := st.GetSetting(ctx, routesSetting)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return Routes{}, nil
	case err != nil:
		return nil, err
	}
	r := Routes{}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("alert: setting %q: %w", routesSetting, err)
	}
	return r, nil
}

// SetRoutes replaces the label routes, by an Admin, audited in the same
// transaction. A label with no channels is dropped.
func (s *Service) SetRoutes(ctx context.Context, by ca.Requester, r Routes) (Routes, error) {
	if by.Role != inventory.RoleAdmin {
		return nil, forbidden("only an admin may change alert routing")
	}
	clean := Routes{}
	for label, chans := range r {
		label = strings.TrimSpace(label)
		if label == "" || len(label) > 200 {
			return nil, inventory.Invalid("routes", "label %q: want 1 to 200 characters", label)
		}
		chans = normalChannels(chans)
		if err := validChannels(chans); err != nil {
			return nil, err
		}
		if len(chans) > 0 {
			clean[label] = chans
		}
	}
	if len(clean) > maxRoutes {
		return nil, inventory.Invalid("routes", "%d labels: at most %d", len(clean), maxRoutes)
	}
	data, err := json.Marshal(clean)
	if err != nil {
		return nil, err
	}
	audit := &inventory.AuditEvent{Actor: by.Name, Action: "alert.routes", Object: inventory.ObjectName(inventory.KindSettings, routesSetting),
		Summary: fmt.Sprintf("%d labels routed: %s", len(clean), strings.Join(slices.Sorted(maps.Keys(clean)), ", "))}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutSetting(ctx, routesSetting, data); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit)
	})
	if err != nil {
		return nil, err
	}
	return clean, nil
}

// route is who hears about a subject: the e-mail addresses of the people
// responsible for it and its labels.
type route struct {
	emails []string
	labels []string
}

// recipients are the addresses and channels of one notice.
func (e *evaluation) recipients(rule Rule, subject string) ([]string, []string) {
	rt := e.routes[subject]
	emails := append([]string{e.adminEmail}, rt.emails...)
	chans := append([]string{}, rule.Channels...)
	for _, l := range rt.labels {
		chans = append(chans, e.labelRoutes[l]...)
	}
	return normalEmails(emails), normalChannels(chans)
}

func normalEmails(l []string) []string {
	var out []string
	for _, m := range l {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}
