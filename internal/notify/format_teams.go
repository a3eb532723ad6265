package notify

import "github.com/certkeeper/certkeeper/internal/inventory"

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
