// Package revocation revokes certificates issued by certkeeper's CAs and
// publishes their status: CRLs (RFC 5280, section 5), refreshed on a
// schedule and at once on revocation, and an OCSP responder (RFC 6960,
// with the caching rules of the lightweight profile, RFC 5019) that signs
// with a delegated responder certificate per CA.
//
// Every piece of state lives in the inventory: revocations, CRL numbers,
// the latest CRL of each CA and the responder certificates with their
// keys. Several instances sharing one PostgreSQL inventory therefore serve
// the same CRL and agree on every certificate's status.
package revocation
