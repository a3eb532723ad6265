package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

const hookSecret = "whsec-5up3r-s3cr3t-value"

// verifySignature checks a generic webhook as a receiver does, from the
// header and the raw body alone: HMAC-SHA256 over "T." + body, hex.
func verifySignature(t *testing.T, secret string, header string, body []byte) int64 {
	t.Helper()
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
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		t.Fatalf("signature %q does not verify (want v1=%s)", header, want)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("signature time %q: %v", ts, err)
	}
	return unix
}

func TestGenericWebhookSigned(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL + "/hook", Secret: hookSecret + "\n"})
	if err := e.svc.Notify(ctx, notice("ops")); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	got := rx.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	r := got[0]
	if ts := verifySignature(t, hookSecret, r.header.Get("X-Certkeeper-Signature"), r.body); ts != testAt.Unix() {
		t.Errorf("signed time %d, want %d", ts, testAt.Unix())
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var ev map[string]any
	if err := json.Unmarshal(r.body, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "firing", "severity": "critical", "key": "alert-42",
		"subject": notice().Subject, "text": notice().Text, "link": "https://ck.example.com/alerts/42",
		"time": "2026-12-08T09:30:00Z"}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("generic payload (-want +got):\n%s", diff)
	}
	if _, ok := notify.Verify([]byte(hookSecret), r.header.Get(notify.SignatureHeader), r.body); !ok {
		t.Error("notify.Verify refuses a good signature")
	}
	if _, ok := notify.Verify([]byte(hookSecret), r.header.Get(notify.SignatureHeader), append(r.body, ' ')); ok {
		t.Error("notify.Verify accepts a changed body")
	}
	recs := e.sent(t)
	if len(recs) != 1 || recs[0].Status != inventory.NotificationSent || recs[0].Attempts != 1 || recs[0].HTTPStatus != 200 ||
		recs[0].Channel != "ops" || recs[0].Key != "alert-42" || recs[0].Kind != "firing" {
		t.Errorf("records = %+v; want one sent on ops after 1 attempt", recs)
	}
}

func TestGenericWebhookUnsigned(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "plain", URL: rx.URL})
	if err := e.svc.Notify(ctx, notice("plain")); err != nil {
		t.Fatal(err)
	}
	if h := rx.requests()[0].header.Get(notify.SignatureHeader); h != "" {
		t.Errorf("a channel without secret sent signature %q", h)
	}
}

// jsonBody decodes a request's JSON body.
func jsonBody(t *testing.T, r request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

func TestSlack(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "chat", Format: "slack", URL: rx.URL + "/services/T0/B0/xyz"})
	n := notice("chat")
	n.Subject = "a <b> & c"
	if err := e.svc.Notify(ctx, n); err != nil {
		t.Fatal(err)
	}
	r := rx.requests()[0]
	want := map[string]any{"text": "*a &lt;b&gt; &amp; c*\n" + n.Text + "\n<https://ck.example.com/alerts/42|Open in certkeeper>"}
	if diff := cmp.Diff(want, jsonBody(t, r)); diff != "" {
		t.Errorf("slack payload (-want +got):\n%s", diff)
	}
	if r.path != "/services/T0/B0/xyz" {
		t.Errorf("posted to %q", r.path)
	}
}

func TestTeams(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, http.StatusAccepted)
	e.add(t, notify.ChannelInput{Name: "teams", Format: "teams", URL: rx.URL + "/workflows/abc?sig=s3cr3t"})
	if err := e.svc.Notify(ctx, notice("teams")); err != nil {
		t.Fatal(err)
	}
	m := jsonBody(t, rx.requests()[0])
	att := m["attachments"].([]any)[0].(map[string]any)
	card := att["content"].(map[string]any)
	body := card["body"].([]any)
	title := body[0].(map[string]any)
	action := card["actions"].([]any)[0].(map[string]any)
	if m["type"] != "message" || att["contentType"] != "application/vnd.microsoft.card.adaptive" ||
		card["type"] != "AdaptiveCard" || card["version"] != "1.4" || title["text"] != notice().Subject ||
		title["color"] != "Attention" || body[1].(map[string]any)["text"] != notice().Text ||
		action["type"] != "Action.OpenUrl" || action["url"] != notice().Link {
		t.Errorf("teams payload %s", rx.requests()[0].body)
	}
}

