package client

import "context"

// OutboundPolicy says where certkeeper may connect on someone's behalf
// (deploy checks, OCSP, SSH deployments, SMTP). Rules are networks with an
// optional port list: "10.0.0.0/8", "10.0.0.0/8:443,8443",
// "192.168.0.0/16:8000-8100", "[fd00::/8]:443".
type OutboundPolicy struct {
	// Allow lists where connections may go; empty means everywhere not
	// denied.
	Allow []string `json:"allow"`
	// Deny lists where connections may not go; a denial wins.
	Deny []string `json:"deny"`
	// BuiltinDenied are the networks always refused, whatever Allow says:
	// link-local and cloud metadata addresses (read only).
	BuiltinDenied []string `json:"builtin_denied,omitempty"`
}

// GetOutboundPolicy returns the outbound policy in force.
func (c *Client) GetOutboundPolicy(ctx context.Context) (*OutboundPolicy, error) {
	var out OutboundPolicy
	return &out, c.do(ctx, call{method: "GET", path: path("settings", "outbound"), out: &out})
}

// SetOutboundPolicy replaces the outbound policy (admins only); it is in
// force at once. A bad rule is a 422 error naming allow or deny.
// BuiltinDenied is ignored.
func (c *Client) SetOutboundPolicy(ctx context.Context, p OutboundPolicy) (*OutboundPolicy, error) {
	var out OutboundPolicy
	in := OutboundPolicy{Allow: p.Allow, Deny: p.Deny}
	return &out, c.do(ctx, call{method: "PUT", path: path("settings", "outbound"), in: in, out: &out})
}
