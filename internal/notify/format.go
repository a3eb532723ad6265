package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

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

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