func TestPagerDuty(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, http.StatusAccepted, http.StatusAccepted)
	e.add(t, notify.ChannelInput{Name: "pd", Format: "pagerduty", URL: rx.URL + "/v2/enqueue", Secret: "R0UTINGKEY0123456789"})
	if err := e.svc.Notify(ctx, notice("pd")); err != nil {
		t.Fatal(err)
	}
	resolved := notice("pd")
	resolved.Kind = inventory.NoticeResolved
	if err := e.svc.Notify(ctx, resolved); err != nil {
		t.Fatal(err)
	}
	got := rx.requests()
	trigger := jsonBody(t, got[0])
	payload := trigger["payload"].(map[string]any)
	if trigger["routing_key"] != "R0UTINGKEY0123456789" || trigger["event_action"] != "trigger" ||
		trigger["dedup_key"] != "alert-42" || payload["summary"] != notice().Subject ||
		payload["severity"] != "critical" || payload["source"] != "certkeeper" || trigger["client_url"] != notice().Link {
		t.Errorf("trigger event %s", got[0].body)
	}
	want := map[string]any{"routing_key": "R0UTINGKEY0123456789", "event_action": "resolve", "dedup_key": "alert-42"}
	if diff := cmp.Diff(want, jsonBody(t, got[1])); diff != "" {
		t.Errorf("resolve event (-want +got):\n%s", diff)
	}
}

func TestPagerDutyDefaultURL(t *testing.T) {
	e := newEnv(t)
	e.add(t, notify.ChannelInput{Name: "pd", Format: "pagerduty", Secret: "key"})
	c, err := e.st.ChannelByName(ctx, "pd")
	if err != nil || c.URL != notify.DefaultPagerDutyURL {
		t.Errorf("URL %q, %v; want %q", c.URL, err, notify.DefaultPagerDutyURL)
	}
}

func TestNtfy(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "phone", Format: "ntfy", URL: rx.URL + "/certs", Secret: "tk_abcdef"})
	n := notice("phone")
	n.Subject = "Zertifikat läuft ab"
	if err := e.svc.Notify(ctx, n); err != nil {
		t.Fatal(err)
	}
	r := rx.requests()[0]
	if string(r.body) != n.Text {
		t.Errorf("body %q, want the text", r.body)
	}
	checks := map[string]string{"Title": "=?utf-8?q?Zertifikat_l=C3=A4uft_ab?=", "Priority": "5",
		"Tags": "rotating_light,certkeeper", "Click": n.Link, "Authorization": "Bearer tk_abcdef"}
	for k, want := range checks {
		if got := r.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

func TestRetriedThenDelivered(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			e := newEnv(t)
			rx := newReceiver(t, status, http.StatusOK)
			e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
			if err := e.svc.Notify(ctx, notice("ops")); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if n := len(rx.requests()); n != 2 {
				t.Errorf("receiver got %d requests, want 2", n)
			}
			recs := e.sent(t)
			want := fmt.Sprintf("attempt 1: HTTP %d", status)
			if len(recs) != 1 || recs[0].Status != "sent" || recs[0].Attempts != 2 || recs[0].HTTPStatus != 200 || recs[0].Error != want {
				t.Errorf("records = %+v; want one sent after 2 attempts, error %q", recs, want)
			}
		})
	}
}

func TestClientErrorNotRetried(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, http.StatusBadRequest)
	rx.answer = `{"message":"invalid payload"}`
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
	err := e.svc.Notify(ctx, notice("ops"))
	if !errors.Is(err, notify.ErrFailed) || !strings.Contains(err.Error(), "channel ops: HTTP 400") {
		t.Fatalf("Notify = %v; want ErrFailed naming ops and HTTP 400", err)
	}
	if n := len(rx.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1 (no retry on 400)", n)
	}
	recs := e.sent(t)
	if len(recs) != 1 || recs[0].Status != "failed" || recs[0].Attempts != 1 || recs[0].HTTPStatus != 400 ||
		recs[0].Error != `HTTP 400: {"message":"invalid payload"}` {
		t.Errorf("records = %+v", recs)
	}
}

