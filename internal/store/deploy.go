package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Targets, deployment processes, user layouts and agents: the
// inventory.DeployStore part of the store.

const targetColumns = `t.id, t.name, t.preset, t.method, t.directory, t.owner, t.test_command, t.reload_command,
	t.reload_timeout_ms, t.ssh, t.agent_id, t.check_spec, t.admin_email, t.rollback_on_failure, t.sealed_secrets,
	t.notes, t.version, t.created_at, t.updated_at`

const deploymentColumns = `d.id, d.certificate_id, d.target_id, d.definition_id, d.state, d.attempts, d.backup,
	d.last_check, d.unchecked, d.version, d.created_by, d.created_at, d.updated_at`

const layoutColumns = `id, name, files, test_command, reload_command, instructions, created_at, updated_at`

const agentColumns = `id, name, certificate_sha256, enrolled_at, last_seen_at, remote_addr, disabled`

// targetRow is the encoded part of a target.
type targetRow struct {
	ssh       any // JSON text, or nil for none
	check     string
	sealed    any // bytes, or nil for none
	timeoutMS int64
}

// encodeTarget checks t's method and reload timeout and encodes its JSON
// and optional columns. The reload timeout is stored in whole
// milliseconds.
func encodeTarget(t *inventory.Target) (*targetRow, error) {
	if !t.Method.Valid() {
		return nil, fmt.Errorf("store: target %q: unknown method %q: %w", t.Name, t.Method, inventory.ErrInvalid)
	}
	if t.ReloadTimeout < 0 {
		return nil, fmt.Errorf("store: target %q: negative reload timeout %v: %w", t.Name, t.ReloadTimeout, inventory.ErrInvalid)
	}
	r := &targetRow{timeoutMS: t.ReloadTimeout.Milliseconds()}
	if t.SSH != nil {
		b, err := json.Marshal(t.SSH)
		if err != nil {
			return nil, wrap("encode ssh access", err)
		}
		r.ssh = string(b)
	}
	b, err := json.Marshal(t.Check)
	if err != nil {
		return nil, wrap("encode check", err)
	}
	r.check = string(b)
	if len(t.SealedSecrets) > 0 {
		r.sealed = t.SealedSecrets
	}
	return r, nil
}

// PutTarget stores a new target with version 1; see
// inventory.DeployStore.
func (s *db) PutTarget(ctx context.Context, t *inventory.Target) error {
	r, err := encodeTarget(t)
	if err != nil {
		return err
	}
	created := s.stamp(t.CreatedAt)
	updated := created
	if !t.UpdatedAt.IsZero() {
		updated = s.stamp(t.UpdatedAt)
	}
	op := fmt.Sprintf("put target %q", t.Name)
	var id int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.agentExists(ctx, tx, op, t.AgentID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO targets (name, preset, method, directory, owner, test_command,
			reload_command, reload_timeout_ms, ssh, agent_id, check_spec, admin_email, rollback_on_failure,
			sealed_secrets, notes, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			t.Name, t.Preset, string(t.Method), t.Directory, t.Owner, t.TestCommand, t.ReloadCommand, r.timeoutMS,
			r.ssh, nullID(t.AgentID), r.check, t.AdminEmail, t.RollbackOnFailure, r.sealed, t.Notes,
			s.t(created), s.t(updated)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: name in use: %w", op, inventory.ErrConflict)
		}
		return wrapIf(op, err)
	})
	if err != nil {
		return err
	}
	t.ID, t.Version, t.CreatedAt, t.UpdatedAt = id, 1, created, updated
	return nil
}

