package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// SignatureHeader carries the HMAC-SHA256 signature of a generic webhook
// whose channel has a secret: "t=UNIX,v1=HEX" (see Sign).
const SignatureHeader = "X-Certkeeper-Signature"

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
