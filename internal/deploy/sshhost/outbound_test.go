package sshhost

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestSSHThroughOutboundPolicy refuses an SSH deployment to a denied
// server with the policy's error, and reaches it once allowed.
func TestSSHThroughOutboundPolicy(t *testing.T) {
	s := testenv.StartSSHD(t)
	c := sshConfig(t, s)
	c.Outbound = deploytest.DenyPort(t, s.Addr)
	_, err := Dial(context.Background(), c)
	if !errors.Is(err, outbound.ErrDenied) || !strings.Contains(err.Error(), "is not allowed by the outbound policy") {
		t.Fatalf("Dial to a denied server = %v; want the outbound policy's refusal", err)
	}
	c.Outbound.SetPolicy(nil)
	h, err := Dial(context.Background(), c)
	if err != nil {
		t.Fatalf("Dial once allowed: %v\n%s", err, s.Log())
	}
	h.Close()
}
