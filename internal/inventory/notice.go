package inventory

// Notice kinds.
const (
	NoticeFiring   = "firing"
	NoticeRepeat   = "repeat"
	NoticeResolved = "resolved"
	NoticeDigest   = "digest"
	NoticeCheck    = "check"
	NoticeTest     = "test"
)

// Notice severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Notice is one message to people: an alert that fires, repeats or is
// resolved, a digest, a failed check sent to a server's admin, or a test.
// Channels format it for their service.
type Notice struct {
	Kind     string
	Severity string
	// Key identifies what the notice is about across its firing, repeat
	// and resolved messages (PagerDuty's dedup_key), e.g. "alert-42".
	Key string
	// Subject is one line; Text is plain text, several lines allowed.
	Subject string
	Text    string
	// Link points into the web UI; "" when no external URL is set.
	Link string
	// Channels are the names of the channels to send to; Emails the
	// addresses to mail (through the instance's SMTP settings).
	Channels []string
	Emails   []string
}
