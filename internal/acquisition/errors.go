package acquisition

import (
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// kindError is a one-line message that matches one of the inventory
// errors (ErrState, ErrNotFound, ErrConflict) with errors.Is, without
// repeating that error's text.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func kindErrorf(kind error, format string, args ...any) error {
	return &kindError{msg: "acquisition: " + fmt.Sprintf(format, args...), kind: kind}
}

// stateError refuses an operation that a's state does not allow.
func stateError(a *inventory.Acquisition, format string, args ...any) error {
	return kindErrorf(inventory.ErrState, "process %d is %s; %s", a.ID, a.State, fmt.Sprintf(format, args...))
}

// requireState refuses unless a is in one of states; allowed says, for
// the message, which processes the operation is for.
func requireState(a *inventory.Acquisition, allowed string, states ...inventory.AcquisitionState) error {
	for _, s := range states {
		if a.State == s {
			return nil
		}
	}
	return stateError(a, "only %s", allowed)
}

// notFound reports the store's ErrNotFound about what, and passes other
// errors on.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, inventory.ErrNotFound) {
		return kindErrorf(inventory.ErrNotFound, format, args...)
	}
	return err
}

// unknown turns the store's ErrNotFound for a name given in input into a
// field error, and passes other errors on.
func unknown(err error, field, format string, args ...any) error {
	if errors.Is(err, inventory.ErrNotFound) {
		return inventory.Invalid(field, format, args...)
	}
	return err
}

// changed reports a version conflict on process a.
func changed(err error, a *inventory.Acquisition) error {
	if errors.Is(err, inventory.ErrConflict) {
		return kindErrorf(inventory.ErrConflict, "process %d was changed meanwhile; reload it and try again", a.ID)
	}
	return err
}
