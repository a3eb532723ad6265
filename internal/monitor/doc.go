// Package monitor watches TLS endpoints on a schedule and keeps their
// history: the endpoints of confirmed deployments (followed on their
// own), those a certificate or definition names, and standalone ones.
// Every check is a deploy check (package deploy/check) made through the
// outbound dialer; each result is stored with the served chain's
// fingerprints and dates.
package monitor
