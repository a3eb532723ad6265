package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// monitorJSON is the part of "monitor add --json" the walk reads.
type monitorJSON struct {
	ID int64 `json:"id"`
}

// alertJSON is the part of "alert list --json" the walk reads.
type alertJSON struct {
	Rule        string `json:"rule"`
	SubjectName string `json:"subject_name"`
}

// swapServer is a TLS server on 127.0.0.1 serving whichever certificate
// was set last.
type swapServer struct {
	addr string
	cert atomic.Pointer[tls.Certificate]
}

func startSwapServer(t *testing.T) *swapServer {
	t.Helper()
	s := &swapServer{}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.(*tls.Conn).Handshake()
			}()
		}
	}()
	s.addr = ln.Addr().String()
	return s
}

// monitored is what fillMonitoring made.
type monitored struct {
	mon           int64  // the endpoint observed four times
	monAddr, own  string // its address and the UI listener's
	alertSubjects []string
}

// testMonitorPages fills monitoring (fillMonitoring), then walks
// Endpoints, an endpoint's page, Alerts, Alert rules, Notification
// channels and Monitor Control.
func testMonitorPages(t *testing.T, c *ck, b *tab, s *served, sh shots) {
	m := fillMonitoring(t, c, b, s)
	b.open(t, "/endpoints")
	text := b.mainText(t)
	b.check(t, strings.Contains(text, m.monAddr) && strings.Contains(text, m.own),
		"/endpoints does not list %s and %s", m.monAddr, m.own)
	b.check(t, b.count(t, "#results .badge.ok") == 1 && b.count(t, "#results .badge.failed") == 2,
		"/endpoints does not show one ok endpoint and two failed ones")
	sh.take(t, b, "endpoints")

	b.open(t, fmt.Sprintf("/endpoints/%d", m.mon))
	b.check(t, b.count(t, "main svg.chart circle.dot") == 4, "the endpoint's chart has %d points, want 4",
		b.count(t, "main svg.chart circle.dot"))
	text = b.mainText(t)
	b.check(t, strings.Contains(text, "Days left over 4 observations: now 11") ||
		strings.Contains(text, "Days left over 4 observations: now 12"),
		"the endpoint's chart summary does not say 4 observations and 11 or 12 days left")
	sh.take(t, b, "endpoint")

	b.open(t, "/alerts")
	text = b.mainText(t)
	for _, subj := range m.alertSubjects {
		b.check(t, strings.Contains(text, subj), "/alerts does not show the open alert on %s", subj)
	}
	b.check(t, b.count(t, "main .badge.bad") == 2, "/alerts does not show two critical alerts")
	sh.take(t, b, "alerts")
	for _, p := range []struct{ name, path, want string }{
		{"alert-rules", "/alert-rules", "endpoint-unreachable"},
		{"channels", "/settings/channels", "ops-webhook"},
		{"jobs", "/jobs", "leading"},
	} {
		resp := b.open(t, p.path)
		b.check(t, resp.Status == 200 && strings.Contains(b.mainText(t), p.want), "%s (status %d) does not show %q",
			p.path, resp.Status, p.want)
		sh.take(t, b, p.name)
	}
}

// fillMonitoring adds endpoints in several states: one observed over
// certificates with fewer and fewer days left, the last served without
// its intermediate (failed: untrusted); the UI's own listener (ok); a
// closed port checked three times (failed: unreachable). It adds a
// webhook channel and has the server evaluate the alert rules.
func fillMonitoring(t *testing.T, c *ck, b *tab, s *served) monitored {
	srv := startSwapServer(t)
	dir := t.TempDir()
	const monName = "mail.monitor.example.test"
	mon := monitorAdd(t, c, srv.addr, "--servername", monName)
	for _, days := range []int{60, 40, 25, 12} {
		file := filepath.Join(dir, fmt.Sprintf("mon-%d.pem", days))
		c.ok("ca", "issue", "--name", monName, "--days", strconv.Itoa(days), "--to", "combined-pem", "--out", file)
		cert, err := tls.LoadX509KeyPair(file, file)
		if err != nil {
			t.Fatalf("load %s: %v", file, err)
		}
		if days == 12 {
			cert.Certificate = cert.Certificate[:1] // the last one without its intermediate
		}
		srv.cert.Store(&cert)
		c.ok("monitor", "run", strconv.FormatInt(mon, 10))
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	own := monitorAdd(t, c, u.Host, "--servername", "localhost")
	closed := monitorAdd(t, c, freeAddr(t))
	c.ok("monitor", "run", strconv.FormatInt(own, 10), strconv.FormatInt(closed, 10))
	for range 2 { // unreachable three runs in a row opens an alert
		c.ok("monitor", "run", strconv.FormatInt(closed, 10))
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	t.Cleanup(hook.Close)
	c.ok("notify", "add", "--name", "ops-webhook", "--webhook", hook.URL+"/certkeeper")
	// The alert evaluation runs in the server: ask for it on Monitor Control.
	b.open(t, "/jobs")
	b.submit(t, `form[action="/jobs/alerts/run"]`)
	var alerts []alertJSON
	testenv.WaitFor(t, 30*time.Second, "the alert evaluation to open two alerts", func() bool {
		decodeJSON(t, "alert list", c.ok("alert", "list", "--json"), &alerts)
		return len(alerts) >= 2
	})
	m := monitored{mon: mon, monAddr: srv.addr, own: u.Host}
	rules := map[string]bool{}
	for _, a := range alerts {
		rules[a.Rule] = true
		m.alertSubjects = append(m.alertSubjects, a.SubjectName)
	}
	if len(alerts) != 2 || !rules["untrusted"] || !rules["endpoint-unreachable"] {
		t.Fatalf("alerts %+v; want untrusted and endpoint-unreachable", alerts)
	}
	return m
}

// monitorAdd adds a monitored endpoint with the command line and returns
// its ID.
func monitorAdd(t *testing.T, c *ck, addr string, args ...string) int64 {
	t.Helper()
	var e monitorJSON
	decodeJSON(t, "monitor add", c.ok(append([]string{"monitor", "add", addr, "--json"}, args...)...), &e)
	if e.ID == 0 {
		t.Fatalf("monitor add %s: no ID", addr)
	}
	return e.ID
}