// UpdateTarget writes every field of t when the stored version is
// t.Version; see inventory.DeployStore.
func (s *db) UpdateTarget(ctx context.Context, t *inventory.Target) error {
	r, err := encodeTarget(t)
	if err != nil {
		return err
	}
	updated := s.stamp(time.Time{})
	op := fmt.Sprintf("update target %d", t.ID)
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.agentExists(ctx, tx, op, t.AgentID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE targets SET name = ?, preset = ?, method = ?, directory = ?,
			owner = ?, test_command = ?, reload_command = ?, reload_timeout_ms = ?, ssh = ?, agent_id = ?,
			check_spec = ?, admin_email = ?, rollback_on_failure = ?, sealed_secrets = ?, notes = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`),
			t.Name, t.Preset, string(t.Method), t.Directory, t.Owner, t.TestCommand, t.ReloadCommand, r.timeoutMS,
			r.ssh, nullID(t.AgentID), r.check, t.AdminEmail, t.RollbackOnFailure, r.sealed, t.Notes,
			s.t(updated), t.ID, t.Version)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: %s: name %q in use: %w", op, t.Name, inventory.ErrConflict)
		}
		if err := affectedOne(res, err); errors.Is(err, inventory.ErrNotFound) {
			return s.staleVersion(ctx, tx, op, "targets", t.ID, t.Version)
		} else if err != nil {
			return wrap(op, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.Version++
	t.UpdatedAt = updated
	return nil
}

// staleVersion explains why no row of table matched a versioned update:
// inventory.ErrNotFound for an unknown ID, else inventory.ErrConflict.
func (s *db) staleVersion(ctx context.Context, tx *sql.Tx, op, table string, id, version int64) error {
	var stored int64
	err := tx.QueryRowContext(ctx, s.q("SELECT version FROM "+table+" WHERE id = ?"), id).Scan(&stored)
	if err != nil {
		return wrap(op, err)
	}
	return fmt.Errorf("store: %s: version %d is stale (stored %d): %w", op, version, stored, inventory.ErrConflict)
}

// agentExists gives inventory.ErrNotFound for an unknown agent; the zero
// ID (no agent) passes.
func (s *db) agentExists(ctx context.Context, tx *sql.Tx, op string, id int64) error {
	return s.rowExists(ctx, tx, op, "agents", "agent", id)
}

// rowExists gives inventory.ErrNotFound unless table has a row with ID
// id; the zero ID passes.
func (s *db) rowExists(ctx context.Context, tx *sql.Tx, op, table, what string, id int64) error {
	if id == 0 {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM "+table+" WHERE id = ?"), id).Scan(&n); err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(fmt.Sprintf("%s: %s %d", op, what, id), inventory.ErrNotFound)
	}
	return nil
}

// GetTarget returns the target with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetTarget(ctx context.Context, id int64) (*inventory.Target, error) {
	return s.oneTarget(ctx, fmt.Sprintf("target %d", id), "t.id = ?", id)
}

// TargetByName returns the target named name, or inventory.ErrNotFound.
func (s *db) TargetByName(ctx context.Context, name string) (*inventory.Target, error) {
	return s.oneTarget(ctx, fmt.Sprintf("target %q", name), "t.name = ?", name)
}

func (s *db) oneTarget(ctx context.Context, op, cond string, arg any) (*inventory.Target, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+targetColumns+" FROM targets t WHERE "+cond), arg)
	t, err := scanTarget(row)
	if err != nil {
		return nil, wrap(op, err)
	}
	return t, nil
}

// ListTargets returns one page of targets ordered by name, then ID; the
// cursor holds the last item's name and ID.
func (s *db) ListTargets(ctx context.Context, p inventory.Page) ([]inventory.Target, string, error) {
	name, id, err := decodeNameCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	var where []string
	var args []any
	if p.After != "" {
		where = append(where, "(t.name, t.id) > (?, ?)")
		args = append(args, name, id)
	}
	n := limit(p)
	query := "SELECT " + targetColumns + " FROM targets t" + whereClause(where) + " ORDER BY t.name, t.id LIMIT ?"
	items, err := listRows(ctx, s, "list targets", query, append(args, n+1), scanTarget)
	if err != nil {
		return nil, "", err
	}
	if len(items) <= n {
		return items, "", nil
	}
	items = items[:n]
	return items, encodeNameCursor(items[n-1].Name, items[n-1].ID), nil
}

// encodeNameCursor makes the cursor of a list ordered by name, then ID:
// base64url of the ID, a comma and the name.
func encodeNameCursor(name string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10) + "," + name))
}

// decodeNameCursor reads a cursor of encodeNameCursor; the empty cursor
// is the empty name and ID 0.
func decodeNameCursor(c string) (string, int64, error) {
	if c == "" {
		return "", 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, inventory.ErrBadCursor
	}
	num, name, ok := strings.Cut(string(raw), ",")
	id, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil {
		return "", 0, inventory.ErrBadCursor
	}
	return name, id, nil
}

func scanTarget(row interface{ Scan(...any) error }) (*inventory.Target, error) {
	var t inventory.Target
	var method, check string
	var ssh sql.NullString
	var timeoutMS int64
	err := row.Scan(&t.ID, &t.Name, &t.Preset, &method, &t.Directory, &t.Owner, &t.TestCommand, &t.ReloadCommand,
		&timeoutMS, &ssh, idCol{&t.AgentID}, &check, &t.AdminEmail, &t.RollbackOnFailure, &t.SealedSecrets,
		&t.Notes, &t.Version, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt})
	if err != nil {
		return nil, err
	}
	t.Method = inventory.TargetMethod(method)
	t.ReloadTimeout = time.Duration(timeoutMS) * time.Millisecond
	if ssh.Valid {
		t.SSH = new(inventory.SSHAccess)
		if err := json.Unmarshal([]byte(ssh.String), t.SSH); err != nil {
			return nil, fmt.Errorf("target %d: ssh access: %w", t.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(check), &t.Check); err != nil {
		return nil, fmt.Errorf("target %d: check: %w", t.ID, err)
	}
	if len(t.SealedSecrets) == 0 {
		t.SealedSecrets = nil
	}
	return &t, nil
}

// DeleteTarget removes a target; its deployments and their steps go with
// it (ON DELETE CASCADE). An unknown ID gives inventory.ErrNotFound.
func (s *db) DeleteTarget(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM targets WHERE id = ?"), id)
	return wrapIf(fmt.Sprintf("delete target %d", id), affectedOne(res, err))
}

// RewrapTargetSecrets replaces every non-empty SealedSecrets with what
// rewrap makes of it, in one transaction, and returns how many. Each
// rewrapped target's version is incremented, so that an update prepared
// from the row as it was (with secrets sealed under the old key) is
// refused instead of writing them back.
func (s *db) RewrapTargetSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error) {
	total := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		total = 0
		ids, sealed, err := s.sealedTargets(ctx, tx)
		if err != nil {
			return err
		}
		for i, id := range ids {
			fresh, err := rewrap(sealed[i])
			if err != nil {
				return fmt.Errorf("store: rewrap target %d: %w", id, err)
			}
			var v any
			if len(fresh) > 0 {
				v = fresh
			}
			_, err = tx.ExecContext(ctx, s.q("UPDATE targets SET sealed_secrets = ?, version = version + 1 WHERE id = ?"), v, id)
			if err != nil {
				return wrap(fmt.Sprintf("rewrap target %d: update", id), err)
			}
			total++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// sealedTargets reads the IDs and non-empty sealed secrets of every
// target that has some. Targets are few: they are read at once, and the
// rows closed before the updates.
func (s *db) sealedTargets(ctx context.Context, tx *sql.Tx) ([]int64, [][]byte, error) {
	const op = "rewrap targets: read"
	rows, err := tx.QueryContext(ctx, "SELECT id, sealed_secrets FROM targets WHERE sealed_secrets IS NOT NULL ORDER BY id")
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	defer rows.Close()
	var ids []int64
	var sealed [][]byte
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, nil, wrap(op, err)
		}
		if len(b) > 0 {
			ids, sealed = append(ids, id), append(sealed, b)
		}
	}
	return ids, sealed, wrapIf(op, rows.Err())
}

// deploymentRow is the encoded part of a deployment.
type deploymentRow struct {
	lastCheck any // JSON text, or nil before the first check
	passed    any // bool, or nil before the first check
}

// encodeDeployment checks d's state and encodes its last check. The
// check time is stored in UTC with whole seconds, like every stored time.
func encodeDeployment(d *inventory.Deployment) (*deploymentRow, error) {
	if !d.State.Valid() {
		return nil, fmt.Errorf("store: deployment: unknown state %q: %w", d.State, inventory.ErrInvalid)
	}
	r := &deploymentRow{}
	if d.LastCheck != nil {
		c := *d.LastCheck
		if !c.Time.IsZero() {
			c.Time = c.Time.UTC().Truncate(time.Second)
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, wrap("encode last check", err)
		}
		r.lastCheck, r.passed = string(b), c.Passed
	}
	return r, nil
}

// PutDeployment stores a new process and its first steps; see
// inventory.DeployStore.
func (s *db) PutDeployment(ctx context.Context, d *inventory.Deployment, steps ...inventory.DeploymentStep) error {
	r, err := encodeDeployment(d)
	if err != nil {
		return err
	}
	created := s.stamp(d.CreatedAt)
	updated := created
	if !d.UpdatedAt.IsZero() {
		updated = s.stamp(d.UpdatedAt)
	}
	op := fmt.Sprintf("put deployment of certificate %d to target %d", d.CertificateID, d.TargetID)
	var id int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		for _, ref := range []struct {
			table, what string
			id          int64
		}{{"certificates", "certificate", d.CertificateID}, {"targets", "target", d.TargetID},
			{"definitions", "definition", d.DefinitionID}} {
			if ref.id == 0 && ref.table != "definitions" {
				return wrap(fmt.Sprintf("%s: no %s", op, ref.what), inventory.ErrNotFound)
			}
			if err := s.rowExists(ctx, tx, op, ref.table, ref.what, ref.id); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO deployments (certificate_id, target_id, definition_id, state,
			attempts, backup, last_check, check_passed, unchecked, version, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			d.CertificateID, d.TargetID, nullID(d.DefinitionID), string(d.State), d.Attempts, d.Backup, r.lastCheck,
			r.passed, d.Unchecked, d.CreatedBy, s.t(created), s.t(updated)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: the process exists: %w", op, inventory.ErrConflict)
		}
		if err != nil {
			return wrap(op, err)
		}
		return s.appendDeploymentSteps(ctx, tx, id, steps)
	})
	if err != nil {
		return err
	}
	d.ID, d.Version, d.CreatedAt, d.UpdatedAt = id, 1, created, updated
	setDeploymentStepIDs(id, steps)
	return nil
}

// appendDeploymentSteps inserts steps of process id in order, filling in
// their IDs. A zero step time is now.
func (s *db) appendDeploymentSteps(ctx context.Context, tx *sql.Tx, id int64, steps []inventory.DeploymentStep) error {
	for i := range steps {
		st := &steps[i]
		st.Time = s.stamp(st.Time)
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO deployment_steps (deployment_id, time, actor, action, detail,
			output) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), id, s.t(st.Time), st.Actor, st.Action, st.Detail,
			st.Output).Scan(&st.ID)
		if err != nil {
			return wrap(fmt.Sprintf("deployment %d: append step", id), err)
		}
	}
	return nil
}

// setDeploymentStepIDs sets the process ID of steps once their
// transaction committed.
func setDeploymentStepIDs(id int64, steps []inventory.DeploymentStep) {
	for i := range steps {
		steps[i].DeploymentID = id
	}
}

// UpdateDeployment writes d's mutable fields when the stored version is
// d.Version and appends steps; see inventory.DeployStore.
func (s *db) UpdateDeployment(ctx context.Context, d *inventory.Deployment, steps ...inventory.DeploymentStep) error {
	r, err := encodeDeployment(d)
	if err != nil {
		return err
	}
	updated := s.stamp(time.Time{})
	op := fmt.Sprintf("update deployment %d", d.ID)
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE deployments SET state = ?, attempts = ?, backup = ?,
			last_check = ?, check_passed = ?, unchecked = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`),
			string(d.State), d.Attempts, d.Backup, r.lastCheck, r.passed, d.Unchecked, s.t(updated), d.ID, d.Version)
		if err := affectedOne(res, err); errors.Is(err, inventory.ErrNotFound) {
			return s.staleVersion(ctx, tx, op, "deployments", d.ID, d.Version)
		} else if err != nil {
			return wrap(op, err)
		}
		return s.appendDeploymentSteps(ctx, tx, d.ID, steps)
	})
	if err != nil {
		return err
	}
	d.Version++
	d.UpdatedAt = updated
	setDeploymentStepIDs(d.ID, steps)
	return nil
}

