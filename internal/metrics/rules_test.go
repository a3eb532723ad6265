package metrics_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestAlertRules checks the shipped alerting rules with the real promtool
// and runs their unit tests (docs/prometheus-alerts.test.yml).
func TestAlertRules(t *testing.T) {
	promtool := testenv.Command(t, "promtool")
	docs := filepath.Join("..", "..", "docs")
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(docs, "prometheus-alerts.yml")},
		{"test", "rules", filepath.Join(docs, "prometheus-alerts.test.yml")},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
