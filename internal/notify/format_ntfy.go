package notify

import (
	"mime"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

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