// GetDeployment returns the process with the given ID, or
// inventory.ErrNotFound.
func (s *db) GetDeployment(ctx context.Context, id int64) (*inventory.Deployment, error) {
	return s.oneDeployment(ctx, fmt.Sprintf("deployment %d", id), "d.id = ?", id)
}

// DeploymentFor returns the process of a certificate and target, or
// inventory.ErrNotFound.
func (s *db) DeploymentFor(ctx context.Context, certificateID, targetID int64) (*inventory.Deployment, error) {
	return s.oneDeployment(ctx, fmt.Sprintf("deployment of certificate %d to target %d", certificateID, targetID),
		"d.certificate_id = ? AND d.target_id = ?", certificateID, targetID)
}

func (s *db) oneDeployment(ctx context.Context, op, cond string, args ...any) (*inventory.Deployment, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+deploymentColumns+" FROM deployments d WHERE "+cond), args...)
	d, err := scanDeployment(row)
	if err != nil {
		return nil, wrap(op, err)
	}
	return d, nil
}

// ListDeployments returns one page of the processes f selects, in ID
// order; the cursor is the last item's ID.
func (s *db) ListDeployments(ctx context.Context, f inventory.DeploymentFilter, p inventory.Page) (*inventory.DeploymentPage, error) {
	cur, err := decodeCursor(p.After, 1)
	if err != nil {
		return nil, err
	}
	from, where, args := deploymentWhere(f)
	order := " ORDER BY d.id"
	switch {
	case !f.Newest:
		where, args = append(where, "d.id > ?"), append(args, cur[0])
	case cur[0] != 0:
		where, args = append(where, "d.id < ?"), append(args, cur[0])
	}
	if f.Newest {
		order += " DESC"
	}
	n := limit(p)
	query := "SELECT " + deploymentColumns + from + whereClause(where) + order + " LIMIT ?"
	items, err := listRows(ctx, s, "list deployments", query, append(args, n+1), scanDeployment)
	if err != nil {
		return nil, err
	}
	page := &inventory.DeploymentPage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		page.Next = encodeCursor(items[n-1].ID)
	}
	return page, nil
}

