package client

import (
	"context"
	"time"
)

// Digest is the daily digest: what needs action at At and what changed
// since Since.
type Digest struct {
	At    time.Time `json:"at"`
	Since time.Time `json:"since"`
	// Subject is its one-line summary and Text the whole digest in plain
	// text, as it is e-mailed.
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Needs lists what needs action by kind; Changed what happened.
	Needs   []DigestSection `json:"needs"`
	Changed []DigestSection `json:"changed"`
	// Empty is true when nothing needs action and nothing changed.
	Empty bool `json:"empty"`
}

// DigestSection is a titled list; Total counts what there is, Lines
// holds at most 20 of them, and Link points to the page listing all.
type DigestSection struct {
	Title string       `json:"title"`
	Total int          `json:"total"`
	Lines []DigestLine `json:"lines"`
	Link  string       `json:"link,omitempty"`
}

// DigestLine is one thing in a section, with a link to its page when it
// has one.
type DigestLine struct {
	Text string `json:"text"`
	Link string `json:"link,omitempty"`
}

// DigestSent says what a requested digest did.
type DigestSent struct {
	Digest Digest `json:"digest"`
	// Sent is false when there was nothing to say or nobody to say it
	// to; Reason says which.
	Sent   bool   `json:"sent"`
	Reason string `json:"reason,omitempty"`
}

// PreviewDigest returns the digest as it would be sent now; it sends and
// changes nothing.
func (c *Client) PreviewDigest(ctx context.Context) (*Digest, error) {
	var out Digest
	return &out, c.do(ctx, call{method: "GET", path: path("digest"), out: &out})
}

// SendDigest sends the digest now (admins only; audited).
func (c *Client) SendDigest(ctx context.Context) (*DigestSent, error) {
	var out DigestSent
	return &out, c.do(ctx, call{method: "POST", path: path("digest", "send"), out: &out})
}
