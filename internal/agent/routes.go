package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Request body limits.
const (
	maxEnrollBody = 64 << 10
	maxResultBody = 1 << 20
)

// JobList is the answer to GET /agent/v1/jobs.
type JobList struct {
	Jobs []deploy.AgentJob `json:"jobs"`
}

// ResultAnswer is the answer to POST /agent/v1/jobs/{id}/result: the
// deployment's state after the outcome.
type ResultAnswer struct {
	DeploymentID int64  `json:"deployment_id"`
	State        string `json:"state"`
}

// errorBody is every error answer: one line.
type errorBody struct {
	Error string `json:"error"`
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
	switch {
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
// presented, and records the connection.
func (e *Endpoint) agentOf(r *http.Request) (*inventory.Agent, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, &statusError{http.StatusUnauthorized, "a client certificate is needed: enroll with \"certkeeper agent enroll\" first"}
	}
	a, err := e.reg.st.AgentByCertificate(r.Context(), inventory.SHA256Hex(r.TLS.PeerCertificates[0].Raw))
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, &statusError{http.StatusForbidden, "this client certificate belongs to no enrolled agent; enroll again"}
	}
	if err != nil {
		return nil, err
	}
	if a.Disabled {
		e.log.Warn("disabled agent refused", "agent", a.Name, "remote", remoteHost(r))
		return nil, &statusError{http.StatusForbidden, fmt.Sprintf("agent %q is disabled", a.Name)}
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
	writeJSON(w, http.StatusOK, JobList{Jobs: append([]deploy.AgentJob{}, jobs...)})
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
	var o deploy.Outcome
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
