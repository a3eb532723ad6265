package notify

import (
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

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
