package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const certColumns = `c.id, c.sha256, c.sha1, c.serial, c.subject, c.common_name, c.issuer, c.sans,
	c.not_before, c.not_after, c.is_ca, c.self_signed, c.subject_key_id, c.authority_key_id,
	c.key_algorithm, c.key_bits, c.signature_algorithm, c.spki_sha256, c.issuer_id, c.key_id,
	c.der, c.source, c.internal, c.revoked_at, c.created_at`

// ListCertificates returns one page of the certificates f selects, ordered
// by NotAfter then ID. The cursor encodes the last item's (NotAfter, ID),
// so pages stay stable while certificates are added.
func (s *db) ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error) {
	cur, err := decodeCursor(p.After, 2)
	if err != nil {
		return nil, err
	}
	where, args, err := s.certWhere(ctx, f)
	if err != nil {
		return nil, err
	}
	if p.After != "" {
		where = append(where, "(c.not_after, c.id) > (?, ?)")
		args = append(args, s.t(time.Unix(cur[0], 0)), cur[1])
	}
	n := limit(p)
	query := "SELECT " + certColumns + " FROM certificates c" + whereClause(where) +
		" ORDER BY c.not_after, c.id LIMIT ?"
	certs, err := s.queryCertificates(ctx, query, append(args, n+1)...)
	if err != nil {
		return nil, wrap("list certificates", err)
	}
	page := &inventory.CertificatePage{Items: certs}
	if len(certs) > n {
		page.Items = certs[:n]
		last := page.Items[n-1]
		page.Next = encodeCursor(last.NotAfter.Unix(), last.ID)
	}
	return page, nil
}