// deploymentWhere translates f into the FROM clause and the SQL
// conditions on deployments d (and, for an agent, its targets t).
func deploymentWhere(f inventory.DeploymentFilter) (string, []string, []any) {
	from := " FROM deployments d"
	var where []string
	var args []any
	for _, c := range []struct {
		col string
		id  int64
	}{{"d.certificate_id", f.CertificateID}, {"d.target_id", f.TargetID}, {"d.definition_id", f.DefinitionID}} {
		if c.id != 0 {
			where = append(where, c.col+" = ?")
			args = append(args, c.id)
		}
	}
	if f.AgentID != 0 {
		from += " JOIN targets t ON t.id = d.target_id"
		where = append(where, "t.agent_id = ?")
		args = append(args, f.AgentID)
	}
	if len(f.States) > 0 {
		where = append(where, "d.state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.CheckFailed {
		// The condition of the partial index deployments_check_failed;
		// NULL (never checked) does not match.
		where = append(where, "NOT d.check_passed")
	}
	if f.Latest {
		where = append(where, "d.id = (SELECT MAX(l.id) FROM deployments l WHERE l.target_id = d.target_id)")
	}
	return from, where, args
}

func scanDeployment(row interface{ Scan(...any) error }) (*inventory.Deployment, error) {
	var d inventory.Deployment
	var state string
	var lastCheck sql.NullString
	err := row.Scan(&d.ID, &d.CertificateID, &d.TargetID, idCol{&d.DefinitionID}, &state, &d.Attempts, &d.Backup,
		&lastCheck, &d.Unchecked, &d.Version, &d.CreatedBy, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	if err != nil {
		return nil, err
	}
	d.State = inventory.DeploymentState(state)
	if lastCheck.Valid {
		d.LastCheck = new(inventory.CheckResult)
		if err := json.Unmarshal([]byte(lastCheck.String), d.LastCheck); err != nil {
			return nil, fmt.Errorf("deployment %d: last check: %w", d.ID, err)
		}
	}
	return &d, nil
}

// DeploymentSteps returns the steps of process id in order; an unknown
// process gives inventory.ErrNotFound.
func (s *db) DeploymentSteps(ctx context.Context, id int64) ([]inventory.DeploymentStep, error) {
	op := fmt.Sprintf("deployment %d steps", id)
	var n int
	if err := s.r.QueryRowContext(ctx, s.q("SELECT count(*) FROM deployments WHERE id = ?"), id).Scan(&n); err != nil {
		return nil, wrap(op, err)
	}
	if n == 0 {
		return nil, wrap(op, inventory.ErrNotFound)
	}
	return listRows(ctx, s, op, `SELECT id, deployment_id, time, actor, action, detail, output FROM deployment_steps
		WHERE deployment_id = ? ORDER BY id`, []any{id}, scanDeploymentStep)
}

func scanDeploymentStep(row interface{ Scan(...any) error }) (*inventory.DeploymentStep, error) {
	var st inventory.DeploymentStep
	err := row.Scan(&st.ID, &st.DeploymentID, timeCol{&st.Time}, &st.Actor, &st.Action, &st.Detail, &st.Output)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// layoutFiles checks that l.Files is JSON; empty files are stored as the
// empty list "[]".
func layoutFiles(l *inventory.DeployLayout) (string, error) {
	if len(l.Files) == 0 {
		return "[]", nil
	}
	if !json.Valid(l.Files) {
		return "", fmt.Errorf("store: layout %q: files are not JSON: %w", l.Name, inventory.ErrInvalid)
	}
	return string(l.Files), nil
}

// PutDeployLayout stores a new user layout; a name in use gives
// inventory.ErrConflict.
func (s *db) PutDeployLayout(ctx context.Context, l *inventory.DeployLayout) error {
	files, err := layoutFiles(l)
	if err != nil {
		return err
	}
	created := s.stamp(l.CreatedAt)
	updated := created
	if !l.UpdatedAt.IsZero() {
		updated = s.stamp(l.UpdatedAt)
	}
	op := fmt.Sprintf("put layout %q", l.Name)
	var id int64
	err = s.w.QueryRowContext(ctx, s.q(`INSERT INTO deploy_layouts (name, files, test_command, reload_command,
		instructions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		l.Name, files, l.TestCommand, l.ReloadCommand, l.Instructions, s.t(created), s.t(updated)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: name in use: %w", op, inventory.ErrConflict)
	}
	if err != nil {
		return wrap(op, err)
	}
	l.ID, l.CreatedAt, l.UpdatedAt = id, created, updated
	return nil
}

// UpdateDeployLayout replaces the layout with ID l.ID and sets
// l.UpdatedAt (and l.CreatedAt from the stored layout). An unknown ID
// gives inventory.ErrNotFound; a name another layout has, or a new name
// while targets use the layout by its old one, inventory.ErrConflict.
func (s *db) UpdateDeployLayout(ctx context.Context, l *inventory.DeployLayout) error {
	files, err := layoutFiles(l)
	if err != nil {
		return err
	}
	updated := s.stamp(time.Time{})
	op := fmt.Sprintf("update layout %d", l.ID)
	var created time.Time
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, s.q("SELECT name FROM deploy_layouts WHERE id = ?"), l.ID).Scan(&old)
		if err != nil {
			return wrap(op, err)
		}
		if old != l.Name {
			if err := s.layoutUnused(ctx, tx, op, old); err != nil {
				return err
			}
		}
		err = tx.QueryRowContext(ctx, s.q(`UPDATE deploy_layouts SET name = ?, files = ?, test_command = ?,
			reload_command = ?, instructions = ?, updated_at = ? WHERE id = ? RETURNING created_at`),
			l.Name, files, l.TestCommand, l.ReloadCommand, l.Instructions, s.t(updated), l.ID).Scan(timeCol{&created})
		if isUniqueViolation(err) {
			return fmt.Errorf("store: %s: name %q in use: %w", op, l.Name, inventory.ErrConflict)
		}
		return wrapIf(op, err)
	})
	if err != nil {
		return err
	}
	l.CreatedAt, l.UpdatedAt = created, updated
	return nil
}

// layoutUnused gives inventory.ErrConflict when a target's preset names
// the layout name.
func (s *db) layoutUnused(ctx context.Context, tx *sql.Tx, op, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM targets WHERE preset = ?"), name).Scan(&n); err != nil {
		return wrap(op, err)
	}
	if n > 0 {
		return fmt.Errorf("store: %s: %d target(s) use layout %q: %w", op, n, name, inventory.ErrConflict)
	}
	return nil
}

// DeployLayoutByName returns the layout named name, or
// inventory.ErrNotFound.
func (s *db) DeployLayoutByName(ctx context.Context, name string) (*inventory.DeployLayout, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+layoutColumns+" FROM deploy_layouts WHERE name = ?"), name)
	l, err := scanLayout(row)
	if err != nil {
		return nil, wrap(fmt.Sprintf("layout %q", name), err)
	}
	return l, nil
}

// ListDeployLayouts returns every layout ordered by name.
func (s *db) ListDeployLayouts(ctx context.Context) ([]inventory.DeployLayout, error) {
	return listRows(ctx, s, "list layouts", "SELECT "+layoutColumns+" FROM deploy_layouts ORDER BY name, id", nil, scanLayout)
}

func scanLayout(row interface{ Scan(...any) error }) (*inventory.DeployLayout, error) {
	var l inventory.DeployLayout
	var files string
	err := row.Scan(&l.ID, &l.Name, &files, &l.TestCommand, &l.ReloadCommand, &l.Instructions,
		timeCol{&l.CreatedAt}, timeCol{&l.UpdatedAt})
	if err != nil {
		return nil, err
	}
	l.Files = []byte(files)
	return &l, nil
}

// DeleteDeployLayout removes the layout named name. An unknown name gives
// inventory.ErrNotFound; a layout a target's preset names,
// inventory.ErrConflict.
func (s *db) DeleteDeployLayout(ctx context.Context, name string) error {
	op := fmt.Sprintf("delete layout %q", name)
	return s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM deploy_layouts WHERE name = ?"), name)
		if err := affectedOne(res, err); err != nil {
			return wrap(op, err)
		}
		return s.layoutUnused(ctx, tx, op, name)
	})
}

// PutAgentToken stores an enrollment token and sets t.ID and the stored
// times; a hash in use gives inventory.ErrConflict.
func (s *db) PutAgentToken(ctx context.Context, t *inventory.AgentToken) error {
	created := s.stamp(t.CreatedAt)
	expires := t.ExpiresAt.UTC().Truncate(time.Second)
	var used time.Time
	if !t.UsedAt.IsZero() {
		used = s.stamp(t.UsedAt)
	}
	op := fmt.Sprintf("put agent token for %q", t.Name)
	var id int64
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO agent_tokens (hash, name, created_by, created_at, expires_at,
		used_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		t.Hash, t.Name, t.CreatedBy, s.t(created), s.t(expires), s.nullTime(used)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: hash in use: %w", op, inventory.ErrConflict)
	}
	if err != nil {
		return wrap(op, err)
	}
	t.ID, t.CreatedAt, t.ExpiresAt, t.UsedAt = id, created, expires, used
	return nil
}

// nullTime is t for a time whose zero value is stored as NULL.
func (s *db) nullTime(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	return s.t(v)
}

// EnrollAgent uses the token with hash tokenHash and stores a; see
// inventory.DeployStore. The token is taken by one conditional UPDATE, so
// of two enrollments with one token exactly one succeeds. The token
// enrolls the agent it was made for: an empty a.Name becomes the token's
// name, and a different name gives inventory.ErrNotFound (and leaves the
// token unused), so that a token cannot replace another agent's
// certificate. On success a holds the stored agent: a re-enrolled agent
// keeps its last connection and its disabled flag.
func (s *db) EnrollAgent(ctx context.Context, tokenHash string, a *inventory.Agent) error {
	enrolled := s.stamp(a.EnrolledAt)
	op := "enroll agent"
	var stored *inventory.Agent
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE agent_tokens SET used_at = ?
			WHERE hash = ? AND used_at IS NULL AND expires_at > ?`), s.t(enrolled), tokenHash, s.t(enrolled))
		if err := affectedOne(res, err); errors.Is(err, inventory.ErrNotFound) {
			return fmt.Errorf("store: %s: no unused, unexpired token with this hash: %w", op, inventory.ErrNotFound)
		} else if err != nil {
			return wrap(op, err)
		}
		var tokenName string
		err = tx.QueryRowContext(ctx, s.q("SELECT name FROM agent_tokens WHERE hash = ?"), tokenHash).Scan(&tokenName)
		if err != nil {
			return wrap(op, err)
		}
		name := a.Name
		switch {
		case name == "" && tokenName == "":
			return fmt.Errorf("store: %s: no agent name: %w", op, inventory.ErrInvalid)
		case name == "":
			name = tokenName
		case tokenName != "" && tokenName != name:
			return fmt.Errorf("store: %s: the token enrolls %q, not %q: %w", op, tokenName, name, inventory.ErrNotFound)
		}
		row := tx.QueryRowContext(ctx, s.q(`INSERT INTO agents (name, certificate_sha256, enrolled_at, last_seen_at,
			remote_addr, disabled) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET certificate_sha256 = excluded.certificate_sha256,
			enrolled_at = excluded.enrolled_at RETURNING `+agentColumns),
			name, a.CertificateSHA256, s.t(enrolled), s.nullTime(a.LastSeenAt), a.RemoteAddr, a.Disabled)
		stored, err = scanAgent(row)
		return wrapIf(fmt.Sprintf("%s %q", op, name), err)
	})
	if err != nil {
		return err
	}
	*a = *stored
	return nil
}

// SetAgentCertificate records the agent's current certificate; see
// inventory.DeployStore.
func (s *db) SetAgentCertificate(ctx context.Context, id int64, sha256 string) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE agents SET certificate_sha256 = ? WHERE id = ?"), sha256, id)
	return wrapIf(fmt.Sprintf("set certificate of agent %d", id), affectedOne(res, err))
}

