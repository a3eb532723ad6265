package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// SignatureHeader carries the HMAC-SHA256 signature of a generic webhook
// whose channel has a secret: "t=UNIX,v1=HEX" (see Sign).
const SignatureHeader = "X-Certkeeper-Signature"

// DefaultPagerDutyURL is where PagerDuty channels post when no URL is
// given: the Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// userAgent names certkeeper to receivers.
const userAgent = "certkeeper-notify/1"

// message is one HTTP request to a channel, before it is made.
type message struct {
	contentType string
	header      map[string]string
	body        []byte
}

// build shapes n for a channel of format f; secret is the channel's
// unsealed secret ("" when none) and now the time stamped on the message.
func build(f, secret string, n inventory.Notice, now time.Time) (*message, error) {
	switch f {
	case inventory.FormatGeneric:
		return genericMessage(secret, n, now)
	case inventory.FormatSlack:
		return jsonMessage(slackPayload(n))
	case inventory.FormatTeams:
		return jsonMessage(teamsPayload(n))
	case inventory.FormatPagerDuty:
		return jsonMessage(pagerDutyPayload(secret, n, now))
	case inventory.FormatNtfy:
		return ntfyMessage(secret, n), nil
	}
	return nil, fmt.Errorf("notify: unknown channel format %q", f)
}

func jsonMessage(v any) (*message, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("notify: encode message: %w", err)
	}
	return &message{contentType: "application/json", body: body}, nil
}

// Event is the JSON body of a generic webhook.
type Event struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Key      string `json:"key"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	Link     string `json:"link,omitempty"`
	// Time is when the message was made, RFC 3339 in UTC.
	Time time.Time `json:"time"`
}

func genericMessage(secret string, n inventory.Notice, now time.Time) (*message, error) {
	m, err := jsonMessage(Event{Kind: n.Kind, Severity: n.Severity, Key: n.Key, Subject: n.Subject,
		Text: n.Text, Link: n.Link, Time: now.UTC().Truncate(time.Second)})
	if err != nil || secret == "" {
		return m, err
	}
	m.header = map[string]string{SignatureHeader: Sign([]byte(secret), now.Unix(), m.body)}
	return m, nil
}

// Sign returns the signature header value of body sent at unix time ts
// under secret: "t=TS,v1=HEX", where HEX is the hex HMAC-SHA256 of
// "TS." followed by the body. A receiver recomputes it from the header's
// t and the raw body, compares in constant time, and refuses a t too far
// from its clock (docs/notifications.md).
func Sign(secret []byte, ts int64, body []byte) string {
	t := strconv.FormatInt(ts, 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(t + "."))
	mac.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header value made by Sign against body and
// secret; it reports the signed time when the signature is good.
func Verify(secret []byte, header string, body []byte) (time.Time, bool) {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return time.Time{}, false
	}
	want := Sign(secret, unix, body)
	got := "t=" + ts + ",v1=" + sig
	return time.Unix(unix, 0).UTC(), hmac.Equal([]byte(want), []byte(got))
}

// slackPayload is a Slack incoming-webhook message in mrkdwn.
func slackPayload(n inventory.Notice) map[string]any {
	text := "*" + slackEscape(n.Subject) + "*"
	if n.Text != "" {
		text += "\n" + slackEscape(n.Text)
	}
	if n.Link != "" {
		text += "\n<" + slackEscape(n.Link) + "|Open in certkeeper>"
	}
	return map[string]any{"text": text}
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// teamsPayload is a Microsoft Teams Workflows ("Post to a channel when a
// webhook request is received") message: one Adaptive Card 1.4.
func teamsPayload(n inventory.Notice) map[string]any {
	color := map[string]string{inventory.SeverityCritical: "Attention", inventory.SeverityWarning: "Warning"}[n.Severity]
	if n.Kind == inventory.NoticeResolved {
		color = "Good"
	}
	if color == "" {
		color = "Default"
	}
	body := []any{
		map[string]any{"type": "TextBlock", "text": n.Subject, "weight": "Bolder", "size": "Medium", "wrap": true, "color": color},
		map[string]any{"type": "TextBlock", "text": n.Text, "wrap": true},
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type": "AdaptiveCard", "version": "1.4", "body": body}
	if n.Link != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open in certkeeper", "url": n.Link}}
	}
	return map[string]any{"type": "message", "attachments": []any{map[string]any{
		"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}}}
}

// pagerDutyPayload is a PagerDuty Events API v2 event: resolve for a
// resolved notice, trigger for any other, deduplicated by the notice's
// key.
func pagerDutyPayload(routingKey string, n inventory.Notice, now time.Time) map[string]any {
	ev := map[string]any{"routing_key": routingKey, "dedup_key": n.Key, "event_action": "trigger"}
	if n.Kind == inventory.NoticeResolved {
		ev["event_action"] = "resolve"
		return ev
	}
	severity := n.Severity
	if severity != inventory.SeverityCritical && severity != inventory.SeverityWarning {
		severity = inventory.SeverityInfo
	}
	ev["payload"] = map[string]any{"summary": truncate(n.Subject, 1024), "source": "certkeeper",
		"severity": severity, "timestamp": now.UTC().Format(time.RFC3339),
		"custom_details": map[string]string{"kind": n.Kind, "text": n.Text}}
	ev["client"] = "certkeeper"
	if n.Link != "" {
		ev["client_url"] = n.Link
		ev["links"] = []any{map[string]string{"href": n.Link, "text": "Open in certkeeper"}}
	}
	return ev
}

// ntfyMessage is an ntfy publish: the text as body, the rest in headers.
func ntfyMessage(token string, n inventory.Notice) *message {
	prio, tag := "3", "information_source"
	switch {
	case n.Kind == inventory.NoticeResolved:
		prio, tag = "3", "white_check_mark"
	case n.Severity == inventory.SeverityCritical:
		prio, tag = "5", "rotating_light"
	case n.Severity == inventory.SeverityWarning:
		prio, tag = "4", "warning"
	}
	h := map[string]string{"Title": headerText(n.Subject), "Priority": prio, "Tags": tag + ",certkeeper"}
	if n.Link != "" {
		h["Click"] = headerText(n.Link)
	}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	body := n.Text
	if body == "" {
		body = n.Subject
	}
	return &message{contentType: "text/plain; charset=utf-8", header: h, body: []byte(body)}
}

// headerText makes s one header line: control characters become spaces
// and text outside ASCII is RFC 2047 encoded, which ntfy decodes.
func headerText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, r := range s {
		if r >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
