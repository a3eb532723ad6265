package store

import (
	"context"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const certColumns = `c.id, c.sha256, c.sha1, c.serial, c.subject, c.common_name, c.issuer, c.sans,
	c.not_before, c.not_after, c.is_ca, c.self_signed, c.subject_key_id, c.authority_key_id,
	c.key_algorithm, c.key_bits, c.signature_algorithm, c.spki_sha256, c.issuer_id, c.key_id,
	c.der, c.source, c.revoked_at, c.created_at`

// ListCertificates returns one page of the certificates f selects, ordered
// by NotAfter then ID. The cursor encodes the last item's (NotAfter, ID),
// so pages stay stable while certificates are added.
func (s *db) ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error) {
	cur, err := decodeCursor(p.After, 2)
	if err != nil {
		return nil, err
	}
	where, args := s.certWhere(f)
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
	where, args := s.certWhere(f)
	var n int
	err := s.r.QueryRowContext(ctx, s.q("SELECT count(*) FROM certificates c"+whereClause(where)), args...).Scan(&n)
	if err != nil {
		return 0, wrap("count certificates", err)
	}
	return n, nil
}

// certWhere translates f into SQL conditions on certificates c and their
// arguments. Text matches are case-insensitive: ILIKE on PostgreSQL, LIKE
// on SQLite (which folds ASCII letters only). Serials and fingerprints are
// stored lower-case.
func (s *db) certWhere(f inventory.CertificateFilter) ([]string, []any) {
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
	like := s.ilike()
	if f.Issuer != "" {
		add("c.issuer "+like+" ? ESCAPE '\\'", containsPattern(f.Issuer))
	}
	if f.Text != "" {
		text := containsPattern(f.Text)
		hex := containsPattern(strings.ReplaceAll(f.Text, ":", ""))
		add("(c.subject "+like+" ? ESCAPE '\\' OR c.sans "+like+" ? ESCAPE '\\'"+
			" OR c.serial LIKE ? ESCAPE '\\' OR c.sha256 LIKE ? ESCAPE '\\')", text, text, hex, hex)
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
	return where, args
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
		&c.DER, &c.Source, nullTimeCol{&c.RevokedAt}, timeCol{&c.CreatedAt})
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