// GetAgent returns the agent with the given ID, or inventory.ErrNotFound.
func (s *db) GetAgent(ctx context.Context, id int64) (*inventory.Agent, error) {
	return s.oneAgent(ctx, fmt.Sprintf("agent %d", id), "id = ?", id)
}

// AgentByCertificate returns the agent whose current certificate has the
// SHA-256 sha256, or inventory.ErrNotFound.
func (s *db) AgentByCertificate(ctx context.Context, sha256 string) (*inventory.Agent, error) {
	op := fmt.Sprintf("agent with certificate %s", sha256)
	if sha256 == "" {
		return nil, wrap(op, inventory.ErrNotFound)
	}
	return s.oneAgent(ctx, op, "certificate_sha256 = ? ORDER BY id LIMIT 1", sha256)
}

// AgentByName returns the agent named name, or inventory.ErrNotFound.
func (s *db) AgentByName(ctx context.Context, name string) (*inventory.Agent, error) {
	return s.oneAgent(ctx, fmt.Sprintf("agent %q", name), "name = ?", name)
}

func (s *db) oneAgent(ctx context.Context, op, cond string, arg any) (*inventory.Agent, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+agentColumns+" FROM agents WHERE "+cond), arg)
	a, err := scanAgent(row)
	if err != nil {
		return nil, wrap(op, err)
	}
	return a, nil
}

