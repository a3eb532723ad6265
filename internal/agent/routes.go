package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Request body limits.
const (
	maxEnrollBody = 64 << 10
	maxResultBody = 1 << 20
)

// JobList is the answer to GET /agent/v1/jobs.
type JobList struct {
	Jobs []engine.AgentJob `json:"jobs"`
}

// ResultAnswer is the answer to POST /agent/v1/jobs/{id}/result: the
// deployment's state after the outcome.
type ResultAnswer struct {
	DeploymentID int64  `json:"deployment_id"`
	State        string `json:"state"`
}

// errorBody is every error answer: one line. A refused client
// certificate is answered with a problem document (RFC 9457) that also
// has the error member.
type errorBody struct {
	Error string `json:"error"`
	// Refusal is the reason of a refused client certificate (RefusedError).
	Refusal string `json:"refusal,omitempty"`
}

// ProblemRefused is the problem type of a refused client certificate.
const ProblemRefused = "urn:certkeeper:problem:agent-refused"

// refusalProblem is the problem document (RFC 9457, section 3) of a
// refused client certificate, with the extension members refusal and
// error (the detail again, as in every other error answer).
type refusalProblem struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Detail  string `json:"detail"`
	Refusal string `json:"refusal"`
	Error   string `json:"error"`
}

// writeRefusal answers 403 with the refusal's problem document.
func writeRefusal(w http.ResponseWriter, re *RefusedError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(refusalProblem{Type: ProblemRefused, Title: "agent certificate refused",
		Status: http.StatusForbidden, Detail: re.Detail, Refusal: re.Reason, Error: re.Detail})
}

// statusError is an error answered with a fixed status.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func (e *Endpoint) routes() {
	e.mux.Handle("POST /agent/v1/enroll", e.handle(maxEnrollBody, e.enroll))
	e.mux.Handle("POST /agent/v1/renew", e.handle(maxEnrollBody, e.renew))
	e.mux.Handle("GET /agent/v1/jobs", e.handle(0, e.listJobs))
	e.mux.Handle("POST /agent/v1/jobs/{id}/result", e.handle(maxResultBody, e.result))
	e.mux.Handle("/", e.handle(0, func(http.ResponseWriter, *http.Request) error {
		return &statusError{http.StatusNotFound, "no such agent endpoint"}
	}))
}

// Handler serves the agent routes under /agent/v1/.
func (e *Endpoint) Handler() http.Handler { return e.mux }

// handle bounds the body and answers errors as one-line JSON.
func (e *Endpoint) handle(limit int64, f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, max(limit, 1))
		if err := f(w, r); err != nil {
			e.writeError(w, r, err)
		}
	})
}

func (e *Endpoint) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error; the manager's log has the details"
	var se *statusError
	var mb *http.MaxBytesError
	var re *RefusedError
	switch {
	case errors.As(err, &re):
		writeRefusal(w, re)
		return
	case errors.As(err, &se):
		status, msg = se.status, se.msg
	case errors.As(err, &mb):
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mb.Limit)
	case errors.Is(err, ErrTokenRefused):
		status, msg = http.StatusForbidden, ErrTokenRefused.Error()
	case errors.Is(err, inventory.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, inventory.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, inventory.ErrState), errors.Is(err, inventory.ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	default:
		e.log.Error("agent request failed", "method", r.Method, "path", r.URL.Path, "remote", remoteHost(r), "err", err)
	}
	writeJSON(w, status, errorBody{Error: strings.Join(strings.Fields(msg), " ")})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeBody reads one JSON value.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	if err != nil {
		return &statusError{http.StatusBadRequest, "malformed JSON body: " + err.Error()}
	}
	return nil
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// enroll turns a one-time token and a CSR into the agent's certificate.
// No client certificate is needed.
func (e *Endpoint) enroll(w http.ResponseWriter, r *http.Request) error {
	var in EnrollRequest
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	out, err := e.reg.Enroll(r.Context(), in, remoteHost(r))
	if err != nil {
		if errors.Is(err, ErrTokenRefused) || errors.Is(err, inventory.ErrInvalid) {
			e.log.Warn("agent enrollment refused", "name", in.Name, "remote", remoteHost(r), "err", err)
		}
		return err
	}
	e.log.Info("agent enrolled", "name", out.Name, "remote", remoteHost(r))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// agentOf finds the enrolled, enabled agent by the client certificate it
// presented (see Registry.Authenticate), and records the connection. A
// refusal is logged and audited (see refusalLog).
func (e *Endpoint) agentOf(r *http.Request) (*inventory.Agent, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, &statusError{http.StatusUnauthorized, "a client certificate is needed: enroll with \"certkeeper agent enroll\" first"}
	}
	chain := r.TLS.PeerCertificates[:1]
	if len(r.TLS.VerifiedChains) > 0 {
		chain = r.TLS.VerifiedChains[0]
	}
	a, err := e.reg.Authenticate(r.Context(), chain)
	var re *RefusedError
	if errors.As(err, &re) {
		if aerr := e.refused(r.Context(), re, remoteHost(r)); aerr != nil {
			e.log.Error("agent refusal not audited", "agent", re.Agent, "reason", re.Reason, "err", aerr)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := e.reg.st.TouchAgent(r.Context(), a.ID, e.reg.cfg.Now().UTC(), remoteHost(r)); err != nil {
		return nil, err
	}
	return a, nil
}

func (e *Endpoint) listJobs(w http.ResponseWriter, r *http.Request) error {
	a, err := e.agentOf(r)
	if err != nil {
		return err
	}
	jobs, err := e.jobs.AgentJobs(r.Context(), a.ID)
	if err != nil {
		return err
	}
	if len(jobs) > 0 {
		e.log.Info("jobs handed to agent", "agent", a.Name, "count", len(jobs))
	}
	writeJSON(w, http.StatusOK, JobList{Jobs: append([]engine.AgentJob{}, jobs...)})
	return nil
}

func (e *Endpoint) result(w http.ResponseWriter, r *http.Request) error {
	a, err := e.agentOf(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &statusError{http.StatusBadRequest, fmt.Sprintf("deployment %q: want a positive integer", r.PathValue("id"))}
	}
	var o engine.Outcome
	if err := decodeBody(r, &o); err != nil {
		return err
	}
	d, err := e.jobs.AgentResult(r.Context(), a.ID, id, &o)
	if err != nil {
		return err
	}
	e.log.Info("agent reported", "agent", a.Name, "deployment", id, "installed", o.Installed,
		"state", string(d.State), "error", o.Error)
	writeJSON(w, http.StatusOK, ResultAnswer{DeploymentID: d.ID, State: string(d.State)})
	return nil
}
