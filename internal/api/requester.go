package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/internal/ca"
)

// requester is the request's user as a CA requester: the audit name and
// the role that chooses the CA's issuance policy.
func requester(r *http.Request) ca.Requester {
	return ca.Requester{Name: actor(r), Role: userOf(r).Role}
}
