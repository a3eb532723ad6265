package notify

import (
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// DefaultPagerDutyURL is where PagerDuty channels post when no URL is
// given: the Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

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
