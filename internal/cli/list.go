package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

type listOptions struct {
	expiringWithin string
	issuer         string
	search         string
	label          string
	ca             bool
	limit          int
	after          string
	json           bool
}

func (a *app) listCommand() *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list [--expiring-within 30d] [--json]",
		Short: "List certificates in the inventory, soonest expiry first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runList(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.expiringWithin, "expiring-within", "", "only certificates still valid that expire within this many days (e.g. 30d)")
	f.StringVar(&o.issuer, "issuer", "", "only certificates whose issuer contains this text")
	f.StringVar(&o.search, "search", "", "only certificates whose subject, names, serial or fingerprint contain this text")
	f.StringVar(&o.label, "label", "", "only certificates with this label")
	f.BoolVar(&o.ca, "ca", false, "only CA certificates")
	f.IntVar(&o.limit, "limit", inventory.DefaultPageSize, fmt.Sprintf("page size (at most %d)", inventory.MaxPageSize))
	f.StringVar(&o.after, "after", "", "cursor of the next page, as printed by the previous page")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func (a *app) runList(cmd *cobra.Command, o *listOptions) error {
	if o.limit < 1 || o.limit > inventory.MaxPageSize {
		return fmt.Errorf("--limit must be between 1 and %d", inventory.MaxPageSize)
	}
	now := a.env.Now().UTC()
	filter := inventory.CertificateFilter{Issuer: o.issuer, Text: o.search, Label: o.label, CAOnly: o.ca}
	if o.expiringWithin != "" {
		d, err := parseDays(o.expiringWithin)
		if err != nil {
			return fmt.Errorf("--expiring-within: %w", err)
		}
		filter.ExpiringBefore, filter.NotExpiredAt = now.Add(d), now
	}
	page, total, err := a.listPage(cmd.Context(), filter, inventory.Page{After: o.after, Limit: o.limit})
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(a.env.Stdout, newListView(page, total, now))
	}
	writeListText(a.env.Stdout, page, total, now)
	return nil
}

// listPage reads one page of certificates and how many match in all:
// from the local inventory, or from --server, which does not count them
// (total -1).
func (a *app) listPage(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, int, error) {
	if a.remote() {
		page, err := a.remoteCertificates(ctx, f, p)
		return page, -1, err
	}
	s, err := a.stack(ctx)
	if err != nil {
		return nil, 0, err
	}
	page, err := s.Certificates.List(ctx, f, p)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.Certificates.Count(ctx, f)
	return page, total, err
}

// listView is list --json; Total is left out when unknown (--server).
type listView struct {
	Total        *int           `json:"total,omitempty"`
	Next         string         `json:"next"`
	Certificates []listCertView `json:"certificates"`
}

type listCertView struct {
	ID       int64     `json:"id"`
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	Serial   string    `json:"serial"`
	SHA256   string    `json:"sha256"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	Status   string    `json:"status"`
	SANs     []string  `json:"sans"`
	IsCA     bool      `json:"is_ca"`
	KeyID    int64     `json:"key_id,omitempty"`
	IssuerID int64     `json:"issuer_id,omitempty"`
	Labels   []string  `json:"labels"`
}

func newListView(p *inventory.CertificatePage, total int, now time.Time) listView {
	v := listView{Next: p.Next, Certificates: make([]listCertView, 0, len(p.Items))}
	for _, c := range p.Items {
		v.Certificates = append(v.Certificates, listCertView{
			ID: c.ID, Subject: c.Subject, Issuer: c.Issuer, Serial: c.Serial, SHA256: c.SHA256,
			NotAfter: c.NotAfter, DaysLeft: daysLeft(now, c.NotAfter), Status: string(c.StatusAt(now)),
			SANs: nonNil(c.SANs), IsCA: c.IsCA, KeyID: c.KeyID, IssuerID: c.IssuerID, Labels: nonNil(c.Labels),
		})
	}
	if total >= 0 {
		v.Total = &total
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeListText(w io.Writer, p *inventory.CertificatePage, total int, now time.Time) {
	if len(p.Items) == 0 {
		fmt.Fprintln(w, "no certificates match")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEXPIRES\tDAYS\tSTATUS\tKEY\tSUBJECT\tISSUER")
	for _, c := range p.Items {
		key := "-"
		if c.KeyID != 0 {
			key = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", c.ID, c.NotAfter.Format(time.DateOnly),
			daysLeft(now, c.NotAfter), c.StatusAt(now), key, shortName(c.CommonName, c.Subject), shortName("", c.Issuer))
	}
	tw.Flush()
	if total >= 0 {
		fmt.Fprintf(w, "%d of %d shown", len(p.Items), total)
	} else {
		fmt.Fprintf(w, "%d shown", len(p.Items))
	}
	if p.Next != "" {
		fmt.Fprintf(w, "; next page: --after %s", p.Next)
	}
	fmt.Fprintln(w)
}

func shortName(cn, dn string) string {
	s := first(cn, dn)
	if len(s) > 48 {
		return s[:45] + "..."
	}
	return s
}