// CountCertificates returns how many certificates f selects.
func (s *db) CountCertificates(ctx context.Context, f inventory.CertificateFilter) (int, error) {
	where, args, err := s.certWhere(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.r.QueryRowContext(ctx, s.q("SELECT count(*) FROM certificates c"+whereClause(where)), args...).Scan(&n)
	if err != nil {
		return 0, wrap("count certificates", err)
	}
	return n, nil
}

// isText reports whether s can be bound as SQL text: valid UTF-8 without
// NUL bytes (PostgreSQL refuses both; SQLite's FTS5 fails on a NUL).
func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// certWhere translates f into SQL conditions on certificates c and their
// arguments. Text matches are case-insensitive: ILIKE on PostgreSQL, LIKE
// on SQLite (which folds ASCII letters only). Serials and fingerprints are
// stored lower-case. On SQLite a text search probes the search index
// first (see ftsCond). An unknown status gives inventory.ErrInvalid.
func (s *db) certWhere(ctx context.Context, f inventory.CertificateFilter) ([]string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if !f.ExpiringBefore.IsZero() {
		add("c.not_after < ?", s.t(ceilSecond(f.ExpiringBefore)))
	}
	if !f.NotExpiredAt.IsZero() {
		add("c.not_after >= ?", s.t(ceilSecond(f.NotExpiredAt)))
	}
	if f.Status != "" {
		cond, a, err := s.statusCond(f.Status, f.At)
		if err != nil {
			return nil, nil, err
		}
		add(cond, a...)
	}
	if f.KeyID != 0 {
		add("c.key_id = ?", f.KeyID)
	}
	like := s.ilike()
	if f.Issuer != "" {
		add("c.issuer "+like+" ? ESCAPE '\\'", containsPattern(f.Issuer))
	}
	if !isText(f.Text) || !isText(f.Issuer) || !isText(f.Label) {
		return nil, nil, fmt.Errorf("store: certificate filter: text holds invalid UTF-8 or a NUL byte: %w", inventory.ErrInvalid)
	}
	if f.Text != "" {
		cond, a, err := s.textCond(ctx, f.Text)
		if err != nil {
			return nil, nil, err
		}
		add(cond, a...)
	}
	if f.Label != "" {
		add("EXISTS (SELECT 1 FROM certificate_labels l WHERE l.certificate_id = c.id AND l.label = ?)", f.Label)
	}
	if f.CAOnly {
		add("c.is_ca")
	}
	if f.LeafOnly {
		add("NOT c.is_ca")
	}
	if f.InternalOnly {
		add("c.internal")
	}
	if f.ExcludeInternal {
		add("NOT c.internal")
	}
	return where, args, nil
}

// statusCond is the condition for inventory.Certificate.StatusAt(at) ==
// status; a zero at is now. Revocation takes precedence; a certificate is
// expired when at is after NotAfter and not yet valid when at is before
// NotBefore, so both bounds are inclusive for valid. Stored times are
// whole seconds, so at is rounded down when compared with NotBefore and up
// when compared with NotAfter, which keeps every comparison exact.
func (s *db) statusCond(status inventory.Status, at time.Time) (string, []any, error) {
	if at.IsZero() {
		at = s.now()
	}
	floor, ceil := s.t(at), s.t(ceilSecond(at))
	switch status {
	case inventory.StatusRevoked:
		return "c.revoked_at IS NOT NULL", nil, nil
	case inventory.StatusExpired:
		return "c.revoked_at IS NULL AND c.not_after < ?", []any{ceil}, nil
	case inventory.StatusNotYetValid:
		return "c.revoked_at IS NULL AND c.not_before > ?", []any{floor}, nil
	case inventory.StatusValid:
		return "c.revoked_at IS NULL AND c.not_before <= ? AND c.not_after >= ?", []any{floor, ceil}, nil
	}
	return "", nil, fmt.Errorf("store: certificate filter: unknown status %q: %w", status, inventory.ErrInvalid)
}

// minSearch is the shortest text, in characters, the trigram indexes can
// find; shorter texts are matched by reading every row.
const minSearch = 3

// searchExpr is the expression the PostgreSQL trigram index
// certificates_search is built on (migration 0007); it must stay the same
// text for the planner to use the index.
const searchExpr = "(c.subject || ' ' || c.sans || ' ' || c.serial || ' ' || c.sha256)"

// textCond is the condition of CertificateFilter.Text: the text anywhere
// in the subject or the SANs, or, without colons, in the serial or the
// SHA-256 fingerprint. Those LIKE conditions define the match. For texts
// of minSearch characters or more (after removing colons) a condition on
// the trigram index goes before them. It selects a superset of the
// matches (the indexes fold case at least as widely as LIKE), so the
// result is the same, found without reading every row.
func (s *db) textCond(ctx context.Context, text string) (string, []any, error) {
	like := s.ilike()
	hexText := strings.ReplaceAll(text, ":", "")
	t, hex := containsPattern(text), containsPattern(hexText)
	cond := "(c.subject " + like + " ? ESCAPE '\\' OR c.sans " + like + " ? ESCAPE '\\'" +
		" OR c.serial LIKE ? ESCAPE '\\' OR c.sha256 LIKE ? ESCAPE '\\')"
	args := []any{t, t, hex, hex}
	switch {
	case utf8.RuneCountInString(hexText) < minSearch:
		return cond, args, nil
	case s.dialect == sqliteDialect:
		return s.ftsCond(ctx, text, hexText, cond, args)
	case hexText == text:
		return searchExpr + " ILIKE ? ESCAPE '\\' AND " + cond, append([]any{t}, args...), nil
	}
	return "(" + searchExpr + " ILIKE ? ESCAPE '\\' OR " + searchExpr + " ILIKE ? ESCAPE '\\') AND " + cond,
		append([]any{t, hex}, args...), nil
}

// ftsNarrow is the most FTS5 candidates for which a text search on SQLite
// starts from the candidates (fetch, check, sort); with more it walks the
// certificates in list order, checking membership, and stops at the page.
const ftsNarrow = 1000

// ftsCond prefixes cond, the exact text condition, with a condition on
// the FTS5 index certificates_search. A cheap probe counts the candidates
// up to ftsNarrow: few, and the rows are looked up by ID; many, and the
// unary + keeps SQLite from doing so (which would fetch and sort them all
// for one page) so that it reads the certificates in list order instead.
func (s *db) ftsCond(ctx context.Context, text, hexText, cond string, args []any) (string, []any, error) {
	match := ftsQuery(text, hexText)
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM certificates_search
		WHERE certificates_search MATCH ? LIMIT ?)`, match, ftsNarrow+1).Scan(&n)
	if err != nil {
		return "", nil, wrap("text search", err)
	}
	id := "c.id"
	if n > ftsNarrow {
		id = "+c.id"
	}
	return id + " IN (SELECT rowid FROM certificates_search WHERE certificates_search MATCH ?) AND " + cond,
		append([]any{match}, args...), nil
}

// ftsQuery is the FTS5 query for a text search on certificates_search:
// all trigrams of a set covering text, or all of one covering hexText. A
// row holding text holds each of them; the query needs neither phrases
// nor column filters, which are slow on trigram tables, and the exact
// condition discards the other rows. Each trigram is an FTS5 string, in
// which every character but the doubled quote stands for itself, so the
// text can hold no query syntax.
func ftsQuery(text, hexText string) string {
	q := ftsTrigrams(text)
	if hexText != text {
		q = "(" + q + ") OR (" + ftsTrigrams(hexText) + ")"
	}
	return q
}

// ftsTrigrams returns the AND of the trigrams at characters 0, 3, 6, ...
// and the last one of text, which has at least three characters.
func ftsTrigrams(text string) string {
	r := []rune(text)
	var terms []string
	for i := 0; ; i += 3 {
		i = min(i, len(r)-3)
		term := `"` + strings.ReplaceAll(string(r[i:i+3]), `"`, `""`) + `"`
		if !slices.Contains(terms, term) {
			terms = append(terms, term)
		}
		if i == len(r)-3 {
			return strings.Join(terms, " AND ")
		}
	}
}