func TestServerErrorGivesUpAfterThree(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t, 503, 503, 503, 200)
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
	if err := e.svc.Notify(ctx, notice("ops")); !errors.Is(err, notify.ErrFailed) {
		t.Fatalf("Notify = %v; want ErrFailed", err)
	}
	if n := len(rx.requests()); n != notify.MaxAttempts {
		t.Errorf("receiver got %d requests, want %d", n, notify.MaxAttempts)
	}
	recs := e.sent(t)
	if len(recs) != 1 || recs[0].Attempts != 3 || recs[0].Error != "attempt 1: HTTP 503; attempt 2: HTTP 503; attempt 3: HTTP 503" {
		t.Errorf("records = %+v", recs)
	}
}

func TestDeadPort(t *testing.T) {
	e := newEnv(t)
	addr := testenv.FreeAddr(t)
	e.add(t, notify.ChannelInput{Name: "gone", URL: "http://" + addr + "/hook"})
	if err := e.svc.Notify(ctx, notice("gone")); !errors.Is(err, notify.ErrFailed) {
		t.Fatalf("Notify = %v; want ErrFailed", err)
	}
	recs := e.sent(t)
	if len(recs) != 1 || recs[0].Status != "failed" || recs[0].Attempts != 3 || recs[0].HTTPStatus != 0 ||
		!strings.Contains(recs[0].Error, "connection refused") {
		t.Errorf("records = %+v; want a failure after 3 refused connections", recs)
	}
}

func TestOutboundPolicyDenies(t *testing.T) {
	rx := newReceiver(t)
	_, port, _ := strings.Cut(strings.TrimPrefix(rx.URL, "http://"), ":")
	deny, err := outbound.Parse(nil, []string{"127.0.0.1:" + port})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *notify.Options) { o.Outbound = outbound.NewDialer(deny) })
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
	if err := e.svc.Notify(ctx, notice("ops")); !errors.Is(err, notify.ErrFailed) {
		t.Fatalf("Notify = %v; want ErrFailed", err)
	}
	if n := len(rx.requests()); n != 0 {
		t.Errorf("receiver got %d requests through a denying policy", n)
	}
	if recs := e.sent(t); len(recs) != 1 || !strings.Contains(recs[0].Error, "not allowed by the outbound policy") {
		t.Errorf("records = %+v; want the policy's refusal", recs)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	e := newEnv(t)
	target := newReceiver(t)
	rx := newReceiver(t, http.StatusTemporaryRedirect)
	rx.Config.Handler = http.RedirectHandler(target.URL, http.StatusTemporaryRedirect)
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL, Secret: hookSecret})
	if err := e.svc.Notify(ctx, notice("ops")); !errors.Is(err, notify.ErrFailed) {
		t.Fatalf("Notify = %v; want ErrFailed", err)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect was followed (%d requests)", n)
	}
}

func TestUnknownChannelRecorded(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
	err := e.svc.Notify(ctx, notice("ops", "nope"))
	if !errors.Is(err, notify.ErrFailed) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("Notify = %v; want a failure naming nope", err)
	}
	if n := len(rx.requests()); n != 1 {
		t.Errorf("ops got %d requests, want 1", n)
	}
	recs := e.sent(t)
	if len(recs) != 2 {
		t.Fatalf("records = %+v; want 2", recs)
	}
	for _, r := range recs {
		if r.Channel == "nope" && (r.Status != "failed" || r.Error != "no such channel") {
			t.Errorf("record of the unknown channel = %+v", r)
		}
	}
}

// TestCancelDuringBackoff: a caller that goes away stops the retries at
// once (the next attempt is an hour away), and the outcome is still
// recorded.
func TestCancelDuringBackoff(t *testing.T) {
	e := newEnv(t, func(o *notify.Options) { o.Backoff = time.Hour })
	rx := newReceiver(t, 503, 503, 503)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
	done := make(chan error, 1)
	go func() { done <- e.svc.Notify(cctx, notice("ops")) }()
	testenv.WaitFor(t, 10*time.Second, "the first request", func() bool { return len(rx.requests()) == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, notify.ErrFailed) || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("Notify = %v; want a failure saying the context was cancelled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Notify did not return after its context was cancelled")
	}
	if recs := e.sent(t); len(recs) != 1 || recs[0].Attempts != 1 {
		t.Errorf("records = %+v; want one after 1 attempt", recs)
	}
}
