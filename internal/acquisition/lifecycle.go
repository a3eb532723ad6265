package acquisition

import (
	"context"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// MaxReasonLength caps a cancellation reason.
const MaxReasonLength = 500

// Switch makes the process's certificate the definition's current one.
func (s *Service) Switch(ctx context.Context, actor string, id int64) (*Process, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireState(a, "issued processes can be switched", inventory.StateIssued); err != nil {
		return nil, err
	}
	if err := s.completeAudited(ctx, a, event{actor, "acquisition.switch", switched(a)}, s.step(actor, "switched", switched(a))); err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}

// Cancel abandons an open process. The reason is kept on one line.
func (s *Service) Cancel(ctx context.Context, actor string, id int64, reason string) (*Process, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if len(reason) > MaxReasonLength {
		return nil, inventory.Invalid("reason", "is %d characters; the limit is %d", len(reason), MaxReasonLength)
	}
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.State.Open() {
		return nil, stateError(a, "only open processes can be cancelled")
	}
	detail := "cancelled: " + reason
	if reason == "" {
		detail = "cancelled, no reason given"
	}
	a.State = inventory.StateCancelled
	if err := s.updateAudited(ctx, a, event{actor, "acquisition.cancel", detail}, s.step(actor, "cancelled", detail)); err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}
