package stack_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// The real outside parts of TestWatch: the receivers of the notification
// channels and the openssl s_server processes watched.

// message is one notice as a receiver got it.
type message struct {
	// Kind is firing, repeat or resolved; Alert is "alert:ID".
	Kind, Alert, Subject string
}

// receiver is a real HTTP server on 127.0.0.1 that takes notices in one
// channel format, verifying each, and keeps what it took.
type receiver struct {
	URL string

	mu   sync.Mutex
	got  []message
	errs []string
}

// alertLine finds the alert a notice's text is about ("Alert 12: ...").
var alertLine = regexp.MustCompile(`(?m)^Alert (\d+): `)

// alertOf returns "alert:ID" for a notice text, "" when it names none.
func alertOf(text string) string {
	m := alertLine.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return "alert:" + m[1]
}

// kindOf tells a notice's kind from its subject, as a person would.
func kindOf(subject string) string {
	switch {
	case strings.HasPrefix(subject, "resolved: "):
		return "resolved"
	case strings.HasPrefix(subject, "still "):
		return "repeat"
	}
	return "firing"
}

func startReceiver(t *testing.T, take func(r *http.Request, body []byte) (message, string)) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m, refusal := take(r, body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if refusal != "" {
			rc.errs = append(rc.errs, refusal)
			http.Error(w, refusal, http.StatusUnauthorized)
			return
		}
		rc.got = append(rc.got, m)
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/hook"
	return rc
}

// messages returns what the receiver took and what it refused.
func (rc *receiver) messages() ([]message, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]message(nil), rc.got...), append([]string(nil), rc.errs...)
}

// startGenericReceiver takes signed generic webhooks, checking the
// signature as docs/notifications.md tells receivers to: the raw body,
// the header split on "," and "=", HMAC-SHA256 over "t.body" compared in
// constant time, and t within 5 minutes of its clock.
func startGenericReceiver(t *testing.T, secret string, clock *testenv.Clock) *receiver {
	return startReceiver(t, func(r *http.Request, body []byte) (message, string) {
		if !validSignature(secret, r.Header.Get("X-Certkeeper-Signature"), body, clock.Now()) {
			return message{}, "bad signature " + r.Header.Get("X-Certkeeper-Signature")
		}
		var ev struct{ Kind, Key, Subject, Text string }
		if err := json.Unmarshal(body, &ev); err != nil || r.Header.Get("Content-Type") != "application/json" {
			return message{}, "not a JSON notice: " + string(body)
		}
		if ev.Key != alertOf(ev.Text) || kindOf(ev.Subject) != ev.Kind {
			return message{}, "key or kind disagrees with the text: " + string(body)
		}
		return message{Kind: ev.Kind, Alert: ev.Key, Subject: ev.Subject}, ""
	})
}

func validSignature(secret, header string, body []byte, now time.Time) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(unix, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig))
}

// startSlackReceiver takes Slack incoming-webhook messages:
// {"text": "*SUBJECT*\nTEXT..."}, unsigned.
func startSlackReceiver(t *testing.T) *receiver {
	return startReceiver(t, func(r *http.Request, body []byte) (message, string) {
		var m struct{ Text string }
		if err := json.Unmarshal(body, &m); err != nil || r.Header.Get("X-Certkeeper-Signature") != "" {
			return message{}, "not a Slack message: " + string(body)
		}
		first, _, _ := strings.Cut(m.Text, "\n")
		if !strings.HasPrefix(first, "*") || !strings.HasSuffix(first, "*") {
			return message{}, "no bold subject line: " + m.Text
		}
		subject := strings.Trim(first, "*")
		return message{Kind: kindOf(subject), Alert: alertOf(m.Text), Subject: subject}, ""
	})
}

// mailMessages are the alert e-mails the SMTP server received, and the
// messages sent to anyone but to.
func mailMessages(s *testenv.SMTPServer, to string) ([]message, []string) {
	var out []message
	var stray []string
	for _, m := range s.Messages() {
		subject := m.Subject()
		if len(m.To) != 1 || m.To[0] != to {
			stray = append(stray, fmt.Sprintf("%q to %v", subject, m.To))
		}
		out = append(out, message{Kind: kindOf(subject), Alert: alertOf(strings.ReplaceAll(string(m.Data), "\r\n", "\n")),
			Subject: subject})
	}
	return out, stray
}

// sServer is a real `openssl s_server` on a fixed loopback address,
// stopped and started again by the test.
type sServer struct {
	t    *testing.T
	dir  string
	Addr string
	stop func()
}

func newSServer(t *testing.T, dir string) *sServer {
	s := &sServer{t: t, dir: dir, Addr: testenv.FreeAddr(t)}
	t.Cleanup(s.Stop)
	return s
}

// Serve (re)starts the server with cert and key (files in dir), sending
// the intermediate too when chain is set, and returns once it accepts.
func (s *sServer) Serve(cert, key string, chain bool) {
	s.t.Helper()
	s.Stop()
	args := []string{"s_server", "-www", "-accept", s.Addr, "-cert", cert, "-key", key}
	if chain {
		args = append(args, "-cert_chain", "intermediate.pem")
	}
	logFile := filepath.Join(s.t.TempDir(), "s_server.log")
	log, err := os.Create(logFile)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(testenv.Command(s.t, "openssl"), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(exited) }()
	s.stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	testenv.WaitFor(s.t, 10*time.Second, "openssl s_server on "+s.Addr+" to accept", func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), "ACCEPT")
	})
}

// Stop stops the server and waits until it has exited; a stopped server
// refuses connections.
func (s *sServer) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}