// ListAgents returns every agent ordered by name.
func (s *db) ListAgents(ctx context.Context) ([]inventory.Agent, error) {
	return listRows(ctx, s, "list agents", "SELECT "+agentColumns+" FROM agents ORDER BY name, id", nil, scanAgent)
}

func scanAgent(row interface{ Scan(...any) error }) (*inventory.Agent, error) {
	var a inventory.Agent
	err := row.Scan(&a.ID, &a.Name, &a.CertificateSHA256, timeCol{&a.EnrolledAt}, timeCol{&a.LastSeenAt},
		&a.RemoteAddr, &a.Disabled)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// TouchAgent records that the agent connected at at (now when zero) from
// remoteAddr; an unknown ID gives inventory.ErrNotFound.
func (s *db) TouchAgent(ctx context.Context, id int64, at time.Time, remoteAddr string) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE agents SET last_seen_at = ?, remote_addr = ? WHERE id = ?"),
		s.t(s.stamp(at)), remoteAddr, id)
	return wrapIf(fmt.Sprintf("touch agent %d", id), affectedOne(res, err))
}

// SetAgentDisabled disables (or enables) an agent; an unknown ID gives
// inventory.ErrNotFound.
func (s *db) SetAgentDisabled(ctx context.Context, id int64, disabled bool) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE agents SET disabled = ? WHERE id = ?"), disabled, id)
	return wrapIf(fmt.Sprintf("set agent %d disabled", id), affectedOne(res, err))
}
