package cli

import "testing"

// TestMetricsListen: a given --metrics-listen wins, "" included (no
// listener); else CERTKEEPER_METRICS_LISTEN; else the default.
func TestMetricsListen(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flag      string
		flagGiven bool
		env       string
		want      string
	}{
		{"default", defaultMetricsListen, false, "", "127.0.0.1:9464"},
		{"environment", defaultMetricsListen, false, "127.0.0.1:9999", "127.0.0.1:9999"},
		{"environment off", defaultMetricsListen, false, "off", "off"},
		{"flag over environment", "127.0.0.2:9464", true, "127.0.0.1:9999", "127.0.0.2:9464"},
		{"empty flag turns it off", "", true, "127.0.0.1:9999", ""},
	} {
		o := &serveOptions{metricsListen: tc.flag, metricsSet: tc.flagGiven}
		if got := metricsListen(o, tc.env); got != tc.want {
			t.Errorf("%s: metricsListen = %q, want %q", tc.name, got, tc.want)
		}
	}
}