// ilike is the dialect's case-insensitive LIKE operator.
func (s *db) ilike() string {
	if s.dialect == postgresDialect {
		return "ILIKE"
	}
	return "LIKE"
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// ceilSecond rounds t up to a whole second. Stored times are whole
// seconds, so comparing against the rounded-up bound keeps "<" and ">="
// exact.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}

// containsPattern returns a LIKE pattern (escape character '\') matching
// text anywhere, lower-cased.
func containsPattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(text)) + "%"
}

// queryCertificates runs a query selecting certColumns and attaches each
// certificate's labels.
func (s *db) queryCertificates(ctx context.Context, query string, args ...any) ([]inventory.Certificate, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []inventory.Certificate
	for rows.Next() {
		var c inventory.Certificate
		if err := scanCertificate(rows, &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, s.attachLabels(ctx, out)
}

func scanCertificate(row interface{ Scan(...any) error }, c *inventory.Certificate) error {
	var sans, alg string
	err := row.Scan(&c.ID, &c.SHA256, &c.SHA1, &c.Serial, &c.Subject, &c.CommonName, &c.Issuer, &sans,
		timeCol{&c.NotBefore}, timeCol{&c.NotAfter}, &c.IsCA, &c.SelfSigned, &c.SubjectKeyID, &c.AuthorityKeyID,
		&alg, &c.KeyBits, &c.SignatureAlgorithm, &c.SPKISHA256, idCol{&c.IssuerID}, idCol{&c.KeyID},
		&c.DER, &c.Source, &c.Internal, nullTimeCol{&c.RevokedAt}, timeCol{&c.CreatedAt})
	if err != nil {
		return err
	}
	c.SANs = splitList(sans)
	c.KeyAlgorithm = inventory.KeyAlgorithm(alg)
	return nil
}

// attachLabels loads the labels of certs, sorted, in one query.
func (s *db) attachLabels(ctx context.Context, certs []inventory.Certificate) error {
	if len(certs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(certs))
	args := make([]any, len(certs))
	for i, c := range certs {
		index[c.ID] = i
		args[i] = c.ID
	}
	query := "SELECT certificate_id, label FROM certificate_labels WHERE certificate_id IN (?" +
		strings.Repeat(", ?", len(certs)-1) + ") ORDER BY certificate_id, label"
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var label string
		if err := rows.Scan(&id, &label); err != nil {
			return err
		}
		c := &certs[index[id]]
		c.Labels = append(c.Labels, label)
	}
	return rows.Err()
}
